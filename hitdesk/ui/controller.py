"""The takes and their analysis, without a widget: every change to a take happens here.

So that the take state machine can be tested without a window, ``TakesController`` is a QObject
that imports QtCore only. It owns the takes, the model and the analysis options, the worker pool
(``Analyser``) and the session files; it changes takes and says so by signals, and views read its
state when a signal comes. A problem with a file is a take's state (an error row), never a dialog.

A take's states: queued (waiting for a model, the warm-up or a worker) -> analysing -> done, or
error (the engine's answer, or an input problem found when adding), or cancelled (the job ended
without an answer). Analysing again, a new model or new options put a take back to queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from hitdesk.analysis import AnalysisDetail, AnalysisOptions, Progress
from hitdesk.dsp.windows import Window
from hitdesk.errors import HitdeskError
from hitdesk.model.runtime import HitModel
from hitdesk.present import plural
from hitdesk.results import TrackResult
from hitdesk.ui.loudness import Loudness
from hitdesk.ui.play_settings import PlaySettings
from hitdesk.ui.session import damaged_sentence, load_session, save_session, write_export
from hitdesk.ui.takes import State, Take, TakeList, missing_sentence
from hitdesk.ui.workers import Analyser, AnalysisPrefs, analysis_options, is_warm, run_until, warm_up
from hitdesk.ui.workers import AnalysisSettings as AnalysisSettings  # made here by tests and tools

log = logging.getLogger(__name__)


class TakesController(QObject):
    """Owns the takes, the model and the analysis; every change is announced by a signal."""

    takes_added = Signal(list)  # ids appended at the end of the list, in order
    takes_removing = Signal(list)  # ids about to leave the list: let go of them (playback)
    takes_removed = Signal(list)  # ids no longer in the list
    take_changed = Signal(int)  # what a take's row shows changed (state, progress, result, loudness, note)
    take_streamed = Signal(int)  # new log-mel columns or a placed window while the take is analysed
    take_finished = Signal(int, bool)  # a result arrived; True when the take had it already (detail only)
    take_loudness = Signal(int)  # the take's loudness was measured (or could not be)
    take_playback = Signal(int)  # the take's gain, offset or loop changed
    take_ended = Signal(int)  # the take's current job ended, whatever happened
    takes_requeued = Signal(list)  # ids that lost their results and wait to be analysed again
    takes_cancelled = Signal(list)  # ids whose queued or running analysis was cancelled
    focus_requested = Signal(int)  # a take to show now: a recording just made, the first of an opened session
    progress = Signal(int, int)  # analysed and total of the current batch (0, 0 when none waits); counts changed
    model_changed = Signal()  # a model was loaded; the takes are analysed with it
    model_failed = Signal(str)  # a model could not be loaded (the previous one, if any, stays)
    message = Signal(str)  # one sentence for the status bar (files skipped, exported, preparing)
    ready = Signal()  # the analysis is warmed up; takes queued before it have been submitted
    all_done = Signal()  # nothing queued or running any more
    dirty_changed = Signal(bool)  # the list differs from the session last saved or opened
    session_changed = Signal()  # the list was saved to or opened from another session file
    take_file_changed = Signal(int)  # a take's file was found missing, or located again

    def __init__(
        self, prefs: AnalysisPrefs | None = None, workers: int | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.prefs: AnalysisPrefs = prefs if prefs is not None else AnalysisSettings()
        self.analyser = Analyser(workers, self)
        self._list = TakeList()
        self._model: HitModel | None = None
        self._model_error: str | None = None
        self._batch: set[int] = set()  # ids of the takes queued since the list was last idle
        self._deferred: dict[int, bool] = {}  # take id -> use_cache, queued before the warm-up ran
        self._warm_scheduled = False
        self._dirty = False
        self._session_path: Path | None = None
        a = self.analyser
        a.take_started.connect(self._on_started)
        a.take_progress.connect(self._on_progress)
        a.take_window.connect(self._on_window)
        a.take_finished.connect(self._on_finished)
        a.take_loudness.connect(self._on_loudness)
        a.take_done.connect(self._on_take_done)
        a.busy_changed.connect(lambda _pending: self._emit_progress())
        a.idle.connect(self._on_idle)

    # ------------------------------------------------------------------------------------ reading
    @property
    def takes(self) -> list[Take]:
        """The takes in list order (a copy: the list changes only through the controller)."""
        return self._list.takes

    def by_id(self, take_id: int) -> Take | None:
        return self._list.by_id(take_id)

    @property
    def model(self) -> HitModel | None:
        return self._model

    @property
    def model_error(self) -> str | None:
        """Why the last model asked for was not loaded (None once one loads)."""
        return self._model_error

    @property
    def options(self) -> AnalysisOptions:
        return analysis_options(self.prefs, self._model)

    @property
    def workers(self) -> int:
        return self.analyser.workers

    def set_workers(self, n: int) -> None:
        self.analyser.set_workers(n)

    @property
    def pending(self) -> int:
        """Takes waiting for the warm-up, queued or being analysed."""
        return self.analyser.pending + len(self._deferred)

    @property
    def is_busy(self) -> bool:
        return bool(self._deferred) or self.analyser.pending > 0

    @property
    def batch(self) -> tuple[int, int]:
        """Analysed and total of the takes queued since the list was last idle; (0, 0) when none waits.
        A take counts once its row says done or error, even while its loudness is still measured."""
        if not (self.pending and self._batch):
            return 0, 0
        return self._list.count_finished(self._batch), len(self._batch)

    @property
    def dirty(self) -> bool:
        return self._dirty

    @property
    def session_path(self) -> Path | None:
        """The session file the list was last saved to, or opened from into an empty list."""
        return self._session_path

    def unfinished_takes(self) -> list[Take]:
        """Cancelled or failed takes: what "Analyse Again" retries when no take is selected."""
        return [t for t in self._list.takes if t.state in (State.CANCELLED, State.ERROR)]

    # ------------------------------------------------------------------------------------ the model
    def load_model(self, spec: str | None) -> bool:
        """Loads a model (``None``/"" = default) and analyses the takes with it; on failure keeps the
        previous one and says why (``model_failed``, ``model_error``)."""
        try:
            model = HitModel.load(spec or None)
        except HitdeskError as exc:
            self._model_error = str(exc)
            log.warning("model %r not loaded: %s", spec, exc)
            self.model_failed.emit(str(exc))
            self._emit_progress()
            return False
        previous = self._model
        self._model = model
        if not is_warm() and not self._warm_scheduled:
            # After the window shows: the warm-up imports librosa (seconds) in this thread, see warm_up.
            self._warm_scheduled = True
            QTimer.singleShot(0, self._warm_up)
        self._model_error = None
        self.model_changed.emit()
        if previous is not None or any(t.state != State.QUEUED for t in self._list.takes):
            self.reanalyse(self._list.takes)
        else:
            for t in self._list.takes:
                self._queue(t)
        return True

    def _warm_up(self) -> None:
        if self._model is not None and not is_warm():
            self.message.emit("Preparing the analysis…")
            warm_up(self._model)
        deferred, self._deferred = self._deferred, {}
        for take_id, use_cache in deferred.items():
            take = self.by_id(take_id)
            if take is not None and take.state == State.QUEUED and self._model is not None:
                self.analyser.submit(take.id, take.path, self._model, self.options, use_cache=use_cache)
        self._emit_progress()
        self.ready.emit()

    # ------------------------------------------------------------------------------------ adding
    def _append(self, takes: list[Take]) -> None:
        if takes:
            self._list.extend(takes)
            self.takes_added.emit([t.id for t in takes])
            self._set_dirty(True)

    def add_paths(self, inputs: Iterable[str | Path]) -> list[Take]:
        """Adds files and folders; returns the takes added (a file already in the list is skipped).

        A path that cannot be read (missing, an empty folder) becomes an error take, not an exception.
        """
        paths = [Path(p) for p in inputs]
        if not paths:
            return []
        new, skipped = self._list.from_inputs(paths)
        self._append(new)
        for take in new:
            if take.state != State.ERROR:
                self._queue(take)
        if skipped:
            self.message.emit(f"{plural(skipped, 'file')} already in the list, not added again.")
        return new

    def add_result(self, path: Path, result: TrackResult, notes: Sequence[str] = ()) -> Take | None:
        """Adds a file that has already been analysed (a recorded take), shown at once; None if listed.

        ``notes`` (audio lost while recording) stay with the take when it is analysed again.
        """
        take = self._list.from_result(path, result, notes)
        if take is None:
            return None
        self._append([take])
        self.focus_requested.emit(take.id)
        self._emit_progress()
        return take

    def _queue(self, take: Take, *, use_cache: bool = True) -> None:
        if take.input_problem:
            return  # e.g. an empty folder: nothing to analyse
        take.state = State.QUEUED
        if self._model is None:  # analysed once a model is chosen
            self.take_changed.emit(take.id)
            return
        self._batch.add(take.id)
        if is_warm():
            self.analyser.submit(take.id, take.path, self._model, self.options, use_cache=use_cache)
        else:
            self._deferred[take.id] = use_cache
        self.take_changed.emit(take.id)

    def reanalyse(self, takes: Sequence[Take], *, use_cache: bool = True) -> None:
        """Forgets the takes' results and analyses them again (input problems stay as they are; takes
        whose file is missing keep their scores, and the message says so)."""
        requeued = []
        missing = self.check_files(takes)
        if missing:
            self.message.emit(missing_sentence(missing, "analysed again"))
        for take in takes:
            if take.input_problem or take.missing:
                continue
            self.analyser.cancel(take.id)
            take.forget_results()
            self._queue(take, use_cache=use_cache)
            requeued.append(take.id)
        self.takes_requeued.emit(requeued)

    def ensure_detail(self, take_id: int, wanted: bool = True) -> None:
        """Re-analyses a take whose result came from the cache or a session, for its spectrogram; when it
        is no longer ``wanted``, such a job that has not started (the take is still done) is cancelled."""
        take = self.by_id(take_id)
        if not wanted:
            if take is not None and take.state == State.DONE and take.detail is None:
                self.analyser.cancel(take_id)
            return
        if (
            take is None
            or not is_warm()  # asked again at the end of the warm-up
            or self._model is None
            or take.state != State.DONE
            or take.detail is not None
            or self.analyser.is_current(take_id)
            or self.check_files([take])
        ):
            return
        self.analyser.submit(
            take.id, take.path, self._model, self.options, use_cache=False, loudness=take.loudness is None
        )

    def check_files(self, takes: Sequence[Take]) -> list[Take]:
        """Looks for the takes' files; returns the takes whose file is missing (marked, scores kept)."""
        for take in takes:
            if take.check_file():
                self.take_changed.emit(take.id)
                self.take_file_changed.emit(take.id)
        return [t for t in takes if t.missing]

    def locate(self, take_id: int, path: Path) -> bool:
        """A missing take's file, found at ``path``: the take keeps its scores (analysed if it has none)."""
        take = self.by_id(take_id)
        problem = self._list.locate(take, path) if take is not None else "That take is no longer in the list."
        if problem or take is None:
            self.message.emit(problem or "")
            return False
        self.take_changed.emit(take.id)
        self.take_file_changed.emit(take.id)
        self._set_dirty(True)
        if take.result is None or not take.result.ok:
            self.reanalyse([take])
        self.message.emit(f"'{take.name}' found: {take.path}.")
        return True

    def set_note(self, take_id: int, note: str) -> None:
        if self._list.edit(take_id, note=note):
            self.take_changed.emit(take_id)
            self._set_dirty(True)

    def set_playback(self, take_id: int, playback: PlaySettings) -> None:
        if self._list.edit(take_id, playback=playback):
            self.take_playback.emit(take_id)
            self._set_dirty(True)

    # ------------------------------------------------------------------------------------ removing, cancelling
    def remove_ids(self, ids: Iterable[int]) -> None:
        """Removes takes at once: their jobs are cancelled and any late answer is dropped."""
        gone = set(ids)
        self._batch -= gone
        for take_id in gone:
            self._deferred.pop(take_id, None)
            self.analyser.cancel(take_id)
        removed = [t.id for t in self._list.takes if t.id in gone]
        if removed:
            self.takes_removing.emit(removed)
            self._list.remove(removed)
            self.takes_removed.emit(removed)
            self._set_dirty(len(self._list) > 0)
        self._emit_progress()

    def clear(self) -> None:
        self.remove_ids([t.id for t in self._list.takes])

    def cancel_all(self) -> None:
        """Stops the analysis: queued takes never start, running ones stop within a block of audio."""
        self._deferred.clear()
        self.analyser.cancel_all()
        cancelled = []
        for take in self._list.takes:
            if take.cancel():
                cancelled.append(take.id)
                self.take_changed.emit(take.id)
        self.takes_cancelled.emit(cancelled)
        self._emit_progress()

    # ------------------------------------------------------------------------------------ the analyser's answers
    def _on_started(self, take_id: int) -> None:
        take = self.by_id(take_id)
        if take is not None:
            take.start()
            self.take_changed.emit(take_id)

    def _on_progress(self, take_id: int, progress: object) -> None:
        take = self.by_id(take_id)
        if take is None or not isinstance(progress, Progress):
            return
        if take.add_progress(progress):
            self.take_changed.emit(take_id)
        self.take_streamed.emit(take_id)

    def _on_window(self, take_id: int, window: object, logmel: object) -> None:
        take = self.by_id(take_id)
        if take is not None and isinstance(window, Window):
            take.add_window(window, logmel)  # type: ignore[arg-type]
            self.take_streamed.emit(take_id)

    def _on_finished(self, take_id: int, result: object, detail: object) -> None:
        take = self.by_id(take_id)
        if take is None or not isinstance(result, TrackResult):
            return
        had_result = take.finish(result, detail if isinstance(detail, AnalysisDetail) else None)
        if not had_result:
            self.take_changed.emit(take_id)
            self._set_dirty(True)
            self._emit_progress()
        self.take_finished.emit(take_id, had_result)

    def _on_loudness(self, take_id: int, value: object, message: str) -> None:
        take = self.by_id(take_id)
        if take is None:
            return
        take.set_loudness(value if isinstance(value, Loudness) else None, message)
        self.take_loudness.emit(take_id)
        self.take_changed.emit(take_id)

    def _on_take_done(self, take_id: int) -> None:
        take = self.by_id(take_id)
        if take is None:
            return
        if take.cancel():  # the job ended without an answer
            self.take_changed.emit(take_id)
        self.take_ended.emit(take_id)

    def _on_idle(self) -> None:
        self._batch.clear()
        self._emit_progress()
        self.all_done.emit()

    def _emit_progress(self) -> None:
        self.progress.emit(*self.batch)

    # ------------------------------------------------------------------------------------ exports and sessions
    def _model_info(self) -> dict[str, str]:
        return self._model.info.to_dict() if self._model is not None else {}

    def export_results(self, path: Path, qc: str = "") -> int:
        """Results as CSV or JSON, with QC profile ``qc``'s checks (``session.write_export``); raises ``OSError``."""
        n = write_export(path, self._list.results(self._model_info(), "fast" if self.prefs.fast else "full"), qc)
        self.message.emit(f"Exported {plural(n, 'result')} to {path.name}.")
        return n

    def save_session(self, path: Path) -> None:
        """Writes the takes with their results, loudness and notes; raises ``OSError``."""
        save_session(path, self._list.session_takes(), self._model_info())
        self._session_path = path
        self._set_dirty(False)
        self.session_changed.emit()
        self.message.emit(f"Session saved to {path.name}.")

    def open_session(self, path: Path) -> list[Take]:
        """Adds a session's takes with their results (no analysis); raises ``SessionError``.

        Results made by another model than the one loaded are dropped and those takes analysed again.
        """
        entries, model = load_session(path)
        was_empty = len(self._list) == 0
        same_model = not model or model == self._model_info() or self._model is None
        new = self._list.from_session(entries, keep_results=same_model)
        self._append(new)
        self.check_files(new)
        for take in new:
            if take.result is None and not take.missing:
                self._queue(take)
        if was_empty:
            self._session_path = path
            self._set_dirty(False)  # the list is the session as saved
            self.session_changed.emit()
        if new:
            self.focus_requested.emit(new[0].id)
        self._emit_progress()
        if said := damaged_sentence(entries, path):
            self.message.emit(said)
        return new

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    # ------------------------------------------------------------------------------------ waiting and stopping
    def wait_until_idle(self, timeout_ms: int = 600_000) -> bool:
        """Runs the event loop until no take waits, is queued or is analysed (for headless use and tests)."""
        return run_until(lambda: not self.is_busy, (self.analyser.idle, self.ready), timeout_ms)

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Closing: every job is cancelled and waited for (each stops at its next block of audio)."""
        self._deferred.clear()
        return self.analyser.shutdown(timeout_ms)
