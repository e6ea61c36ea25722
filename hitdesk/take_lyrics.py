"""A take's lyrics for models that take them: the text, its embedding, or the note saying there is none.

A take carries lyrics as text given with the analysis (pasted) or as the ``.lrc``/``.txt`` file
beside its audio file with the same stem. Only a model whose card declares a ``lyrics`` input uses
them; for every other model nothing is read. A lyrics model scoring a take without lyrics feeds
zeros (as it was trained for songs without lyrics) and says so in one note; the take's other
numbers are computed as always.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hitdesk.errors import HitdeskError
from hitdesk.model.card import RuntimeSpec
from hitdesk.text.lyrics import lyrics_beside, read_lyrics

NO_LYRICS_NOTE = (
    "This model takes lyrics and this take has none (no .lrc or .txt file with its name beside it), "
    "so it was scored without lyrics."
)


def lyrics_text(audio: Path, given: str | None = None) -> str | None:
    """The pasted text if any, else the file beside ``audio``; raises LyricsError for an unreadable file."""
    if given is not None and given.strip():
        return given.strip()
    beside = lyrics_beside(audio)
    return None if beside is None else (read_lyrics(beside) or None)


def lyrics_fingerprint(audio: Path, runtime: RuntimeSpec) -> str:
    """What the result cache keys on besides the audio: the lyrics file's content, for lyrics models only."""
    if not runtime.takes_lyrics:
        return ""
    beside = lyrics_beside(audio)
    try:
        return "" if beside is None else hashlib.sha256(beside.read_bytes()).hexdigest()
    except OSError:
        return "unreadable"


def take_embedding(
    audio: Path, runtime: RuntimeSpec, given: str | None = None
) -> tuple[npt.NDArray[np.float32] | None, str | None]:
    """(the lyrics embedding, None), or (None, the note why the model scored without lyrics)."""
    if not runtime.takes_lyrics:
        return None, None
    from hitdesk.model.encoder import load_encoder

    try:
        text = lyrics_text(audio, given)
        if text is None:
            return None, NO_LYRICS_NOTE
        return load_encoder().embed([text])[0], None
    except HitdeskError as exc:
        return None, f"{exc} The model scored this take without lyrics."
