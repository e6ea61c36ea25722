"""The record panel's controls: which input (device and channels), the record button, and the take's
length, losses, level and stream as it is recorded.

Apart from the recording's live picture and scores and the session that makes them
(``record_panel.py``): listing PortAudio's inputs (which can fail in many ways), keeping the user's
choice across runs and offering the channel pairs a device has is a concern of its own, and these
widgets only show numbers the panel reads from the session.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QGridLayout, QHBoxLayout, QLabel, QSizePolicy, QToolButton, QWidget

from hitdesk.capture import devices as devices_module
from hitdesk.capture.devices import ChannelChoice, InputDevice, channel_choices, default_channel_choice
from hitdesk.errors import CaptureError
from hitdesk.present import clock_tenths as clock
from hitdesk.ui import theme
from hitdesk.ui.level_meter import LevelMeter
from hitdesk.ui.settings import Preferences

log = logging.getLogger(__name__)


class InputChooser(QWidget):
    """Two rows of the record panel's controls: Input (with ↻ to look again) and Channels."""

    def __init__(self, prefs: Preferences, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self.devices: list[InputDevice] = []
        self.listed = False  # PortAudio is asked when the panel is first wanted, not at launch
        self.device_combo = QComboBox()
        self.device_combo.setAccessibleName("Input device")
        self.device_combo.setToolTip("The audio input to record from (host API in brackets; * = system default)")
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(18)
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.rescan = QToolButton()
        self.rescan.setText("↻")
        self.rescan.setToolTip("Look for input devices again (one plugged in since)")
        self.channel_combo = QComboBox()
        self.channel_combo.setAccessibleName("Input channels")
        self.channel_combo.setToolTip("The input channel, or pair of channels (a pair is mixed to mono for scoring)")
        self.channel_combo.currentIndexChanged.connect(self._channels_changed)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(6)
        grid.addWidget(QLabel("Input"), 0, 0)
        row0 = QHBoxLayout()
        row0.addWidget(self.device_combo, 1)
        row0.addWidget(self.rescan)
        grid.addLayout(row0, 0, 1)
        grid.addWidget(QLabel("Channels"), 1, 0)
        grid.addWidget(self.channel_combo, 1, 1)

    def refresh(self, rescan: bool = False) -> str | None:
        """Lists the inputs again and chooses the remembered one; returns why they could not be listed."""
        self.listed = True
        problem = None
        try:
            if rescan:
                devices_module.rescan_devices()
            self.devices = devices_module.list_input_devices()
        except CaptureError as exc:
            self.devices = []
            problem = str(exc)
        except Exception as exc:  # PortAudio can fail in many ways; the app carries on without inputs
            log.exception("listing input devices failed")
            self.devices = []
            problem = f"The audio inputs cannot be listed ({exc})."
        self.device_combo.blockSignals(True)
        self.device_combo.clear()
        for d in self.devices:
            self.device_combo.addItem(f"{'* ' if d.is_default else ''}{d.label}", d.index)
            self.device_combo.setItemData(
                self.device_combo.count() - 1,
                f"{d.label}: {d.channels} input channel{'s' if d.channels != 1 else ''}, "
                f"{d.default_samplerate / 1000:g} kHz by default",
                Qt.ItemDataRole.ToolTipRole,
            )
        chosen = next((i for i, d in enumerate(self.devices) if d.label == self.prefs.record_device), None)
        if chosen is None:
            chosen = next((i for i, d in enumerate(self.devices) if d.is_default), 0)
        self.device_combo.setCurrentIndex(chosen if self.devices else -1)
        self.device_combo.blockSignals(False)
        self._fill_channels()
        return problem

    @property
    def device(self) -> InputDevice | None:
        i = self.device_combo.currentIndex()
        return self.devices[i] if 0 <= i < len(self.devices) else None

    @property
    def channels(self) -> ChannelChoice | None:
        data = self.channel_combo.currentData()
        return ChannelChoice(tuple(data)) if data else None

    def set_idle(self, idle: bool) -> None:
        """The choice cannot change while a take is recorded."""
        self.device_combo.setEnabled(idle and bool(self.devices))
        self.channel_combo.setEnabled(idle and bool(self.devices))
        self.rescan.setEnabled(idle)

    def _fill_channels(self) -> None:
        device = self.device
        self.channel_combo.blockSignals(True)
        self.channel_combo.clear()
        if device is not None:
            for choice in channel_choices(device):
                text = f"{choice.label} (mixed to mono)" if len(choice.channels) == 2 else choice.label
                self.channel_combo.addItem(text, list(choice.channels))
            labels = [c.label for c in channel_choices(device)]
            wanted = self.prefs.record_channels if self.prefs.record_channels in labels else None
            label = wanted or default_channel_choice(device).label
            self.channel_combo.setCurrentIndex(labels.index(label))
        self.channel_combo.blockSignals(False)

    def _device_changed(self, _index: int) -> None:
        device = self.device
        if device is not None:
            self.prefs.record_device = device.label
        self._fill_channels()
        self._channels_changed()

    def _channels_changed(self, *_args: object) -> None:
        choice = self.channels
        if choice is not None:
            self.prefs.record_channels = choice.label


class RecordControls(QWidget):
    """The record panel's left column: the input, Record/Stop with the take's length and losses,
    the level meter and a line about the stream."""

    def __init__(self, prefs: Preferences, record_keys: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._keys = record_keys
        self.inputs = InputChooser(prefs)
        self.record_button = QToolButton()
        self.record_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.record_button.setMinimumWidth(84)
        self.elapsed_label = QLabel(clock(0.0))
        font = self.elapsed_label.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.elapsed_label.setFont(font)
        self.elapsed_label.setToolTip("Length of the take, counted in recorded samples")
        # A fixed width: a label that changes size every tenth of a second would lay the panel out again.
        self.elapsed_label.setFixedWidth(self.elapsed_label.fontMetrics().horizontalAdvance("00:00.0") + 8)
        self.info_label = QLabel("")
        self.info_label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.overflow_label = QLabel("")
        self.overflow_label.setToolTip(
            "Audio lost before it reached HitDesk (input overflows) or because writing fell behind (dropped)"
        )
        self.level = LevelMeter()
        self._set_record_text(False)

        self.setMinimumWidth(300)
        self.setMaximumWidth(360)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setVerticalSpacing(6)
        grid.addWidget(self.inputs, 0, 0, 2, 2)
        row2 = QHBoxLayout()
        row2.addWidget(self.record_button)
        row2.addSpacing(8)
        row2.addWidget(self.elapsed_label)
        row2.addStretch(1)
        row2.addWidget(self.overflow_label)
        grid.addLayout(row2, 2, 0, 1, 2)
        grid.addWidget(self.level, 3, 0, 1, 2)
        grid.addWidget(self.info_label, 4, 0, 1, 2)
        grid.setRowStretch(5, 1)
        self.info_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def set_recording(self, recording: bool) -> None:
        self.inputs.set_idle(not recording)
        self._set_record_text(recording)
        self.record_button.setStyleSheet("color: #ff8a80; font-weight: bold;" if recording else "")

    def _set_record_text(self, recording: bool) -> None:
        self.record_button.setText("■ Stop" if recording else "● Record")
        self.record_button.setToolTip(
            ("Stop the take" if recording else "Record a take from the chosen input") + f" ({self._keys})"
        )

    def show_elapsed(self, seconds: float) -> None:
        elapsed = clock(seconds)
        if elapsed != self.elapsed_label.text():
            self.elapsed_label.setText(elapsed)

    def show_counts(self, overflows: int, dropped_frames: int) -> None:
        text = f"overflows {overflows}"
        if dropped_frames:
            text += f" · dropped {dropped_frames} frames"
        if text == self.overflow_label.text():
            return  # every tick calls this: a style sheet set again would re-polish the label each time
        lost = overflows > 0 or dropped_frames > 0
        self.overflow_label.setText(text)
        self.overflow_label.setStyleSheet(f"color: {(theme.WARNING_COLOUR if lost else theme.DIM_TEXT).name()};")
