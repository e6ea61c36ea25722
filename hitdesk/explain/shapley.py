"""Exact Shapley values of a few groups of inputs against a weighted background.

The value of a coalition S of groups is the background-weighted mean of the model's score of the
track with the groups in S taken from it and the others from each background row (the
"interventional" Shapley value). With n groups that is 2^n coalitions times K background rows,
all scored in one batch. By construction the values add up: baseline (no group taken, the
background's mean score) plus the sum of the contributions is the score of the track itself.
"""

from __future__ import annotations

from collections.abc import Callable
from math import factorial

import numpy as np
import numpy.typing as npt

ScoreRows = Callable[[npt.NDArray[np.float64]], npt.NDArray[np.float64]]


def coalition_matrix(n: int) -> npt.NDArray[np.float64]:
    """[2^n, n] of 0/1: row c holds group i when bit i of c is set."""
    c = np.arange(1 << n)
    return ((c[:, None] >> np.arange(n)[None, :]) & 1).astype(np.float64)


def shapley_from_values(values: npt.ArrayLike, n: int) -> npt.NDArray[np.float64]:
    """Shapley value of each of ``n`` players from the value of every coalition (indexed by bitmask)."""
    v = np.asarray(values, dtype=np.float64)
    if v.shape != (1 << n,):
        raise ValueError(f"expected {1 << n} coalition values, got {v.shape}")
    sizes = coalition_matrix(n).sum(axis=1).astype(int)
    weight = np.array([factorial(s) * factorial(n - s - 1) / factorial(n) for s in range(n)])
    phi = np.zeros(n)
    masks = np.arange(1 << n)
    for i in range(n):
        without = masks[(masks >> i) & 1 == 0]
        phi[i] = float(np.sum(weight[sizes[without]] * (v[without | (1 << i)] - v[without])))
    return phi
