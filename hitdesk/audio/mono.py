"""Mixing to mono and keeping samples finite, shared by both decoder back ends."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hitdesk.audio.info import Samples
from hitdesk.audio.inputs import display_name
from hitdesk.audio.problems import report

log = logging.getLogger(__name__)


# Float files may go past full scale, but not by 120 dB: beyond this a value is damaged data, and
# values near float32's maximum overflow to inf when channels are added or samples squared.
SAMPLE_LIMIT = np.float32(1e6)


def sanitize(block: NDArray[np.float32]) -> tuple[NDArray[np.float32], int]:
    """The block with NaN, inf and absurd values replaced by 0, and how many were replaced.

    A float WAV can hold NaN, inf or (damaged) values near 3e38; one such value would spread through
    the resampler and every feature after it, the track's silent-frame detection and the loudness
    meter with them. Returns the block itself (no copy) when every value is usable.
    """
    if block.size == 0 or (block.min() >= -SAMPLE_LIMIT and block.max() <= SAMPLE_LIMIT):  # NaN fails both
        return block, 0  # the usual case, found with two reads and no temporary array
    usable = np.abs(block) <= SAMPLE_LIMIT  # False for NaN too
    return np.where(usable, block, np.float32(0.0)), int(usable.size - np.count_nonzero(usable))


def downmix(block: NDArray[np.float32], channel_axis: int) -> Samples:
    """Mean of the channels, as ``librosa.to_mono`` takes it (the block already sanitized)."""
    channels: NDArray[np.float32] = np.moveaxis(block, channel_axis, 0)  # a view: channels[c] is one channel's samples
    if len(channels) == 1:
        return np.ascontiguousarray(channels[0], dtype=np.float32)
    # Channel by channel: a mean over a short strided axis is several times slower in numpy, and
    # adding channels in order then dividing gives what np.mean gives for the usual two. Views, not
    # np.take, which copies the whole block first when it is a transposed (planar) one.
    mono: Samples = channels[0].astype(np.float32, copy=True)
    for ch in range(1, len(channels)):
        mono += channels[ch]
    mono /= np.float32(len(channels))
    return mono


def to_mono(block: NDArray[np.float32], channel_axis: int) -> tuple[Samples, int]:
    """``downmix`` of the ``sanitize``d block, and how many input values were replaced."""
    clean, replaced = sanitize(block)
    return downmix(clean, channel_axis), replaced


def report_replaced(path: Path, count: int) -> None:
    """Logs, once per file, how many unusable samples ``to_mono`` replaced."""
    if count:
        report(
            log,
            f"'{display_name(path)}' has {count} NaN or infinite samples (or values beyond any real level); "
            "they were replaced by silence.",
        )
