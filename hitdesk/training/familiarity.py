"""How typical a track's statistics are of the training songs (Mahalanobis distance).

A hit probability for a track unlike anything in the chart data (speech, noise, a sine sweep) is
an extrapolation; the runtime compares the track's distance to the training songs' own distances
and says so. Only numbers go into the card: mean, inverse covariance, distance percentiles.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.covariance import LedoitWolf

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FamiliarityFit:
    mean: np.ndarray  # [42] raw statistics
    inv_cov: np.ndarray  # [42, 42], for raw (unscaled) statistics
    percentiles: np.ndarray  # [101]: 0..100th percentile of training songs' distances
    shrinkage: float

    @classmethod
    def fit(cls, stats: np.ndarray) -> FamiliarityFit:
        """Ledoit-Wolf on standardised statistics, then mapped back to raw units.

        Shrinking towards a scaled identity in raw units would let duration (variance ~1e4) swamp
        the MFCC stds (variance ~1); standardising first shrinks every statistic alike. The
        distance is unchanged by the mapping, so the runtime needs only raw mean and inverse.
        """
        mean = stats.mean(axis=0)
        scale = stats.std(axis=0)
        scale = np.where(scale > 1e-12, scale, 1.0)
        lw = LedoitWolf().fit((stats - mean) / scale)
        inv_cov = lw.precision_ / np.outer(scale, scale)
        inv_cov = (inv_cov + inv_cov.T) / 2.0
        fam = cls(mean=mean, inv_cov=inv_cov, percentiles=np.zeros(101), shrinkage=float(lw.shrinkage_))
        distances = fam.distance(stats)
        return cls(mean, inv_cov, np.percentile(distances, np.arange(101)), float(lw.shrinkage_))

    def distance(self, stats: np.ndarray) -> np.ndarray:
        diff = np.atleast_2d(stats) - self.mean
        return np.asarray(np.sqrt(np.maximum(np.einsum("ni,ij,nj->n", diff, self.inv_cov, diff), 0.0)))

    def percentile_of(self, stats: np.ndarray) -> np.ndarray:
        """Share (0..100) of training songs closer to the centre than this track."""
        return np.asarray(np.interp(self.distance(stats), self.percentiles, np.arange(101.0)))

    def to_card(self) -> dict[str, Any]:
        return {
            "method": "Mahalanobis distance to the training songs' mean; Ledoit-Wolf covariance of the "
            "standardised statistics, mapped back to raw units (inv_cov applies to raw stats in stat_columns order)",
            "shrinkage": self.shrinkage,
            "mean": [float(v) for v in self.mean],
            "inv_cov": [[float(v) for v in row] for row in self.inv_cov],
            "distance_percentiles": [float(v) for v in self.percentiles],
        }
