"""Loudness of a file for the app when the analysis did not measure it (fast mode): a pass of its own.

The meter is the core's (``hitdesk.dsp.loudness``), fed by the core decoder's native blocks (all
channels at the file's own rate). ``hitdesk analyze`` measures the same numbers in its one decoding
pass (``TrackResult.loudness``), and the app's workers take that field; they measure here only
for ``--fast`` results, whose pass decoded excerpts. ``Loudness`` and ``LoudnessMeter`` are
re-exported for the app's modules that import them from here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hitdesk.audio.decode import open_stream
from hitdesk.dsp.loudness import Loudness, LoudnessMeter
from hitdesk.dsp.meters import TrackMeter

__all__ = ["Loudness", "LoudnessMeter", "iter_native_blocks", "measure_file"]


def iter_native_blocks(path: str | Path) -> tuple[int, int, Iterator[npt.NDArray[np.float32]]]:
    """Sample rate, channel count and ``(frames, channels)`` float32 blocks at the native rate.

    Raises ``hitdesk.errors.HitdeskError`` for a missing, empty or undecodable file; the file is
    closed when the blocks run out or the iterator is closed.
    """
    reader = open_stream(path)

    def blocks() -> Iterator[npt.NDArray[np.float32]]:
        try:
            yield from reader.native_blocks()
        finally:
            reader.close()

    return reader.info.sample_rate, reader.info.channels, blocks()


def measure_file(path: str | Path, should_stop: Callable[[], bool] | None = None) -> Loudness | None:
    """Loudness of a file, or None when stopped early. Decoder errors propagate to the caller."""
    rate, channels, blocks = iter_native_blocks(path)
    meter = TrackMeter(rate, channels)  # with the pass's meters, as full mode has them
    try:
        for block in blocks:
            if should_stop is not None and should_stop():
                return None
            meter.feed(block)
    finally:
        blocks.close()  # type: ignore[attr-defined]
    return meter.result()
