"""What pyqtgraph hands a view box's ``mouseDragEvent`` at the end of a left-button drag, for tests
that drag on the spectrogram or a time strip as a user would."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QPointF, Qt


class DragEnd:
    """The end of a left drag from ``start_s`` to ``end_s`` (at height ``y``) with ``modifiers`` held."""

    def __init__(
        self,
        view_box: Any,
        start_s: float,
        end_s: float,
        modifiers: Qt.KeyboardModifier = Qt.KeyboardModifier.NoModifier,
        y: float = 0.0,
    ) -> None:
        self._down = view_box.mapViewToScene(QPointF(start_s, y))
        self._now = view_box.mapViewToScene(QPointF(end_s, y))
        self._modifiers = modifiers

    def modifiers(self) -> Qt.KeyboardModifier:
        return self._modifiers

    def button(self) -> Qt.MouseButton:
        return Qt.MouseButton.LeftButton

    def buttonDownScenePos(self) -> QPointF:  # noqa: N802
        return self._down

    def scenePos(self) -> QPointF:  # noqa: N802
        return self._now

    def isFinish(self) -> bool:  # noqa: N802
        return True

    def accept(self) -> None:
        pass
