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

NativeBlock = NDArray[np.float32]
"""``(frames, channels)`` float32 at the file's own rate, every value finite and within +-1e6.

May be a view of planar data (``block.T`` contiguous) rather than C-contiguous; consumers that need
one layout make it. What the loudness meter reads, and what the feature path is mixed down from.
"""

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
    """One open input file at its native rate. Always call ``close``.

    ``native_blocks`` is the one decoding pass from the start (all channels); ``blocks`` is the same
    pass mixed to mono; excerpts (``read_range``) are mono.
    """

    @property
    def info(self) -> AudioInfo: ...

    def native_blocks(self) -> Iterator[NativeBlock]:
        """Blocks from the first frame to the end, all channels; callable once per reader."""
        ...

    def blocks(self) -> Iterator[Samples]:
        """``native_blocks`` mixed to mono."""
        ...

    def read_range(self, start: int, stop: int) -> Samples:
        """Native frames ``[start, stop)``, shorter only at the end of the file; may raise SeekFailed."""
        ...

    def close(self) -> None: ...
