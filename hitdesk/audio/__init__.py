"""Reading audio files: native multichannel blocks and the feature rate's mono samples from one
decoding pass, excerpts, tags, and expanding inputs."""

from __future__ import annotations

from hitdesk.audio.decode import (
    AudioInfo,
    NativeBlock,
    NativeSink,
    decode_all,
    feature_blocks,
    iter_blocks,
    open_stream,
    probe,
    read_excerpts,
    read_pieces,
)
from hitdesk.audio.files import AUDIO_EXTENSIONS, InputProblem, expand_inputs
from hitdesk.audio.tags import Tags, read_tags

__all__ = [
    "AUDIO_EXTENSIONS",
    "AudioInfo",
    "InputProblem",
    "NativeBlock",
    "NativeSink",
    "Tags",
    "decode_all",
    "expand_inputs",
    "feature_blocks",
    "iter_blocks",
    "open_stream",
    "probe",
    "read_excerpts",
    "read_pieces",
    "read_tags",
]
