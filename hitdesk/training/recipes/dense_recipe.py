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
from hitdesk.training.export import IR_VERSION, OPSET, _Graph, add_stats_front_end, front_end_inputs
from hitdesk.training.recipes.base import RecipeData, Scorer

_STATS = "stats"


def _front_end() -> onnx.ModelProto:
    from onnx import TensorProto, helper

    g = _Graph()
    add_stats_front_end(g, _STATS)
    out = [helper.make_tensor_value_info(_STATS, TensorProto.FLOAT, ["batch", 42])]
    graph = helper.make_graph(g.nodes, "stats-front-end", front_end_inputs(), out, initializer=g.inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hitdesk-train")
    model.ir_version = IR_VERSION
    return model


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
            combined = onnx.compose.merge_models(_front_end(), head, io_map=[(_STATS, _STATS)])
            combined.graph.name = name
            combined.ir_version = IR_VERSION
            onnx.checker.check_model(combined, full_check=True)
            return combined, head

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
