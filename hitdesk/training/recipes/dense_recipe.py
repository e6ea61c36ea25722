"""The ``dense-descriptors`` recipe: train-eval's dense network on the 42 track statistics.

The net learns on whole-track statistics, so its exported head scores the whole track (the
overall score) and the combined graph puts the default model's statistics front end (MFCC means
and stds from log-mel, plus tempo and duration) before the same net, so it scores windows too.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx

from hitdesk.training.calibration import Calibrator
from hitdesk.training.graph import STATS, merge, stats_front_end_model
from hitdesk.training.recipes.base import RecipeData, Scorer


class DenseDescriptors:
    name = "dense-descriptors"
    summary = "small dense network on scaled track statistics, binary cross-entropy (cAInvas tutorial)"

    def task(self, data: RecipeData) -> str:
        return "binary"

    def fit(self, data: RecipeData, seed: int, epochs: int | None) -> Scorer:
        from hitdesk.training.dense import EPOCHS, fit_dense

        x = np.stack([f.stats for f in data.feats])
        model = fit_dense(x, data.hit, seed=seed, epochs=epochs or EPOCHS)

        def score_songs(d: RecipeData) -> np.ndarray:
            return model.logit(np.stack([f.stats for f in d.feats]))[:, None]

        def export(name: str, cal: Calibrator) -> tuple[onnx.ModelProto, onnx.ModelProto]:
            head = model.onnx_model(f"{name}-head", cal)
            return merge(stats_front_end_model(), head, [(STATS, STATS)], name), head

        info: dict[str, Any] = {
            "recipe": self.name,
            "method": "dense ReLU network on the 42 whole-track statistics, standardised, Adam on binary "
            "cross-entropy; overall score from the head on whole-track statistics, windows through the "
            "default model's statistics front end",
            "final_loss": model.history["loss"][-1] if model.history.get("loss") else None,
            "final_accuracy": model.history["accuracy"][-1] if model.history.get("accuracy") else None,
        }
        return Scorer(
            score_songs,
            None,
            ["logmel", "tempo_duration"],
            "head",
            data.window_seconds,
            info,
            head=export,
            history=model.history,
        )
