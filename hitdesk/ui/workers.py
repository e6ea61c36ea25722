"""Analysis off the GUI thread: one QRunnable per take on a QThreadPool, results back by signals.

Workers never touch widgets. Each job carries a token; the ``Analyser`` forwards a job's signals
only while that token is still the take's current one, so removing or re-queueing a take is instant.
Cancelling sets the job's flag, which the engine checks between blocks of audio: the job stops
within a block (a fraction of a second) and frees its core. The ONNX sessions are shared:
``InferenceSession.run`` is thread-safe and each session uses one thread, so several takes run in
parallel without fighting over the cores. ``AnalysisPrefs`` is where the options of each job
are read from.
"""

from __future__ import annotations

import logging
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import av
import numpy as np
import numpy.typing as npt
import soundfile as sf
from PySide6.QtCore import QEventLoop, QObject, QRunnable, QThreadPool, QTimer, Signal, SignalInstance, Slot

from hitdesk import cache
from hitdesk.analysis import AnalysisDetail, AnalysisOptions, Progress
from hitdesk.audio import decode_all
from hitdesk.config import DEFAULT_WINDOW_SECONDS
from hitdesk.dsp.windows import Window
from hitdesk.errors import AnalysisCancelledError
from hitdesk.explain import analyze
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.settings_schema import setting
from hitdesk.ui.loudness import Loudness, measure_file

log = logging.getLogger(__name__)


class AnalysisPrefs(Protocol):
    """Where the analysis options come from, read each time they are needed.

    The window passes its ``Preferences``, so a preference changed anywhere (the dialog, a test,
    a benchmark) applies to the next analysis without the controller depending on the settings UI.
    """

    window_seconds: float | None  # None: the model card's window, or the default
    fast: bool
    style: bool  # the music tagger's tags


@dataclass
class AnalysisSettings:
    """The options of a controller made without preferences (tests, tools)."""

    window_seconds: float | None = None
    fast: bool = False
    style: bool = False


def analysis_options(prefs: AnalysisPrefs, model: HitModel | None) -> AnalysisOptions:
    """The options of the next job: the preferred window, else the model card's, else the default."""
    card_window = model.card.window_seconds if model is not None else None
    window = prefs.window_seconds or card_window or DEFAULT_WINDOW_SECONDS
    return AnalysisOptions(window_seconds=window, fast=prefs.fast, style=prefs.style)


_warmed_up = False


def warm_up(model: HitModel) -> None:
    """Runs the whole analysis once, in the GUI thread, on a short synthetic file.

    PySide6 replaces ``__import__`` with a hook that reads the source of every newly imported
    module; when that happens in a worker thread (the engine imports librosa's submodules, mutagen's
    formats and platformdirs lazily, on first use) the interpreter can crash ("none_dealloc"). After
    this, a worker imports nothing new. It also moves librosa's import and numba's compilation out
    of the first take's analysis time.
    """
    global _warmed_up
    if _warmed_up:
        return
    import platformdirs  # noqa: F401 - imported here for the reason above (hitdesk.cache imports it lazily)

    rate = 44100
    t = np.arange(int(4.5 * rate)) / rate
    rng = np.random.default_rng(0)
    tone = 0.2 * np.sin(2 * np.pi * 220 * t) * (1.0 + np.sin(2 * np.pi * 2 * t)) + 0.01 * rng.standard_normal(t.size)
    with tempfile.TemporaryDirectory(prefix="hitdesk-warm-") as folder:
        path = Path(folder) / "warm-up.wav"
        sf.write(path, np.stack([tone, 0.8 * tone], axis=1).astype(np.float32), rate)
        for fast in (False, True):
            options = AnalysisOptions(window_seconds=3.0, fast=fast)
            analyze(path, model, options)
            cache.lookup(path, model, options)
        measure_file(path)
        decode_all(path)
        with av.open(str(path)) as container:  # FFmpeg's reader (MP3, AAC, Opus) imports more on first open
            next(container.decode(audio=0), None)
    _warmed_up = True


def is_warm() -> bool:
    return _warmed_up


