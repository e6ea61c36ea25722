"""The compare view with many takes: rows are cheap, pictures are made for rows in view only, off the
GUI thread, in a bounded cache; the ranking rule is one object handed in.

Takes here are made in memory (results and log-mel), so 120 of them cost nothing to analyse; the
window test at the end uses the real window and model. Nothing is timed: the tests count what was
built.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QItemSelectionModel, QRect, Qt
from PySide6.QtGui import QColor, QImage, QTextDocument
from PySide6.QtWidgets import QApplication, QLabel, QWidget
from ui_helpers import WAIT_MS, clips

from hitdesk.analysis import AnalysisDetail
from hitdesk.dsp.windows import Window, WindowPlan
from hitdesk.present import unlike_note
from hitdesk.ranking import Ranking
from hitdesk.results import Familiarity, Score, SegmentResult, TrackResult
from hitdesk.ui import theme
from hitdesk.ui.compare_delegates import ROW_HEIGHT, picture_caption
from hitdesk.ui.compare_model import HEARD_TITLE, CompareColumn, CompareModel, PictureStateRole
from hitdesk.ui.compare_view import CompareView
from hitdesk.ui.takes import State, Take

N_TAKES = 120
_LOGMEL = np.linspace(-80.0, 0.0, 128 * 200, dtype=np.float32).reshape(128, 200)  # shared: read only


def make_take(i: int, p: float, *, detail: bool = True, spread: float = 0.05) -> Take:
    take = Take(i, Path(f"/nowhere/take{i:03d}.wav"), f"/nowhere/take{i:03d}.wav")
    windows = (Window("beginning", 10.0, 40.0), Window("middle", 75.0, 105.0), Window("end", 140.0, 170.0))
    segments = tuple(
        SegmentResult(w.name, w.start_s, w.end_s, Score(p + 0.01 * k, p + 0.01 * k - spread, p + 0.01 * k + spread))
        for k, w in enumerate(windows)
    )
    take.result = TrackResult(
        file=str(take.path), duration_s=180.0, segments=segments, overall=Score(p, p - spread, p + spread)
    )
    take.state = State.DONE
    if detail:
        plan = WindowPlan(windows, 0.0, 180.0, overlapping=False, single=False)
        take.detail = AnalysisDetail(plan=plan, window_logmel={w.name: _LOGMEL for w in windows})
    return take


def many_takes(n: int = N_TAKES, *, detail: bool = True) -> list[Take]:
    return [make_take(i + 1, 0.05 + 0.9 * i / n, detail=detail) for i in range(n)]


@pytest.fixture
def view(qtbot: object) -> Iterator[CompareView]:
    v = CompareView()
    qtbot.addWidget(v)  # type: ignore[attr-defined]
    v.resize(1000, 500)
    v.show()
    qtbot.waitExposed(v)  # type: ignore[attr-defined]
    yield v
    v.model.renderer.cancel_all()
    v.model.renderer.wait()


def rows_that_fit(v: CompareView) -> int:
    return v.table.viewport().height() // ROW_HEIGHT + 1


def wait_filled(qtbot: object, v: CompareView) -> None:
    def filled() -> bool:
        c = v.counts()
        return c["in_view"] > 0 and c["ready_in_view"] == c["in_view"] and not v.busy()

    qtbot.waitUntil(filled, timeout=WAIT_MS)  # type: ignore[attr-defined]


def test_only_the_rows_in_view_are_built(qtbot: object, view: CompareView) -> None:
    takes = many_takes()
    view.show_takes(takes)
    # No widget per take: the whole view stays a handful of widgets with 120 takes.
    assert len(view.findChildren(QWidget)) < 40
    assert view.model.rowCount() == N_TAKES
    assert view.counts()["drawn"] == 0  # nothing is drawn before the event loop runs again
    wait_filled(qtbot, view)
    counts = view.counts()
    assert counts["in_view"] <= rows_that_fit(view) + 2  # the rows in view and one beyond each edge
    assert counts["drawn"] == counts["in_view"] < N_TAKES
    assert counts["cached"] == counts["in_view"]


def test_pictures_fill_progressively_with_n_of_n_ready(qtbot: object, view: CompareView) -> None:
    titles: list[str] = []
    view.model.progress_changed.connect(lambda: titles.append(view.model.heard_title()))
    view.show_takes(many_takes())
    wait_filled(qtbot, view)
    ready = [(int(m[1]), int(m[2])) for t in titles if (m := re.search(r"\((\d+) of (\d+) ready\)", t))]
    assert ready, titles
    n = view.counts()["in_view"]
    assert ready[0] == (0, n)
    assert [r for r, _ in ready] == sorted(r for r, _ in ready)  # it only grows
    assert len({r for r, _ in ready}) >= 2  # seen part way, not all at once
    assert titles[-1] == HEARD_TITLE  # all in view ready: the plain title again
    assert view.model.headerData(CompareColumn.HEARD, Qt.Orientation.Horizontal) == HEARD_TITLE


def test_pictures_scrolled_away_are_released(qtbot: object, view: CompareView) -> None:
    takes = many_takes()
    view.show_takes(takes)
    wait_filled(qtbot, view)
    bar = view.table.verticalScrollBar()
    while bar.value() < bar.maximum():
        bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
        wait_filled(qtbot, view)
        assert len(view.model.cache) <= view.model.cache.capacity
    counts = view.counts()
    assert counts["drawn"] > counts["in_view"]  # pages were drawn as they came into view...
    assert counts["cached"] <= max(24, 2 * counts["in_view"]) < N_TAKES  # ...and the cache stayed bounded
    first_row_take = view.model.rows[0].take_id
    assert first_row_take not in view.model.cache  # the top of the list, scrolled away long ago, was let go
    view.hide()
    assert view.counts()["cached"] == 0  # nothing shown, nothing kept
    assert view.counts()["pending"] == 0


def test_log_mel_is_asked_for_rows_in_view_only(qtbot: object, view: CompareView) -> None:
    asked: list[int] = []
    view.detail_needed.connect(asked.append)
    view.show_takes(many_takes(detail=False))
    qtbot.waitUntil(lambda: bool(asked) and not view.busy(), timeout=WAIT_MS)  # type: ignore[attr-defined]
    in_view = view.counts()["in_view"]
    assert 0 < len(set(asked)) <= in_view < N_TAKES
    assert all(view.in_view(t) for t in asked)
    assert view.counts()["drawn"] == 0  # no picture without the log-mel
    assert view.model.picture_state(asked[0]) == "computing"
    # Scrolled away before the log-mel came: the requests are withdrawn, the new rows asked for.
    withdrawn: list[int] = []
    view.detail_unneeded.connect(withdrawn.append)
    first = set(asked)
    asked.clear()
    bar = view.table.verticalScrollBar()
    bar.setValue(bar.maximum())
    assert set(withdrawn) == first
    qtbot.waitUntil(lambda: bool(asked) and not view.busy(), timeout=WAIT_MS)  # type: ignore[attr-defined]
    assert not set(asked) & first and all(view.in_view(t) for t in asked)


def test_the_clear_difference_rule_is_handed_in(qtbot: object) -> None:
    # Ranges overlap: by the default rule the model cannot tell these takes apart.
    takes = [make_take(1, 0.50, spread=0.10), make_take(2, 0.45, spread=0.10), make_take(3, 0.40, spread=0.10)]
    model = CompareModel()
    model.set_takes(takes)
    assert [r.text for r in model.ranked[1:]] == ["-5 pts, no clear difference", "-10 pts, no clear difference"]
    assert "no clear difference" in model.summary

    def by_points(a: Score, b: Score) -> bool:  # another rule: any 3 points or more is a clear difference
        return abs(a.p_hit - b.p_hit) >= 0.03

    model.set_ranking(Ranking(different=by_points))
    assert [r.text for r in model.ranked[1:]] == ["-5 pts, clearly lower", "-10 pts, clearly lower"]
    assert [r.clear for r in model.ranked] == [False, True, True]
    assert "clearly above all other takes" in model.summary
    # Segment columns follow the same rule.
    beginning = model.rows[1].segments[0][1]
    assert beginning is not None and beginning.clear
    # And the view is given its rule the same way.
    v = CompareView(ranking=Ranking(different=lambda a, b: False))
    qtbot.addWidget(v)  # type: ignore[attr-defined]
    v.show_takes(takes)
    assert all("no clear difference" in r.text for r in v.ranked[1:])
    v.set_ranking(Ranking(different=by_points))
    assert "clearly above all other takes" in v.summary.text()


def test_opening_compare_with_120_takes_in_the_window_builds_only_what_is_in_view(
    qtbot: object, window: object
) -> None:
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    for i, take in enumerate(many_takes()):
        assert take.result is not None
        added = window.controller.add_result(Path(f"/nowhere/take{i:03d}.wav"), take.result)
        assert added is not None
        added.detail = take.detail
    takes = window.controller.takes
    assert len(takes) == N_TAKES
    widgets_before = len(window.compare.findChildren(QWidget))
    window.select_ids([t.id for t in takes])
    window.show_compare()
    # Back in the event loop with 120 rows ranked and no picture or widget built for any of them.
    assert len(window.compare.findChildren(QWidget)) - widgets_before < 10
    assert window.compare.take_ids == [t.id for t in takes]
    counts = window.compare.counts()
    assert counts["rows"] == N_TAKES and counts["drawn"] == 0
    wait_filled(qtbot, window.compare)
    counts = window.compare.counts()
    assert 0 < counts["drawn"] == counts["in_view"] <= rows_that_fit(window.compare) + 2
    window.show_take_tab()
    assert window.compare.counts()["cached"] == 0


def _compare_in_window(window: object, takes: list[Take]) -> list[Take]:
    """The takes added to the real window as results (with their log-mel, if they have it) and compared."""
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    added = []
    for take in takes:
        assert take.result is not None
        new = window.controller.add_result(take.path, take.result)
        assert new is not None
        new.detail = take.detail
        added.append(new)
    window.select_ids([t.id for t in added])
    window.show_compare()
    return added


def _shown(label: QLabel) -> str:
    """A label's text as it reads on screen (rich text rendered)."""
    doc = QTextDocument()
    doc.setHtml(label.text())
    return doc.toPlainText()


