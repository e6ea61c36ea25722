"""The log-mel network recipes: mel-cnn, mel-inception, cnn-metadata, resnet-tiers.

The networks, their trainer and their export live in ``nets``, ``trainer`` and ``mel_export``;
this module decides what a recipe trains on (the three windows of each song, each carrying the
song's target, as the app scores the same three windows), turns the net's output into one score
per window, and wraps the exported net so the graph ends in that score. Metadata is standardised
inside the graph, so the card's fill values are in the manifest's own units.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from hitdesk.training.graph import GraphBuilder, merge, value_info
from hitdesk.training.metrics import TIER_NAMES
from hitdesk.training.recipes.base import (
    SCORE,
    WINDOW_NAMES,
    RecipeData,
    RecipeError,
    Scorer,
    finite_logit,
    window_stack,
)

# Epochs of a full fit; the CLI's hidden --epochs shortens it for smoke tests.
DEFAULT_EPOCHS = 30
_PRE_META = "meta_z"


def _rename_input(model: onnx.ModelProto, old: str, new: str) -> None:
    for value in model.graph.input:
        if value.name == old:
            value.name = new
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name == old:
                node.input[i] = new


def scorer_graph(
    net_model: onnx.ModelProto, n_classes: int, meta_mean: np.ndarray, meta_std: np.ndarray
) -> onnx.ModelProto:
    """Net (``logmel`` [+ ``meta``] -> ``raw``) to a graph ending in ``score`` [N].

    One output (a regression value or a logit) is the score; class logits become the expected
    class index under their softmax, so a higher tier means a higher score.
    """
    model = onnx.ModelProto()
    model.CopyFrom(net_model)
    if len(meta_mean):
        _rename_input(model, "meta", _PRE_META)
        g = GraphBuilder()
        z = g.op("Div", [g.op("Sub", ["meta", g.const("meta_mean", meta_mean)]), g.const("meta_std", meta_std)])
        g.op("Identity", [z], _PRE_META)
        shape: list[Any] = ["batch", len(meta_mean)]
        pre = g.model("meta-standardise", [value_info("meta", shape)], [value_info(_PRE_META, shape)], check=False)
        model = merge(pre, model, [(_PRE_META, _PRE_META)])
    g = GraphBuilder()
    if n_classes > 1:
        probs = g.op("Softmax", ["raw"], axis=1)
        s = g.op("MatMul", [probs, g.const("tier_index", np.arange(n_classes, dtype=np.float64)[:, None])])
        g.op("Squeeze", [s, g.const("tier_axis", [1], np.int64)], SCORE)
        raw_shape: list[Any] = ["batch", n_classes]
    else:
        g.op("Identity", ["raw"], SCORE)
        raw_shape = ["batch"]
    tail = g.model("score", [value_info("raw", raw_shape)], [value_info(SCORE, ["batch"])], check=False)
    return merge(model, tail, [("raw", "raw")])


class NetRecipe:
    """One of train-nets' networks as a recipe."""

    def __init__(self, name: str, summary: str, net_task: str, uses_meta: str) -> None:
        self.name = name
        self.summary = summary
        self._net_task = net_task  # "regression" | "tiers"
        self._uses_meta = uses_meta  # "never" | "required" | "optional"
        self.tiers = "tiers3"  # for a tier classifier: "tiers3" (0-25, 25-65, 65-100) or "deciles"

    def task(self, data: RecipeData) -> str:
        if self._net_task == "tiers":
            return self.tiers
        return "regression" if data.popularity is not None else "binary"

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        import torch

        from hitdesk.training.mel_export import onnx_model, parity_error
        from hitdesk.training.metrics import popularity_tiers
        from hitdesk.training.nets import make_net
        from hitdesk.training.trainer import TrainConfig, predict, train

        task = self.task(data)
        n_meta = data.meta.shape[1] if self._uses_meta != "never" else 0
        if self._uses_meta == "required" and n_meta == 0:
            raise RecipeError(f"Recipe '{self.name}' needs numeric metadata columns in the manifest, and it has none.")
        if (task in TIER_NAMES or task == "regression") and data.popularity is None:
            raise RecipeError(f"Recipe '{self.name}' needs a popularity column in the manifest.")
        rep = len(WINDOW_NAMES)
        x, _ = window_stack(data.feats)
        if task in TIER_NAMES:
            assert data.popularity is not None
            y = np.repeat(popularity_tiers(data.popularity, task), rep)
            net_task, n_classes = "classification", len(TIER_NAMES[task])
        elif task == "regression":
            assert data.popularity is not None
            y, net_task, n_classes = np.repeat(data.popularity, rep), "regression", 1
        else:
            y, net_task, n_classes = np.repeat(data.hit, rep).astype(np.float64), "binary", 1
        meta_mean = data.meta.mean(axis=0) if n_meta else np.zeros(0)
        meta_std = np.where(data.meta.std(axis=0) > 1e-9, data.meta.std(axis=0), 1.0) if n_meta else np.zeros(0)
        meta_z = np.repeat((data.meta - meta_mean) / meta_std, rep, axis=0) if n_meta else None
        cfg = TrainConfig(
            epochs=epochs or DEFAULT_EPOCHS,
            seed=seed,
            one_cycle=self.name == "resnet-tiers",
            patience=7,
            # A random share of rows would put windows of one song (and songs of one artist) on both
            # sides; early stopping watches an artist-disjoint share of the songs instead.
            valid_fraction=0.0,
        )
        torch.manual_seed(seed)
        net = make_net(self.name, n_meta=n_meta, n_classes=n_classes)
        fit_rows, valid = _split_rows(data, x, y, meta_z, seed)
        result = train(
            net, x[fit_rows], y[fit_rows], net_task, cfg, meta=None if meta_z is None else meta_z[fit_rows], valid=valid
        )

        def score_windows(xs: np.ndarray, meta: np.ndarray | None) -> np.ndarray:
            mz = None if not n_meta or meta is None else ((meta - meta_mean) / meta_std).astype(np.float32)
            out = predict(result.net, xs, mz)
            if n_classes > 1:
                out = out @ np.arange(n_classes, dtype=np.float64)
            elif net_task == "binary":
                out = finite_logit(out)
            return np.asarray(out, dtype=np.float64)

        def window_scores(d: RecipeData) -> np.ndarray:
            xs, _ = window_stack(d.feats)
            return score_windows(xs, np.repeat(d.meta, rep, axis=0) if n_meta else None).reshape(d.n, rep)

        def tier_probs(d: RecipeData) -> np.ndarray:
            xs, _ = window_stack(d.feats)
            mz = np.repeat((d.meta - meta_mean) / meta_std, rep, axis=0).astype(np.float32) if n_meta else None
            probs = np.asarray(predict(result.net, xs, mz)).reshape(d.n, rep, n_classes)
            return np.asarray(probs.mean(axis=1))

        def graph(name: str) -> onnx.ModelProto:
            net_model = onnx_model(result.net, n_meta)
            parity_error(result.net, net_model)  # raises when the graph does not reproduce the net
            model: onnx.ModelProto = scorer_graph(net_model, n_classes, meta_mean, meta_std)
            model.graph.name = name
            return model

        info: dict[str, Any] = {
            "recipe": self.name,
            "network": type(result.net).__name__,
            "task": net_task
            + (f" into tiers {', '.join(TIER_NAMES[task])} of popularity percentile" if n_classes > 1 else ""),
            "examples": f"the {rep} windows of {data.window_seconds:g} s of each song, each with the song's target",
            "score": "expected tier index under the softmax" if n_classes > 1 else "the net's output",
            "overall": "mean of the windows' calibrated probabilities",
            "train_config": cfg.to_dict(),
            "best_epoch": result.best_epoch,
            "examples_per_second": round(result.examples_per_s, 2),
            "train_seconds": round(result.seconds, 2),
        }
        inputs = ["logmel"] + (["meta"] if n_meta else [])
        return Scorer(
            window_scores,
            graph,
            inputs,
            "mean",
            data.window_seconds,
            info,
            tier_probs=tier_probs if n_classes > 1 else None,
            score_windows=score_windows,
            meta_fill=[float(v) for v in meta_mean],
            history=result.history,
        )


