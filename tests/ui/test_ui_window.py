"""The main window with real widgets, the real model and real files (offscreen)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from conftest import AudioFactory
from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QFormLayout, QMessageBox
from ui_helpers import WAIT_MS, clips, drop_files, wait_idle

from hitdesk.analysis import AnalysisOptions
from hitdesk.explain import analyze
from hitdesk.model.runtime import HitModel
from hitdesk.platforms import BUILT_IN, platform_rows
from hitdesk.present import db, mmss, pct, pct_range
from hitdesk.present import results_csv as results_to_csv
from hitdesk.ui import workers
from hitdesk.ui.main_window import MINIMUM_SIZE, MainWindow
from hitdesk.ui.playback import MATCH_TARGET_LUFS
from hitdesk.ui.settings import Preferences, PreferencesDialog
from hitdesk.ui.takes import State
from hitdesk.ui.takes_table import Column, ScoreRole


@pytest.fixture(scope="module")
def engine_results(model: HitModel) -> dict[str, dict[str, object]]:
    """What the engine says for each clip, with the options the window uses by default."""
    window = model.card.window_seconds or 30.0
    opts = AnalysisOptions(window_seconds=window, fast=False)
    return {str(p.absolute()): analyze(p.absolute(), model, opts)[0].to_dict() for p in clips()}


def test_dropped_files_show_the_engines_numbers(
    qtbot: object,
    window: MainWindow,
    engine_results: dict[str, dict[str, object]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def second_pass(path: Path, should_stop: object = None) -> None:
        raise AssertionError(f"loudness of {path} measured in a second decoding pass")

    monkeypatch.setattr(workers, "measure_file", second_pass)  # full mode: the analysis pass measured it
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
        assert take.loudness is not None and lufs == db(expected["loudness"]["lufs"], "LUFS").removesuffix(" LUFS")
        assert take.loudness.to_dict() == expected["loudness"] and take.loudness_error is None
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
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: all(t.loudness is not None for t in window.takes.takes if t.state == State.DONE), timeout=WAIT_MS
    )
    wait_idle(qtbot, window)
    takes = window.takes.takes
    window.controller.set_note(takes[0].id, "chorus, take 2")
    window.controller.export_results(tmp_path / "out.json")
    window.controller.export_results(tmp_path / "out.csv")
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [e["file"] for e in exported] == [str(p.absolute()) for p in clips()] + [str(broken)]
    for e, take in zip(exported[:-1], takes, strict=False):
        # What the table shows besides the engine's fields: loudness (as measured) and the note.
        assert take.loudness is not None
        shown = take.loudness.to_dict()
        assert shown["lufs"] == round(take.loudness.integrated_lufs, 2)  # type: ignore[arg-type]
        assert e.pop("loudness") == shown
        assert e.pop("note") == take.note
        engine = dict(engine_results[e["file"]])
        assert engine.pop("loudness") == shown  # the app shows the numbers hitdesk analyze reports
        assert e.pop("platforms") == platform_rows(shown, BUILT_IN)  # as hitdesk analyze adds them
        assert e == engine
    assert exported[0]["file"] == str(takes[0].path) and takes[0].note == "chorus, take 2"
    assert exported[-1]["error"] and exported[-1]["overall"] is None
    assert exported[-1]["loudness"] is None and exported[-1]["note"] == ""
    text = (tmp_path / "out.csv").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0])[-1] == "note" and {"lufs", "true_peak_dbtp"} <= set(rows[0])
    assert [float(r["p_hit"]) for r in rows[:-1]] == [e["overall"]["p_hit"] for e in exported[:-1]]
    for r, take in zip(rows[:-1], takes, strict=False):
        assert take.loudness is not None and take.loudness.integrated_lufs is not None
        assert float(r["lufs"]) == round(take.loudness.integrated_lufs, 2)
        assert float(r["true_peak_dbtp"]) == round(take.loudness.true_peak_dbtp, 2)
        assert r["note"] == take.note
    assert rows[0]["note"] == "chorus, take 2"
    assert rows[-1]["lufs"] == rows[-1]["true_peak_dbtp"] == rows[-1]["note"] == ""
    engine_row = next(csv.DictReader(io.StringIO(results_to_csv([engine_results[str(takes[1].path)]]))))
    assert {k: rows[1][k] for k in engine_row} == engine_row  # hitdesk analyze --csv's row, then platforms, note
    assert rows[1]["spotify_gain_db"] and rows[1]["deezer_true_peak_after_dbtp"]


def test_session_round_trip(
    qtbot: object, window: MainWindow, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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
    seen: list[tuple[list[str], str]] = []

    def rows_and_status(_take_id: int) -> None:
        states = [str(other.takes.data(other.takes.index(r, Column.STATE))) for r in range(other.takes.rowCount())]
        seen.append((states, other.status.text.text()))

    other.controller.take_changed.connect(rows_and_status)
    other.controller.take_finished.connect(rows_and_status)
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
    # While that take is decoded for its spectrogram its row still says done, as the status bar does,
    # and the session is not changed by it.
    assert seen and all(states == ["done", "done"] for states, _ in seen), seen
    assert other.status.text.text() == "2 takes: 2 analysed." and not other.controller.dirty
    other.close()
    # `hitdesk SESSION` and `hitdesk gui SESSION` open the session, with its results, as Open Session does.
    from hitdesk.cli import main
    from hitdesk.ui import app

    opened: list[tuple[Path | None, list[dict[str, object]]]] = []
    screenshot = app._screenshot

    def spy(qapp: object, win: MainWindow, path: Path, compare: bool) -> int:
        opened.append((win.controller.session_path, [t.result.to_dict() for t in win.takes.takes if t.result]))
        return screenshot(qapp, win, path, compare)  # type: ignore[arg-type]

    monkeypatch.setattr(app, "_screenshot", spy)
    for command in ([], ["gui"]):
        assert main([*command, str(session), "--screenshot", str(tmp_path / "shot.png")]) == 0
    assert opened == [(session, before), (session, before)]


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
    window.panel.resize(900, 400)
    qtbot.mouseClick(window.panel.overall, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    for meter in window.panel.segment_meters.values():
        qtbot.mouseClick(meter, Qt.MouseButton.LeftButton)  # type: ignore[attr-defined]
    assert window._card_dialog is None  # a click on a meter opens nothing
    dialog = window.show_model_card("model")
    assert window.model is not None
    card = window.model.card
    assert card.name in dialog.pages["model"].toPlainText()
    assert card.label_definition in dialog.pages["model"].toPlainText()
    window.panel._link("explain")  # "What do these numbers mean?" under the meters
    assert dialog.tabs.currentWidget() is dialog.pages["explain"]
    assert "base rate" in dialog.pages["explain"].toPlainText().lower()
    dialog.close()


def test_match_loudness_shows_its_state_and_the_gain_it_applies(qtbot: object, window: MainWindow) -> None:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(clips())
    qtbot.waitUntil(lambda: all(t.loudness is not None for t in window.takes.takes), timeout=WAIT_MS)  # type: ignore[attr-defined]
    takes = window.controller.takes
    match = window.action_map["match"]
    window.select_ids([takes[0].id])
    assert match.isCheckable() and not match.isChecked()
    assert match.iconText() == "Match loudness: off"
    match.trigger()  # Ctrl+L
    assert match.isChecked()
    for take in takes:
        window.select_ids([take.id])
        assert take.loudness is not None and take.loudness.integrated_lufs is not None
        gain = MATCH_TARGET_LUFS - take.loudness.integrated_lufs
        assert match.iconText() == f"Match loudness: {gain:+.1f} dB"
        assert f"{gain:+.1f} dB" in match.toolTip() and take.name in match.toolTip()
    match.trigger()
    assert not match.isChecked() and match.iconText() == "Match loudness: off"


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


def _answer(qtbot: object, button: QMessageBox.StandardButton, asked: list[str]) -> None:
    """Answers the next modal question with ``button`` (and notes what it asked)."""

    def click() -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox), "no question was asked"
        asked.append(box.text())
        box.button(button).click()

    QTimer.singleShot(50, click)


def test_closing_a_changed_session_asks_to_save_it(
    qtbot: object, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = MainWindow(settings=settings, restore=False, persist=False, ask_to_save=True)
    qtbot.addWidget(win)  # type: ignore[attr-defined]
    win.show()
    assert win.windowTitle() == "HitDesk"
    with qtbot.waitSignal(win.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        win.add_paths(clips()[:1])
    assert win.windowTitle() == "Untitled session* – HitDesk"
    session = tmp_path / "mix-notes.hitdesk.json"
    win.controller.save_session(session)
    assert win.windowTitle() == "mix-notes – HitDesk"
    take = win.controller.takes[0]
    win.controller.set_note(take.id, "vocal too loud")
    assert win.controller.dirty and win.windowTitle() == "mix-notes* – HitDesk"

    asked: list[str] = []
    _answer(qtbot, QMessageBox.StandardButton.Cancel, asked)
    win.action_map["quit"].trigger()  # Ctrl+Q
    assert asked and "mix-notes" in asked[0]
    assert win.isVisible() and win.controller.takes[0].note == "vocal too loud"  # Cancel: the app stays open

    _answer(qtbot, QMessageBox.StandardButton.Save, asked)
    assert win.close()  # the window's close button
    assert len(asked) == 2 and not win.isVisible()
    saved = json.loads(session.read_text(encoding="utf-8"))
    assert [t["note"] for t in saved["takes"]] == ["vocal too loud"]  # saved in place

    # An unsaved list: Save asks where; Discard closes and leaves the file as it was.
    other = MainWindow(settings=settings, restore=False, persist=False, ask_to_save=True)
    qtbot.addWidget(other)  # type: ignore[attr-defined]
    other.show()
    other.controller.open_session(session)
    assert other.windowTitle() == "mix-notes – HitDesk" and not other.controller.dirty
    other.controller.set_note(other.controller.takes[0].id, "changed, then discarded")
    _answer(qtbot, QMessageBox.StandardButton.Discard, asked)
    assert other.close() and len(asked) == 3
    assert json.loads(session.read_text(encoding="utf-8")) == saved

    third = MainWindow(settings=settings, restore=False, persist=False, ask_to_save=True)
    qtbot.addWidget(third)  # type: ignore[attr-defined]
    third.show()
    third.add_paths(clips()[:1])
    wait_idle(qtbot, third)
    elsewhere = tmp_path / "new.hitdesk.json"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(elsewhere), ""))
    _answer(qtbot, QMessageBox.StandardButton.Save, asked)
    assert third.close() and elsewhere.exists()


def test_headless_windows_never_ask(qtbot: object, window: MainWindow) -> None:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(clips()[:1])
    window.controller.set_note(window.controller.takes[0].id, "not saved")
    assert window.controller.dirty
    assert window.close() and not window.isVisible()  # no question: nothing would answer it


def test_the_position_shows_the_selected_takes_length_at_once(
    qtbot: object, window: MainWindow, audio_factory: AudioFactory
) -> None:
    odd = audio_factory.sndfile("odd-length.wav", seconds=7.6)  # 0:07.6: the list shows 0:08
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths([clips()[0], odd])
    takes = window.controller.takes
    window.select_ids([takes[1].id])
    length = window.takes.data(window.takes.index(1, Column.DURATION))
    assert length == "0:08" == mmss(takes[1].result.duration_s)  # type: ignore[union-attr]
    assert window.position_label.text() == "0:00 / 0:08"  # before anything is played
    window.select_ids([takes[0].id])
    assert window.position_label.text() == f"0:00 / {window.takes.data(window.takes.index(0, Column.DURATION))}"
    window.select_ids([takes[1].id])
    with qtbot.waitSignal(window.player.loaded, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.transport.seek_to(2.9)  # a click on the spectrogram: the take is decoded for playing
    qtbot.waitUntil(lambda: window.position_label.text() == "0:02 / 0:08", timeout=5000)  # type: ignore[attr-defined]


def test_the_progress_counts_rows_already_done(qtbot: object, window: MainWindow) -> None:
    files = clips()
    window.controller.set_workers(1)
    seen: list[tuple[int, int, str]] = []

    def finished(_take_id: int, _had: bool) -> None:
        done = sum(t.state == State.DONE for t in window.controller.takes)
        seen.append((done, window.controller.batch[0], window.status.progress.format()))

    window.controller.take_finished.connect(finished)
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(files)
    assert len(seen) == len(files)
    for done, counted, text in seen:
        assert counted == done, seen  # a row that says done is counted at once
        if done < len(files):
            assert text == f"{done} of {len(files)} analysed", seen


def test_the_status_bar_stays_on_one_line(qtbot: object, window: MainWindow) -> None:
    window.resize(*MINIMUM_SIZE)
    status = window.status
    window.controller.blockSignals(True)  # only what this test says
    long = "'a very long take name.wav' is missing: the file is no longer at " + "/deep/folder" * 12
    status.say(long)
    status.update(2, 120)
    QApplication.processEvents()
    bar = status.progress
    assert bar.isVisible() and bar.text() == "2 of 120 analysed"
    assert bar.width() >= bar.fontMetrics().horizontalAdvance("120 of 120 analysed") + 16  # not wrapped, not cut
    status.say(long)
    QApplication.processEvents()
    assert status.text.text() == long and status.text.toolTip() == long  # whole, for the tooltip
    assert bar.width() >= bar.fontMetrics().horizontalAdvance("120 of 120 analysed") + 16
    line = status.text.fontMetrics().height()
    for widget in (status.text, bar, status.model_label):
        assert widget.geometry().right() <= window.statusBar().width(), widget
        assert widget.height() < 2 * line, widget  # one line
    assert status.model_label.width() >= status.model_label.sizeHint().width() - 2  # the model is still named
    window.controller.blockSignals(False)


def test_png_exports_confirm_and_the_compare_export_is_the_compare_view(
    qtbot: object, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(clips())
    target: list[Path] = []
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target[-1]), ""))
    ratio = window.devicePixelRatioF()

    target.append(tmp_path / "whole")  # no suffix: .png is added
    window.action_map["export_png"].trigger()
    whole = tmp_path / "whole.png"
    image = QImage(str(whole))
    assert (image.width(), image.height()) == (round(window.width() * ratio), round(window.height() * ratio))
    assert str(whole) in window.status.text.text()

    target.append(tmp_path / "compare.png")
    window.action_map["export_compare_png"].trigger()
    image = QImage(str(target[-1]))
    compare = window.compare
    assert window.tabs.currentWidget() is compare
    assert (image.width(), image.height()) == (round(compare.width() * ratio), round(compare.height() * ratio))
    assert image.height() < window.height() * ratio  # not the whole window
    assert str(target[-1]) in window.status.text.text() and "compare" in window.status.text.text()


def test_save_dialogs_start_in_the_folder_last_used_for_their_kind(
    qtbot: object, window: MainWindow, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio, exports, sessions, shots = (tmp_path / n for n in ("audio", "exports", "sessions", "shots"))
    for folder in (audio, exports, sessions, shots):
        folder.mkdir()
    clip = audio / "take.ogg"
    shutil.copyfile(clips()[0], clip)
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths([clip])
    assert window.prefs.last_folder == str(audio)
    starts: list[Path] = []
    answers: list[Path] = []

    def dialog(_parent: object, _title: str, start: str, *_args: object, **_kwargs: object) -> tuple[str, str]:
        starts.append(Path(start) if Path(start).is_dir() else Path(start).parent)
        return str(answers.pop(0)), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", dialog)
    monkeypatch.setattr(QFileDialog, "getOpenFileName", dialog)
    a = window.action_map
    answers += [exports / "first.csv", exports / "second.json"]
    a["export"].trigger()
    a["export"].trigger()
    assert starts == [audio, exports]  # the audio folder at first, then the one exports went to
    answers.append(sessions / "mix.hitdesk.json")
    a["save_session"].trigger()
    assert starts[-1] == audio  # not where the exports went
    # The session's ending is completed, never doubled, and the title names the file written.
    for typed, written in (("s1.hitdesk", "s1.hitdesk.json"), ("s2", "s2.hitdesk.json"), ("s3.json", "s3.json")):
        answers.append(sessions / typed)
        a["save_session"].trigger()
        assert window.controller.session_path == sessions / written and (sessions / written).is_file()
        assert window.windowTitle() == f"{written.split('.')[0]} – HitDesk"
    assert sorted(p.name for p in sessions.iterdir()) == [
        "mix.hitdesk.json",
        "s1.hitdesk.json",
        "s2.hitdesk.json",
        "s3.json",
    ]
    answers += [shots / "window.png", shots / "again.png"]
    a["export_png"].trigger()
    a["export_png"].trigger()
    assert starts[-2:] == [audio, shots]
    answers.append(sessions / "mix.hitdesk.json")
    a["open_session"].trigger()
    answers.append(exports / "third.csv")
    a["export"].trigger()
    assert starts[-2:] == [sessions, exports]
    window.prefs.save(settings)
    again = Preferences.load(settings)
    assert again.folders == {"export": str(exports), "session": str(sessions), "png": str(shots)}
    assert again.last_folder == str(audio)


def test_preferences_explain_window_length_and_cores(qtbot: object, window: MainWindow) -> None:
    cores = len(os.sched_getaffinity(0))
    assert Preferences().workers == cores  # the machine's available cores by default
    dialog = PreferencesDialog(Preferences(), 30.0, window)
    form = dialog.layout()
    assert isinstance(form, QFormLayout)
    below = {
        dialog.window_length: dialog.window_help,
        dialog.workers: dialog.workers_help,
    }
    for field, help_label in below.items():
        assert form.getWidgetPosition(help_label)[0] == form.getWidgetPosition(field)[0] + 1  # the line under it
        assert help_label.wordWrap() and len(help_label.text()) > 40
    assert "30 s windows" in dialog.window_help.text()
    assert f"{cores} core" in dialog.workers_help.text()
    assert dialog.workers.maximum() == cores and dialog.workers.value() == cores
    dialog.close()


def test_the_model_card_reads_as_sections_with_its_json_behind_details(qtbot: object, window: MainWindow) -> None:
    assert window.model is not None
    card = window.model.card
    dialog = window.show_model_card("model")
    text = dialog.pages["model"].toPlainText()
    headings = ("What it predicts", "What it learnt from", "How good it is on artists it has not seen")
    for heading in (*headings, "How sure it is", "Caveats"):
        assert heading in text
    assert text.index("What it predicts") < text.index("What it learnt from") < text.index("Caveats")
    roc = card.metrics["cv"]["default"]["roc_auc"]
    assert f"{roc['mean']:.2f} ± {roc['std']:.2f}" in text and card.label_definition in text
    assert all(c in text for c in card.caveats)
    assert "inv_cov" not in text and "stat_columns" not in text and "{" not in text  # no JSON dumped
    assert not dialog.details.isVisibleTo(dialog)
    dialog.details_button.click()
    assert dialog.details.isVisibleTo(dialog) and json.loads(dialog.details.toPlainText()) == card.raw
    dialog.open_page("explain")
    assert not dialog.details.isVisibleTo(dialog) and dialog.tabs.currentWidget() is dialog.pages["explain"]
    dialog.close()
    # A card that says little still reads as sentences.
    from hitdesk.model.card import ModelCard
    from hitdesk.ui.model_card import model_page

    bare = ModelCard("bare", "0.1", "top 10", 0.1, None, None, {})
    page = model_page(bare, "")
    assert "does not say" in page and "no cross-validated measurements" in page and "None listed" in page