def _visible_cards() -> list[QWidget]:
    from hitdesk.ui.model_card import ModelCardDialog

    return [w for w in QApplication.topLevelWidgets() if isinstance(w, ModelCardDialog) and w.isVisible()]


def test_a_click_on_a_compare_meter_opens_nothing_and_the_link_explains(qtbot: object, window: object) -> None:
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    _compare_in_window(window, [make_take(1, 0.3), make_take(2, 0.6)])
    view = window.compare
    wait_filled(qtbot, view)
    for col in (CompareColumn.OVERALL, CompareColumn.BEGINNING, CompareColumn.MIDDLE, CompareColumn.END):
        for row in (0, 1):
            rect = view.table.visualRect(view.model.index(row, col))
            qtbot.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())  # type: ignore[attr-defined]
    QApplication.processEvents()
    assert _visible_cards() == []
    assert "What do these numbers mean?" in view.hint.text()
    view.hint.linkActivated.emit("explain")
    cards = _visible_cards()
    assert len(cards) == 1
    assert cards[0].tabs.currentWidget() is cards[0].pages["explain"]  # type: ignore[attr-defined]
    cards[0].close()


def test_the_compare_headline_warns_of_takes_unlike_the_training_data(qtbot: object, window: object) -> None:
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    odd, plain, other = make_take(1, 0.3), make_take(2, 0.6), make_take(3, 0.5)
    assert odd.result is not None and plain.result is not None and other.result is not None
    odd.result = replace(odd.result, familiarity=Familiarity(41.0, 0.004, True))
    plain.result = replace(plain.result, familiarity=Familiarity(3.0, 0.6, False))
    added = _compare_in_window(window, [odd, plain, other])
    headline = _shown(window.compare.summary)
    assert window.compare.model.summary in headline  # the ranking's sentence comes first
    assert unlike_note([added[0].name]) in headline
    assert unlike_note([added[0].name]).startswith("Caution: 'take001.wav' is unlike")
    # Without the unlike take the headline has no caution.
    window.select_ids([added[1].id, added[2].id])
    assert window.compare.take_ids == [added[1].id, added[2].id]
    assert "Caution" not in _shown(window.compare.summary)
    assert window.compare.model.summary in _shown(window.compare.summary)