VALID_FOLDS = 6  # one artist-disjoint sixth of the songs watches for early stopping
MIN_SONGS_FOR_VALID = 12


def _split_rows(
    data: RecipeData, x: np.ndarray, y: np.ndarray, meta_z: np.ndarray | None, seed: int
) -> tuple[np.ndarray, Any]:
    from hitdesk.training.manifest import grouped_kfold

    rep = len(WINDOW_NAMES)
    rows = np.arange(len(x))
    if data.n < MIN_SONGS_FOR_VALID or len(np.unique(data.groups)) < VALID_FOLDS:
        return rows, None
    _, held_songs = grouped_kfold(data.groups, VALID_FOLDS, seed)[0]
    held = np.isin(rows // rep, held_songs)
    valid = (x[held], y[held], None if meta_z is None else meta_z[held])
    return rows[~held], valid


def net_recipes() -> list[NetRecipe]:
    return [
        NetRecipe(
            "mel-cnn",
            "Yang et al.'s fully convolutional CNN on log-mel, regression on popularity",
            "regression",
            "never",
        ),
        NetRecipe("mel-inception", "Yang et al.'s inception variant (128x4, 132x8, 140x16)", "regression", "never"),
        NetRecipe(
            "cnn-metadata",
            "spectrogram CNN with a metadata branch, regression, early stopping (Falah et al.)",
            "regression",
            "required",
        ),
        NetRecipe(
            "resnet-tiers",
            "DeepHits audio branch (+ numeric features when the manifest has them), 3 tiers or deciles, OneCycle",
            "tiers",
            "optional",
        ),
    ]
