"""Helpers for the app's tests: isolation (settings, cache, logs in tmp), real drops, waiting.

Imported by ``tests/test_ui_*.py``; the Qt platform is set before anything imports Qt.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPoint, QPointF, QSettings, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

from hitdesk.model.runtime import available_models, resolve_model_path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "tests" / "data"
CORPUS = REPO.parent / "shared" / "corpus"
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


def isolate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    """Settings, result cache and log file in ``tmp_path`` (all app folders under ``HITDESK_HOME``);
    returns the app's settings object."""
    monkeypatch.setenv("HITDESK_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("HITDESK_CACHE_DIR", str(tmp_path / "cache"))
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
