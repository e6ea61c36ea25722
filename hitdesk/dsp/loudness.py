"""Integrated loudness (ITU-R BS.1770-4, LUFS) and true peak (dBTP), fed block by block.

Loudness needs the file's own channels at its own rate: a stereo mix measured as its mono average
reads up to 3 dB low, and inter-sample peaks above 11 kHz vanish at 22,050 Hz. So the meter takes
the decoder's native blocks, ``(frames, channels)`` float32, the same blocks the feature path is
mixed down from (see ``hitdesk.audio.iter_blocks``): loudness costs no second decode. No decoding
and no Qt here.

The K-weighting filters are pyloudnorm's (the same formulas, so the same coefficients; a test
compares them) and the gating follows ``pyloudnorm.Meter.integrated_loudness`` exactly, but on
running sums, so a long track is never held in memory; tests hold the two within 0.1 LU on real
tracks. The filters run in float64 through scipy's compiled biquad loop, loaded without
``scipy.signal`` (see ``hitdesk.dsp.sos``), and true peak is ``hitdesk.dsp.truepeak``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.sos import sosfilt_inplace
from hitdesk.dsp.truepeak import TruePeakMeter

FloatArray = npt.NDArray[np.float64]

GATE_BLOCK_S = 0.400
_GATE_STEP = 0.25  # 75 % overlap
ABSOLUTE_GATE_LUFS = -70.0
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs (BS.1770); further channels 1.0


@dataclass(frozen=True)
class Loudness:
    """A track's integrated loudness and true peak.

    ``integrated_lufs`` is None when nothing can be said: every 400 ms block lies below the -70 LUFS
    absolute gate, or the signal is shorter than one block. ``true_peak_dbtp`` is -inf for digital
    silence. Both are rounded to 0.01 in ``to_dict``, as meters display them.
    """

    integrated_lufs: float | None
    true_peak_dbtp: float

    @property
    def lufs(self) -> float | None:
        return self.integrated_lufs

    def to_dict(self) -> dict[str, float | None]:
        lufs = self.integrated_lufs
        peak = self.true_peak_dbtp
        return {
            "lufs": None if lufs is None or not math.isfinite(lufs) else round(lufs, 2),
            "true_peak_dbtp": None if not math.isfinite(peak) else round(peak, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Loudness:
        """Reads ``to_dict``'s output; sessions the app saved earlier call the first ``integrated_lufs``."""
        lufs = d.get("lufs", d.get("integrated_lufs"))
        peak = d.get("true_peak_dbtp")
        return cls(None if lufs is None else float(lufs), -math.inf if peak is None else float(peak))


def k_weighting_sos(rate: float) -> FloatArray:
    """The two K-weighting biquads (high shelf, then high pass) as second-order sections.

    pyloudnorm's ``IIRfilter`` formulas (RBJ's cookbook with BS.1770's gain, Q and frequencies),
    written out so that analysis imports neither pyloudnorm nor scipy.signal.
    """
    sections = []
    for gain_db, q, fc, kind in ((4.0, 1 / np.sqrt(2), 1500.0, "high_shelf"), (0.0, 0.5, 38.0, "high_pass")):
        a = 10 ** (gain_db / 40.0)
        w0 = 2.0 * np.pi * (fc / rate)
        alpha = np.sin(w0) / (2.0 * q)
        cos = np.cos(w0)
        if kind == "high_shelf":
            b = [
                a * ((a + 1) + (a - 1) * cos + 2 * np.sqrt(a) * alpha),
                -2 * a * ((a - 1) + (a + 1) * cos),
                a * ((a + 1) + (a - 1) * cos - 2 * np.sqrt(a) * alpha),
            ]
            den = [
                (a + 1) - (a - 1) * cos + 2 * np.sqrt(a) * alpha,
                2 * ((a - 1) - (a + 1) * cos),
                (a + 1) - (a - 1) * cos - 2 * np.sqrt(a) * alpha,
            ]
        else:
            b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
            den = [1 + alpha, -2 * cos, 1 - alpha]
        sections.append([*(np.array(b) / den[0]), *(np.array(den) / den[0])])
    return np.array(sections, dtype=np.float64)