def test_a_compared_take_whose_file_is_missing_says_so_and_is_analysed_once_located(
    qtbot: object, window: object, tmp_path: Path
) -> None:
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    clip = clips()[0]
    gone = make_take(1, 0.3, detail=False)  # a result without log-mel, as from the cache or a session
    gone.path = tmp_path / "moved-away.ogg"  # never there
    here = make_take(2, 0.6)
    added = _compare_in_window(window, [gone, here])
    view = window.compare
    model = view.model
    qtbot.waitUntil(  # type: ignore[attr-defined]
        lambda: (
            model.picture_state(added[0].id) == "missing"
            and model.picture_state(added[1].id) == "ready"
            and not view.busy()
        ),
        timeout=WAIT_MS,
    )
    assert added[0].missing
    caption = picture_caption(model.index(model.row_of(added[0].id), CompareColumn.HEARD).data(PictureStateRole))
    assert "missing" in caption and "computing" not in caption
    assert model.heard_title() == HEARD_TITLE  # the missing row is not counted as still to fill
    # What the row paints: the caption in the warning colour, no "computing…".
    image = view.table.viewport().grab().toImage()
    rect = view.table.visualRect(model.index(model.row_of(added[0].id), CompareColumn.HEARD))
    assert _has_colour(image, rect, theme.WARNING_COLOUR)
    assert not window.controller.is_busy  # nothing was queued for the missing file
    # Located: the row asks for its log-mel again and gets its picture.
    located = tmp_path / "found.ogg"
    shutil.copy(clip, located)
    assert window.controller.locate(added[0].id, located)
    qtbot.waitUntil(lambda: model.picture_state(added[0].id) == "ready", timeout=WAIT_MS)  # type: ignore[attr-defined]


