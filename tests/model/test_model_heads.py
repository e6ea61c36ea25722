"""Two heads in one model: the track head gives the overall score, the window head segments and the curve.

A small model is fitted on synthetic chart data into a temporary folder (the recipe of the shipped
one, a few epochs), so these tests need no shipped files.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from training_data import synthetic_stats, write_synthetic_zalo, write_window_shift

from hitdesk.config import N_STATS
from hitdesk.errors import ModelError
from hitdesk.model.runtime import HitModel
from hitdesk.present import format_human
from hitdesk.result_schema import ResultSchemaError, validate_result_dict, validate_saved_result
from hitdesk.results import HEAD_TRACK, HEAD_WINDOW
from hitdesk.training.cli import main

NAME = "two-heads"


@pytest.fixture(scope="module")
def stem(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("heads")
    data = write_synthetic_zalo(root / "zalo", n_songs=300, n_artists=40)
    args = ["fit", "--recipe", "zalo-stats", "--data", str(data), "--out", str(root / "models"), "--name", NAME]
    args += [
        "--report",
        str(root / "r.md"),
        "--window-shift",
        str(write_window_shift(root / "shift.json", seed=1, level_shift=8.0)),
    ]
    assert main([*args, "--epochs", "3", "--nets-per-member", "1", "--no-reference-check"]) == 0
    return root / "models" / NAME


def _outputs(path: Path, stats: np.ndarray) -> dict[str, np.ndarray]:
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, session.run(names, {"stats": stats.astype(np.float32)}), strict=True))


def test_card_names_both_heads_with_their_own_metrics(stem: Path) -> None:
    card = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    heads = card["heads"]
    assert heads["track"]["file"] == f"{NAME}.head.onnx" and heads["window"]["file"] == f"{NAME}.onnx"
    cv = card["metrics"]["cv"]
    assert set(cv["track_candidates"]) == {"network ensemble", "LightGBM fold members", "blend"}
    assert heads["track"]["candidate"] in cv["track_candidates"]
    assert cv["default"] == cv["track_candidates"][heads["track"]["candidate"]] == heads["track"]["cv"]
    assert heads["window"]["cv_whole_tracks"] == cv["with_augmentation"]
    assert heads["window"]["cv_simulated_windows"] == cv["simulated_windows"]["with_augmentation"]
    for summary in (heads["track"]["cv"], heads["window"]["cv_whole_tracks"]):
        assert set(summary) == {"spearman", "roc_auc", "pr_auc", "brier", "ece"}


@pytest.mark.parametrize("suffix", [".head.onnx", ".onnx"])
def test_members_output_and_its_mean_is_p_hit(stem: Path, suffix: str) -> None:
    """Both heads give each member's calibrated P(hit); the card says p_hit is their mean."""
    session = ort.InferenceSession(str(stem.parent / f"{NAME}{suffix}"), providers=["CPUExecutionProvider"])
    members_shape = next(o.shape for o in session.get_outputs() if o.name == "members")
    assert members_shape[1] == 5
    stats = synthetic_stats(7, np.random.default_rng(3))
    if suffix == ".head.onnx":
        out = _outputs(stem.parent / f"{NAME}{suffix}", stats)
    else:
        rng = np.random.default_rng(4)
        feeds = {
            "logmel": rng.uniform(-80, 0, (7, 128, 40)).astype(np.float32),
            "tempo_duration": np.tile(np.float32([[120.0, 30.0]]), (7, 1)),
        }
        out = dict(zip([o.name for o in session.get_outputs()], session.run(None, feeds), strict=True))
    members = out["members"]
    assert members.shape == (7, 5) and members.dtype == np.float32
    assert np.all((members >= 0) & (members <= 1))
    np.testing.assert_allclose(members.mean(axis=1), out["p_hit"], atol=1e-6)
    np.testing.assert_allclose(members.min(axis=1), out["p_hit_low"], atol=1e-7)
    np.testing.assert_allclose(members.max(axis=1), out["p_hit_high"], atol=1e-7)


