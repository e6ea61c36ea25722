"""A missing, damaged or mismatched model: one plain sentence and exit status 2 from the command line,
and an app that still opens, says what is wrong, and analyses once a good model is chosen.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from ui_helpers import WAIT_MS, clips, drop_files, isolate, make_window, require_model

from hitdesk.model.runtime import DEFAULT_MODEL_NAME, resolve_model_path

REPO = Path(__file__).resolve().parents[2]


def _good() -> Path:
    require_model()
    return resolve_model_path(None)


def _copy(folder: Path, name: str = DEFAULT_MODEL_NAME) -> Path:
    """The default model's three files under ``folder`` as ``name``; returns the new stem."""
    good = _good()
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in (".json", ".onnx", ".head.onnx"):
        shutil.copyfile(good.parent / f"{good.name}{suffix}", folder / f"{name}{suffix}")
    return folder / name


def _card(stem: Path) -> dict[str, Any]:
    return dict(json.loads(stem.with_suffix(".json").read_text(encoding="utf-8")))


def _write_card(stem: Path, card: dict[str, Any]) -> None:
    stem.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")


def missing_card(stem: Path) -> str:
    stem.with_suffix(".json").unlink()
    return f"{stem.name}.json"


def missing_graph(stem: Path) -> str:
    (stem.parent / f"{stem.name}.onnx").unlink()
    return f"{stem.name}.onnx"


def missing_head(stem: Path) -> str:
    (stem.parent / f"{stem.name}.head.onnx").unlink()
    return f"{stem.name}.head.onnx"


def truncated_graph(stem: Path) -> str:
    path = stem.parent / f"{stem.name}.onnx"
    path.write_bytes(path.read_bytes()[:4000])
    return path.name


def zero_byte_head(stem: Path) -> str:
    (stem.parent / f"{stem.name}.head.onnx").write_bytes(b"")
    return f"{stem.name}.head.onnx"


def text_as_graph(stem: Path) -> str:
    (stem.parent / f"{stem.name}.onnx").write_text("not a model\n", encoding="utf-8")
    return f"{stem.name}.onnx"


def truncated_card(stem: Path) -> str:
    path = stem.with_suffix(".json")
    path.write_bytes(path.read_bytes()[:300])
    return path.name


def card_not_an_object(stem: Path) -> str:
    stem.with_suffix(".json").write_text("[1, 2, 3]", encoding="utf-8")
    return f"{stem.name}.json"


def card_without_label(stem: Path) -> str:
    card = _card(stem)
    del card["label"]
    _write_card(stem, card)
    return f"{stem.name}.json"


def card_other_features(stem: Path) -> str:
    card = _card(stem)
    card["feature_config"]["hop_length"] = 256
    _write_card(stem, card)
    return stem.name


def card_other_statistics(stem: Path) -> str:
    card = _card(stem)
    card["stat_columns"] = list(reversed(card["stat_columns"]))
    _write_card(stem, card)
    return stem.name


def card_empty_percentiles(stem: Path) -> str:
    card = _card(stem)
    card["familiarity"]["distance_percentiles"] = []
    _write_card(stem, card)
    return f"{stem.name}.json"


def card_nan_reference(stem: Path) -> str:
    card = _card(stem)
    card["familiarity"]["inv_cov"][0][0] = float("nan")  # Python's json writes and reads it as NaN
    _write_card(stem, card)
    return f"{stem.name}.json"


def card_base_rate_not_a_probability(stem: Path) -> str:
    card = _card(stem)
    card["label"]["base_rate"] = 30.3
    _write_card(stem, card)
    return f"{stem.name}.json"


def card_window_of_1e9_seconds(stem: Path) -> str:
    card = _card(stem)
    card["window_seconds"] = 1e9  # once an ArrayMemoryError traceback
    _write_card(stem, card)
    return f"{stem.name}.json"


def card_window_of_100000_seconds(stem: Path) -> str:
    card = _card(stem)
    card["window_seconds"] = 100000  # once 4.4 GB of memory before any result
    _write_card(stem, card)
    return f"{stem.name}.json"


def graphs_swapped(stem: Path) -> str:
    full, head = stem.parent / f"{stem.name}.onnx", stem.parent / f"{stem.name}.head.onnx"
    tmp = stem.parent / "swap"
    full.rename(tmp)
    head.rename(full)
    tmp.rename(head)
    return full.name


def _constant_graph(path: Path, value: float, bands: int = 128) -> None:
    """A graph with the default model's input and output names whose scores are all ``value``."""
    import onnx
    from onnx import TensorProto, helper

    nodes = [helper.make_node("ReduceMean", ["logmel"], ["m"], axes=[1, 2], keepdims=0)]
    consts = {"zero": 0.0, "value": value}
    nodes += [
        helper.make_node("Constant", [], [k], value=helper.make_tensor(k, TensorProto.FLOAT, [], [v]))
        for k, v in consts.items()
    ]
    nodes += [helper.make_node("Mul", ["m", "zero"], ["z"]), helper.make_node("Add", ["z", "value"], ["s"])]
    nodes += [helper.make_node("Identity", ["s"], [name]) for name in ("p_hit", "p_hit_low", "p_hit_high")]
    graph = helper.make_graph(
        nodes,
        "constant",
        [
            helper.make_tensor_value_info("logmel", TensorProto.FLOAT, ["batch", bands, "time"]),
            helper.make_tensor_value_info("tempo_duration", TensorProto.FLOAT, ["batch", 2]),
        ],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, ["batch"]) for n in ("p_hit", "p_hit_low", "p_hit_high")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.save(model, str(path))


