"""The takes list in the real window (offscreen): sorting, what a row says, keyboard and focus."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtGui import QColor, QIcon, QImage
from PySide6.QtWidgets import QApplication, QFileDialog, QWidget
from ui_helpers import WAIT_MS, clips, wait_idle

from hitdesk.present import familiarity_warning, unlike_note, unlike_training_data
from hitdesk.results import Familiarity
from hitdesk.ui import theme
from hitdesk.ui.loudness import Loudness
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State, Take
from hitdesk.ui.takes_table import Column, TakeRole


@pytest.fixture(autouse=True)
def dark_palette(qapp: QApplication) -> None:
    """The app's own look (``run_gui`` sets it): colours and contrast are checked against it."""
    theme.apply_dark_palette(qapp)


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


def test_selecting_takes_in_a_sorted_list_selects_those_takes_in_one_change(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips())
    _click_header(qtbot, window, Column.DURATION)  # shortest first: the view's rows are not the list's
    longest, second = takes[0], takes[1]
    assert _shown(window)[0] is not longest
    changes: list[object] = []
    window.table.selectionModel().selectionChanged.connect(lambda *args: changes.append(args))
    window.select_ids([longest.id, second.id])
    assert {t.id for t in window.selected_takes()} == {longest.id, second.id}
    assert len(changes) == 1
    assert window.table.shown_take() is longest and window.panel.take is longest
    # The same selection again changes nothing, and the panel still shows the first take.
    window.select_ids([longest.id, second.id])
    assert len(changes) == 1 and window.panel.take is longest


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


def test_tab_moves_between_panes_not_cells(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips())
    window.select_ids([takes[1].id])
    window.activateWindow()
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)  # type: ignore[attr-defined]
    current = window.table.currentIndex()
    seen: list[QWidget | None] = []
    for _ in range(80):  # the panes' controls (meters, what if, playback) are stops; the list's cells are not
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # type: ignore[attr-defined]
        seen.append(QApplication.focusWidget())
        if seen[-1] is window.table:
            break
    assert seen[0] is not window.table, "Tab stayed in the list"
    panel = window.panel
    assert seen.index(panel.spectrogram) < seen.index(panel.note_edit)  # the take: its picture, then its controls
    assert seen[-1] is window.table  # round the panes and back to the list
    assert window.table.currentIndex() == current  # Tab did not walk the cells
    qtbot.keyClick(window.table, Qt.Key.Key_Tab, Qt.KeyboardModifier.ShiftModifier)  # type: ignore[attr-defined]
    assert QApplication.focusWidget() is seen[-2]  # Shift+Tab: back to the pane before
    spectrogram = panel.spectrogram
    spectrogram.setFocus()
    qtbot.waitUntil(spectrogram.hasFocus)  # type: ignore[attr-defined]
    image = spectrogram.viewport().grab().toImage()
    frame = [QColor(image.pixel(1, y)) for y in range(5, image.height() - 5, 7)]
    assert all(_contrast(c, theme.BASE) >= 3.0 for c in frame)  # the picture in focus is framed


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG 2.1 contrast ratio."""

    def lum(c: QColor) -> float:
        ch = [x / 12.92 if x <= 0.03928 else ((x + 0.055) / 1.055) ** 2.4 for x in (c.redF(), c.greenF(), c.blueF())]
        return 0.2126 * ch[0] + 0.7152 * ch[1] + 0.0722 * ch[2]

    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def _row_fill(window: MainWindow, image: QImage, row: int) -> QColor:
    """The row's background, from the empty Artist – Title cell."""
    r = window.table.visualRect(window.table.model().index(row, Column.WHO))
    return QColor(image.pixel(r.center()))


