"""Member scores: a head with a ``members`` output gives each ensemble member's P(hit) with every score;
a model without one gives None; a ``members`` output of the wrong shape is refused when it loads.

The member model is the shipped one with its head's member output renamed (tests/member_model.py),
so its numbers are real; hand-written graphs check the refusals and a model without a head.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnx
import pytest
from member_model import write_member_model
from onnx import TensorProto, helper, numpy_helper

from hitdesk.errors import ModelError
from hitdesk.model.runtime import HitModel
from hitdesk.result_schema import ResultSchemaError, validate_result_dict
from hitdesk.results import Score, TrackResult


def test_a_head_with_members_gives_each_members_score(tmp_path: Path, model: HitModel) -> None:
    members = HitModel(write_member_model(tmp_path))
    assert members.has_members and not model.has_members
    rng = np.random.default_rng(0)
    stats = rng.normal(0, 1, (3, 42)).astype(np.float32) + np.asarray(
        model.card.familiarity.mean if model.card.familiarity else 0, dtype=np.float32
    )
    with_members, without = members.score_stats(stats), model.score_stats(stats)
    for s, plain in zip(with_members, without, strict=True):
        assert s.members is not None and len(s.members) == 5 and plain.members is None
        assert (s.p_hit, s.p_hit_low, s.p_hit_high) == (plain.p_hit, plain.p_hit_low, plain.p_hit_high)
        # The shipped head's P(hit) is its members' mean and its range their spread.
        assert np.mean(s.members) == pytest.approx(s.p_hit, abs=1e-6)
        assert min(s.members) == pytest.approx(s.p_hit_low) and max(s.members) == pytest.approx(s.p_hit_high)
    assert len({s.members for s in with_members}) == 3  # each row its own


def _headless(folder: Path, members: str) -> Path:
    """A model without a head: p = sigmoid(mean(logmel)/10); ``members`` "ok" gives [p - 0.01, p + 0.01],
    "flat" gives a [batch] vector where [batch, members] belongs."""
    f = TensorProto.FLOAT
    nodes = [
        helper.make_node("ReduceMean", ["logmel"], ["m"], axes=[1, 2], keepdims=0),
        helper.make_node("Div", ["m", "ten"], ["z"]),
        helper.make_node("Sigmoid", ["z"], ["p_hit"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_low"]),
        helper.make_node("Identity", ["p_hit"], ["p_hit_high"]),
    ]
    if members == "ok":
        nodes += [
            helper.make_node("Unsqueeze", ["p_hit", "axis1"], ["p2"]),
            helper.make_node("Add", ["p2", "offsets"], ["members"]),
        ]
    else:
        nodes.append(helper.make_node("Identity", ["p_hit"], ["members"]))
    inits = [
        numpy_helper.from_array(np.array(10.0, dtype=np.float32), "ten"),
        numpy_helper.from_array(np.array([1], dtype=np.int64), "axis1"),
        numpy_helper.from_array(np.array([[-0.01, 0.01]], dtype=np.float32), "offsets"),
    ]
    outs = [helper.make_tensor_value_info(o, f, ["batch"]) for o in ("p_hit", "p_hit_low", "p_hit_high")]
    outs.append(helper.make_tensor_value_info("members", f, ["batch", 2] if members == "ok" else ["batch"]))
    inputs = [helper.make_tensor_value_info("logmel", f, ["batch", 128, "time"])]
    graph = helper.make_graph(nodes, "t", inputs, outs, initializer=inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    proto.ir_version = 8
    shipped = json.loads((Path(__file__).resolve().parents[2] / "models" / "hitdesk-zalo-v1.json").read_text())
    card = {k: shipped[k] for k in ("feature_config", "stat_columns")}
    card |= {"name": members, "version": "1", "label": {"definition": "t", "base_rate": 0.3}}
    card["runtime"] = {"inputs": ["logmel"], "overall": "mean"}
    (folder / f"{members}.json").write_text(json.dumps(card))
    onnx.save_model(proto, str(folder / f"{members}.onnx"))
    return folder / members


def test_a_model_without_a_head_aggregates_each_members_windows(tmp_path: Path) -> None:
    model = HitModel(_headless(tmp_path, "ok"))
    assert model.has_members and not model.has_head
    windows = [np.full((128, 50), v, dtype=np.float32) for v in (-10.0, -20.0, -30.0)]
    scores = model.score_logmel(windows, np.zeros((3, 2)))
    assert all(s.members == pytest.approx((s.p_hit - 0.01, s.p_hit + 0.01)) for s in scores)
    overall = model.aggregate(scores)
    assert overall.members == pytest.approx((overall.p_hit - 0.01, overall.p_hit + 0.01))


def test_member_scores_of_the_wrong_shape_are_refused_at_load(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"member scores of shape \[1\] for 1 inputs"):
        HitModel(_headless(tmp_path, "flat"))


def test_members_survive_the_json_and_are_checked_there() -> None:
    s = Score(0.3, 0.2, 0.4, (0.2, 0.3, 0.4))
    assert Score.from_dict(s.to_dict()) == s and s.to_dict()["members"] == [0.2, 0.3, 0.4]
    assert "members" not in Score(0.3, 0.2, 0.4).to_dict()  # models without members: the JSON as before
    from hitdesk.results import SegmentResult

    segs = tuple(SegmentResult(n, 10.0 * i, 10.0 * i + 10, s) for i, n in enumerate(("beginning", "middle", "end")))
    d = TrackResult(file="/a.wav", duration_s=30.0, segments=segs, overall=s, model={"name": "m"}).to_dict()
    d["loudness"] = {k: None for k in ("lufs", "true_peak_dbtp", "lra_lu", "plr_db")} | {
        "momentary_max_lufs": None,
        "short_term_max_lufs": None,
    }
    validate_result_dict(d)
    assert TrackResult.from_dict(d).overall == s
    for bad in ([], [0.2, 1.5], "0.3", [True]):
        with pytest.raises(ResultSchemaError, match="members"):
            validate_result_dict({**d, "overall": {**d["overall"], "members": bad}})
