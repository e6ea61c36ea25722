"""The A/B row under a take's playback settings (the reference, the switch, the nudge, "Hear as", and
what is played), shown while a take is marked as a reference or a platform is chosen, so it costs
the spectrogram no height otherwise; and Playback ▸ Hear As, which is always there."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from hitdesk.ui import theme
from hitdesk.ui.ab_compare import NUDGE_RANGE_MS, ABCompare
from hitdesk.ui.elided import ElidedLabel

NO_PLATFORM = "As it is"


class ABBar(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ab: ABCompare | None = None
        self.fit: Callable[[], None] = lambda: None  # the panel's strips fit again when the row comes or goes
        self.reference = QComboBox()
        self.reference.setAccessibleName("Reference")
        self.reference.setToolTip("The reference the shown take is A/B'd against (takes with Reference ticked)")
        self.reference.setMinimumContentsLength(12)
        self.reference.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.switch = QPushButton("A/B")
        self.switch.setToolTip(
            "Switch between the shown take (A) and the reference (B) at the same musical moment, B at A's loudness (B)"
        )
        self.nudge = QDoubleSpinBox()
        self.nudge.setRange(*NUDGE_RANGE_MS)
        self.nudge.setSingleStep(10.0)
        self.nudge.setDecimals(0)
        self.nudge.setSuffix(" ms")
        self.nudge.setKeyboardTracking(False)
        self.nudge.setAccessibleName("Nudge")
        self.nudge.setToolTip("Moves B against A by hand, on top of the automatic alignment (later: positive)")
        self.nudge.setMaximumWidth(90)
        self.platform = QComboBox()
        self.platform.setAccessibleName("Hear as")
        self.platform.setToolTip(
            "Play the take as a streaming platform would: its normalisation gain and, where it has one, "
            "its true-peak ceiling (presets: platforms.toml)"
        )
        self.status = ElidedLabel("")  # one line; the whole sentence is its tooltip
        self.status.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        column = QVBoxLayout(self)  # the controls, and under them what is played (one elided line)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        layout = QHBoxLayout()
        column.addLayout(layout)
        column.addWidget(self.status)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Against", self.reference), (None, self.switch), ("Nudge", self.nudge)):
            if label:
                layout.addWidget(QLabel(label))
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(QLabel("Hear as"))
        layout.addWidget(self.platform)
        self._updating = False

    def attach(self, ab: ABCompare) -> None:
        self.ab = ab
        self._updating = True
        try:
            self.platform.addItem(NO_PLATFORM, None)
            for p in ab.platforms:
                self.platform.addItem(p.name, p.name)
        finally:
            self._updating = False
        self.switch.clicked.connect(ab.toggle)
        self.reference.activated.connect(lambda i: ab.choose_reference(self.reference.itemData(i)))
        self.nudge.valueChanged.connect(lambda v: None if self._updating else ab.set_nudge_ms(v))
        self.platform.activated.connect(lambda i: ab.set_platform(self.platform.itemData(i)))
        ab.changed.connect(self.refresh)
        self.refresh()

    def refresh(self) -> None:
        ab = self.ab
        if ab is None:
            return
        pair = ab.pair()
        self._updating = True
        try:
            self.reference.clear()
            shown = pair[0].id if pair is not None else None
            for t in ab.references():
                if t.id != shown:
                    self.reference.addItem(t.name, t.id)
            if pair is not None:
                self.reference.setCurrentIndex(self.reference.findData(pair[1].id))
                self.nudge.setValue(ab.nudge_ms(*pair))
        finally:
            self._updating = False
        for w in (self.reference, self.switch, self.nudge):
            w.setEnabled(pair is not None)
        text = ab.status()
        heard = ab.platform_status(pair[0] if pair is not None else None)
        self.status.setText(f"{text} {heard}." if heard else text)
        self.platform.setCurrentIndex(max(0, self.platform.findData(None if ab.platform is None else ab.platform.name)))
        wanted = bool(ab.references()) or ab.platform is not None
        if wanted == self.isHidden():
            self.setVisible(wanted)
            self.fit()


def add_hear_as_menu(menu: QMenu, ab: ABCompare) -> QMenu:
    """Playback ▸ Hear As: as it is, or as each platform preset plays it (one checked at a time)."""
    sub = menu.addMenu("&Hear As")
    group = QActionGroup(sub)
    actions: dict[str | None, QAction] = {}
    for name in (None, *(p.name for p in ab.platforms)):
        action = sub.addAction(NO_PLATFORM if name is None else name)
        action.setCheckable(True)
        action.setActionGroup(group)
        action.triggered.connect(lambda _checked=False, n=name: ab.set_platform(n))
        actions[name] = action
    sub.setToolTip("Play takes at the gain a streaming platform would give them, under its true-peak ceiling")

    def show() -> None:
        actions[None if ab.platform is None else ab.platform.name].setChecked(True)

    ab.changed.connect(show)
    show()
    return sub