def test_the_focused_row_is_outlined_with_contrast(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips())
    window.select_ids([takes[1].id])
    window.activateWindow()
    window.table.setFocus()
    qtbot.waitUntil(window.table.hasFocus)  # type: ignore[attr-defined]
    image = window.table.viewport().grab().toImage()
    row = window.table.currentIndex().row()
    first = window.table.visualRect(window.table.model().index(row, 0))
    fill = _row_fill(window, image, row)
    width = window.table.viewport().width()
    edges = [QColor(image.pixel(x, first.top() + 1)) for x in range(4, width - 4, 5)]
    edges += [QColor(image.pixel(x, first.bottom() - 1)) for x in range(4, width - 4, 5)]
    edges += [QColor(image.pixel(1, first.center().y())), QColor(image.pixel(width - 2, first.center().y()))]
    strong = [c for c in edges if _contrast(c, fill) >= 3.0]
    assert len(strong) >= 0.95 * len(edges), f"{len(strong)} of {len(edges)} edge pixels stand out from {fill.name()}"
    for background in (theme.BASE, theme.ALT_BASE, theme.HIGHLIGHT, theme.WINDOW):
        assert _contrast(theme.FOCUS, background) >= 3.0  # WCAG 2.1, non-text contrast
        assert theme.contrast(theme.FOCUS, background) == pytest.approx(_contrast(theme.FOCUS, background))
    # Without the focus, no outline: the list does not claim the keyboard when it does not have it.
    window.panel.note_edit.setFocus()
    qtbot.waitUntil(lambda: not window.table.hasFocus())  # type: ignore[attr-defined]
    image = window.table.viewport().grab().toImage()
    assert QColor(image.pixel(width // 2, first.top() + 1)) == _row_fill(window, image, row)


def test_a_selected_row_keeps_its_true_peak_warning(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips())
    hot = takes[0]
    hot.set_loudness(Loudness(-8.0, 0.6), "")  # above -1 dBTP: the warning colour
    window.controller.take_changed.emit(hot.id)
    assert window.takes.data(window.takes.index(0, Column.PEAK), Qt.ItemDataRole.ForegroundRole).color() == (
        theme.WARNING_COLOUR
    )

    def warm_pixels() -> int:
        image = window.table.viewport().grab().toImage()
        cell = window.table.visualRect(window.table.model().index(window.table.row_of(hot.id), Column.PEAK))
        hues = [
            QColor(image.pixel(x, y))
            for x in range(cell.left(), cell.right())
            for y in range(cell.top(), cell.bottom())
        ]
        return sum(1 for c in hues if 35 <= c.hsvHue() <= 60 and c.hsvSaturation() > 100 and c.value() > 150)

    window.select_ids([takes[1].id])
    assert warm_pixels() > 10  # not selected: yellow text
    window.select_ids([hot.id])
    assert warm_pixels() > 10  # selected: still a warning, not white


def test_a_take_unlike_the_training_data_says_so_in_its_row(qtbot: object, window: MainWindow) -> None:
    takes = _analysed(qtbot, window, clips()[:2])
    odd, plain = takes
    assert odd.result is not None and plain.result is not None
    odd.result = replace(odd.result, familiarity=Familiarity(41.0, 0.004, True))
    plain.result = replace(plain.result, familiarity=Familiarity(3.0, 0.6, False))
    window.controller.take_changed.emit(odd.id)
    window.controller.take_changed.emit(plain.id)
    model = window.takes
    icon = model.data(model.index(0, Column.NAME), Qt.ItemDataRole.DecorationRole)
    assert isinstance(icon, QIcon) and not icon.isNull()
    for col in (Column.NAME, Column.STATE):
        tip = model.data(model.index(0, col), Qt.ItemDataRole.ToolTipRole)
        assert "Unlike the songs the model was trained on (typicality 0.004)" in tip
    assert model.data(model.index(1, Column.NAME), Qt.ItemDataRole.DecorationRole) is None
    assert "Unlike" not in model.data(model.index(1, Column.NAME), Qt.ItemDataRole.ToolTipRole)
    # The same words in the panel, and a sentence ready for the compare view's headline.
    window.select_ids([odd.id])
    assert familiarity_warning(odd.result) in window.panel.warning.text()
    assert unlike_training_data(odd.result) and not unlike_training_data(plain.result)
    assert odd.name in unlike_note([odd.name]) and unlike_note([]) == ""
