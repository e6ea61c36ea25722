"""A take's playback settings under its spectrogram: gain, time offset, loop, whether it is a reference;
and how the output runs."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QDoubleSpinBox, QHBoxLayout, QLabel, QWidget

from hitdesk.ui import theme
from hitdesk.ui.play_settings import GAIN_RANGE_DB, OFFSET_RANGE_MS, PlaySettings
from hitdesk.ui.takes import Take

_MAX_S = 24 * 3600.0


def _spin(low: float, high: float, step: float, decimals: int, suffix: str, name: str, tip: str) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setSingleStep(step)
    box.setDecimals(decimals)
    box.setSuffix(suffix)
    box.setKeyboardTracking(False)  # one change when typing is done, not one per key
    box.setAccessibleName(name)
    box.setToolTip(tip)
    box.setMaximumWidth(96)
    return box


class PlayControls(QWidget):
    edited = Signal(int, object)  # take id, PlaySettings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.take_id: int | None = None
        self.gain = _spin(
            *GAIN_RANGE_DB, 0.5, 1, " dB", "Gain", "This take's gain, on top of loudness matching (saved in sessions)"
        )
        self.offset = _spin(
            *OFFSET_RANGE_MS,
            1.0,
            1,
            " ms",
            "Time offset",
            "Where this take stands against the others when switching between them: a take whose music "
            "starts 120 ms later in its file needs an offset 120 ms larger (saved in sessions)",
        )
        self.loop = QCheckBox("Loop")
        self.loop.setToolTip("Repeat a region while playing; Shift+drag on the spectrogram to choose one")
        self.loop_start = _spin(0.0, _MAX_S, 0.1, 2, " s", "Loop start", "Where the loop starts, in this take")
        self.loop_end = _spin(0.0, _MAX_S, 0.1, 2, " s", "Loop end", "Where the loop ends, in this take")
        self.reference = QCheckBox("Reference")
        self.reference.setToolTip("A take the others are A/B'd against, level-matched and lined up (saved in sessions)")
        self.output = QLabel("")
        self.output.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.output.setToolTip("The output stream: the take plays at its own sample rate unless the device refuses it")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for label, widget in (("Gain", self.gain), ("Offset", self.offset), (None, self.loop)):
            if label:
                layout.addWidget(QLabel(label))
            layout.addWidget(widget)
        layout.addWidget(self.loop_start)
        layout.addWidget(QLabel("to"))
        layout.addWidget(self.loop_end)
        layout.addWidget(self.reference)
        layout.addStretch(1)
        layout.addWidget(self.output)
        for box in (self.gain, self.offset, self.loop_start, self.loop_end):
            box.valueChanged.connect(self._changed)
        for check in (self.loop, self.reference):
            check.toggled.connect(self._changed)
        self._updating = False
        self.show_take(None)

    def show_take(self, take: Take | None, force: bool = True) -> None:
        """The take's settings in the fields (a field being edited keeps its text unless ``force``)."""
        self.take_id = None if take is None else take.id
        for w in (self.gain, self.offset, self.loop, self.loop_start, self.loop_end, self.reference):
            w.setEnabled(take is not None)
        if take is None:
            return
        p = take.playback
        duration = take.result.duration_s if take.result is not None else None
        loop = p.loop or (0.0, float(duration or 0.0))
        self._updating = True
        try:
            for box, value in (
                (self.gain, p.gain_db),
                (self.offset, p.offset_ms),
                (self.loop_start, loop[0]),
                (self.loop_end, loop[1]),
            ):
                if force or not box.hasFocus():
                    box.setValue(value)
            self.loop.setChecked(p.loop is not None)
            self.reference.setChecked(p.reference)
        finally:
            self._updating = False

    def set_loop(self, start: float, end: float) -> None:
        """A region chosen on the spectrogram: it becomes the take's loop."""
        self._updating = True
        try:
            self.loop_start.setValue(start)
            self.loop_end.setValue(end)
            self.loop.setChecked(True)
        finally:
            self._updating = False
        self._changed()

    def set_output_text(self, short: str, full: str) -> None:
        self.output.setText(short)
        self.output.setToolTip(full)

    def settings(self) -> PlaySettings:
        loop = (self.loop_start.value(), self.loop_end.value()) if self.loop.isChecked() else None
        if loop is not None and loop[1] == loop[0]:
            loop = (loop[0], loop[0] + 1.0)  # no region yet (nothing analysed): a second from the start field
        return PlaySettings(self.gain.value(), self.offset.value(), loop, self.reference.isChecked())

    def _changed(self, *_args: object) -> None:
        if not self._updating and self.take_id is not None:
            self.edited.emit(self.take_id, self.settings())