def _has_colour(image: QImage, rect: QRect, colour: QColor, tolerance: int = 40) -> bool:
    ratio = image.devicePixelRatio()
    for y in range(int(rect.top() * ratio), int(rect.bottom() * ratio), 2):
        for x in range(int(rect.left() * ratio), int(rect.right() * ratio), 2):
            c = image.pixelColor(x, y)
            distance = abs(c.red() - colour.red()) + abs(c.green() - colour.green()) + abs(c.blue() - colour.blue())
            if distance < tolerance:
                return True
    return False


def test_a_row_changing_while_120_takes_are_selected_does_not_read_the_whole_selection(
    qtbot: object, window: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every change of a row (an analysis's progress) updates the window's actions, which ask which
    take is shown; answering that must not read back the whole selection (with ``selectedRows`` that
    cost hundreds of milliseconds of the GUI thread per change when 120 rows were selected)."""
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    for i, take in enumerate(many_takes()):
        assert take.result is not None
        added = window.controller.add_result(Path(f"/nowhere/take{i:03d}.wav"), take.result)
        assert added is not None
    takes = window.controller.takes
    window.select_ids([t.id for t in takes])
    assert [t.id for t in window.selected_takes()] == [t.id for t in takes]  # read from the ranges
    reads: list[int] = []
    read_all = window.table.selected_takes

    def counted() -> list[Take]:
        reads.append(1)
        return read_all()

    monkeypatch.setattr(window.table, "selected_takes", counted)
    for take in takes[:10]:
        window.controller.take_changed.emit(take.id)
    QApplication.processEvents()
    assert window.table.shown_take() is takes[0]
    assert reads == []
    # With the current row not selected, the first selected take is shown (read from the selection).
    window.table.selectionModel().select(
        window.table.model().index(0, 0),
        QItemSelectionModel.SelectionFlag.Deselect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert window.table.shown_take() is takes[1]