def run_until(done: Callable[[], bool], wake: Sequence[SignalInstance], timeout_ms: int) -> bool:
    """Runs the event loop until ``done()`` (checked whenever one of the ``wake`` signals comes), or for
    at most ``timeout_ms``; returns ``done()``. For headless use and tests."""
    if done():
        return True
    loop = QEventLoop()
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(loop.quit)
    for signal in wake:
        signal.connect(loop.quit)
    timer.start(timeout_ms)
    while not done() and timer.isActive():
        loop.exec()
    for signal in wake:
        signal.disconnect(loop.quit)
    return done()


def default_workers() -> int:
    """Takes analysed at once by default: one per core this process may use (the "Cores used" setting's
    default, see ``hitdesk.settings_schema``)."""
    return int(setting("analysis/cores").default_value())


class _JobSignals(QObject):
    """Lives in the GUI thread; emitting from a worker queues the call to the GUI thread."""

    started = Signal(int, int)  # take id, token
    progress = Signal(int, int, object)  # take id, token, Progress (log-mel columns as they are computed)
    window = Signal(int, int, object, object)  # take id, token, Window, log-mel (128 x frames) the model hears
    finished = Signal(int, int, object, object)  # take id, token, TrackResult, AnalysisDetail | None
    loudness = Signal(int, int, object, str)  # take id, token, Loudness | None, error sentence ("" if none)
    done = Signal(int, int)  # take id, token: the job has ended, whatever happened


@dataclass(frozen=True)
class Job:
    take_id: int
    token: int
    path: Path
    model: HitModel
    options: AnalysisOptions
    use_cache: bool = True  # answer from the result cache when possible (then without detail)
    loudness: bool = True


class AnalysisRunnable(QRunnable):
    def __init__(self, job: Job, signals: _JobSignals, cancelled: threading.Event) -> None:
        super().__init__()
        self.job = job
        self.signals = signals
        self.cancelled = cancelled

    def run(self) -> None:
        job = self.job
        try:
            if self.cancelled.is_set():
                return
            self.signals.started.emit(job.take_id, job.token)
            try:
                result, detail = self._analyse()
            except AnalysisCancelledError:
                log.debug("analysis of %s cancelled", job.path)
                return
            if self.cancelled.is_set():
                return
            self.signals.finished.emit(job.take_id, job.token, result, detail)
            if job.loudness and result.ok:
                self._measure(result)
        except Exception:  # a worker must always report back, or the take would stay "analysing"
            log.exception("analysis job for %s failed", job.path)
            error = TrackResult(file=str(job.path), error=f"Cannot analyse '{job.path.name}': an internal error.")
            self.signals.finished.emit(job.take_id, job.token, error, None)
        finally:
            self.signals.done.emit(job.take_id, job.token)

    def _analyse(self) -> tuple[TrackResult, AnalysisDetail | None]:
        job = self.job
        cached, key = cache.lookup(job.path, job.model, job.options)  # the key is kept for storing
        if job.use_cache and cached is not None:
            log.debug("cache hit for %s", job.path)
            return cached, None

        def on_window(window: Window, logmel: npt.NDArray[np.float32]) -> None:
            self.signals.window.emit(job.take_id, job.token, window, logmel)

        def on_progress(progress: Progress) -> None:
            self.signals.progress.emit(job.take_id, job.token, progress)

        result, detail = analyze(
            job.path,
            job.model,
            job.options,
            on_window=on_window,
            on_progress=on_progress,
            should_stop=self.cancelled.is_set,
        )
        result = cache.store(key, result)  # with a note when the file changed while it was analysed
        return result, detail

    def _measure(self, result: TrackResult) -> None:
        """Reports the take's loudness: the analysis pass's own when it measured it (full mode), else
        (``--fast`` mode reads only excerpts) from a pass over the file of its own."""
        job = self.job
        if result.loudness is not None:
            self.signals.loudness.emit(job.take_id, job.token, result.loudness, "")
            return
        try:
            value: Loudness | None = measure_file(job.path, should_stop=self.cancelled.is_set)
            message = ""
        except Exception as exc:  # decoders raise many types; loudness is optional, the row stays valid
            log.warning("loudness of %s not measured: %s", job.path, exc)
            value, message = None, f"Loudness of '{job.path.name}' could not be measured."
        if not self.cancelled.is_set():
            self.signals.loudness.emit(job.take_id, job.token, value, message)


