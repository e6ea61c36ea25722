"""Loudness over time (EBU R128): momentary and short-term curves, their maxima, loudness range.

The loudness meter K-weights every native block once (``hitdesk.dsp.loudness``); this module reads
those weighted samples and keeps, for each 100 ms step of the track, the sum of squares of each
channel and the product of the front pair (what the stereo meters need, ``hitdesk.dsp.stereo``).
From these sums:

- momentary loudness: 400 ms windows, one every 100 ms (EBU Tech 3341);
- short-term loudness: 3 s windows, one every 100 ms;
- loudness range (LRA, EBU Tech 3342): the short-term values above the -70 LUFS absolute gate and
  above a relative gate 20 LU under their power mean; LRA is the spread from their 10th to their
  95th percentile (nearest rank, as Tech 3342's reference code takes them).

Only whole windows count (the first momentary value ends 0.4 s in, the first short-term value 3 s
in), as for a meter reset at the start of the track. Per step the history keeps four float64
numbers, so a 4-hour track holds 144,000 rows (4.6 MB); no per-sample data is kept.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.loudness import _CHANNEL_GAINS, ABSOLUTE_GATE_LUFS

FloatArray = npt.NDArray[np.float64]
Float32Array = npt.NDArray[np.float32]

STEPS_PER_SECOND = 10  # 100 ms steps
STEP_S = 1.0 / STEPS_PER_SECOND
MOMENTARY_STEPS = 4  # 400 ms
SHORT_TERM_STEPS = 30  # 3 s
LRA_RELATIVE_GATE_LU = -20.0
LRA_LOW_PERCENTILE = 0.10
LRA_HIGH_PERCENTILE = 0.95
# Columns of a step's row: the channels' K-weighted power summed with BS.1770's channel gains, then
# the front pair's sums of squares and their product (zero for a 1-channel stream).
WEIGHTED, LEFT, RIGHT, CROSS = range(4)


def channel_gains(channels: int) -> FloatArray:
    return np.array([_CHANNEL_GAINS[c] if c < len(_CHANNEL_GAINS) else 1.0 for c in range(channels)])


def to_lufs(power: npt.ArrayLike) -> FloatArray:
    """Mean square (channel-weighted) to LUFS; silence is -inf."""
    with np.errstate(divide="ignore"):
        return np.asarray(-0.691 + 10.0 * np.log10(np.asarray(power, dtype=np.float64)), dtype=np.float64)


class StepHistory:
    """Feed K-weighted blocks (channels x frames, as ``LoudnessMeter.weighted_sink`` hands them on) in
    order; ``rows`` then holds one row of sums per complete 100 ms step (see ``WEIGHTED`` ...)."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        self._gains = channel_gains(channels)
        self._rows = np.zeros((1024, 4))
        self._count = 0
        self._pending = np.zeros(4)  # sums of the step not yet complete
        self._next = 1  # index of the next step boundary

    def boundary(self, k: int) -> int:
        """First sample of step ``k`` (steps of rate/10 samples, rounded)."""
        return (k * self.rate + STEPS_PER_SECOND // 2) // STEPS_PER_SECOND

    @property
    def rows(self) -> FloatArray:
        return self._rows[: self._count]

    def feed(self, weighted: FloatArray, start: int) -> None:
        n = weighted.shape[1]
        if n == 0:
            return
        end = start + n
        cuts = []
        while self.boundary(self._next) <= end:
            cuts.append(self.boundary(self._next) - start)
            self._next += 1
        starts = np.array([0, *(c for c in cuts if c < n)], dtype=np.intp)
        squares = np.square(weighted)
        parts = np.empty((4, starts.size))
        parts[WEIGHTED] = self._gains @ np.add.reduceat(squares, starts, axis=1)
        if self.channels >= 2:
            parts[LEFT] = np.add.reduceat(squares[0], starts)
            parts[RIGHT] = np.add.reduceat(squares[1], starts)
            parts[CROSS] = np.add.reduceat(weighted[0] * weighted[1], starts)
        else:
            parts[LEFT:] = 0.0
        parts[:, 0] += self._pending
        complete = len(cuts)
        self._append(parts[:, :complete].T)
        self._pending = parts[:, complete] if complete < starts.size else np.zeros(4)

    def _append(self, rows: FloatArray) -> None:
        need = self._count + rows.shape[0]
        if need > self._rows.shape[0]:
            grown = np.zeros((max(need, 2 * self._rows.shape[0]), 4))
            grown[: self._count] = self._rows[: self._count]
            self._rows = grown
        self._rows[self._count : need] = rows
        self._count = need

    def window_sums(self, column: int, steps: int) -> FloatArray:
        """Sums of ``column`` over every run of ``steps`` whole steps (a sliding window, not a
        difference of running sums: quiet passages late in a long track keep their precision)."""
        values = self.rows[:, column]
        if values.size < steps:
            return np.zeros(0)
        return np.asarray(np.lib.stride_tricks.sliding_window_view(values, steps).sum(axis=1), dtype=np.float64)

    def window_samples(self, steps: int) -> FloatArray:
        """The number of samples in each window ``window_sums`` sums over."""
        count = self._count - steps + 1
        if count <= 0:
            return np.zeros(0)
        k = np.arange(count, dtype=np.int64)
        first = (k * self.rate + STEPS_PER_SECOND // 2) // STEPS_PER_SECOND
        last = ((k + steps) * self.rate + STEPS_PER_SECOND // 2) // STEPS_PER_SECOND
        return (last - first).astype(np.float64)

    def window_power(self, steps: int) -> FloatArray:
        """Channel-weighted mean square of each window of ``steps`` steps."""
        samples = self.window_samples(steps)
        return self.window_sums(WEIGHTED, steps) / samples if samples.size else samples


def momentary_lufs(history: StepHistory) -> FloatArray:
    return to_lufs(history.window_power(MOMENTARY_STEPS))


def short_term_lufs(history: StepHistory) -> FloatArray:
    return to_lufs(history.window_power(SHORT_TERM_STEPS))


def loudness_range(short_term: FloatArray) -> float | None:
    """LRA in LU from short-term values (EBU Tech 3342); None when no value passes the gates."""
    values = short_term[np.isfinite(short_term) & (short_term >= ABSOLUTE_GATE_LUFS)]
    if values.size == 0:
        return None
    mean_power = float(np.mean(np.power(10.0, (values + 0.691) / 10.0)))
    gate = -0.691 + 10.0 * math.log10(mean_power) + LRA_RELATIVE_GATE_LU
    gated = np.sort(values[values >= gate])
    if gated.size == 0:
        return None

    def nearest_rank(p: float) -> float:
        return float(gated[math.floor((gated.size - 1) * p + 0.5)])

    return nearest_rank(LRA_HIGH_PERCENTILE) - nearest_rank(LRA_LOW_PERCENTILE)


def finite_max(values: FloatArray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


def as_curve(values: FloatArray) -> Float32Array:
    """A curve to keep and draw: float32, silence at -inf."""
    return np.asarray(values, dtype=np.float32)