def _finite_block(block: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """``(frames, channels)`` float32 with NaN and inf as 0, for readers of the samples themselves
    (the clipping counter of ``hitdesk.dsp.meters``); one read: the sum of finite float32 samples of
    audio is finite."""
    x = _as_frames(block)
    if not math.isfinite(float(x.sum(dtype=np.float64))):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return x


def _as_frames(block: npt.ArrayLike) -> npt.NDArray[np.float32]:
    """``(frames, channels)`` float32 (a view when it already is). NaN and inf are not looked for
    here, which would cost a read of every block: each half of the meter finds them in what it
    computes anyway and reads such a block again with them as 0."""
    x = np.asarray(block, dtype=np.float32)
    return x[:, None] if x.ndim == 1 else x


class _BlockRows:
    """The mean squares of the complete gating blocks, a row per block, in one float64 array grown by
    doubling. A list of small arrays took about 160 bytes a block: 23 MB for 4 hours of stereo."""

    def __init__(self, channels: int) -> None:
        self._rows = np.empty((0, channels))
        self._n = 0

    def __len__(self) -> int:
        return self._n

    def __getitem__(self, j: int) -> FloatArray:
        if not 0 <= j < self._n:
            raise IndexError(j)
        row: FloatArray = self._rows[j]
        return row

    def append(self, row: FloatArray) -> None:
        if self._n == self._rows.shape[0]:
            grown = np.empty((max(1024, 2 * self._n), self._rows.shape[1]))
            grown[: self._n] = self._rows
            self._rows = grown
        self._rows[self._n] = row
        self._n += 1


class LoudnessMeter:
    """Feed ``(frames, channels)`` float blocks in order (any sizes), then read ``result()``."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        # Channels filtered in pairs, each pair one complex signal (see ``_k_weighted_squares``).
        self._rows = (channels + 1) // 2
        self._sos = k_weighting_sos(rate).astype(np.complex128)
        self._zi = np.zeros((self._rows, self._sos.shape[0], 2), dtype=np.complex128)
        self._peak = TruePeakMeter(channels)
        self._n = 0
        self._total = np.zeros(channels)  # sum of squares of everything fed, per channel
        # Sums of squares before the gating-block boundaries still needed (index -> per-channel
        # sums), and the mean squares of the blocks complete so far: an hour keeps 36,000 small rows.
        self._sums: dict[int, FloatArray] = {0: np.zeros(channels)}
        self._next_lower = 0
        self._next_upper = 0
        self._z = _BlockRows(channels)
        self._work = np.empty(0, dtype=np.float64)
        self._packed = np.empty(0, dtype=np.complex128)
        # Called with each K-weighted block (channels x frames, float64, before squaring; valid only
        # during the call) and its first sample's index: the curves and stereo meters of
        # hitdesk.dsp.meters read it there, so they cost no second filter.
        self.weighted_sink: Callable[[FloatArray, int], None] | None = None

    # Block j of pyloudnorm covers samples [_lower(j), _upper(j)); the same float expressions give the
    # same integer boundaries.
    def _lower(self, j: int) -> int:
        return int(GATE_BLOCK_S * (j * _GATE_STEP) * self.rate)

    def _upper(self, j: int) -> int:
        return int(GATE_BLOCK_S * (j * _GATE_STEP + 1) * self.rate)

    def feed(self, block: npt.ArrayLike) -> None:
        self.feed_loudness(block)
        self.feed_true_peak(block)

    # The two halves of ``feed`` share no state: a caller may run them on two threads, each half's
    # blocks in order.
    def feed_true_peak(self, block: npt.ArrayLike) -> None:
        self._peak.feed(_as_frames(block))

    def feed_loudness(self, block: npt.ArrayLike) -> None:
        """K-weighting and the sums of squares the gating needs."""
        x = _as_frames(block)
        n = x.shape[0]
        if n == 0:
            return
        y = self._k_weighted_squares(x)
        start, end = self._n, self._n + n
        cuts = sorted({b for b in self._boundaries_upto(end) if start < b})
        inner = [b - start for b in cuts if b < end]
        parts = np.add.reduceat(y, np.array([0, *inner], dtype=np.intp), axis=1)
        running = self._total[:, None] + np.cumsum(parts, axis=1)
        for k, b in enumerate(inner):
            self._sums[b + start] = running[:, k].copy()
        self._total = running[:, -1].copy()
        if cuts and cuts[-1] == end:
            self._sums[end] = self._total
        self._n = end
        self._complete_blocks()

    def _k_weighted_squares(self, x: npt.NDArray[np.float32]) -> FloatArray:
        """The squared K-weighted samples of ``x`` (frames, channels) as channels x frames, float64.

        The filter's running time is the chain from one sample's state to the next, not the
        arithmetic, so two channels go through it at once as the real and imaginary parts of one
        complex signal: the coefficients are real, so each part is exactly what filtering that
        channel alone gives (a real coefficient times a complex value multiplies both parts, and
        the cross terms are exact zeros), in about three quarters of the time of two real passes.
        A block with NaN or inf (the decoder replaces these; other callers' arrays may have them)
        would poison the state for the rest of the track: it leaves the state non-finite, so it is
        filtered again with those values as 0, which costs nothing when there are none.
        """
        n = x.shape[0]
        # Buffers kept from block to block: a fresh megabyte per block, freed on another thread than
        # the decoder's, scattered the heap (60-minute file: 30-90 MB more peak memory).
        if self._packed.size < self._rows * n:
            self._packed = np.empty(self._rows * n, dtype=np.complex128)
            self._work = np.empty(self.channels * n, dtype=np.float64)
        packed = self._packed[: self._rows * n].reshape(self._rows, n)  # C-contiguous, as the filter needs
        y = self._work[: self.channels * n].reshape(self.channels, n)
        state = self._zi.copy()
        for attempt in range(2):
            for r in range(self._rows):
                packed.real[r] = x[:, 2 * r]
                packed.imag[r] = x[:, 2 * r + 1] if 2 * r + 1 < self.channels else 0.0
            sosfilt_inplace(self._sos, packed, self._zi)
            if attempt or np.isfinite(self._zi).all():
                break
            self._zi[...] = state
            x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        for c in range(self.channels):
            part = packed[c // 2].imag if c % 2 else packed[c // 2].real
            if self.weighted_sink is None:
                np.square(part, out=y[c])
            else:
                np.copyto(y[c], part)
        if self.weighted_sink is not None:
            self.weighted_sink(y, self._n)
            np.square(y, out=y)
        return y

    def _complete_blocks(self) -> None:
        """Mean squares of the blocks that end by now; boundaries no later block needs are dropped."""
        j = len(self._z)
        while self._upper(j) <= self._n:
            self._z.append((self._sums[self._upper(j)] - self._sums[self._lower(j)]) / (GATE_BLOCK_S * self.rate))
            j += 1
        first_needed = self._lower(j)
        while self._sums and next(iter(self._sums)) < first_needed:  # in index order, as inserted
            del self._sums[next(iter(self._sums))]

    def _boundaries_upto(self, end: int) -> list[int]:
        found = []
        while self._lower(self._next_lower) <= end:
            found.append(self._lower(self._next_lower))
            self._next_lower += 1
        while self._upper(self._next_upper) <= end:
            found.append(self._upper(self._next_upper))
            self._next_upper += 1
        return found

    def result(self) -> Loudness:
        peak = self._peak.peak()
        peak_db = 20.0 * math.log10(peak) if peak > 0 else -math.inf
        return Loudness(self._integrated(), peak_db)

    def _sum_before(self, index: int) -> FloatArray:
        return self._total if index >= self._n else self._sums[index]

    def _integrated(self) -> float | None:
        """pyloudnorm's gating: absolute gate at -70 LUFS, relative gate 10 LU below the mean above it."""
        if self._n < GATE_BLOCK_S * self.rate:
            return None
        duration = self._n / self.rate
        n_blocks = int(np.round((duration - GATE_BLOCK_S) / (GATE_BLOCK_S * _GATE_STEP))) + 1
        gains = np.array([_CHANNEL_GAINS[c] if c < len(_CHANNEL_GAINS) else 1.0 for c in range(self.channels)])
        z = np.empty((n_blocks, self.channels))
        for j in range(n_blocks):
            if j < len(self._z):
                z[j] = self._z[j]
            else:  # a block running past the end: pyloudnorm's slice stops there
                z[j] = (self._sum_before(self._upper(j)) - self._sum_before(self._lower(j))) / (
                    GATE_BLOCK_S * self.rate
                )
        power = z @ gains
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(power)
        above_abs = block_lufs >= ABSOLUTE_GATE_LUFS
        if not above_abs.any():
            return None
        relative_gate = -0.691 + 10.0 * math.log10(float(z[above_abs].mean(axis=0) @ gains)) - 10.0
        gated = (block_lufs > relative_gate) & (block_lufs > ABSOLUTE_GATE_LUFS)
        if not gated.any():
            return None
        return -0.691 + 10.0 * math.log10(float(z[gated].mean(axis=0) @ gains))
