"""The record panel: choose an input, record a take, watch it scroll by and be scored, keep it.

The panel drives a ``hitdesk.capture.session.CaptureSession`` (no Qt in there) from one GUI timer: every tick
it reads the recorder's status (frames written, overflows, the loudest sample per channel since the
last tick), the new spectrogram columns and the new live scores, and draws them. New columns do not
wait for the tick: the session's writer thread says when there are some (``on_columns``), through a
queued signal, at most once until the GUI thread has drawn them. Nothing here runs in the audio
callback, which only copies into the ring.

Problems are one line of text in the panel, never a dialog: no input device, a busy device, a
device lost during the take (the take is kept and scored), a sample rate the device refused (the
rate used is said), a live score that failed. When a take ends it is analysed exactly as a file is
(the session calls ``hitdesk.analysis.analyze`` on the written file) and joins the takes list
through ``take_recorded``; a new take may start while the previous one is being analysed.

The choice of input and the controls beside it are ``record_controls.py``, the live meters
``record_scores.py``: this module keeps the session, its tick and what the panel says.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from PySide6.QtCore import QSize, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hitdesk.capture.devices import ChannelChoice, InputDevice
from hitdesk.capture.library import prune_recordings
from hitdesk.capture.live import LiveScore
from hitdesk.capture.recorder import RecorderSettings
from hitdesk.capture.recovery import recover_unfinished
from hitdesk.capture.session import CaptureSession, RecordedTake, SessionState
from hitdesk.capture.stream import StreamFactory
from hitdesk.errors import CaptureError
from hitdesk.model.runtime import HitModel
from hitdesk.present import clock_tenths as clock
from hitdesk.ui import theme
from hitdesk.ui.live_view import LiveSpectrogramView
from hitdesk.ui.record_controls import RecordControls
from hitdesk.ui.record_scores import LiveScores
from hitdesk.ui.settings import Preferences
from hitdesk.ui.workers import is_warm, warm_up

log = logging.getLogger(__name__)

TICK_MS = 30  # meters, scores and the picture's glide; new columns are drawn as they come, between ticks
RECORD_KEYS = "Ctrl+Shift+R"
NO_DEVICE = "No audio input device was found: connect a microphone or audio interface, then press ↻."


class RecordPanel(QWidget):
    take_recorded = Signal(object)  # hitdesk.capture.session.RecordedTake, analysed like a file
    add_files_requested = Signal(list)  # paths of recovered takes the user wants in the list
    recording_changed = Signal(bool)
    _columns_ready = Signal()  # emitted on the capture writer's thread, delivered on the GUI thread

    def __init__(
        self,
        prefs: Preferences,
        model: Callable[[], HitModel | None],
        window_seconds: Callable[[], float],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.prefs = prefs
        self._model = model
        self._window_seconds = window_seconds
        self.stream_factory: StreamFactory | None = None  # None: real PortAudio streams
        self.session: CaptureSession | None = None
        self._finishing: list[CaptureSession] = []  # stopped takes whose result is being computed
        self._problem_shown: str | None = None
        self._tick_failed = False
        self._recovered: list[str] = []
        self.overflows = 0
        self.dropped_frames = 0
        self.elapsed_s = 0.0
        self.live_scores: list[LiveScore] = []
        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self._columns_pending = False
        self._columns_ready.connect(self._draw_new_columns, Qt.ConnectionType.QueuedConnection)
        self._build()

    # ------------------------------------------------------------------------------------ building
    def _build(self) -> None:
        self.controls = RecordControls(self.prefs, RECORD_KEYS)
        self.inputs = self.controls.inputs
        self.inputs.rescan.clicked.connect(lambda: self.refresh_devices(rescan=True))
        self.controls.record_button.clicked.connect(self.toggle_recording)
        self.message = QLabel("")
        self.message.setTextFormat(Qt.TextFormat.RichText)
        self.message.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.message.linkActivated.connect(self._link)
        self.view = LiveSpectrogramView()
        self.view.setMinimumHeight(110)
        self.view.set_message(f"Press Record ({RECORD_KEYS}): the take scrolls in here as it is recorded")
        self.scores = LiveScores()

        body = QHBoxLayout()
        body.addWidget(self.controls)
        body.addWidget(_separator())
        body.addWidget(self.view, 1)
        body.addWidget(_separator())
        body.addWidget(self.scores)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 6, 8, 6)
        layout.setSpacing(4)
        layout.addLayout(body, 1)
        layout.addWidget(self.message)
        self._reset_meters()

    def sizeHint(self) -> QSize:  # noqa: N802
        return QSize(900, 190)  # as low as the controls allow: the takes above need the height more

    # ------------------------------------------------------------------------------------ messages
    def say(self, text: str, kind: str = "info") -> None:
        """One line for the user (the full text in the tooltip); ``kind`` is info, warning or error."""
        colour = {"warning": theme.WARNING_COLOUR, "error": theme.ERROR_COLOUR}.get(kind, theme.DIM_TEXT)
        self.message.setStyleSheet(f"color: {colour.name()};")
        self.message.setText(text)
        self.message.setToolTip(_plain(text))
        self.message_kind = kind

    @property
    def message_text(self) -> str:
        return _plain(self.message.text())

    def _link(self, href: str) -> None:
        if href == "add-recovered":
            paths, self._recovered = self._recovered, []
            self.add_files_requested.emit(paths)
            self.say(f"{len(paths)} recovered take{'s' if len(paths) != 1 else ''} added to the list.")
        elif href == "dismiss":
            self._recovered = []
            self.say("")

    # ------------------------------------------------------------------------------------ devices
    def ensure_devices(self) -> None:
        """Lists the inputs the first time the panel is needed (PortAudio's start-up is not free)."""
        if not self.inputs.listed:
            self.refresh_devices()
        if not self.busy:
            self._reset_meters()  # the model (base rate) and the window length may have changed

    def refresh_devices(self, rescan: bool = False) -> None:
        if self.recording:
            return
        problem = self.inputs.refresh(rescan)
        if problem:
            self.say(problem, "error")
        if not self.inputs.devices:
            self.say(NO_DEVICE, "warning")
        elif self.message_text in (NO_DEVICE, ""):
            self.say("")
        self._update_controls()

    @property
    def devices(self) -> list[InputDevice]:
        return self.inputs.devices

    @property
    def device(self) -> InputDevice | None:
        return self.inputs.device

    @property
    def channels(self) -> ChannelChoice | None:
        return self.inputs.channels

    # ------------------------------------------------------------------------------------ recording
    @property
    def recording(self) -> bool:
        return self.session is not None

    @property
    def busy(self) -> bool:
        """Recording, or a take still being analysed."""
        return self.session is not None or bool(self._finishing)

    def toggle_recording(self) -> None:
        if self.recording:
            self.stop_recording()
        else:
            self.start_recording()

    def start_recording(self) -> bool:
        """Starts a take; a problem is said in the panel and False returned (nothing is raised)."""
        if self.session is not None:
            return True
        self.ensure_devices()
        model = self._model()
        device, choice = self.device, self.channels
        if model is None:
            self.say("No model is loaded, so a take cannot be scored: choose one in the Model menu.", "error")
            return False
        if device is None or choice is None:
            self.say(NO_DEVICE, "warning")
            return False
        self.say(f"Opening '{device.label}'…")
        self.message.repaint()
        if not is_warm():  # the take's threads must not be the first to import the analysis' modules
            warm_up(model)
        settings = RecorderSettings(device=device.index, channels=choice.channels)
        session: CaptureSession | None = None
        try:
            session = CaptureSession(
                model,
                settings,
                window_seconds=self._window_seconds(),
                stream_factory=self.stream_factory,
                on_columns=self._notify_columns,
            )
            session.start()
        except CaptureError as exc:
            self.say(str(exc), "error")
            if session is not None:
                session.close()
            return False
        except Exception as exc:  # never let a driver's surprise take the app down
            log.exception("recording could not start")
            self.say(f"Recording could not start ({exc}).", "error")
            if session is not None:
                session.close(wait_for_result=False)
            return False
        self.session = session
        status = session.status().recording
        self._problem_shown = None
        self._tick_failed = False
        self.overflows = self.dropped_frames = 0
        self.elapsed_s = 0.0
        self.live_scores = []
        self.controls.level.reset(len(status.channels))
        self.view.reset()
        self.view.set_message("")
        self._reset_meters()
        info = f"{status.sample_rate / 1000:g} kHz · input {choice.label} of {device.name}"
        self.controls.info_label.setText(info)
        self.controls.info_label.setToolTip(str(status.path or ""))
        if round(device.default_samplerate) != status.sample_rate:
            self.say(
                f"'{device.label}' does not record at {device.default_samplerate:g} Hz; "
                f"recording at {status.sample_rate} Hz instead.",
                "warning",
            )
        else:
            self.say(f"Recording '{device.label}' to {status.path.name if status.path else 'a file'}.")
        self._show_counts()
        self.timer.start()
        self._update_controls()
        self.recording_changed.emit(True)
        return True

    def stop_recording(self) -> None:
        """Ends the take (what was recorded is kept); its result follows when it has been analysed."""
        if self.session is not None:
            self.session.stop()
            self.say("Finishing the take…")

    def _reset_meters(self) -> None:
        self.scores.reset(self._window_seconds(), self._base_rate())

    def _base_rate(self) -> float | None:
        model = self._model()
        return model.card.base_rate if model is not None else None

    # ------------------------------------------------------------------------------------ the GUI tick
    def tick(self) -> None:
        """Everything the panel shows, from what the session has produced since the last tick."""
        try:
            self._tick()
        except Exception as exc:  # a drawing fault must not stop the take (the recorder runs on its own)
            log.exception("record panel update failed")
            if not self._tick_failed:
                self._tick_failed = True
                self.say(f"The record panel could not be updated ({exc}); the take is still being recorded.", "error")

    def _notify_columns(self) -> None:
        """On the writer thread: new columns are ready. One queued call until the GUI has drawn them."""
        if not self._columns_pending:
            self._columns_pending = True
            self._columns_ready.emit()

    def _draw_new_columns(self) -> None:
        self._columns_pending = False  # before fetching: columns that come later ask again
        session = self.session
        if session is None:
            return
        try:
            if self.view.append(session.new_mel_columns()):
                self.view.advance()
        except Exception:  # the tick draws them too, and says so if drawing keeps failing
            log.exception("drawing new spectrogram columns failed")

    def _tick(self) -> None:
        session = self.session
        if session is not None:
            self._poll_recording(session)
        for s in list(self._finishing):
            if s is self._finishing[-1] and self.session is None:
                self._poll_last(s)  # the scores due when the take ended, and its last columns
            take = s.take
            if take is not None:
                self._finishing.remove(s)
                self._take_done(take)
        if self.session is None and not self._finishing:
            self.timer.stop()

    def _poll_recording(self, session: CaptureSession) -> None:
        status = session.status()
        rec = status.recording
        self.elapsed_s = rec.seconds
        self.overflows, self.dropped_frames = rec.input_overflows, rec.dropped_frames
        self.controls.show_elapsed(self.elapsed_s)
        self._show_counts()
        if rec.peak:
            self.controls.level.feed(rec.peak)
        self.scores.show_waiting(self.elapsed_s, max(self.controls.level.levels_db))  # until the first score
        self.view.append(session.new_mel_columns())
        base = self._base_rate()
        for score in session.new_scores():
            self.live_scores.append(score)
            self.scores.show_score(score, base)
        problem = rec.problem or status.live_problem
        if problem and problem != self._problem_shown:
            self._problem_shown = problem
            self.say(problem, "warning")
        if status.state in (SessionState.ANALYSING, SessionState.DONE):
            self.view.stop()
            self.session = None
            self._finishing.append(session)
            if not problem:
                self.say(f"Take recorded ({clock(rec.seconds)}); scoring the whole take…")
            self._update_controls()
            self.recording_changed.emit(False)
        elif time.perf_counter() - self.view.painted_at > 0.8 * TICK_MS / 1000:
            self.view.advance()  # the glide, when new columns have not just moved the picture

    def _poll_last(self, session: CaptureSession) -> None:
        if self.view.append(session.new_mel_columns()):
            self.view.stop()
        base = self._base_rate()
        for score in session.new_scores():
            self.live_scores.append(score)
            self.scores.show_score(score, base)

    def _show_counts(self) -> None:
        self.controls.show_counts(self.overflows, self.dropped_frames)

    def _take_done(self, take: RecordedTake) -> None:
        problems = take.problems
        if take.result.error:
            self.say(f"{take.path.name} was recorded but could not be analysed: {take.result.error}", "error")
        elif problems:
            self.say(f"{take.path.name} added to the takes. {problems[0]}", "warning")
        else:
            self.say(f"{take.path.name} ({clock(take.recording.seconds)}) added to the takes.")
        self.take_recorded.emit(take)

    # ------------------------------------------------------------------------------------ recordings on disk
    def check_recordings(self) -> None:
        """At start-up: old takes pruned (if the user asked for it), unfinished takes repaired and offered."""
        try:
            if self.prefs.prune_days > 0:
                removed = prune_recordings(self.prefs.prune_days)
                if removed:
                    log.info("pruned %d old recordings", len(removed))
            recovered = [r for r in recover_unfinished() if r.problem is None]
        except (OSError, CaptureError) as exc:
            log.warning("checking the recordings folder failed: %s", exc)
            return
        if recovered:
            self._recovered = [str(r.path) for r in recovered]
            n = len(recovered)
            self.say(
                f"{n} take{'s were' if n != 1 else ' was'} cut off when HitDesk last stopped and "
                f"{'have' if n != 1 else 'has'} been recovered. "
                '<a href="add-recovered">Add to the takes</a> · <a href="dismiss">Dismiss</a>',
                "warning",
            )

    @property
    def recovered(self) -> list[str]:
        return list(self._recovered)

    # ------------------------------------------------------------------------------------ state
    def _update_controls(self) -> None:
        self.controls.set_recording(self.recording)

    def set_colour_map(self, name: str) -> None:
        self.view.set_colour_map(name)

    def set_db_range(self, db: int) -> None:
        self.view.set_db_range(float(db))

    def shutdown(self) -> None:
        """Closing the app: the take being recorded is finished on disk (it stays in the recordings)."""
        self.timer.stop()
        sessions = ([self.session] if self.session is not None else []) + self._finishing
        self.session = None
        self._finishing = []
        for s in sessions:
            try:
                s.close(wait_for_result=False)
            except Exception:  # closing must go on; the file is already complete or repaired later
                log.exception("closing a capture session failed")

    def wait_for_takes(self, timeout_s: float) -> bool:
        """For tests and benchmarks: runs ticks until no take is recording or being analysed."""
        from PySide6.QtWidgets import QApplication

        deadline = time.monotonic() + timeout_s
        while self.busy and time.monotonic() < deadline:
            QApplication.processEvents()
            time.sleep(0.01)
        return not self.busy


def _separator() -> QFrame:
    sep = QFrame()
    sep.setFrameShape(QFrame.Shape.VLine)
    sep.setStyleSheet(f"color: {theme.BORDER.name()};")
    return sep


def _plain(text: str) -> str:
    """The message without its links' markup."""
    import re

    return re.sub(r"<[^>]+>", "", text)
