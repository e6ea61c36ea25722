"""What every recipe shares: the fit request and its outcome; for manifest recipes, their data and scorer.

``FitRequest`` is one ``hitdesk-train fit``, whichever recipe it names: ``zalo-stats`` reads the
chart data (``data``), every other recipe a manifest of audio files (``manifest``).

A manifest recipe turns songs into *examples* (a song, or each of its windows) and learns a score
per example, higher meaning more of a hit. The fit command calibrates that score on out-of-fold
predictions and appends the calibration to the recipe's graph, so every exported model outputs
``p_hit``, ``p_hit_low`` and ``p_hit_high`` as the runtime expects.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import onnx

from hitdesk.config import DEFAULT_WINDOW_SECONDS
from hitdesk.errors import HitdeskError
from hitdesk.model.runtime import DEFAULT_MODEL_NAME
from hitdesk.training.calibration import Calibrator
from hitdesk.training.featcache import TrackFeatures
from hitdesk.training.graph import PROB_OUTPUTS, GraphBuilder, merge, value_info
from hitdesk.training.manifest import Track

WINDOW_NAMES = ("beginning", "middle", "end")
SCORE = "score"


class RecipeError(HitdeskError):
    """A recipe cannot run on this manifest (no popularity for a regression recipe, no metadata...)."""


@dataclass(frozen=True)
class FitRequest:
    """One ``hitdesk-train fit``: the recipe, its data, where the files go and the options."""

    recipe: str
    manifest: Path | None = None  # every recipe but zalo-stats: CSV of audio files and targets
    data: Path | None = None  # zalo-stats: the folder of the chart data
    out_dir: Path = Path("models")
    name: str | None = None
    report: Path | None = None
    folds: int = 5
    seed: int = 0
    epochs: int | None = None  # None: the recipe's own (for zalo-stats, the most a net may train)
    # Manifest recipes only.
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    jobs: int = 1
    cache_dir: Path | None = None
    tiers: str | None = None  # resnet-tiers: "tiers3" (default) or "deciles"
    # zalo-stats only.
    augment: bool = True  # train on window-shifted copies too
    window_shift: Path | None = None  # None: the measurement in hitdesk/training
    nets_per_member: int | None = None  # None: the recipe's own
    reference_check: bool = True  # also score baselines on the data README's folds

    @property
    def model_name(self) -> str:
        if self.name:
            return self.name
        if self.manifest is None:  # the chart data's recipe makes the default model
            return DEFAULT_MODEL_NAME
        return f"{self.manifest.stem}-{self.recipe}"

    @property
    def report_path(self) -> Path:
        return self.report or Path("reports") / f"{self.model_name}.md"


@dataclass
class FitOutcome:
    card: dict[str, Any]
    model_path: Path
    report_path: Path
    audio_seconds: float  # spent decoding audio (0 when every feature came from the cache)
    failed: list[str]  # tracks that could not be read


@dataclass
class RecipeData:
    """The usable songs of a manifest with their cached features and targets."""

    tracks: list[Track]
    feats: list[TrackFeatures]
    hit: np.ndarray  # (n,) 0/1
    popularity: np.ndarray | None  # (n,) or None when the manifest has labels only
    groups: np.ndarray  # (n,) artist groups
    meta: np.ndarray  # (n, m) metadata columns present in every usable row (m may be 0)
    meta_columns: list[str] = field(default_factory=list)
    window_seconds: float = 30.0
    lyrics: np.ndarray | None = None  # (n, 384) lyrics embeddings (zeros: no lyrics), None without a lyrics column

    @property
    def n(self) -> int:
        return len(self.tracks)

    def subset(self, idx: np.ndarray) -> RecipeData:
        return RecipeData(
            tracks=[self.tracks[i] for i in idx],
            feats=[self.feats[i] for i in idx],
            hit=self.hit[idx],
            popularity=None if self.popularity is None else self.popularity[idx],
            groups=self.groups[idx],
            meta=self.meta[idx],
            meta_columns=self.meta_columns,
            window_seconds=self.window_seconds,
            lyrics=None if self.lyrics is None else self.lyrics[idx],
        )


@dataclass
class Scorer:
    """A fitted recipe: scores examples, and knows its graph and what the card must say about it.

    ``song_scores`` gives one score per window (``windows`` of them per song, ``runtime`` "mean"
    averages the calibrated probabilities) or one per song (``runtime`` "middle" or "head").
    """

    score_songs: Any  # Callable[[RecipeData], np.ndarray]: (n, windows) scores
    graph: Any  # Callable[[str], onnx.ModelProto]: inputs per ``inputs`` -> output "score" (batch,)
    inputs: list[str]
    overall: str  # "mean" | "middle" | "head"
    window_seconds: float
    description: dict[str, Any]
    head: Any = None  # Callable[[str, Calibrator], onnx.ModelProto] | None: stats -> outputs
    tier_probs: Any = None  # Callable[[RecipeData], np.ndarray] | None: (n, classes) for tier recipes
    # (N, 128, T) windows [+ (N, m) metadata] -> (N,) scores: the export is checked against it.
    score_windows: Any = None
    meta_fill: list[float] = field(default_factory=list)
    history: dict[str, list[float]] = field(default_factory=dict)


class Recipe(Protocol):
    name: str
    summary: str

    # "binary" (learns the hit label), "regression" (learns popularity), or "tiers3" / "deciles"
    # (classes of popularity percentile).
    def task(self, data: RecipeData) -> str: ...
    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer: ...


def finite_logit(p: np.ndarray) -> np.ndarray:
    """Probabilities to logits, clipped so certain answers stay finite scores."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-6, 1.0 - 1e-6)
    return np.asarray(np.log(q / (1.0 - q)))


def window_stack(feats: Sequence[TrackFeatures]) -> tuple[np.ndarray, np.ndarray]:
    """The three windows of every song as (n*3, 128, T) with a song index per row.

    Windows of one fit share a length (the cache's window length), except songs shorter than a
    window; those are cut or edge-padded to the common length so they can be batched.
    """
    mats = [f.windows[w] for f in feats for w in WINDOW_NAMES]
    frames = int(np.median([m.shape[1] for m in mats]))
    out = np.empty((len(mats), mats[0].shape[0], frames), dtype=np.float32)
    for i, m in enumerate(mats):
        if m.shape[1] >= frames:
            out[i] = m[:, :frames]
        else:
            out[i] = np.pad(m, ((0, 0), (0, frames - m.shape[1])), mode="edge")
    return out, np.repeat(np.arange(len(feats)), len(WINDOW_NAMES))


def with_calibration(scorer_model: onnx.ModelProto, calibrator: Calibrator, name: str) -> onnx.ModelProto:
    """A scorer graph (output "score") followed by the calibration, as one checked model.

    The recipes have no uncertainty estimate of their own, so the range has zero width until
    ``interval.with_interval`` puts the measured one in its place.
    """
    g = GraphBuilder()
    g.probability_outputs(SCORE, calibrator)
    outputs = [value_info(o, ["batch"]) for o in PROB_OUTPUTS]
    tail = g.model(f"{name}-calibration", [value_info(SCORE, ["batch"])], outputs, "calibration of the recipe's score")
    return merge(scorer_model, tail, [(SCORE, SCORE)], name)
