"""The tag recipes of Yang et al. (ICASSP 2017): m4 ``tags-linear``, m5 ``tags-cnn-joint``, m6 ``tags-inception-joint``.

They learn from the music tagger's 50 tag probabilities of a track (musicnn's MSD model in
``models/taggers``, standing in for the paper's JYnet), which the feature cache computes in the same
decoding pass as the log-mel (``FeatureCache(tags=True)``) exactly as the app's analysis computes
them at run time (``hitdesk.style``): the mean over evenly spaced 3 s patches of the whole track.
The exported graphs take those probabilities as the input ``tags`` (one row per window, the
track's vector for each), so a loaded model makes the analysis run the tagger on its pass.

``tags-linear`` is logistic regression on the hit label (whatever the manifest's targets); the
joint nets regress popularity when the manifest has it (as ``mel-cnn`` does) and learn the hit
label otherwise. The joint nets reuse the log-mel networks' recipe with the tags in the metadata slot.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import onnx

from hitdesk.training.graph import GraphBuilder, value_info
from hitdesk.training.recipes.base import SCORE, RecipeData, RecipeError, Scorer
from hitdesk.training.recipes.linear import LinearModel, fit_linear
from hitdesk.training.recipes.networks import NetRecipe, _rename_input

TAGS_INPUT = "tags"
TAG_RECIPES = ("tags-linear", "tags-cnn-joint", "tags-inception-joint")


def tag_matrix(data: RecipeData) -> np.ndarray:
    """(n, 50) tag probabilities of the songs; the cache computes them for the tag recipes."""
    if any(f.tags is None for f in data.feats):
        raise RecipeError("The tag recipes need the music tagger's probabilities, and these features lack them.")
    return np.stack([np.asarray(f.tags, dtype=np.float64) for f in data.feats])


def tagger_description() -> dict[str, Any]:
    """What the card says of the tag input: the tagger and its tags in the input's order."""
    from hitdesk.model.tagger import shared_tagger
    from hitdesk.style import MAX_PATCHES

    tagger = shared_tagger()
    return {
        "name": tagger.name,
        "tags": list(tagger.tags),
        "input": f"mean tag probabilities over at most {MAX_PATCHES} evenly spaced 3 s patches of the track "
        "(fast mode: of its excerpts), the same vector for every window",
    }


@dataclass(frozen=True)
class _TagLinearGraph:
    model: LinearModel

    def __call__(self, name: str) -> onnx.ModelProto:
        """``tags`` [N, n_tags] -> ``score`` [N]."""
        m = self.model
        g = GraphBuilder(prefix="tags_")  # node names apart from the calibration's, which is merged after it
        z = g.op("Div", [g.op("Sub", [TAGS_INPUT, g.const("tag_mean", m.mean)]), g.const("tag_std", m.std)])
        s = g.op("Add", [g.op("MatMul", [z, g.const("tag_w", m.w[:, None])]), g.const("tag_b", [m.b])])
        g.op("Squeeze", [s, g.const("tag_out_axis", [1], np.int64)], SCORE)
        doc = "logistic regression on the music tagger's standardised tag probabilities"
        return g.model(name, [value_info(TAGS_INPUT, ["batch", len(m.mean)])], [value_info(SCORE, ["batch"])], doc)


class TagsLinear:
    name = "tags-linear"
    summary = "logistic regression on the music tagger's 50 tag probabilities of the track (Yang et al. m4)"

    def task(self, data: RecipeData) -> str:
        return "binary"

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        model = fit_linear(tag_matrix(data), data.hit, None)

        def score_songs(d: RecipeData) -> np.ndarray:
            return model.score(tag_matrix(d))[:, None]

        def score_windows(xs: np.ndarray, meta: np.ndarray | None, tags: np.ndarray) -> np.ndarray:
            return model.score(tags)

        info: dict[str, Any] = {
            "recipe": self.name,
            "method": "logistic regression on the hit label from the standardised tag probabilities, the penalty "
            "chosen by inner cross-validation; every window gets the track's score",
            "tagger": tagger_description(),
        }
        return Scorer(
            score_songs,
            _TagLinearGraph(model),
            [TAGS_INPUT],
            "mean",
            data.window_seconds,
            info,
            score_windows=score_windows,
        )


class TagJointRecipe:
    """A log-mel network trained jointly with a tag branch: ``NetRecipe`` with the tags as its metadata."""

    def __init__(self, name: str, summary: str) -> None:
        self.name = name
        self.summary = summary
        self._net = NetRecipe(name, summary, "regression", "required")

    def task(self, data: RecipeData) -> str:
        return self._net.task(data)

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        def as_meta(d: RecipeData) -> RecipeData:
            tags = tag_matrix(d)
            return replace(d, meta=tags, meta_columns=[f"tag{i}" for i in range(tags.shape[1])])

        inner = self._net.fit(as_meta(data), seed, epochs)

        def score_songs(d: RecipeData) -> np.ndarray:
            return np.asarray(inner.score_songs(as_meta(d)))

        def score_windows(xs: np.ndarray, meta: np.ndarray | None, tags: np.ndarray) -> np.ndarray:
            return np.asarray(inner.score_windows(xs, tags))

        def graph(name: str) -> onnx.ModelProto:
            model: onnx.ModelProto = inner.graph(name)
            _rename_input(model, "meta", TAGS_INPUT)
            return model

        info = dict(inner.description)
        info["tags"] = "the track's tag probabilities, standardised in the graph, through a dense layer of 32"
        info["tagger"] = tagger_description()
        return replace(
            inner,
            score_songs=score_songs,
            graph=graph,
            inputs=["logmel", TAGS_INPUT],
            description=info,
            score_windows=score_windows,
            meta_fill=[],
        )


def tag_recipes() -> list[Any]:
    return [
        TagsLinear(),
        TagJointRecipe(
            "tags-cnn-joint",
            "Yang et al.'s mel CNN trained jointly with a branch on the tagger's tag probabilities (m5)",
        ),
        TagJointRecipe(
            "tags-inception-joint",
            "Yang et al.'s inception CNN trained jointly with a branch on the tagger's tag probabilities (m6)",
        ),
    ]
