"""The generalised runtime: declared inputs, optional head, aggregation, metadata fill, refusals.

Models here are written by hand with ``onnx.helper`` so each test knows exactly what the graph
computes; the shipped hitdesk-zalo-v2 checks that a card without a runtime section still loads.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from hitdesk.errors import ModelError
from hitdesk.model.card import load_card, parse_runtime
from hitdesk.model.runtime import HitModel
from hitdesk.results import Score

REPO = Path(__file__).resolve().parents[2]
SHIPPED = REPO / "models" / "hitdesk-zalo-v2"


def _graph(inputs: list[str], n_meta: int = 2) -> onnx.ModelProto:
    """p_hit = sigmoid(mean(logmel)/10 + sum(meta)), range p +- 0 (a known function of the inputs)."""
    f = TensorProto.FLOAT
    vi = {
        "logmel": helper.make_tensor_value_info("logmel", f, ["batch", 128, "time"]),
        "tempo_duration": helper.make_tensor_value_info("tempo_duration", f, ["batch", 2]),
        "meta": helper.make_tensor_value_info("meta", f, ["batch", n_meta]),
    }
    nodes = [
        helper.make_node("ReduceMean", ["logmel"], ["m"], axes=[1, 2], keepdims=0),
        helper.make_node("Div", ["m", "ten"], ["z0"]),
    ]
    last = "z0"
    if "meta" in inputs:
        nodes += [
            helper.make_node("ReduceSum", ["meta", "axis1"], ["ms"], keepdims=0),
            helper.make_node("Add", ["z0", "ms"], ["z1"]),
        ]
        last = "z1"
    nodes += [
        helper.make_node("Sigmoid", [last], ["p_hit"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_low"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_high"]),
    ]
    inits = [
        numpy_helper.from_array(np.array(10.0, dtype=np.float32), "ten"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
    ]
    outs = [helper.make_tensor_value_info(o, f, ["batch"]) for o in ("p_hit", "p_hit_low", "p_hit_high")]
    graph = helper.make_graph(nodes, "t", [vi[i] for i in inputs], outs, initializer=inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _write(folder: Path, name: str, runtime: dict[str, Any] | None, graph_inputs: list[str], **card: Any) -> Path:
    base = json.loads(SHIPPED.with_suffix(".json").read_text())
    raw = {k: base[k] for k in ("feature_config", "stat_columns")}
    raw |= {"name": name, "version": "1", "label": {"definition": "test", "base_rate": 0.3}, **card}
    if runtime is not None:
        raw["runtime"] = runtime
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.json").write_text(json.dumps(raw))
    onnx.save_model(_graph(graph_inputs), str(folder / f"{name}.onnx"))
    return folder / name


def test_shipped_card_reads_as_the_first_layout() -> None:
    card = load_card(SHIPPED.with_suffix(".json"))
    assert card.runtime.inputs == ("logmel", "tempo_duration") and card.runtime.has_head
    assert HitModel(SHIPPED).has_head


def test_headless_model_aggregates_window_scores(tmp_path: Path) -> None:
    stem = _write(tmp_path, "m", {"inputs": ["logmel"], "overall": "mean"}, ["logmel"], window_seconds=12)
    model = HitModel(stem)
    assert not model.has_head and model.card.window_seconds == 12.0
    windows = [np.full((128, 50), v, dtype=np.float32) for v in (-10.0, -20.0, -30.0)]
    scores = model.score_logmel(windows, np.zeros((3, 2)))
    expected = 1.0 / (1.0 + np.exp(-np.array([-1.0, -2.0, -3.0])))
    assert [s.p_hit for s in scores] == pytest.approx(expected, abs=1e-6)
    assert model.aggregate(scores).p_hit == pytest.approx(expected.mean(), abs=1e-6)
    with pytest.raises(ModelError, match="no head"):
        model.score_stats(np.zeros(42))


def test_middle_and_median_aggregation(tmp_path: Path) -> None:
    scores = [Score(0.1, 0.05, 0.2), Score(0.9, 0.8, 0.95), Score(0.3, 0.2, 0.4)]
    middle = HitModel(_write(tmp_path, "mid", {"inputs": ["logmel"], "overall": "middle"}, ["logmel"]))
    assert middle.aggregate(scores) == scores[1]
    median = HitModel(_write(tmp_path, "med", {"inputs": ["logmel"], "overall": "median"}, ["logmel"]))
    assert median.aggregate(scores) == Score(0.3, 0.2, 0.4)


def test_meta_model_is_fed_the_cards_fill_values(tmp_path: Path) -> None:
    runtime = {
        "inputs": ["logmel", "meta"],
        "overall": "mean",
        "meta": {"columns": ["a", "b"], "fill": [0.5, 1.5], "fill_source": "training means"},
    }
    model = HitModel(_write(tmp_path, "meta", runtime, ["logmel", "meta"]))
    window = [np.zeros((128, 40), dtype=np.float32)]
    assert model.score_logmel(window, np.zeros((1, 2)))[0].p_hit == pytest.approx(1 / (1 + np.exp(-2.0)), abs=1e-6)
    given = model.score_logmel(window, np.zeros((1, 2)), meta=[[0.0, 0.0]])[0].p_hit
    assert given == pytest.approx(0.5, abs=1e-6)


@pytest.mark.parametrize(
    ("runtime", "match"),
    [
        ({"inputs": ["logmel", "chords"], "overall": "mean"}, "declares inputs"),
        ({"inputs": ["tempo_duration"], "overall": "mean"}, "declares inputs"),
        ({"inputs": ["logmel"], "overall": "max"}, "does not know"),
        ({"inputs": ["logmel", "meta"], "overall": "mean", "meta": {"columns": ["a"], "fill": [1.0]}}, "metadata"),
        (
            {
                "inputs": ["logmel", "meta"],
                "overall": "mean",
                "meta": {"columns": ["a"], "fill": [], "fill_source": "x"},
            },
            "metadata",
        ),
    ],
)
def test_card_validation_refuses_with_one_sentence(runtime: dict[str, Any], match: str) -> None:
    with pytest.raises(ModelError, match=match) as info:
        parse_runtime(runtime, "x")
    assert str(info.value).count(". ") == 0 and str(info.value).endswith(".")


def test_graph_that_differs_from_its_card_is_refused(tmp_path: Path) -> None:
    stem = _write(tmp_path, "bad", {"inputs": ["logmel"], "overall": "mean"}, ["logmel", "tempo_duration"])
    with pytest.raises(ModelError, match="has inputs"):
        HitModel(stem)


def test_meta_width_must_match_the_card(tmp_path: Path) -> None:
    runtime = {
        "inputs": ["logmel", "meta"],
        "overall": "mean",
        "meta": {"columns": ["a", "b", "c"], "fill": [0, 0, 0], "fill_source": "training means"},
    }
    with pytest.raises(ModelError, match="metadata values"):
        HitModel(_write(tmp_path, "w", runtime, ["logmel", "meta"]))


def test_head_model_without_its_head_file_is_refused(tmp_path: Path) -> None:
    for suffix in (".onnx", ".json"):
        shutil.copy(SHIPPED.with_suffix(suffix), tmp_path / f"z{suffix}")
    with pytest.raises(ModelError, match="missing"):
        HitModel(tmp_path / "z")


def test_non_positive_window_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="window length"):
        HitModel(_write(tmp_path, "neg", {"inputs": ["logmel"], "overall": "mean"}, ["logmel"], window_seconds=-1))
