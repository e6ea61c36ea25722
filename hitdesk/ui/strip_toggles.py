"""Which strips show under the spectrogram: the user's choice (View menu and the "Strips" button,
remembered in settings) and the room there is.

The spectrogram is the main picture, so it keeps at least ``SPECTROGRAM_MIN`` pixels: when the column
is too short for it and every strip the user wants (a small window, the record panel open), strips are
folded away, the correlation first and the hit curve last, and the button says how many; they come
back as soon as the column is tall enough.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QEvent, QObject, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu, QMenuBar, QToolButton, QWidget

SPECTROGRAM_MIN = 110  # pixels: below this the log-mel is no longer readable
KEEP_ORDER = ("curve", "loudness", "correlation")  # the first is folded last
TITLES = {"loudness": "&Loudness Strip", "correlation": "Stereo &Correlation Strip", "curve": "&Hit Curve Strip"}


class StripToggles(QObject):
    hidden_changed = Signal(list)  # the names the user hid, for the settings

    def __init__(self, strips: dict[str, QWidget], column: QWidget, spacing: int, overhead: Callable[[], int]) -> None:
        """``strips`` by name (in ``TITLES``); ``column`` holds them with the spectrogram, ``spacing``
        apart; ``overhead()`` is the column's height taken by everything else but the spectrogram."""
        super().__init__(column)
        self.strips = strips
        self.column = column
        self.spacing = spacing
        self.overhead = overhead
        self.hidden: set[str] = set()
        self.folded: list[str] = []
        self.menu = QMenu("Strips under the spectrogram")
        self.actions: dict[str, QAction] = {}
        for name in TITLES:
            action = QAction(TITLES[name], self)
            action.setCheckable(True)
            action.setChecked(True)
            action.setToolTip(f"Show the {TITLES[name].replace('&', '').lower()} under the spectrogram")
            action.toggled.connect(lambda on, n=name: self._toggled(n, on))
            self.menu.addAction(action)
            self.actions[name] = action
        self.button = QToolButton()
        self.button.setText("Strips")
        self.button.setMenu(self.menu)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setAccessibleName("Strips under the spectrogram")
        column.installEventFilter(self)
        self.fit()

    def add_menu(self, bar: QMenuBar, before: str = "&Playback") -> None:
        """A View menu with the strips, before the menu called ``before``."""
        view = QMenu("&View", bar)
        view.addActions(list(self.actions.values()))
        anchor = next((a for a in bar.actions() if a.text() == before), None)
        bar.insertMenu(anchor, view) if anchor is not None else bar.addMenu(view)
        self.view_menu = view

    def set_hidden(self, names: Sequence[str]) -> None:
        """The strips the user hid (from the settings); unknown names are ignored."""
        for name, action in self.actions.items():
            action.setChecked(name not in names)

    def _toggled(self, name: str, on: bool) -> None:
        (self.hidden.discard if on else self.hidden.add)(name)
        self.fit()
        self.hidden_changed.emit(sorted(self.hidden))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 - Qt's name
        if watched is self.column and event.type() == QEvent.Type.Resize:
            self.fit()
        return False

    def fit(self) -> None:
        """Shows the wanted strips that leave the spectrogram its minimum, folding the rest."""
        room = self.column.height() - self.overhead() - SPECTROGRAM_MIN
        shown: set[str] = set()
        folded: list[str] = []
        for name in KEEP_ORDER:
            if name in self.hidden:
                continue
            need = self.strips[name].maximumHeight() + self.spacing  # fixed heights, shown or not
            if need <= room and not folded:  # never a lesser strip in place of a folded one
                shown.add(name)
                room -= need
            else:
                folded.append(name)
        for name, strip in self.strips.items():
            strip.setVisible(name in shown)
        self.folded = folded
        self.button.setText(f"Strips ({len(folded)} folded)" if folded else "Strips")
        self.button.setToolTip(
            "Show or hide the strips under the spectrogram"
            + (": the window is too short for all of them, make it taller to see the rest" if folded else "")
        )
