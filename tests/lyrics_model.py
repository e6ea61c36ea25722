"""A hand-written model with a lyrics input, for tests: p_hit = sigmoid(mean(logmel) / 10 + 10 * sum(lyrics))."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from hitdesk.model.runtime import DEFAULT_MODEL_NAME

SHIPPED = Path(__file__).resolve().parents[1] / "models" / DEFAULT_MODEL_NAME


def write_lyrics_model(folder: Path) -> Path:
    """Writes ``lyr.onnx`` and its card (inputs logmel and lyrics, overall the mean) into ``folder``."""
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("ReduceMean", ["logmel"], ["m"], axes=[1, 2], keepdims=0),
        helper.make_node("Div", ["m", "ten"], ["a"]),
        helper.make_node("ReduceSum", ["lyrics", "axis1"], ["s"], keepdims=0),
        helper.make_node("Mul", ["s", "ten"], ["b"]),
        helper.make_node("Add", ["a", "b"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p_hit"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_low"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_high"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(10.0, dtype=np.float32), "ten"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    ins = [
        helper.make_tensor_value_info("logmel", f, ["batch", 128, "time"]),
        helper.make_tensor_value_info("lyrics", f, ["batch", 384]),
    ]
    outs = [helper.make_tensor_value_info(o, f, ["batch"]) for o in ("p_hit", "p_hit_low", "p_hit_high")]
    model = helper.make_model(helper.make_graph(nodes, "t", ins, outs, initializer=inits))
    model.opset_import[0].version = 17
    model.ir_version = 8
    base = json.loads(SHIPPED.with_suffix(".json").read_text())
    raw = {k: base[k] for k in ("feature_config", "stat_columns")}
    raw |= {"name": "lyr", "version": "1", "label": {"definition": "test", "base_rate": 0.3}}
    raw["runtime"] = {"inputs": ["logmel", "lyrics"], "overall": "mean"}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "lyr.json").write_text(json.dumps(raw))
    onnx.save_model(model, str(folder / "lyr.onnx"))
    return folder / "lyr"
