"""Problem spots for a timeline: where a track clips and where its true peak goes over a ceiling.

Both come from the meters of the one decoding pass: the clipping counter (``hitdesk.dsp.clipping``)
says where clipped runs start, the true-peak meter (``hitdesk.dsp.truepeak``) where its 4x
oversampled signal exceeds ``FLOOR_DBTP`` and by how much. Each kind is kept as runs of 100 ms steps
(the loudness meters' step): steps less than ``MERGE_S`` apart join one run, so a chorus that clips
on every beat is one mark, not hundreds. At most ``MAX_RUNS`` runs of each kind are kept (the first
ones) and the rest counted, so the result stays small for any track.

A true-peak run carries the largest true peak in it, so a ceiling above the floor (a profile's
``fail_above 0``) marks the runs that exceed it; a ceiling below the floor (-2 dBTP) cannot be
marked from these runs, and ``over`` says so by returning the floor it used.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

FLOOR_DBTP = -1.0  # the built-in QC profiles' ceiling and the platforms' limit when they turn a take up
FLOOR_LINEAR = 10.0 ** (FLOOR_DBTP / 20.0)
STEP_S = 0.1
MERGE_S = 0.5
MAX_RUNS = 100

Span = tuple[float, float]


class RunLog:
    """Steps fed in order (each with a value, or none) merged into at most ``MAX_RUNS`` runs."""

    def __init__(self, rate: int, max_runs: int = MAX_RUNS) -> None:
        self.step_frames = max(1, round(rate * STEP_S))
        self.rate = rate
        self._gap = max(1, round(MERGE_S / STEP_S))
        self._max = max_runs
        self.runs: list[tuple[int, int, float]] = []  # (first step, last step, largest value)
        self._open: list[float] | None = None  # [first, last, value] of the run being extended
        self.left_off = 0

    def add(self, frames: npt.NDArray[np.int64], values: npt.NDArray[np.float64] | None = None) -> None:
        """Frames (sorted, from the start of the track) where something happened, and its size there."""
        if frames.size == 0:
            return
        steps = np.maximum(frames, 0) // self.step_frames
        firsts = np.flatnonzero(np.r_[True, steps[1:] != steps[:-1]])
        unique = steps[firsts]
        peaks = np.maximum.reduceat(values, firsts) if values is not None else np.zeros(unique.size)
        for step, peak in zip(unique.tolist(), peaks.tolist(), strict=True):
            run = self._open
            if run is not None and step - run[1] <= self._gap:
                run[1] = max(run[1], step)
                run[2] = max(run[2], peak)
                continue
            self._close()
            self._open = [step, step, peak]

    def _close(self) -> None:
        if self._open is None:
            return
        first, last, peak = self._open
        if len(self.runs) < self._max:
            self.runs.append((int(first), int(last), float(peak)))
        else:
            self.left_off += 1
        self._open = None

    def finish(self, frames: int) -> list[tuple[float, float, float]]:
        """The runs in seconds (start, end, value); ``frames`` is the track's length, where the last ends."""
        self._close()
        end_s = frames / self.rate
        step = self.step_frames / self.rate
        return [(first * step, min(end_s, (last + 1) * step), peak) for first, last, peak in self.runs]


@dataclass(frozen=True)
class ProblemSpots:
    """Clipped spans and spans whose true peak exceeds ``floor_dbtp`` (with their largest, in dBTP)."""

    clipped: tuple[Span, ...] = ()
    true_peak: tuple[tuple[float, float, float], ...] = ()
    floor_dbtp: float = FLOOR_DBTP
    left_off: int = 0  # runs of either kind beyond the ``MAX_RUNS`` kept

    def over(self, ceiling_dbtp: float) -> tuple[list[Span], float]:
        """The spans whose true peak exceeds ``ceiling_dbtp`` and the ceiling that was applied: the
        floor itself when the ceiling is below it (those spans cannot be told from these runs)."""
        applied = max(ceiling_dbtp, self.floor_dbtp)
        return [(start, end) for start, end, peak in self.true_peak if peak > applied], applied

    def to_dict(self) -> dict[str, Any]:
        return {
            "true_peak_floor_dbtp": self.floor_dbtp,
            "clipped": [[round(a, 3), round(b, 3)] for a, b in self.clipped],
            "true_peak": [[round(a, 3), round(b, 3), round(p, 2)] for a, b, p in self.true_peak],
            "left_off": self.left_off,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ProblemSpots:
        return cls(
            tuple((float(a), float(b)) for a, b in d.get("clipped") or ()),
            tuple((float(a), float(b), float(p)) for a, b, p in d.get("true_peak") or ()),
            float(d.get("true_peak_floor_dbtp", FLOOR_DBTP)),
            int(d.get("left_off") or 0),
        )


def spots_of(clipped: RunLog, peaks: RunLog, frames: int) -> ProblemSpots:
    true_peak = tuple((a, b, 20.0 * math.log10(p) if p > 0 else -math.inf) for a, b, p in peaks.finish(frames) if p > 0)
    clips = tuple((a, b) for a, b, _ in clipped.finish(frames))
    return ProblemSpots(clips, true_peak, FLOOR_DBTP, clipped.left_off + peaks.left_off)
