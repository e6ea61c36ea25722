"""Lining up two takes of one song: where a moment of take A falls in take B, and how sure that is. No Qt.

Sonic Lineup lines files up by their features; this does it with what the analysis already has, the
whole track's onset envelope (``hitdesk.dsp.rhythm.onset_envelope``, one value every 512 samples at
22,050 Hz, about 23 ms), kept on ``AnalysisDetail.onset_envelope``: nothing is decoded again.

Each envelope is compressed (``log1p``), blurred over a few frames, its slow trend (a moving mean
over ``_TREND_S``) is taken away and it is scaled to unit variance, so the loud and quiet parts of a
song weigh alike and a different mix or master of the same music keeps its note onsets. The
cross-correlation (by FFT) is divided at each lag by the energies of the two overlapping parts, so
it is a correlation coefficient of what overlaps: 1 for identical onsets, about 0 for unrelated
music. Lags where little overlaps are not considered (a few seconds of overlap match anything),
and takes under ``MIN_TAKE_S`` are refused. The best lag is refined between frames by a parabola
through the peak and its neighbours.

Two numbers judge the best lag: its coefficient, and how far it stands above the best lag more than
``_FAR_S`` away from it (music with a steady beat correlates a little at every beat, so two songs at
one tempo give a plateau, not a peak). Takes are of one song when their onsets correlate strongly
(``STRONG``), or correlate (``WEAK``) at one offset clearly better than at any other (``MARGIN``);
loop-built music repeats itself exactly, so a true pair may have no margin and needs the first
rule. ``confidence`` puts both rules in one number that is 1 at the threshold
(``SAME_SONG_MIN_CONFIDENCE``); the thresholds come from the corpus pairs measured by
``bench/bench_align.py`` (figures in the README).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import scipy.fft

from hitdesk.config import FEATURES

ENVELOPE_HOP_S = FEATURES.hop_length / FEATURES.sample_rate
# Measured on the corpus (README): different songs reach 0.67 with a margin of 0.001 (two steady beats at
# one tempo) or a margin of 0.015; the same song with another intro reaches 0.78 or more, and a mix
# against its guitar stem 0.24 with a margin of 0.041.
STRONG = 0.75
WEAK = 0.2
MARGIN = 0.025
SAME_SONG_MIN_CONFIDENCE = 1.0
MIN_OVERLAP_S = 10.0
MIN_TAKE_S = 20.0
MIN_OVERLAP_SHARE = 0.5  # of the shorter take
_MAX_OVERLAP_SHARE = 0.75  # ... and never more than this of it: a short take may start before the other
_FAR_S = 2.0
_TREND_S = 1.0
_BLUR_S = 0.035


class AlignmentError(ValueError):
    """Envelopes that cannot be lined up (empty, or too short to overlap); ``str()`` is one sentence."""


@dataclass(frozen=True)
class Alignment:
    """``offset_s``: a moment at t seconds in take A is at t + offset_s in take B."""

    offset_s: float
    correlation: float  # of the overlapping onsets at that offset, -1 .. 1
    margin: float  # how far that stands above the best offset more than _FAR_S away (0 when there is none)
    overlap_s: float  # how much of the two overlaps at that offset

    @property
    def confidence(self) -> float:
        """1 at the threshold of one song, more above it (see the module docstring)."""
        return max(0.0, self.correlation / STRONG, min(self.correlation / WEAK, self.margin / MARGIN))

    @property
    def same_song(self) -> bool:
        return self.confidence >= SAME_SONG_MIN_CONFIDENCE


def prepare(envelope: npt.ArrayLike, hop_s: float = ENVELOPE_HOP_S) -> npt.NDArray[np.float64]:
    """The envelope as it is correlated: compressed, without its slow trend, unit variance (zero where flat)."""
    x = np.log1p(np.maximum(np.nan_to_num(np.asarray(envelope, dtype=np.float64).reshape(-1)), 0.0))
    n = x.size
    if n == 0:
        return x
    # A little blur (a triangle about 70 ms wide): two takes cut at different samples have their frames
    # at different phases, and spikes a frame wide would miss each other by a fraction of a frame.
    blur = max(1, round(_BLUR_S / hop_s))
    tri = np.concatenate([np.arange(1, blur + 1), np.arange(blur - 1, 0, -1)]).astype(np.float64)
    x = np.convolve(x, tri / tri.sum(), mode="same")
    k = max(1, round(_TREND_S / hop_s))
    kernel = np.ones(k) / k
    trend = np.convolve(np.pad(x, (k // 2, k - 1 - k // 2), mode="edge"), kernel, mode="valid")
    x = x - trend
    sd = float(x.std())
    return x / sd if sd > 1e-12 else np.zeros_like(x)


def align(
    envelope_a: npt.ArrayLike,
    envelope_b: npt.ArrayLike,
    hop_s: float = ENVELOPE_HOP_S,
    min_overlap_s: float = MIN_OVERLAP_S,
) -> Alignment:
    """Where take A's music lies in take B, from their onset envelopes at the same hop.

    Only offsets where at least half of the shorter take overlaps count, and at least ``min_overlap_s``
    unless that is more than three quarters of the shorter take (short takes). Raises
    ``AlignmentError`` for a take under ``MIN_TAKE_S``: in a few seconds of repetitive music, unrelated
    takes line up by chance (two 6 and 12 s corpus clips of different songs reach a confidence of 1.2).
    """
    if not (math.isfinite(hop_s) and hop_s > 0):
        raise AlignmentError("The envelopes' hop must be a positive number of seconds.")
    a, b = prepare(envelope_a, hop_s), prepare(envelope_b, hop_s)
    na, nb = a.size, b.size
    if min(na, nb) * hop_s < MIN_TAKE_S - hop_s:
        raise AlignmentError(f"A take shorter than {MIN_TAKE_S:g} s is too short to be lined up reliably.")
    if not a.any() or not b.any():  # silence, or a constant envelope: nothing to line up
        return Alignment(0.0, 0.0, 0.0, min(na, nb) * hop_s)
    shorter = min(na, nb)
    least = max(round(MIN_OVERLAP_SHARE * shorter), round(min_overlap_s / hop_s))
    min_overlap = max(2, min(least, round(_MAX_OVERLAP_SHARE * shorter)))
    size = scipy.fft.next_fast_len(na + nb - 1, real=True)
    # corr[j] = sum_t a[t] * b[t + lag] with lag = j - (na - 1), lags from -(na - 1) to nb - 1.
    spec = scipy.fft.rfft(b, size) * np.conj(scipy.fft.rfft(a, size))
    full = scipy.fft.irfft(spec, size)
    corr = np.concatenate([full[size - (na - 1) :], full[:nb]]) if na > 1 else full[:nb]
    lags = np.arange(-(na - 1), nb)
    # The overlapping parts at each lag: a[max(0, -lag) : min(na, nb - lag)] against b shifted by lag.
    a_start = np.maximum(0, -lags)
    a_end = np.minimum(na, nb - lags)
    overlap = a_end - a_start
    ca = np.concatenate([[0.0], np.cumsum(a * a)])
    cb = np.concatenate([[0.0], np.cumsum(b * b)])
    energy_a = ca[a_end] - ca[a_start]
    energy_b = cb[a_end + lags] - cb[a_start + lags]
    denom = np.sqrt(energy_a * energy_b)
    valid = (overlap >= min_overlap) & (denom > 1e-9)
    if not valid.any():
        raise AlignmentError("The two takes are too short to be lined up.")
    coef = np.full(corr.shape, -np.inf)
    coef[valid] = corr[valid] / denom[valid]
    j = int(np.argmax(coef))
    far = valid & (np.abs(lags - lags[j]) * hop_s > _FAR_S)
    margin = float(coef[j] - coef[far].max()) if far.any() else 0.0
    shift = 0.0
    if 0 < j < coef.size - 1 and np.isfinite(coef[j - 1]) and np.isfinite(coef[j + 1]):
        left, mid, right = coef[j - 1], coef[j], coef[j + 1]
        curve = left - 2.0 * mid + right
        if curve < 0:
            shift = float(np.clip(0.5 * (left - right) / curve, -0.5, 0.5))
    return Alignment(
        offset_s=float((lags[j] + shift) * hop_s),
        correlation=float(min(1.0, coef[j])),
        margin=margin,
        overlap_s=float(overlap[j] * hop_s),
    )
