"""The selected take: large overall meter, segment meters, a reading in words, its meters in numbers
(loudness, stereo, platforms, QC), the spectrogram with the loudness, correlation and hit-curve strips
under it (``StripToggles`` decides which show), and how the take is played (gain, offset, loop)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from hitdesk.analysis import AnalysisDetail
from hitdesk.explain.targets import TonalTarget
from hitdesk.insights import TonalBalance
from hitdesk.model.runtime import HitModel
from hitdesk.present import SEGMENTS, familiarity_warning, mmss, reading
from hitdesk.settings_schema import setting
from hitdesk.ui import theme
from hitdesk.ui.curve_strip import CurveStrip
from hitdesk.ui.drivers_panel import DriversPanel
from hitdesk.ui.elided import ElidedLabel
from hitdesk.ui.loudness_strip import CorrelationStrip, LoudnessStrip
from hitdesk.ui.meter_readout import MeterReadout
from hitdesk.ui.meters import ProbabilityMeter
from hitdesk.ui.play_controls import PlayControls
from hitdesk.ui.spectrogram import SEGMENT_LABELS, SpectrogramView, WindowView
from hitdesk.ui.strip_toggles import StripToggles
from hitdesk.ui.takes import State, Take
from hitdesk.ui.tonal_targets import TonalTargetBar
from hitdesk.ui.tonal_view import TonalBalanceView
from hitdesk.ui.tonal_view import key as tonal_key
from hitdesk.ui.whatif_panel import WhatIfPanel

LEFT_WIDTH = (340, 400)  # the meters' column, without its scroll bar
MIN_HEIGHT = 120  # below this the column scrolls; the window gives the takes list the height first


class TakePanel(QWidget):
    explain_requested = Signal()  # "What the numbers mean"
    locate_requested = Signal()  # the shown take's file is missing: find it
    card_requested = Signal()
    note_edited = Signal(int, str)  # take id, note
    colour_map_changed = Signal(str)
    db_floor_changed = Signal(int)
    playback_edited = Signal(int, object)  # take id, PlaySettings

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.take: Take | None = None
        self.base_rate: float | None = None
        self.window_seconds = 30.0

        left = QWidget()
        left.setMinimumWidth(LEFT_WIDTH[0])
        left.setMaximumWidth(LEFT_WIDTH[1])
        lv = QVBoxLayout(left)
        lv.setContentsMargins(0, 0, 8, 0)
        lv.setSpacing(6)
        self.title = QLabel("No take selected")
        f = self.title.font()
        f.setPointSizeF(f.pointSizeF() * 1.15)
        f.setBold(True)
        self.title.setFont(f)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.subtitle = QLabel("Drop audio files or folders anywhere on the window, or press Ctrl+O.")
        self.subtitle.setWordWrap(True)
        self.subtitle.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.overall = ProbabilityMeter("Overall P(hit)", large=True)  # a click does nothing: see the link below
        self.reading = QLabel("")
        self.reading.setWordWrap(True)
        self.warning = QLabel("")
        self.warning.setObjectName("warning")
        self.warning.setWordWrap(True)
        self.warning.setContentsMargins(6, 4, 6, 4)
        self.warning.setStyleSheet(f"color: {theme.WARNING_COLOUR.name()}; background: #3d3420; border-radius: 3px;")
        self.warning.hide()
        self.locate_button = QPushButton("Locate File…")
        self.locate_button.setToolTip("The file is not where it was: find it, and the take keeps its scores")
        self.locate_button.clicked.connect(self.locate_requested)
        self.locate_button.hide()
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.notes.setStyleSheet(f"color: {theme.DIM_TEXT.name()}; font-size: 8pt;")
        self.segment_meters = {name: ProbabilityMeter(SEGMENT_LABELS[name], compact=True) for name in SEGMENTS}
        self.note_edit = QLineEdit()
        self.note_edit.setPlaceholderText("Note for this take (saved in sessions)")
        self.note_edit.setAccessibleName("Note for this take")
        self.note_edit.editingFinished.connect(self._note_done)
        self.note_edit.setEnabled(False)
        links = QLabel('<a href="explain">What do these numbers mean?</a> · <a href="card">Model card</a>')
        links.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        links.linkActivated.connect(self._link)

        lv.addWidget(self.title)
        lv.addWidget(self.subtitle)
        lv.addWidget(self.overall)
        lv.addWidget(self.reading)
        lv.addWidget(self.warning)
        lv.addWidget(self.locate_button, 0, Qt.AlignmentFlag.AlignLeft)
        segments = QHBoxLayout()
        segments.setSpacing(10)
        for m in self.segment_meters.values():
            segments.addWidget(m)
        lv.addSpacing(4)
        lv.addLayout(segments)
        lv.addWidget(self.notes)
        self.meters = MeterReadout()
        lv.addWidget(self.meters)
        self.drivers = DriversPanel()
        lv.addWidget(self.drivers)
        self.tonal_title = QLabel(f"<b>Tonal balance</b> (the model's view)<br><small>{tonal_key(None)}</small>")
        self.tonal_title.setWordWrap(True)
        self.tonal = TonalBalanceView()
        self.tonal_targets = TonalTargetBar()
        self.tonal_targets.target_chosen.connect(self._tonal_target)
        lv.addWidget(self.tonal_title)
        lv.addWidget(self.tonal_targets)
        lv.addWidget(self.tonal)
        self.whatif = WhatIfPanel()
        lv.addWidget(self.whatif)
        lv.addStretch(1)
        lv.addWidget(self.note_edit)
        lv.addWidget(links)

        right = QWidget()
        rv = QVBoxLayout(right)
        rv.setContentsMargins(0, 0, 0, 0)
        rv.setSpacing(4)
        controls = QHBoxLayout()
        caption = ElidedLabel("Log-mel: the windows the model scored, over the whole track")
        caption.setToolTip(
            "Log-mel spectrogram as the model computes it. The three scored windows are bright and outlined "
            "(dB relative to each window's loudest bin, as the model sees them); the rest of the track is dimmed "
            "(dB relative to full scale). While a take is analysed, the picture fills in as the audio is decoded. "
            "Point at the picture to read the time, frequency and level there."
        )
        caption.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        self.cmap = QComboBox()
        for key, label in theme.COLOUR_MAPS:
            self.cmap.addItem(label, key)
        self.cmap.setAccessibleName("Colour map")
        self.cmap.setToolTip(setting("view/colourMap").description)
        self.cmap.currentIndexChanged.connect(self._cmap_changed)
        self.db = QSpinBox()
        db_range = setting("view/dbRange")
        self.db.setRange(int(db_range.minimum or 0), int(db_range.maximum or 120))
        self.db.setSingleStep(10)
        self.db.setValue(db_range.default)
        self.db.setSuffix(" dB")
        self.db.setPrefix("range ")
        self.db.setToolTip(db_range.description)
        self.db.setAccessibleName("Spectrogram dB range")
        self.db.valueChanged.connect(self._db_changed)
        self.spectrogram = SpectrogramView()
        self.fit = QToolButton()
        self.fit.setText("Whole take")
        self.fit.setToolTip(
            "Show the whole take again after zooming (the mouse wheel zooms, dragging scrolls; "
            "also 0 or a double click on the picture)"
        )
        self.fit.clicked.connect(self.spectrogram.reset_zoom)
        controls.addWidget(caption, 1)
        controls.addWidget(self.fit)
        controls.addWidget(self.cmap)
        controls.addWidget(self.db)
        self.spectrogram.set_message("No take selected")
        self.play_controls = PlayControls()
        self.play_controls.edited.connect(self.playback_edited)
        self.spectrogram.loop_selected.connect(self.play_controls.set_loop)
        rv.addLayout(controls)
        rv.addWidget(self.spectrogram, 1)
        self.strip = LoudnessStrip()
        self.correlation = CorrelationStrip()
        rv.addWidget(self.strip)
        rv.addWidget(self.correlation)
        self.curve_strip = CurveStrip()
        for strip in (self.strip, self.correlation, self.curve_strip):
            strip.follow(self.spectrogram)
        self.curve_strip.seek_requested.connect(self.spectrogram.seek_requested)
        self.spectrogram.playhead_moved.connect(self.curve_strip.set_playhead)
        rv.addWidget(self.curve_strip)
        rv.addWidget(self.play_controls)
        self.strips = StripToggles(
            {"loudness": self.strip, "correlation": self.correlation, "curve": self.curve_strip},
            right,
            rv.spacing(),
            lambda: controls.sizeHint().height() + self.play_controls.sizeHint().height() + 2 * rv.spacing(),
        )
        controls.insertWidget(1, self.strips.button)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        # The meters keep their height and the column scrolls when the window is short (1280 x 720
        # with the record panel open), instead of squeezing the meters' scales to a sliver.
        self.left_scroll = QScrollArea()
        self.left_scroll.setWidget(left)
        self.left_scroll.setWidgetResizable(True)
        self.left_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.left_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        bar = self.left_scroll.verticalScrollBar().sizeHint().width()
        self.left_scroll.setMinimumWidth(LEFT_WIDTH[0] + bar)
        self.left_scroll.setMaximumWidth(LEFT_WIDTH[1] + bar)
        self.left_scroll.setMinimumHeight(MIN_HEIGHT)
        layout.addWidget(self.left_scroll)
        sep = QFrame()
        sep.setFrameShape(QFrame.Shape.VLine)
        sep.setStyleSheet(f"color: {theme.BORDER.name()};")
        layout.addWidget(sep)
        layout.addWidget(right, 1)
        self.setTabOrder(self.note_edit, self.cmap)
        self.setTabOrder(self.cmap, self.db)
        self.show_take(None)

    # --- settings ------------------------------------------------------------------------------
    def set_colour_map(self, name: str) -> None:
        i = self.cmap.findData(name)
        self.cmap.setCurrentIndex(max(0, i))
        self.spectrogram.set_colour_map(self.cmap.currentData())

    def set_db_range(self, db: int) -> None:
        self.db.setValue(db)
        self.spectrogram.set_db_floor(-float(self.db.value()))

    def _cmap_changed(self) -> None:
        name = str(self.cmap.currentData())
        self.spectrogram.set_colour_map(name)
        self.colour_map_changed.emit(name)

    def _db_changed(self, value: int) -> None:
        self.spectrogram.set_db_floor(-float(value))
        self.db_floor_changed.emit(value)

    def _link(self, href: str) -> None:
        (self.explain_requested if href == "explain" else self.card_requested).emit()

    def _note_done(self) -> None:
        if self.take is not None and self.note_edit.text() != self.take.note:
            self.note_edited.emit(self.take.id, self.note_edit.text())

    # --- content -------------------------------------------------------------------------------
    def show_take(self, take: Take | None) -> None:
        """Shows a take (or none); cheap enough to call on every change of that take."""
        changed = take is not self.take
        self.take = take
        if take is None:
            self.title.setText("No take selected")
            self.subtitle.setText("Drop audio files or folders anywhere on the window, or press Ctrl+O.")
            self.overall.set_score(None, self.base_rate)
            for m in self.segment_meters.values():
                m.set_score(None, self.base_rate)
            self.reading.setText("")
            self.warning.hide()
            self.locate_button.hide()
            self.notes.setText("")
            self.note_edit.setEnabled(False)
            self.note_edit.setText("")
            self.meters.show_take(None)
            self.strip.show_loudness(None)
            self.correlation.show_loudness(None)
            self.spectrogram.clear_windows()
            self.spectrogram.set_message("No take selected")
            self.curve_strip.show_curve(None, self.base_rate, 0.0)
            self.drivers.show_result(None)
            self.show_tonal(None)
            self.whatif.show_stats(None)
            self.show_playback(None)
            return
        r = take.result
        self.title.setText(take.name)
        self.title.setToolTip(str(take.path))
        parts = [take.who] if take.who else []
        if r is not None and r.duration_s is not None:
            parts.append(mmss(r.duration_s))
        if r is not None and r.ok:
            parts.append("whole track" if r.mode == "full" else "excerpts (fast)")
        self.subtitle.setText(" · ".join(parts) if parts else str(take.path.parent))
        placeholder = {State.QUEUED: "queued", State.ANALYSING: "analysing…", State.CANCELLED: "cancelled"}.get(
            take.state, "–"
        )
        self.overall.set_score(take.overall, self.base_rate, placeholder)
        for name, m in self.segment_meters.items():
            m.set_score(take.segment(name), self.base_rate, placeholder)
        self.locate_button.setVisible(take.missing)
        if take.state == State.ERROR:
            self.reading.setText(take.error or "")
            self.reading.setStyleSheet(f"color: {theme.ERROR_COLOUR.name()};")
        elif take.overall is not None and self.base_rate is not None:
            self.reading.setText(reading(take.overall, self.base_rate))
            self.reading.setStyleSheet("")
        else:
            self.reading.setText("")
        caution = familiarity_warning(r)
        if caution:
            self.warning.setText(f"⚠ {caution}")
            self.warning.show()
        else:
            self.warning.hide()
        notes = [n for n in (r.notes if r is not None else ()) if "unlike the songs" not in n]
        self.notes.setText("\n".join(notes))
        self.meters.show_take(take)
        self.strip.show_loudness(take.loudness, "" if take.loudness is not None else take.loudness_error or "")
        self.correlation.show_loudness(take.loudness)
        self.note_edit.setEnabled(True)
        if changed or not self.note_edit.hasFocus():
            self.note_edit.setText(take.note)
        self._show_spectrogram(take)
        ok = r is not None and r.ok
        self.curve_strip.show_curve(r.curve if ok and r else None, self.base_rate, (r.duration_s if r else None) or 0.0)
        self.drivers.show_result(r if ok else None)
        self.show_tonal(r.tonal_balance if ok and r else None)
        self._show_whatif(take)
        self.show_playback(take, force=changed)

    def refresh(self, take_id: int) -> None:
        """The shown take's loudness arrived (or changed): its numbers and strip again."""
        if self.take is not None and self.take.id == take_id:
            self.show_take(self.take)

    def set_model(self, model: HitModel) -> None:
        """The loaded model: its base rate for the meters, its head for What if."""
        self.base_rate = model.card.base_rate
        self.whatif.set_model(model)

    def _show_whatif(self, take: Take) -> None:
        r, detail = take.result, take.detail
        if r is None or not r.ok or detail is None or detail.track_stats is None:
            self.whatif.show_stats(None, "What if needs the take's statistics, which come with its analysis.")
        elif r.model.get("name") != self.whatif.model_name:
            self.whatif.show_stats(None, "What if needs the take analysed again with the loaded model.")
        else:
            self.whatif.show_stats(detail.track_stats)

    def show_tonal(self, balance: TonalBalance | None) -> None:
        self.tonal.show_balance(balance)
        self.tonal_title.setVisible(balance is not None)
        self.tonal_targets.setVisible(balance is not None)

    def _tonal_target(self, target: TonalTarget | None) -> None:
        self.tonal.show_target(target)
        self.tonal_title.setText(f"<b>Tonal balance</b> (the model's view)<br><small>{tonal_key(target)}</small>")

    def show_playback(self, take: Take | None, force: bool = True) -> None:
        """The take's gain, offset and loop in the fields, and its loop on the spectrogram."""
        self.play_controls.show_take(take, force)
        self.spectrogram.set_loop(None if take is None else take.playback.loop)

    def show_stream(self, take: Take) -> None:
        """A new piece of the take's analysis arrived: redraw only the spectrogram."""
        if take is self.take:
            self._show_spectrogram(take)

    def _show_spectrogram(self, take: Take) -> None:
        view = self.spectrogram
        if take.missing:
            view.clear_windows()
            view.set_message(
                f"The file is missing: it is no longer at\n{take.path}\n\nLocate File… finds it; the scores are kept."
            )
            return
        r = take.result
        detail: AnalysisDetail | None = take.detail
        if detail is not None and detail.plan is not None and r is not None:
            view.show_analysis(r, detail)
            view.set_picture(take.picture)
            return
        if take.picture is not None or take.live_windows:
            analysing = take.state == State.ANALYSING
            windows = [WindowView(w.name, w.start_s, w.end_s, lm) for w, lm in take.live_windows.values()]
            duration = (r.duration_s if r is not None else None) or 0.0
            if take.picture is not None:
                duration = max(duration, take.picture.span_s)
            if [w.name for w in windows] != view.window_names or not windows:
                view.show_windows(max(duration, max((w.end_s for w in windows), default=1.0)), windows)
            view.set_picture(take.picture, follow=analysing and not windows)
            view.set_message("")
            return
        view.clear_windows()
        if take.state == State.ERROR:
            view.set_message("No spectrogram: the file could not be analysed.")
        elif take.state == State.CANCELLED:
            view.set_message("Analysis cancelled (Analysis ▸ Analyse Again).")
        elif take.state == State.DONE:
            view.set_message("Computing the spectrogram…")
        else:
            view.set_message("Analysing… the windows appear here as they are computed.")
