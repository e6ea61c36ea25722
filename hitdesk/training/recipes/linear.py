"""Linear recipes on band statistics of log-mel: Yang et al.'s m1, and Leefmans' intervals.

Both describe a stretch of log-mel by the mean and standard deviation over time of its 128 bands
(256 numbers) and fit a linear model: ridge regression on popularity when the manifest has it (as
Yang et al. regress a popularity score), else logistic regression on the hit label. The graph
computes the same 256 numbers from any window the app hands it, so the exported model eats
log-mel like every other.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from sklearn.linear_model import LogisticRegressionCV, RidgeCV

from hitdesk.training.featcache import MIDDLE_SECONDS
from hitdesk.training.graph import GraphBuilder, logmel_input, value_info
from hitdesk.training.recipes.base import SCORE, WINDOW_NAMES, RecipeData, Scorer

# 256 features against a few hundred songs: the penalty is chosen by inner cross-validation over
# this grid rather than fixed, since the right amount depends on the catalogue's size.
PENALTY_GRID = tuple(float(v) for v in np.logspace(-2, 4, 13))


def band_stats(logmel: np.ndarray) -> np.ndarray:
    """(128, T) -> (256,): per-band mean then per-band population std over time."""
    m = np.asarray(logmel, dtype=np.float64)
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


@dataclass(frozen=True)
class LinearModel:
    """Standardisation and one linear score, as arrays (so the graph is written by hand)."""

    mean: np.ndarray
    std: np.ndarray
    w: np.ndarray
    b: float
    kind: str  # "ridge on popularity" | "logistic on hit"

    def score(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(((np.asarray(x, dtype=np.float64) - self.mean) / self.std) @ self.w + self.b)

    def graph(self, name: str) -> onnx.ModelProto:
        """``logmel`` [N, 128, T] -> ``score`` [N]."""
        g = GraphBuilder()
        mean3 = g.op("ReduceMean", ["logmel"], axes=[2], keepdims=1)
        centred = g.op("Sub", ["logmel", mean3])
        std = g.op("Sqrt", [g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=[2], keepdims=0)])
        mean = g.op("Squeeze", [mean3, g.const("lin_time_axis", [2], np.int64)])
        x = g.op("Concat", [mean, std], axis=1)
        z = g.op("Div", [g.op("Sub", [x, g.const("lin_mean", self.mean)]), g.const("lin_std", self.std)])
        s = g.op("Add", [g.op("MatMul", [z, g.const("lin_w", self.w[:, None])]), g.const("lin_b", [self.b])])
        g.op("Squeeze", [s, g.const("lin_out_axis", [1], np.int64)], SCORE)
        doc = f"linear {self.kind} on band mean and std of log-mel"
        return g.model(name, [logmel_input()], [value_info(SCORE, ["batch"])], doc)


def fit_linear(x: np.ndarray, data_hit: np.ndarray, popularity: np.ndarray | None) -> LinearModel:
    x = np.asarray(x, dtype=np.float64)
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-9, std, 1.0)
    z = (x - mean) / std
    if popularity is not None:
        ridge = RidgeCV(alphas=PENALTY_GRID).fit(z, popularity)
        return LinearModel(mean, std, np.asarray(ridge.coef_, dtype=np.float64), float(ridge.intercept_), "ridge")
    if len(np.unique(data_hit)) < 2:
        # One class only: the best linear score is a constant.
        return LinearModel(mean, std, np.zeros(x.shape[1]), 0.0, "logistic")
    folds = int(min(5, np.bincount(np.asarray(data_hit, dtype=np.int64)).min()))
    if folds < 2:
        return LinearModel(mean, std, np.zeros(x.shape[1]), float(np.mean(data_hit) - 0.5), "logistic")
    with warnings.catch_warnings():
        # scikit-learn 1.8 announces new defaults (l1_ratios, which a plain L2 penalty never reads, and the
        # scoring); the arguments above are the ones this recipe was measured with, so they stay.
        warnings.filterwarnings("ignore", category=FutureWarning, module=r"sklearn\.linear_model")
        logit = LogisticRegressionCV(Cs=[1.0 / a for a in PENALTY_GRID], cv=folds, max_iter=2000).fit(z, data_hit)
    return LinearModel(mean, std, np.asarray(logit.coef_[0], dtype=np.float64), float(logit.intercept_[0]), "logistic")


def _kind(data: RecipeData) -> str:
    return "ridge regression on popularity" if data.popularity is not None else "logistic regression on the hit label"


class MelStatsLinear:
    name = "mel-stats-linear"
    summary = "linear model on mean and std over time of 128 log-mel bands of the middle 60 s (Yang et al. m1)"

    def task(self, data: RecipeData) -> str:
        return "regression" if data.popularity is not None else "binary"

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        x = np.stack([band_stats(f.middle60) for f in data.feats])
        model = fit_linear(x, data.hit, data.popularity)

        def score_songs(d: RecipeData) -> np.ndarray:
            return model.score(np.stack([band_stats(f.middle60) for f in d.feats]))[:, None]

        info: dict[str, Any] = {
            "recipe": self.name,
            "method": f"{_kind(data)} on 256 band statistics (128 means, 128 stds) of the middle "
            f"{MIDDLE_SECONDS:g} s; the overall score is the middle window's, analysed with "
            f"{MIDDLE_SECONDS:g} s windows",
            "features": "mean and population std over time of each of the 128 log-mel bands (dB, 0 at max)",
        }
        return Scorer(score_songs, model.graph, ["logmel"], "middle", MIDDLE_SECONDS, info)


class Intervals:
    name = "intervals"
    summary = "beginning, middle and end windows as examples with the song's label, averaged per song (Leefmans)"

    def task(self, data: RecipeData) -> str:
        return "regression" if data.popularity is not None else "binary"

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        x = np.stack([band_stats(f.windows[w]) for f in data.feats for w in WINDOW_NAMES])
        rep = len(WINDOW_NAMES)
        pop = None if data.popularity is None else np.repeat(data.popularity, rep)
        model = fit_linear(x, np.repeat(data.hit, rep), pop)

        def score_songs(d: RecipeData) -> np.ndarray:
            xs = np.stack([band_stats(f.windows[w]) for f in d.feats for w in WINDOW_NAMES])
            return model.score(xs).reshape(d.n, rep)

        info: dict[str, Any] = {
            "recipe": self.name,
            "method": f"each of the {rep} windows ({', '.join(WINDOW_NAMES)}) of {data.window_seconds:g} s is a "
            f"training example carrying its song's target; the model underneath is {_kind(data)} on the "
            "256 band statistics of the window (the linear model, not a CNN); the song's probability is the "
            "mean of its windows' calibrated probabilities",
        }

        def score_windows(xs: np.ndarray, meta: np.ndarray | None) -> np.ndarray:
            return model.score(np.stack([band_stats(m) for m in xs]))

        return Scorer(
            score_songs, model.graph, ["logmel"], "mean", data.window_seconds, info, score_windows=score_windows
        )