def test_runtime_scores_track_and_windows_with_their_heads(stem: Path) -> None:
    model = HitModel(stem)
    stats = synthetic_stats(4, np.random.default_rng(5))
    scores = model.score_stats(stats)
    assert {s.head for s in scores} == {HEAD_TRACK}
    track = _outputs(stem.parent / f"{NAME}.head.onnx", stats)
    np.testing.assert_allclose([s.p_hit for s in scores], track["p_hit"], atol=1e-6)
    members = model.members_stats(stats)
    assert members.shape == (4, 5)
    np.testing.assert_allclose(members.mean(axis=1), [s.p_hit for s in scores], atol=1e-6)
    windows = model.score_logmel([np.full((128, 60), -30.0, dtype=np.float32)] * 2, [[120.0, 60.0]] * 2)
    assert {s.head for s in windows} == {HEAD_WINDOW}


def test_analysis_labels_each_number_with_its_head(stem: Path, data_dir: Path) -> None:
    from hitdesk.analysis import AnalysisOptions, analyze, analyze_file

    model = HitModel(stem)
    result = analyze_file(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(window_seconds=3.0))
    assert result.error is None and result.overall is not None
    d = validate_result_dict(result.to_dict())
    assert d["overall"]["head"] == "track"
    assert [s["head"] for s in d["segments"]] == ["window"] * 3
    # The overall score is the track head's on the whole track's statistics, not a window aggregate.
    _, detail = analyze(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(window_seconds=3.0))
    assert result.overall == model.score_stats(np.asarray(detail.track_stats))[0]
    text = format_human([d], model.card)
    rows = text.splitlines()
    assert [r.rstrip().endswith("window head") for r in rows[2:5]] == [True] * 3
    assert next(r for r in rows if r.lstrip().startswith("overall")).rstrip().endswith("track head")


def test_model_without_members_output_is_refused_for_members(stem: Path, tmp_path: Path) -> None:
    """A head without the members output still scores, but asking for members is one clear error."""
    import onnx

    head = onnx.load(str(stem.parent / f"{NAME}.head.onnx"))
    keep = [o for o in head.graph.output if o.name != "members"]
    del head.graph.output[:]
    head.graph.output.extend(keep)
    for suffix in (".onnx", ".json", ".background"):
        (tmp_path / f"m{suffix}").write_bytes((stem.parent / f"{NAME}{suffix}").read_bytes())
    onnx.save(head, str(tmp_path / "m.head.onnx"))
    model = HitModel(tmp_path / "m")
    assert model.score_stats(np.zeros((1, N_STATS)))[0].head == HEAD_TRACK
    with pytest.raises(ModelError, match="does not give its members' scores"):
        model.members_stats(np.zeros((1, N_STATS)))


def test_schema_checks_the_head_and_fills_it_for_saved_results(stem: Path, data_dir: Path) -> None:
    from hitdesk.analysis import AnalysisOptions, analyze_file

    d = analyze_file(data_dir / "chipdisko-12s.ogg", HitModel(stem), AnalysisOptions(window_seconds=3.0)).to_dict()
    bad = json.loads(json.dumps(d))
    bad["overall"]["head"] = "whole"
    with pytest.raises(ResultSchemaError, match="head must be one of track, window"):
        validate_result_dict(bad)
    old = json.loads(json.dumps(d))  # a session saved before scores named their head
    del old["overall"]["head"]
    for seg in old["segments"]:
        del seg["head"]
    with pytest.raises(ResultSchemaError):
        validate_result_dict(old)
    filled = validate_saved_result(old)
    assert filled["overall"]["head"] == "track" and {s["head"] for s in filled["segments"]} == {"window"}


def test_segments_are_explained_by_the_window_head_and_the_track_by_the_track_head(stem: Path, data_dir: Path) -> None:
    """Each explanation adds up to the number it explains, though the two heads give different numbers."""
    from hitdesk.analysis import AnalysisOptions
    from hitdesk.explain.pipeline import analyze as explained

    model = HitModel(stem)
    assert (stem.parent / f"{NAME}.window.onnx").is_file()
    stats = synthetic_stats(3, np.random.default_rng(6))
    assert {s.head for s in model.score_window_stats(stats)} == {HEAD_WINDOW}
    assert [s.p_hit for s in model.score_window_stats(stats)] != [s.p_hit for s in model.score_stats(stats)]
    result = explained(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(window_seconds=5.0))[0]
    assert result.explanation is not None and result.overall is not None
    assert result.explanation.total == pytest.approx(result.overall.p_hit, abs=1e-4)
    for seg in result.segments:
        assert seg.explanation is not None
        assert seg.explanation.total == pytest.approx(seg.score.p_hit, abs=1e-4)
