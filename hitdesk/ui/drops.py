"""File drops anywhere on a window: an application event filter that hands local files to a callback.

Text fields and plots would otherwise take a drop themselves (a text field pastes the paths), so the
filter sees drags on every child of the window first. Apart from the window, which only installs it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QEvent, QObject
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QWidget

_DRAGS = (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop)


def local_files(event: QDropEvent | QDragEnterEvent) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class FileDrops(QObject):
    """Accepts drags of local files over any widget of ``window`` and gives the dropped paths to ``add``."""

    def __init__(self, window: QWidget, add: Callable[[list[str]], object]) -> None:
        super().__init__(window)
        self._window = window
        self._add = add
        self._installed = False

    def install(self) -> None:
        app = QApplication.instance()
        if app is not None and not self._installed:
            app.installEventFilter(self)
            self._installed = True

    def remove(self) -> None:
        app = QApplication.instance()
        if app is not None and self._installed:
            app.removeEventFilter(self)
            self._installed = False

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:  # noqa: N802
        kind = event.type()
        if kind in _DRAGS and isinstance(obj, QWidget) and obj.window() is self._window:
            drag = cast(QDropEvent, event)  # DragEnter and DragMove are QDropEvents too
            files = local_files(drag)
            if files:
                drag.acceptProposedAction()
                if kind == QEvent.Type.Drop:
                    self._add(files)
                return True
        return super().eventFilter(obj, event)
