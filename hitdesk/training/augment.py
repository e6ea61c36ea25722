"""Training-time augmentation that makes whole-track statistics look like 30-second-window statistics.

The chart data has statistics of whole songs, but the app also scores 30 s windows, whose MFCC means
and spreads differ from the whole track's (a window has less variety, so smaller stds). The lead
measures the (window - track) differences on real music into ``window_shift.json``; adding draws
of that difference to copies of the training rows teaches the head that both kinds of input mean
the same song.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.config import N_STATS, STAT_COLUMNS

log = logging.getLogger(__name__)

DEFAULT_WINDOW_SHIFT = Path(__file__).with_name("window_shift.json")
# The app feeds the whole track's duration with every window, so duration never shifts.
UNSHIFTED_COLUMNS = ("duration",)


@dataclass(frozen=True)
class WindowShift:
    """N(mean, cov) of (window stats - track stats), in ``STAT_COLUMNS`` order."""

    mean: np.ndarray  # [42]
    cov: np.ndarray  # [42, 42]
    n: int
    source: str

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> WindowShift:
        columns = list(raw["columns"])
        if sorted(columns) != sorted(STAT_COLUMNS):
            raise ValueError(f"window shift columns must be the {N_STATS} statistics, got {columns}")
        order = [columns.index(c) for c in STAT_COLUMNS]
        mean = np.asarray(raw["mean"], dtype=np.float64)[order]
        cov = np.asarray(raw["cov"], dtype=np.float64)[np.ix_(order, order)]
        if mean.shape != (N_STATS,) or cov.shape != (N_STATS, N_STATS):
            raise ValueError("window shift mean must have 42 values and cov 42x42")
        cov = (cov + cov.T) / 2.0
        for name in UNSHIFTED_COLUMNS:
            j = STAT_COLUMNS.index(name)
            mean[j] = 0.0
            cov[j, :] = 0.0
            cov[:, j] = 0.0
        return cls(mean=mean, cov=cov, n=int(raw.get("n", 0)), source=str(raw.get("source", "")))

    @classmethod
    def load(cls, path: str | Path) -> WindowShift:
        shift = cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))
        log.info("window shift from %s: n=%d, source=%s", path, shift.n, shift.source)
        return shift

    def shifted_copy(self, x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A copy of every row moved by one independent draw of the shift."""
        draws = rng.multivariate_normal(self.mean, self.cov, size=len(x), method="eigh")
        return np.asarray(x + draws)

    def summary(self, path: Path | None = None) -> dict[str, Any]:
        return {
            "used": True,
            "file": path.name if path is not None else None,
            "n": self.n,
            "source": self.source,
            "unshifted_columns": list(UNSHIFTED_COLUMNS),
            "copies_per_row": 1,
        }
