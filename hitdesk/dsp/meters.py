"""Everything a producer's meters read from one pass: loudness over time, stereo, clipping.

``TrackMeter`` is the loudness meter (integrated loudness, true peak) that also keeps the 100 ms
history of its own K-weighted samples (``hitdesk.dsp.loudness_range``) and counts clipped runs in
the native blocks (``hitdesk.dsp.clipping``); its ``result()`` is a ``TrackLoudness``, a
``Loudness`` with the momentary and short-term maxima, LRA, PLR, the stereo meters, the problem
spots for a timeline (``hitdesk.dsp.spots``) and the curves for drawing. Analysis feeds it exactly
as it feeds a ``LoudnessMeter``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.clipping import ClipCounter, Clipping
from hitdesk.dsp.loudness import Loudness, LoudnessMeter, _finite_block
from hitdesk.dsp.loudness_range import (
    STEP_S,
    Float32Array,
    StepHistory,
    as_curve,
    finite_max,
    loudness_range,
    momentary_lufs,
    short_term_lufs,
)
from hitdesk.dsp.spots import ProblemSpots, RunLog, spots_of
from hitdesk.dsp.stereo import Stereo, correlation_curve, stereo_of

# Keys of the "loudness" object beyond ``Loudness.to_dict``'s two.
EXTRA_KEYS = ("lra_lu", "plr_db", "momentary_max_lufs", "short_term_max_lufs")


@dataclass(frozen=True)
class LoudnessCurves:
    """Momentary and short-term loudness (LUFS, -inf for silence) and the front pair's correlation,
    one value per 100 ms step; value ``i`` of a curve whose windows last ``w`` seconds covers the
    track from ``i * step_s`` to ``i * step_s + w`` (``end_s`` gives its end, where meters draw it)."""

    momentary: Float32Array
    short_term: Float32Array
    correlation: Float32Array | None
    step_s: float = STEP_S

    def end_s(self, curve: npt.NDArray[Any], window_s: float) -> npt.NDArray[np.float64]:
        return np.arange(curve.size, dtype=np.float64) * self.step_s + float(window_s)


@dataclass(frozen=True)
class TrackLoudness(Loudness):
    """``Loudness`` with the meters of the whole pass; fields are None where nothing can be said (a
    track shorter than a window, silence, a 1-channel file for ``stereo``)."""

    lra_lu: float | None = None
    momentary_max_lufs: float | None = None
    short_term_max_lufs: float | None = None
    stereo: Stereo | None = None
    clipping: Clipping | None = None
    problem_spots: ProblemSpots | None = None
    curves: LoudnessCurves | None = field(default=None, compare=False, repr=False)

    @property
    def plr_db(self) -> float | None:
        """Peak-to-loudness ratio (EBU R128 s1): true peak minus integrated loudness."""
        lufs, peak = self.integrated_lufs, self.true_peak_dbtp
        if lufs is None or not math.isfinite(lufs) or not math.isfinite(peak):
            return None
        return peak - lufs

    def to_dict(self) -> dict[str, float | None]:
        def rounded(x: float | None) -> float | None:
            return None if x is None or not math.isfinite(x) else round(x, 2)

        return {
            **super().to_dict(),
            "lra_lu": rounded(self.lra_lu),
            "plr_db": rounded(self.plr_db),
            "momentary_max_lufs": rounded(self.momentary_max_lufs),
            "short_term_max_lufs": rounded(self.short_term_max_lufs),
        }

    @classmethod
    def from_dicts(
        cls,
        loudness: dict[str, Any],
        stereo: dict[str, Any] | None,
        clipping: dict[str, Any] | None,
        spots: dict[str, Any] | None = None,
    ) -> TrackLoudness:
        """Reads the "loudness", "stereo", "clipping" and "problem_spots" objects a result's JSON holds."""
        base = Loudness.from_dict(loudness)

        def number(key: str) -> float | None:
            value = loudness.get(key)
            return None if value is None else float(value)

        return cls(
            base.integrated_lufs,
            base.true_peak_dbtp,
            lra_lu=number("lra_lu"),
            momentary_max_lufs=number("momentary_max_lufs"),
            short_term_max_lufs=number("short_term_max_lufs"),
            stereo=None if stereo is None else Stereo.from_dict(stereo),
            clipping=None if clipping is None else Clipping.from_dict(clipping),
            problem_spots=None if spots is None else ProblemSpots.from_dict(spots),
        )


class TrackMeter(LoudnessMeter):
    """A ``LoudnessMeter`` whose ``result()`` is a ``TrackLoudness``; fed the same way, in the same
    two halves (``feed_loudness`` and ``feed_true_peak`` may run on two threads)."""

    def __init__(self, rate: int, channels: int) -> None:
        super().__init__(rate, channels)
        self.history = StepHistory(rate, channels)
        self.weighted_sink = self.history.feed
        self._clips = ClipCounter(rate, channels)
        self._clips.spots = RunLog(rate)
        self._peak.spots = RunLog(rate)
        self._frames = 0

    def feed_true_peak(self, block: npt.ArrayLike) -> None:
        x = _finite_block(block)
        super().feed_true_peak(x)
        self._clips.feed(x)
        self._frames += len(x)

    def result(self) -> TrackLoudness:
        base = super().result()
        momentary = momentary_lufs(self.history)
        short_term = short_term_lufs(self.history)
        stereo = stereo_of(self.history)
        curves = LoudnessCurves(
            as_curve(momentary),
            as_curve(short_term),
            None if stereo is None else as_curve(correlation_curve(self.history)),
        )
        return TrackLoudness(
            base.integrated_lufs,
            base.true_peak_dbtp,
            lra_lu=loudness_range(short_term),
            momentary_max_lufs=finite_max(momentary),
            short_term_max_lufs=finite_max(short_term),
            stereo=stereo,
            clipping=self._clips.result(),
            problem_spots=self._spots(),
            curves=curves,
        )

    def _spots(self) -> ProblemSpots | None:
        clipped, peaks = self._clips.spots, self._peak.spots
        return None if clipped is None or peaks is None else spots_of(clipped, peaks, self._frames)