def graph_other_shapes(stem: Path) -> str:
    """The right input names, but log-mel of 64 bands: onnxruntime refused it mid-run with a traceback."""
    _constant_graph(stem.parent / f"{stem.name}.onnx", 0.3, bands=64)
    return stem.name


def scores_of_7_5(stem: Path) -> str:
    """Outputs that are no probability were shown as "750%"."""
    _constant_graph(stem.parent / f"{stem.name}.onnx", 7.5)
    return stem.name


def scores_negative(stem: Path) -> str:
    _constant_graph(stem.parent / f"{stem.name}.onnx", -3.0)
    return stem.name


def scores_nan(stem: Path) -> str:
    _constant_graph(stem.parent / f"{stem.name}.onnx", float("nan"))
    return stem.name


DAMAGE: dict[str, Callable[[Path], str]] = {
    f.__name__: f
    for f in (
        missing_card,
        missing_graph,
        missing_head,
        truncated_graph,
        zero_byte_head,
        text_as_graph,
        truncated_card,
        card_not_an_object,
        card_without_label,
        card_other_features,
        card_other_statistics,
        card_empty_percentiles,
        card_nan_reference,
        card_base_rate_not_a_probability,
        card_window_of_1e9_seconds,
        card_window_of_100000_seconds,
        graphs_swapped,
        graph_other_shapes,
        scores_of_7_5,
        scores_negative,
        scores_nan,
    )
}


def assert_one_sentence(message: str, names: str) -> None:
    assert names in message, message
    assert "\n" not in message and "Traceback" not in message, message
    assert message.endswith("."), message


def _env(tmp_path: Path, models: Path | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["HITDESK_CACHE_DIR"] = str(tmp_path / "cache")
    env["HITDESK_DATA_DIR"] = str(tmp_path / "data")
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    env["QT_QPA_PLATFORM"] = "offscreen"
    if models is not None:
        env["HITDESK_MODELS_DIR"] = str(models)
    return env


def _hitdesk(tmp_path: Path, *args: str, models: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hitdesk", *args],
        env=_env(tmp_path, models),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.mark.parametrize("damage", DAMAGE)
def test_cli_says_what_is_wrong_with_the_model(tmp_path: Path, damage: str) -> None:
    stem = _copy(tmp_path / "models", "broken")
    names = DAMAGE[damage](stem)
    clip = str(clips()[0])
    proc = _hitdesk(tmp_path, "analyze", "--json", clip, "--model", str(stem))
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("hitdesk: "), proc.stderr
    assert_one_sentence(lines[0].removeprefix("hitdesk: "), names)


def test_cli_default_model_damaged_and_capture_refuses_too(tmp_path: Path) -> None:
    """The bundled model itself is damaged (the installed folder is what HITDESK_MODELS_DIR names)."""
    models = tmp_path / "models"
    truncated_graph(_copy(models))
    clip = str(clips()[0])
    proc = _hitdesk(tmp_path, "analyze", clip, models=models)
    assert proc.returncode == 2 and proc.stdout == ""
    assert_one_sentence(proc.stderr.strip().removeprefix("hitdesk: "), f"{DEFAULT_MODEL_NAME}.onnx")
    capture = _hitdesk(tmp_path, "capture", "--seconds", "1", "--out", str(tmp_path / "t.wav"), models=models)
    assert capture.returncode == 2, capture.stderr
    assert f"{DEFAULT_MODEL_NAME}.onnx" in capture.stderr and "Traceback" not in capture.stderr
    assert not (tmp_path / "t.wav").exists()
    empty = tmp_path / "empty"
    empty.mkdir()
    proc = _hitdesk(tmp_path, "analyze", clip, models=empty)
    assert proc.returncode == 2
    assert_one_sentence(proc.stderr.strip().removeprefix("hitdesk: "), f"{DEFAULT_MODEL_NAME}.json")


@pytest.mark.parametrize(
    "damage", ["missing_graph", "truncated_card", "card_other_features", "card_empty_percentiles", "graphs_swapped"]
)
def test_app_opens_with_a_damaged_default_model(
    qtbot: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from hitdesk.ui.takes import State

    good = _good()
    models = tmp_path / "models"
    names = DAMAGE[damage](_copy(models))
    monkeypatch.setenv("HITDESK_MODELS_DIR", str(models))
    settings = isolate()
    windows = make_window(qtbot, settings, restore=False)
    window = next(windows)
    try:
        assert window.isVisible() and window.model is None
        assert window.banner.isVisible()
        assert window.model_error is not None
        assert_one_sentence(window.model_error, names)
        assert window.model_error in window.banner_text.text()
        # Files dropped now wait for a model instead of failing or crashing.
        clip = clips()[0]
        assert drop_files(window.table.viewport(), [clip])
        take = window.takes.take_at(0)
        assert take is not None and take.state == State.QUEUED
        assert not window.is_busy
        # Choosing a working model (as the Model menu does) analyses them.
        with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
            assert window.load_model(str(good), remember=False)
        assert not window.banner.isVisible()
        assert window.takes.take_at(0).state == State.DONE
    finally:
        for _ in windows:
            pass


def test_app_entry_point_with_a_damaged_model_exits_cleanly(tmp_path: Path) -> None:
    """``hitdesk gui --screenshot``: the real app start-up, offscreen; the window shows the problem."""
    models = tmp_path / "models"
    text_as_graph(_copy(models))
    shot = tmp_path / "shot.png"
    proc = _hitdesk(tmp_path, "gui", str(clips()[0]), "--screenshot", str(shot), models=models)
    assert proc.returncode == 1, proc.stderr  # not a signal: the app ran and closed
    assert f"hitdesk: Model file '{DEFAULT_MODEL_NAME}.onnx'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert shot.exists() and shot.stat().st_size > 10_000
