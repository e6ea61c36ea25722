"""Stereo meters of the front pair: correlation, width and mono compatibility.

All three read the K-weighted signal the loudness meter already computes (``StepHistory``'s sums
of L^2, R^2 and L*R per 100 ms step), so they cost no second filter, and the K-weighting's high pass
keeps a DC offset or sub-sonic rumble from reading as correlation. With sums over a span:

- correlation = sum(L*R) / sqrt(sum(L^2) * sum(R^2)): +1 identical channels, -1 one inverted, about 0
  independent ones; 0 when either channel is silent. Over time: the same over 400 ms windows,
  every 100 ms.
- width = sum((L-R)^2) / (sum((L+R)^2) + sum((L-R)^2)), the side signal's share of the energy:
  0 mono, 0.5 independent channels of equal level, 1 one channel the other's inverse. For equal
  levels it is (1 - correlation) / 2.
- mono loss (LU) = the pair's integrated loudness minus that of its mono fold M = (L + R) / 2 played
  on both speakers, both over the 400 ms blocks the pair's BS.1770 gating keeps: 0 for identical
  channels, 3 LU for independent ones of equal level, more where they cancel. A fold quieter
  than the -70 LUFS absolute gate counts as -70 LUFS (an inverted copy loses everything; the
  number says how much was there).

For more than two channels these are measured on the first two, the front left and right of WAV,
FLAC and FFmpeg's channel orders; a 1-channel file has no stereo result.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from hitdesk.dsp.loudness import ABSOLUTE_GATE_LUFS
from hitdesk.dsp.loudness_range import CROSS, LEFT, MOMENTARY_STEPS, RIGHT, FloatArray, StepHistory

RELATIVE_GATE_LU = -10.0  # BS.1770's, for the pair's integrated loudness


@dataclass(frozen=True)
class Stereo:
    """The front pair's correlation (-1..1), width (0..1) and mono loss (LU, None if nothing passes
    the gates). Rounded in ``to_dict`` as meters show them."""

    correlation: float
    width: float
    mono_loss_lu: float | None

    def to_dict(self) -> dict[str, float | None]:
        loss = self.mono_loss_lu
        return {
            "correlation": round(self.correlation, 3),
            "width": round(self.width, 3),
            "mono_loss_lu": None if loss is None else round(loss, 2),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Stereo:
        loss = d.get("mono_loss_lu")
        return cls(float(d["correlation"]), float(d["width"]), None if loss is None else float(loss))


def _correlation(left: FloatArray, right: FloatArray, cross: FloatArray) -> FloatArray:
    denominator = np.sqrt(left * right)
    out = np.zeros_like(cross)
    np.divide(cross, denominator, out=out, where=denominator > 0)
    return np.clip(out, -1.0, 1.0)


def correlation_curve(history: StepHistory) -> FloatArray:
    """Correlation over 400 ms windows, one per 100 ms step (the momentary curve's windows)."""
    return _correlation(*(history.window_sums(c, MOMENTARY_STEPS) for c in (LEFT, RIGHT, CROSS)))


def stereo_of(history: StepHistory) -> Stereo | None:
    if history.channels < 2:
        return None
    rows = history.rows
    left, right, cross = (float(rows[:, c].sum()) for c in (LEFT, RIGHT, CROSS))
    correlation = float(_correlation(np.array([left]), np.array([right]), np.array([cross]))[0])
    total = left + right
    width = min(1.0, max(0.0, (total - 2.0 * cross) / (2.0 * total))) if total > 0 else 0.0
    return Stereo(correlation, width, _mono_loss(history))


def _mono_loss(history: StepHistory) -> float | None:
    samples = history.window_samples(MOMENTARY_STEPS)
    if samples.size == 0:
        return None
    left, right, cross = (history.window_sums(c, MOMENTARY_STEPS) for c in (LEFT, RIGHT, CROSS))
    pair = (left + right) / samples
    # [M, M] with M = (L + R) / 2: 2 * (L^2 + R^2 + 2 L R) / 4 per sample.
    fold = np.maximum((left + right + 2.0 * cross) / 2.0, 0.0) / samples
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10.0 * np.log10(pair)
    above = block_lufs >= ABSOLUTE_GATE_LUFS
    if not above.any():
        return None
    gate = -0.691 + 10.0 * math.log10(float(pair[above].mean())) + RELATIVE_GATE_LU
    kept = above & (block_lufs > gate)
    pair_lufs = -0.691 + 10.0 * math.log10(float(pair[kept].mean()))
    fold_power = float(fold[kept].mean())
    fold_lufs = -0.691 + 10.0 * math.log10(fold_power) if fold_power > 0 else -math.inf
    return max(0.0, pair_lufs - max(fold_lufs, ABSOLUTE_GATE_LUFS))
