"""Mixing to mono and keeping samples finite, shared by both decoder back ends."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from hitdesk.audio.info import Samples
from hitdesk.audio.inputs import display_name

log = logging.getLogger(__name__)


def to_mono(block: NDArray[np.float32], channel_axis: int) -> tuple[Samples, int]:
    """Mean of the channels (as ``librosa.to_mono``), with NaN and inf replaced by 0.

    Returns the mono samples and how many non-finite input values were replaced. A float WAV can
    hold NaN or inf; one such value would spread through the resampler and every feature after it.
    """
    replaced = 0
    finite = np.isfinite(block)
    if not finite.all():
        replaced = int(finite.size - np.count_nonzero(finite))
        block = np.nan_to_num(block, nan=0.0, posinf=0.0, neginf=0.0)
    n_channels = block.shape[channel_axis]
    if n_channels == 1:
        mono = np.take(block, 0, axis=channel_axis)
    else:
        # Column by column: a mean over a short strided axis is several times slower in numpy, and
        # adding channels in order then dividing gives what np.mean gives for the usual two.
        mono = np.take(block, 0, axis=channel_axis).astype(np.float32, copy=True)
        for ch in range(1, n_channels):
            mono += np.take(block, ch, axis=channel_axis)
        mono /= np.float32(n_channels)
    return np.ascontiguousarray(mono, dtype=np.float32), replaced


def report_replaced(path: Path, count: int) -> None:
    """Logs, once per file, how many non-finite samples ``to_mono`` replaced."""
    if count:
        log.warning("'%s' has %d NaN or infinite samples; they were replaced by silence.", display_name(path), count)
