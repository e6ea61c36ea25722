"""The main window with real widgets, the real model and real files (offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import io
import json
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from ui_helpers import WAIT_MS, clips, drop_files, require_model, wait_idle

from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.model.runtime import HitModel
from hitdesk.present import pct, pct_range
from hitdesk.present import results_csv as results_to_csv
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State
from hitdesk.ui.takes_table import Column, ScoreRole


@pytest.fixture(scope="module")
def engine_model() -> HitModel:
    require_model()
    return HitModel.load()


@pytest.fixture(scope="module")
def engine_results(engine_model: HitModel) -> dict[str, dict[str, object]]:
    """What the engine says for each clip, with the options the window uses by default."""
    window = engine_model.card.window_seconds or 30.0
    opts = AnalysisOptions(window_seconds=window, fast=False)
    return {str(p.absolute()): analyze(p.absolute(), engine_model, opts)[0].to_dict() for p in clips()}


def test_dropped_files_show_the_engines_numbers(
    qtbot: object, window: MainWindow, engine_results: dict[str, dict[str, object]]
) -> None:
    files = clips()
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        assert drop_files(window.table.viewport(), files)
    qtbot.waitUntil(lambda: all(t.loudness is not None for t in window.takes.takes), timeout=WAIT_MS)  # type: ignore[attr-defined]
    model = window.takes
    assert model.rowCount() == len(files)
    for row, path in enumerate(files):
        take = model.take_at(row)
        assert take is not None and take.state == State.DONE
        expected = engine_results[str(path.absolute())]
        assert take.result is not None and take.result.to_dict() == expected
        overall = expected["overall"]
        assert isinstance(overall, dict)
        score = model.data(model.index(row, Column.OVERALL), ScoreRole)
        assert (score.p_hit, score.p_hit_low, score.p_hit_high) == (
            overall["p_hit"],
            overall["p_hit_low"],
            overall["p_hit_high"],
        )
        assert model.data(model.index(row, Column.OVERALL)) == f"{pct(score.p_hit)}  ({pct_range(score)})"
        for seg, col in zip(expected["segments"], (Column.BEGINNING, Column.MIDDLE, Column.END), strict=True):  # type: ignore[call-overload]
            s = model.data(model.index(row, col), ScoreRole)
            assert s.p_hit == seg["p_hit"] and s.p_hit_low == seg["p_hit_low"] and s.p_hit_high == seg["p_hit_high"]
            assert model.data(model.index(row, col)) == pct(seg["p_hit"])
        assert model.data(model.index(row, Column.STATE)) == "done"
        lufs = model.data(model.index(row, Column.LUFS))
        assert take.loudness is not None and lufs == f"{take.loudness.integrated_lufs:.1f}"
    # The selected take's panel shows the first take, with its spectrogram windows.
    assert window.panel.take is model.take_at(0)
    assert window.panel.overall.score is not None
    qtbot.waitUntil(lambda: bool(window.panel.spectrogram.window_names), timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert window.panel.reading.text()


def test_broken_file_is_an_error_row_and_duplicates_are_analysed_once(
    qtbot: object, window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "x.mp3"
    broken.write_text("this is not audio\n", encoding="utf-8")
    clip = clips()[0]
    started: list[int] = []
    window.controller.analyser.take_started.connect(started.append)
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        drop_files(window.panel.note_edit, [broken, clip, clip])  # a text field: the window still takes the drop
    assert drop_files(window.table.viewport(), [clip])  # the same file again, later
    wait_idle(qtbot, window)
    assert window.takes.rowCount() == 2
    bad = window.takes.take_at(0)
    assert bad is not None and bad.state == State.ERROR
    assert bad.error is not None and "x.mp3" in bad.error
    assert window.takes.data(window.takes.index(0, Column.STATE)) == "error"
    assert window.takes.data(window.takes.index(0, Column.BEGINNING)) == bad.error
    assert window.table.columnSpan(0, Column.BEGINNING) > 1
    good = window.takes.take_at(1)
    assert good is not None and good.state == State.DONE
    assert started.count(good.id) == 1
    assert window.panel.note_edit.text() == ""  # the drop did not paste paths into the text field


def test_remove_is_instant_and_cancel_stops_the_queue(qtbot: object, window: MainWindow) -> None:
    files = clips()
    window.controller.set_workers(1)
    window.add_paths(files)
    ids = [t.id for t in window.takes.takes]
    window.controller.remove_ids({ids[0]})
    assert window.takes.rowCount() == len(files) - 1
    window.controller.cancel_all()
    assert all(t.state in (State.CANCELLED, State.DONE) for t in window.takes.takes)
    wait_idle(qtbot, window)
    assert all(t.state in (State.CANCELLED, State.DONE) for t in window.takes.takes)
    window.action_map["again"].trigger()  # Analyse Again with nothing selected: the cancelled takes
    wait_idle(qtbot, window)
    assert all(t.state == State.DONE for t in window.takes.takes)


def test_compare_view_ranks_takes(qtbot: object, window: MainWindow) -> None:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(clips())
    takes = window.takes.takes
    window.select_ids([t.id for t in takes])
    window.activateWindow()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)  # type: ignore[attr-defined]
    assert window.tabs.currentWidget() is window.compare
    ranked = window.compare.ranked
    expected = sorted(takes, key=lambda t: -t.result.overall.p_hit)  # type: ignore[union-attr]
    assert [r.key for r in ranked] == [t.id for t in expected]
    assert ranked[0].text == "best"
    best = expected[0].result.overall  # type: ignore[union-attr]
    for r in ranked[1:]:
        overlap = r.score.p_hit_low <= best.p_hit_high and best.p_hit_low <= r.score.p_hit_high
        assert ("no clear difference" in r.text) == overlap
    assert window.compare.take_ids == [t.id for t in takes]
    # Every compared take gets its picture of what the model heard (all three rows are in view).
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: all(window.compare.model.picture_state(t.id) == "ready" for t in takes), timeout=WAIT_MS
    )


def test_export_round_trip(
    qtbot: object, window: MainWindow, tmp_path: Path, engine_results: dict[str, dict[str, object]]
) -> None:
    broken = tmp_path / "x.mp3"
    broken.write_text("not audio", encoding="utf-8")
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths([*clips(), broken])
    window.controller.export_results(tmp_path / "out.json")
    window.controller.export_results(tmp_path / "out.csv")
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [e["file"] for e in exported] == [str(p.absolute()) for p in clips()] + [str(broken)]
    for e in exported[:-1]:
        assert e == engine_results[e["file"]]
    assert exported[-1]["error"] and exported[-1]["overall"] is None
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    assert text == results_to_csv(exported)
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [float(r["p_hit"]) for r in rows[:-1]] == [e["overall"]["p_hit"] for e in exported[:-1]]


def test_session_round_trip(qtbot: object, window: MainWindow, settings: QSettings, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(clips()[:2])
    first = window.takes.take_at(0)
    assert first is not None
    window.takes.setData(window.takes.index(0, Column.NOTE), "chorus too quiet")
    session = tmp_path / "s.hitdesk.json"
    window.controller.save_session(session)
    before = [t.result.to_dict() for t in window.takes.takes if t.result is not None]
    other = MainWindow(settings=settings, restore=False, persist=False)
    qtbot.addWidget(other)  # type: ignore[attr-defined]
    started: list[int] = []
    other.controller.analyser.take_started.connect(started.append)
    other.controller.open_session(session)
    assert [t.result.to_dict() for t in other.takes.takes if t.result] == before  # at once, from the session
    assert all(t.state == State.DONE for t in other.takes.takes)
    assert other.takes.take_at(0).note == "chorus too quiet"  # type: ignore[union-attr]
    assert other.takes.data(other.takes.index(0, Column.NOTE)) == "chorus too quiet"
    # The spectrogram of the selected take is computed on demand; the numbers stay the same.
    qtbot.waitUntil(lambda: bool(other.panel.spectrogram.window_names), timeout=WAIT_MS)  # type: ignore[attr-defined]
    wait_idle(qtbot, other)
    assert [t.result.to_dict() for t in other.takes.takes if t.result] == before
    assert started == [other.takes.take_at(0).id]  # only the selected take was decoded again  # type: ignore[union-attr]
    other.close()


def test_settings_round_trip(qtbot: object, settings: QSettings) -> None:
    first = MainWindow(settings=settings, restore=True)
    qtbot.addWidget(first)  # type: ignore[attr-defined]
    first.show()
    assert (first.width(), first.height()) == (1100, 700)
    first.resize(1234, 760)
    first.splitter.setSizes([200, 500])
    sizes = first.splitter.sizes()
    first.panel.set_colour_map("cividis")
    first.panel.db.setValue(60)
    first.prefs.workers = 1
    first.prefs.window_seconds = 10.0
    first.prefs.last_folder = "/somewhere"
    first.close()
    second = MainWindow(settings=settings, restore=True)
    qtbot.addWidget(second)  # type: ignore[attr-defined]
    second.show()
    # restoreGeometry fits the window to the screen (offscreen: 800 x 800), the minimum size still applies.
    assert second.height() == 760
    wide = second.screen().availableGeometry().width() >= 1234
    assert second.width() == (1234 if wide else second.minimumWidth())
    assert second.splitter.sizes() == sizes
    assert second.panel.cmap.currentData() == "cividis"
    assert second.panel.db.value() == 60
    assert second.controller.workers == 1
    assert second.controller.options.window_seconds == 10.0
    assert second.prefs.last_folder == "/somewhere"
    assert second.model is not None and second.prefs.model == ""
    second.close()


def test_model_card_dialog_and_explain_page(qtbot: object, window: MainWindow) -> None:
    dialog = window.show_model_card("model")
    assert window.model is not None
    card = window.model.card
    assert card.name in dialog.pages["model"].toPlainText()
    assert card.label_definition in dialog.pages["model"].toPlainText()
    window.panel.overall.clicked.emit()  # a click on the meter opens "What the numbers mean"
    assert dialog.tabs.currentWidget() is dialog.pages["explain"]
    assert "base rate" in dialog.pages["explain"].toPlainText().lower()
    dialog.close()


def test_incompatible_model_is_refused(qtbot: object, window: MainWindow, tmp_path: Path) -> None:
    assert window.model is not None
    stem = window.model.stem
    bad = tmp_path / "bad"
    card = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    card["feature_config"]["n_mels"] = 64
    bad.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")
    for suffix in (".onnx", ".head.onnx"):
        (tmp_path / f"bad{suffix}").write_bytes((stem.parent / f"{stem.name}{suffix}").read_bytes())
    previous = window.model
    assert not window.load_model(str(bad))
    assert window.model is previous
    assert window.model_error is not None and "different features" in window.model_error
