"""The takes list in the real window (offscreen): sorting, what a row says, keyboard and focus."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QFileDialog
from ui_helpers import WAIT_MS, clips, wait_idle

from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State, Take
from hitdesk.ui.takes_table import Column, TakeRole


def _analysed(qtbot: object, window: MainWindow, paths: list[Path]) -> list[Take]:
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
        window.add_paths(paths)
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: all(t.loudness is not None for t in window.controller.takes if t.state == State.DONE),
        timeout=WAIT_MS,
    )
    wait_idle(qtbot, window)
    return window.controller.takes


def _click_header(qtbot: object, window: MainWindow, col: Column) -> None:
    header = window.table.horizontalHeader()
    x = header.sectionViewportPosition(col) + header.sectionSize(col) // 2
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(x, header.height() // 2))  # type: ignore[attr-defined]


def _shown(window: MainWindow) -> list[Take]:
    """The takes in the order the table shows them."""
    model = window.table.model()
    return [model.index(r, Column.NAME).data(TakeRole) for r in range(model.rowCount())]


def test_headers_sort_numbers_as_numbers_with_missing_values_last(
    qtbot: object, window: MainWindow, tmp_path: Path
) -> None:
    broken = tmp_path / "a-broken.mp3"
    broken.write_text("not audio", encoding="utf-8")
    takes = _analysed(qtbot, window, [*clips(), broken])
    bad = next(t for t in takes if t.state == State.ERROR)
    good = [t for t in takes if t is not bad]
    assert len(good) >= 2
    header = window.table.horizontalHeader()
    assert _shown(window) == takes  # the list's own order until a header is clicked

    _click_header(qtbot, window, Column.LUFS)
    lufs = [t.loudness.integrated_lufs for t in _shown(window)[:-1]]  # type: ignore[union-attr]
    assert lufs == sorted(lufs)  # -24 before -17.7 before -15.2: not as text
    assert _shown(window)[-1] is bad  # no loudness: last
    _click_header(qtbot, window, Column.LUFS)
    lufs = [t.loudness.integrated_lufs for t in _shown(window)[:-1]]  # type: ignore[union-attr]
    assert lufs == sorted(lufs, reverse=True)
    assert _shown(window)[-1] is bad  # still last going down

    for col in (Column.DURATION, Column.OVERALL, Column.BEGINNING, Column.PEAK):
        _click_header(qtbot, window, col)
        if header.sortIndicatorOrder() != Qt.SortOrder.AscendingOrder:
            _click_header(qtbot, window, col)
        shown = _shown(window)
        values = [window.takes.data(window.takes.index(window.takes.row_of(t.id), col)) for t in shown]
        assert shown[-1] is bad, (col, values)
        if col == Column.DURATION:
            keys = [t.result.duration_s for t in shown[:-1]]  # type: ignore[union-attr]
        elif col == Column.PEAK:
            keys = [t.loudness.true_peak_dbtp for t in shown[:-1]]  # type: ignore[union-attr]
        else:
            keys = [t.overall.p_hit if col == Column.OVERALL else t.segment("beginning").p_hit for t in shown[:-1]]  # type: ignore[union-attr]
        assert keys == sorted(keys), (col, values)

    _click_header(qtbot, window, Column.NAME)
    names = [t.name for t in _shown(window)]
    assert names == sorted(names, key=str.casefold)


def test_selection_and_take_ids_stay_right_after_sorting(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips())
    shortest = min(takes, key=lambda t: t.result.duration_s)  # type: ignore[union-attr, return-value]
    window.select_ids([shortest.id])
    assert window.panel.take is shortest
    assert _shown(window)[0] is not shortest  # the clips are listed longest first
    _click_header(qtbot, window, Column.DURATION)  # shortest first: it moved to the top
    assert _shown(window)[0] is shortest
    assert window.selected_takes() == [shortest]
    assert window.table.shown_take() is shortest and window.panel.take is shortest
    assert {i.row() for i in window.table.selectionModel().selectedRows()} == {0}
    # A click on the last row shows the longest take; editing its note there changes that take.
    longest = max(takes, key=lambda t: t.result.duration_s)  # type: ignore[union-attr, return-value]
    last = len(takes) - 1
    rect = window.table.visualRect(window.table.model().index(last, Column.NAME))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[attr-defined]
    assert window.selected_takes() == [longest] and window.panel.take is longest
    window.table.model().setData(window.table.model().index(last, Column.NOTE), "the long one")
    assert longest.note == "the long one" and shortest.note == ""
    # Removing the selection removes that take, wherever it sits in the list.
    window.action_map["remove"].trigger()
    assert [t.id for t in window.controller.takes] == [t.id for t in takes if t is not longest]
    assert window.table.model().rowCount() == len(takes) - 1


def test_a_moved_file_is_missing_keeps_its_scores_until_located(
    qtbot: object, window: MainWindow, settings: QSettings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio, sessions, elsewhere = tmp_path / "audio", tmp_path / "sessions", tmp_path / "elsewhere"
    for folder in (audio, sessions, elsewhere):
        folder.mkdir()
    clip = audio / "take-1.ogg"
    shutil.copyfile(clips()[0], clip)
    _analysed(qtbot, window, [clip])
    before = window.controller.takes[0].result.to_dict()  # type: ignore[union-attr]
    session = sessions / "s.hitdesk.json"
    window.controller.save_session(session)
    moved = elsewhere / "take-1.ogg"
    clip.rename(moved)

    other = MainWindow(settings=settings, restore=False, persist=False)
    qtbot.addWidget(other)  # type: ignore[attr-defined]
    other.show()
    other.controller.open_session(session)
    take = other.controller.takes[0]
    assert take.state == State.DONE and take.result.to_dict() == before  # type: ignore[union-attr]
    assert other.panel.take is take
    assert other.takes.data(other.takes.index(0, Column.STATE)) == "missing"
    assert take.missing
    assert str(clip) in other.takes.data(other.takes.index(0, Column.STATE), Qt.ItemDataRole.ToolTipRole)
    assert "missing" in other.panel.spectrogram.message and "Computing" not in other.panel.spectrogram.message
    assert other.panel.locate_button.isVisibleTo(other) and other.action_map["locate"].isEnabled()

    other.action_map["play"].trigger()  # Space
    assert "missing" in other.status.text.text() and other.player.take_id is None
    other.action_map["again"].trigger()  # Analyse Again refuses and keeps the scores
    assert not other.controller.is_busy
    assert "missing" in other.status.text.text() and "analysed again" in other.status.text.text()
    assert take.state == State.DONE and take.result.to_dict() == before  # type: ignore[union-attr]

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *_a, **_k: (str(moved), ""))
    other.panel.locate_button.click()
    assert take.path == moved and not take.missing and other.controller.dirty
    assert take.result is not None and take.result.file == str(moved)
    assert {k: v for k, v in take.result.to_dict().items() if k != "file"} == {
        k: v for k, v in before.items() if k != "file"
    }
    assert other.takes.data(other.takes.index(0, Column.STATE)) == "done"
    assert not other.panel.locate_button.isVisibleTo(other) and not other.action_map["locate"].isEnabled()
    qtbot.waitUntil(lambda: bool(other.panel.spectrogram.window_names), timeout=WAIT_MS)  # type: ignore[attr-defined]
    wait_idle(qtbot, other)
    assert take.result.to_dict()["overall"] == before["overall"]
    other.close()
