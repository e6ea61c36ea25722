"""What the decoders report about a file, and the interface both decoder back ends share.

Kept apart from ``decode.py`` so the back ends can depend on these types without importing the
module that chooses between them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from hitdesk.config import FEATURES

Samples = NDArray[np.float32]
"""Mono float32 samples, one value per frame."""

TARGET_SR: int = FEATURES.sample_rate
"""Every consumer (features, model, display) works at this one rate."""


@dataclass(frozen=True)
class AudioInfo:
    """Facts about a file, read from its header or container without decoding it all."""

    path: Path
    format: str  # human name: "Ogg Vorbis", "FLAC", "WAV", "MP3", "AAC", "Opus", ...
    sample_rate: int  # native rate
    channels: int
    duration_s: float  # from the header or container; a best estimate
    frames: int | None  # native frame count when exactly known
    seekable: bool  # True when sample-accurate seeking is available (the libsndfile path)


class SeekFailed(Exception):  # noqa: N818 - internal control flow, never shown to a user
    """A back end cannot place a read exactly here; the caller decodes through the file instead."""


class NativeReader(Protocol):
    """One open input file at its native rate, mixed to mono. Always call ``close``."""

    @property
    def info(self) -> AudioInfo: ...

    def blocks(self) -> Iterator[Samples]:
        """Mono chunks from the first frame to the end; callable once per reader."""
        ...

    def read_range(self, start: int, stop: int) -> Samples:
        """Native frames ``[start, stop)``, shorter only at the end of the file; may raise SeekFailed."""
        ...

    def close(self) -> None: ...
