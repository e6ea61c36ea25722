"""Helpers for the app's tests: isolation (settings, cache, logs in tmp), real drops, waiting.

Imported by ``tests/ui/test_ui_*.py`` and other app tests; the Qt platform is set before anything imports Qt.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from hitdesk.model.runtime import available_models, resolve_model_path

if TYPE_CHECKING:
    from hitdesk.ui.main_window import MainWindow

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CLIPS = ("chipdisko-12s.ogg", "forest-sprint-6s.m4a", "elvish-theme-3s-24bit.flac")
WAIT_MS = 60_000


def clips() -> list[Path]:
    found = [DATA / c for c in CLIPS if (DATA / c).exists()]
    if len(found) < 2:
        pytest.skip("needs the clips in tests/data")
    return found


def require_model() -> None:
    stem = resolve_model_path(None)
    if not stem.with_suffix(".json").exists() and not available_models():
        pytest.skip("no model in models/ (it has to be trained first: make model)")


def isolate() -> QSettings:
    """The app's settings object, in the test's own app folders (``app_folders`` in conftest puts
    every folder under a ``HITDESK_HOME`` of the test's own)."""
    from hitdesk.ui.settings import open_settings

    return open_settings()


def drop_files(target: QWidget, paths: Sequence[Path | str]) -> bool:
    """A real drag-enter and drop of file URLs on ``target``; returns whether the drop was accepted."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(Path(p).absolute())) for p in paths])
    centre = target.rect().center()
    enter = QDragEnterEvent(
        QPoint(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(
        QPointF(centre), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def make_window(qtbot: object, settings: QSettings, **kwargs: object) -> Iterator[object]:
    """A real main window with the real model; closed (jobs stopped, settings saved) afterwards."""
    from hitdesk.ui.main_window import MainWindow

    window = MainWindow(settings=settings, **kwargs)  # type: ignore[arg-type]
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    window.show()
    yield window
    window.close()


def wait_idle(qtbot: object, window: object) -> None:
    qtbot.waitUntil(lambda: not window.is_busy, timeout=WAIT_MS)  # type: ignore[attr-defined]


LAYOUT_SIZE = (1280, 720)  # the smallest window size the layout is checked at


def squeezed(window: MainWindow) -> list[str]:
    """What the layout squeezes below the height it needs, at the window's current size."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    problems = []
    table = window.table
    rows = table.viewport().height() / table.verticalHeader().defaultSectionSize()
    if rows < 4:
        problems.append(f"the takes list shows {rows:.1f} rows")
    meters = [window.panel.overall, *window.panel.segment_meters.values()]
    meters += [window.record_panel.scores.beginning_meter, window.record_panel.scores.now_meter]
    for meter in meters:
        if meter.height() < meter.sizeHint().height():
            problems.append(f"meter '{meter.title}' is {meter.height()} px high, needs {meter.sizeHint().height()}")
    level = window.record_panel.controls.level
    if level.height() < level.sizeHint().height():
        problems.append(f"the level meter is {level.height()} px high, needs {level.sizeHint().height()}")
    return problems


def open_record_panel(window: MainWindow) -> None:
    """The window at ``LAYOUT_SIZE`` with the record panel docked open."""
    from PySide6.QtWidgets import QApplication

    window.resize(*LAYOUT_SIZE)
    window.record_dock.show()
    for _ in range(5):
        QApplication.processEvents()
    assert window.record_dock.isVisible() and (window.width(), window.height()) == LAYOUT_SIZE
