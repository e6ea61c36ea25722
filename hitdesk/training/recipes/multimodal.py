"""deephits-multimodal: DeepHits' residual audio CNN joined with a lyrics embedding and numeric metadata.

The audio branch is resnet-tiers' net (``nets.ResNetTiers``); its side input carries the manifest's
numeric metadata followed by the 384 numbers of the shipped sentence encoder's embedding of each
song's lyrics (zeros for a song without lyrics), standardised inside the graph, and joins the audio
features before the classifier into 3 tiers or 10 deciles of popularity. The exported graph takes
``logmel``, ``meta`` (when the manifest has metadata) and ``lyrics``; the app feeds the take's
embedding. The report's ablation sets the same folds answered from audio only (the same net without
side input), lyrics only and metadata only (logistic regressions) beside all of them together.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import onnx

from hitdesk.training.graph import GraphBuilder, merge, value_info
from hitdesk.training.manifest import Track, grouped_kfold
from hitdesk.training.metrics import binary_metrics
from hitdesk.training.recipes.base import RecipeData, RecipeError, Scorer
from hitdesk.training.recipes.networks import NetRecipe, _rename_input

NAME = "deephits-multimodal"
_JOINED = "meta_and_lyrics"


def lyrics_matrix(tracks: Sequence[Track]) -> np.ndarray | None:
    """(n, 384) embeddings of the tracks' lyrics (zeros where a track has none); None when none has lyrics."""
    if not any(t.lyrics for t in tracks):
        return None
    from hitdesk.model.encoder import EMBEDDING_SIZE, load_encoder

    out = np.zeros((len(tracks), EMBEDDING_SIZE), dtype=np.float64)
    rows = [i for i, t in enumerate(tracks) if t.lyrics]
    out[rows] = load_encoder().embed([str(tracks[i].lyrics) for i in rows])
    return out


def _joined(data: RecipeData) -> RecipeData:
    assert data.lyrics is not None
    return replace(data, meta=np.hstack([data.meta, data.lyrics]), lyrics=None)


def _join_graph(inner: onnx.ModelProto, n_meta: int, n_lyrics: int) -> onnx.ModelProto:
    """``meta`` [+] ``lyrics`` concatenated into the inner graph's side input."""
    model = onnx.ModelProto()
    model.CopyFrom(inner)
    _rename_input(model, "meta", _JOINED)
    g = GraphBuilder(prefix="join_")
    inputs = [value_info("lyrics", ["batch", n_lyrics])]
    if n_meta:
        inputs.insert(0, value_info("meta", ["batch", n_meta]))
        g.op("Concat", ["meta", "lyrics"], _JOINED, axis=1)
    else:
        g.op("Identity", ["lyrics"], _JOINED)
    pre = g.model("join", inputs, [value_info(_JOINED, ["batch", n_meta + n_lyrics])], check=False)
    return merge(pre, model, [(_JOINED, _JOINED)])


class DeepHitsMultimodal:
    name = NAME
    summary = (
        "DeepHits: residual audio CNN + lyrics embedding (all-MiniLM-L6-v2) + numeric metadata, 3 tiers or deciles"
    )

    def __init__(self) -> None:
        self.tiers = "tiers3"

    def _net(self, side: str) -> NetRecipe:
        net = NetRecipe("resnet-tiers", self.summary, "tiers", side)
        net.tiers = self.tiers
        return net

    def task(self, data: RecipeData) -> str:
        return self.tiers

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        if data.lyrics is None:
            raise RecipeError(f"Recipe '{NAME}' needs a 'lyrics' column in the manifest, and it has none.")
        n_meta, n_lyrics = data.meta.shape[1], data.lyrics.shape[1]
        inner = self._net("required").fit(_joined(data), seed, epochs)

        def score_windows(xs: np.ndarray, meta: np.ndarray | None, lyrics: np.ndarray) -> np.ndarray:
            side = lyrics if meta is None or not n_meta else np.hstack([meta, lyrics])
            return np.asarray(inner.score_windows(xs, side))

        def graph(name: str) -> onnx.ModelProto:
            model = _join_graph(inner.graph(name), n_meta, n_lyrics)
            model.graph.name = name
            return model

        with_lyrics = int(np.any(data.lyrics != 0, axis=1).sum())
        info: dict[str, Any] = {
            **inner.description,
            "recipe": NAME,
            "lyrics": f"all-MiniLM-L6-v2 embedding (384 numbers) of {with_lyrics} of {data.n} songs' lyrics; "
            "zeros for songs without",
        }
        return Scorer(
            lambda d: inner.score_songs(_joined(d)),
            graph,
            ["logmel", *(["meta"] if n_meta else []), "lyrics"],
            "mean",
            data.window_seconds,
            info,
            tier_probs=lambda d: inner.tier_probs(_joined(d)),
            score_windows=score_windows,
            meta_fill=inner.meta_fill[:n_meta],
            history=inner.history,
        )

    def ablation(
        self, data: RecipeData, folds: int, seed: int, epochs: int | None, cross_validate: Callable[..., Any]
    ) -> list[tuple[str, list[dict[str, float]], str]]:
        """(name, fold metrics, note) for audio only and lyrics only, on the report's folds."""
        audio = cross_validate(self._net("never"), data, folds, seed, epochs).fold_metrics
        assert data.lyrics is not None
        return [
            ("audio only", audio, "resnet-tiers' net without side input"),
            ("lyrics only", linear_folds(data.lyrics, data, folds, seed), "logistic regression on the embedding"),
        ]


def linear_folds(x: np.ndarray, data: RecipeData, folds: int, seed: int) -> list[dict[str, float]]:
    """P(hit) from ``x`` alone by logistic regression on standardised columns, on the grouped folds."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    k = min(folds, len(np.unique(data.groups)))
    out = []
    for tr, te in grouped_kfold(data.groups, k, seed):
        if len(np.unique(data.hit[tr])) < 2:
            prob = np.full(len(te), float(data.hit[tr].mean()))
        else:
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            prob = clf.fit(x[tr], data.hit[tr]).predict_proba(x[te])[:, 1]
        out.append(binary_metrics(data.hit[te], prob, None if data.popularity is None else data.popularity[te]))
    return out
