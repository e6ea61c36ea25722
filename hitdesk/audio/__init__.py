"""Reading audio files: decoding to the feature rate, excerpts, tags, and expanding inputs."""

from __future__ import annotations

from hitdesk.audio.decode import AudioInfo, decode_all, iter_blocks, probe, read_excerpts, read_pieces
from hitdesk.audio.files import AUDIO_EXTENSIONS, InputProblem, expand_inputs
from hitdesk.audio.tags import Tags, read_tags

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "InputProblem",
    "Tags",
    "decode_all",
    "expand_inputs",
    "iter_blocks",
    "probe",
    "read_excerpts",
    "read_pieces",
    "read_tags",
]