class Analyser(QObject):
    """Queues jobs, forwards the answers that still matter, and says when everything is done."""

    take_started = Signal(int)
    take_progress = Signal(int, object)  # take id, Progress
    take_window = Signal(int, object, object)  # take id, Window, log-mel
    take_finished = Signal(int, object, object)
    take_loudness = Signal(int, object, str)
    take_done = Signal(int)  # the take's current job has ended (its answers, if any, were sent before)
    idle = Signal()  # no job left queued or running
    busy_changed = Signal(int)  # number of jobs queued or running

    def __init__(self, workers: int | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(workers or default_workers())
        self._signals = _JobSignals()
        self._signals.started.connect(self._on_started)
        self._signals.progress.connect(self._on_progress)
        self._signals.window.connect(self._on_window)
        self._signals.finished.connect(self._on_finished)
        self._signals.loudness.connect(self._on_loudness)
        self._signals.done.connect(self._on_done)
        self._current: dict[int, int] = {}  # take id -> token of its current job
        self._cancel: dict[int, threading.Event] = {}  # token -> its cancel flag
        self._next_token = 1
        # Lyrics pasted for a take (hitdesk/ui/lyrics_dialog.py), by take id: its jobs carry them.
        self.lyrics: dict[int, str] = {}

    @property
    def workers(self) -> int:
        return self.pool.maxThreadCount()

    def set_workers(self, n: int) -> None:
        self.pool.setMaxThreadCount(max(1, n))

    @property
    def pending(self) -> int:
        return len(self._cancel)

    def submit(
        self,
        take_id: int,
        path: Path,
        model: HitModel,
        options: AnalysisOptions,
        *,
        use_cache: bool = True,
        loudness: bool = True,
    ) -> None:
        self.cancel(take_id)
        token = self._next_token
        self._next_token += 1
        self._current[take_id] = token
        flag = threading.Event()
        self._cancel[token] = flag
        if self.lyrics.get(take_id):
            options = replace(options, lyrics=self.lyrics[take_id])
        job = Job(take_id, token, path, model, options, use_cache=use_cache, loudness=loudness)
        self.pool.start(AnalysisRunnable(job, self._signals, flag))
        self.busy_changed.emit(self.pending)

    def is_current(self, take_id: int) -> bool:
        return take_id in self._current

    def cancel(self, take_id: int) -> None:
        token = self._current.pop(take_id, None)
        if token is not None and token in self._cancel:
            self._cancel[token].set()

    def cancel_all(self) -> None:
        for take_id in list(self._current):
            self.cancel(take_id)

    def wait(self, msecs: int = 30_000) -> bool:
        """Blocks until running jobs end (each stops at its next block of audio); used on close."""
        for flag in self._cancel.values():
            flag.set()
        return bool(self.pool.waitForDone(msecs))

    def shutdown(self, msecs: int = 30_000) -> bool:
        """Closing: every job is cancelled and waited for; False (and a warning) if some still run."""
        self.cancel_all()
        if not self.wait(msecs):
            log.warning("analysis jobs still running at close")
            return False
        return True

    def _live(self, take_id: int, token: int) -> bool:
        return self._current.get(take_id) == token

    @Slot(int, int)
    def _on_started(self, take_id: int, token: int) -> None:
        if self._live(take_id, token):
            self.take_started.emit(take_id)

    @Slot(int, int, object)
    def _on_progress(self, take_id: int, token: int, progress: object) -> None:
        if self._live(take_id, token):
            self.take_progress.emit(take_id, progress)

    @Slot(int, int, object, object)
    def _on_window(self, take_id: int, token: int, window: object, logmel: object) -> None:
        if self._live(take_id, token):
            self.take_window.emit(take_id, window, logmel)

    @Slot(int, int, object, object)
    def _on_finished(self, take_id: int, token: int, result: object, detail: object) -> None:
        if self._live(take_id, token):
            self.take_finished.emit(take_id, result, detail)

    @Slot(int, int, object, str)
    def _on_loudness(self, take_id: int, token: int, value: object, message: str) -> None:
        if self._live(take_id, token):
            self.take_loudness.emit(take_id, value, message)

    @Slot(int, int)
    def _on_done(self, take_id: int, token: int) -> None:
        self._cancel.pop(token, None)
        if self._current.get(take_id) == token:
            del self._current[take_id]
            self.take_done.emit(take_id)
        self.busy_changed.emit(self.pending)
        if not self._cancel:
            self.idle.emit()
