"""The takes and their analysis, without a widget: every change to a take happens here.

The window used to own the list, the analyser and the take state machine, so none of it could be
tested without building the whole window, and the command, playback and record modules reached into
it. ``TakesController`` is a QObject that imports QtCore only: it owns the takes (state, results,
loudness, notes), the model and the analysis options, the worker pool (``Analyser``) and the
session files. It changes takes and says so by signals; views read its state when a signal comes and
never change a take themselves. Problems with files are states of takes (error rows), never
exceptions or dialogs.

A take's states: queued (waiting for a model, the warm-up or a worker) -> analysing -> done, or
error (the engine's answer, or an input problem found when adding), or cancelled (the job ended
without an answer). Analysing again, a new model or new options put a take back to queued.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from PySide6.QtCore import QEventLoop, QObject, QTimer, Signal

from hitdesk.analysis import AnalysisOptions, Progress
from hitdesk.audio import InputProblem, expand_inputs
from hitdesk.config import DEFAULT_WINDOW_SECONDS
from hitdesk.dsp.windows import Window
from hitdesk.errors import HitdeskError
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.ui.session import SessionTake, load_session, results_csv, results_json, save_session, write_text
from hitdesk.ui.takes import State, Take, path_key
from hitdesk.ui.track_picture import TrackPicture
from hitdesk.ui.workers import Analyser, is_warm, warm_up

log = logging.getLogger(__name__)


class AnalysisPrefs(Protocol):
    """Where the analysis options come from, read each time they are needed.

    The window passes its ``Preferences``, so a preference changed anywhere (the dialog, a test,
    a benchmark) applies to the next analysis without the controller depending on the settings UI.
    """

    window_seconds: float | None  # None: the model card's window, or the default
    fast: bool


@dataclass
class AnalysisSettings:
    """The options of a controller made without preferences (tests, tools)."""

    window_seconds: float | None = None
    fast: bool = False


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'s' if n != 1 else ''}"


class TakesController(QObject):
    """Owns the takes, the model and the analysis; every change is announced by a signal."""

    takes_added = Signal(list)  # ids appended at the end of the list, in order
    takes_removing = Signal(list)  # ids about to leave the list: let go of them (playback)
    takes_removed = Signal(list)  # ids no longer in the list
    take_changed = Signal(int)  # what a take's row shows changed (state, progress, result, loudness, note)
    take_streamed = Signal(int)  # new log-mel columns or a placed window while the take is analysed
    take_finished = Signal(int, bool)  # a result arrived; True when the take had it already (detail only)
    take_loudness = Signal(int)  # the take's loudness was measured (or could not be)
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

    def __init__(
        self, prefs: AnalysisPrefs | None = None, workers: int | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.prefs: AnalysisPrefs = prefs if prefs is not None else AnalysisSettings()
        self.analyser = Analyser(workers, self)
        self._takes: list[Take] = []
        self._next_id = 1
        self._model: HitModel | None = None
        self._model_error: str | None = None
        self._batch_total = 0
        self._deferred: dict[int, bool] = {}  # take id -> use_cache, queued before the warm-up ran
        self._warm_scheduled = False
        self._dirty = False
        a = self.analyser
        a.take_started.connect(self._on_started)
        a.take_progress.connect(self._on_progress)
        a.take_window.connect(self._on_window)
        a.take_finished.connect(self._on_finished)
        a.take_loudness.connect(self._on_loudness)
        a.take_done.connect(self._on_take_done)
        a.busy_changed.connect(self._on_busy)
        a.idle.connect(self._on_idle)

    # ------------------------------------------------------------------------------------ reading
    @property
    def takes(self) -> list[Take]:
        """The takes in list order (a copy: the list changes only through the controller)."""
        return list(self._takes)

    def by_id(self, take_id: int) -> Take | None:
        return next((t for t in self._takes if t.id == take_id), None)

    @property
    def model(self) -> HitModel | None:
        return self._model

    @property
    def model_error(self) -> str | None:
        """Why the last model asked for was not loaded (None once one loads)."""
        return self._model_error

    @property
    def options(self) -> AnalysisOptions:
        card_window = self._model.card.window_seconds if self._model is not None else None
        window = self.prefs.window_seconds or card_window or DEFAULT_WINDOW_SECONDS
        return AnalysisOptions(window_seconds=window, fast=self.prefs.fast)

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
        """Analysed and total of the takes queued since the list was last idle; (0, 0) when none waits."""
        pending = self.pending
        if not (pending and self._batch_total):
            return 0, 0
        total = max(self._batch_total, pending)
        return total - pending, total

    @property
    def dirty(self) -> bool:
        return self._dirty

    def unfinished_takes(self) -> list[Take]:
        """Cancelled or failed takes: what "Analyse Again" retries when no take is selected."""
        return [t for t in self._takes if t.state in (State.CANCELLED, State.ERROR)]

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
        if previous is not None or any(t.state != State.QUEUED for t in self._takes):
            self.reanalyse(self._takes)
        else:
            for t in self._takes:
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
    def _new_take(self, path: Path) -> Take:
        take = Take(self._next_id, path, path_key(path))
        self._next_id += 1
        return take

    def _append(self, takes: list[Take]) -> None:
        if takes:
            self._takes.extend(takes)
            self.takes_added.emit([t.id for t in takes])
            self._set_dirty(True)

    def add_paths(self, inputs: Iterable[str | Path]) -> list[Take]:
        """Adds files and folders; returns the takes added (a file already in the list is skipped).

        A path that cannot be read (missing, an empty folder) becomes an error take, not an exception.
        """
        paths = [Path(p) for p in inputs]
        if not paths:
            return []
        new: list[Take] = []
        seen = {t.key for t in self._takes}
        skipped = 0
        for item in expand_inputs(paths):
            path = item.path if isinstance(item, InputProblem) else item
            take = self._new_take(path.absolute())
            if take.key in seen:
                skipped += 1
                continue
            seen.add(take.key)
            if isinstance(item, InputProblem):
                take.state = State.ERROR
                take.message = item.message
            new.append(take)
        self._append(new)
        for take in new:
            if take.state != State.ERROR:
                self._queue(take)
        if skipped:
            self.message.emit(f"{_plural(skipped, 'file')} already in the list, not added again.")
        return new

    def add_result(self, path: Path, result: TrackResult, notes: Sequence[str] = ()) -> Take | None:
        """Adds a file that has already been analysed (a recorded take), shown at once; None if listed.

        ``notes`` (audio lost while recording) stay with the take when it is analysed again.
        """
        take = self._new_take(path.absolute())
        if take.key in {t.key for t in self._takes}:
            return None
        take.result = result
        take.recording_notes = tuple(notes)
        take.state = State.DONE if result.ok else State.ERROR
        self._append([take])
        self.focus_requested.emit(take.id)
        self._emit_progress()
        return take

    def _queue(self, take: Take, *, use_cache: bool = True) -> None:
        if take.state == State.ERROR and take.result is None and take.message:
            return  # an input problem (e.g. an empty folder): nothing to analyse
        take.state = State.QUEUED
        if self._model is None:  # analysed once a model is chosen
            self.take_changed.emit(take.id)
            return
        self._batch_total += 1
        if is_warm():
            self.analyser.submit(take.id, take.path, self._model, self.options, use_cache=use_cache)
        else:
            self._deferred[take.id] = use_cache
        self.take_changed.emit(take.id)

    def reanalyse(self, takes: Sequence[Take], *, use_cache: bool = True) -> None:
        """Forgets the takes' results and analyses them again (input problems stay as they are)."""
        requeued = []
        for take in takes:
            if take.message is not None and take.result is None and take.state == State.ERROR:
                continue
            self.analyser.cancel(take.id)
            take.result = None
            take.detail = None
            take.live_windows = {}
            take.loudness = None
            take.loudness_error = None
            self._queue(take, use_cache=use_cache)
            requeued.append(take.id)
        self.takes_requeued.emit(requeued)

    def ensure_detail(self, take_id: int) -> None:
        """Re-analyses a take whose result came from the cache or a session, for its spectrogram."""
        take = self.by_id(take_id)
        if (
            take is None
            or not is_warm()  # asked again at the end of the warm-up
            or self._model is None
            or take.state != State.DONE
            or take.detail is not None
            or self.analyser.is_current(take_id)
            or not take.path.is_file()
        ):
            return
        self.analyser.submit(
            take.id, take.path, self._model, self.options, use_cache=False, loudness=take.loudness is None
        )

    def set_note(self, take_id: int, note: str) -> None:
        take = self.by_id(take_id)
        if take is not None and take.note != note:
            take.note = note
            self.take_changed.emit(take_id)
            self._set_dirty(True)

    # ------------------------------------------------------------------------------------ removing, cancelling
    def remove_ids(self, ids: Iterable[int]) -> None:
        """Removes takes at once: their jobs are cancelled and any late answer is dropped."""
        gone = set(ids)
        for take_id in gone:
            self._deferred.pop(take_id, None)
            self.analyser.cancel(take_id)
        removed = [t.id for t in self._takes if t.id in gone]
        if removed:
            self.takes_removing.emit(removed)
            self._takes = [t for t in self._takes if t.id not in gone]
            self.takes_removed.emit(removed)
            self._set_dirty(bool(self._takes))
        self._emit_progress()

    def clear(self) -> None:
        self.remove_ids([t.id for t in self._takes])

    def cancel_all(self) -> None:
        """Stops the analysis: queued takes never start, running ones stop within a block of audio."""
        self._deferred.clear()
        self.analyser.cancel_all()
        cancelled = []
        for take in self._takes:
            if take.state in (State.QUEUED, State.ANALYSING):
                take.state = State.CANCELLED
                cancelled.append(take.id)
                self.take_changed.emit(take.id)
        self.takes_cancelled.emit(cancelled)
        self._emit_progress()

    # ------------------------------------------------------------------------------------ the analyser's answers
    def _on_started(self, take_id: int) -> None:
        take = self.by_id(take_id)
        if take is not None:
            take.state = State.ANALYSING
            take.picture = None  # drawn anew as this job computes it
            take.live_windows = {}
            self.take_changed.emit(take_id)

    def _on_progress(self, take_id: int, progress: object) -> None:
        take = self.by_id(take_id)
        if take is None or not isinstance(progress, Progress):
            return
        shown = take.picture.done if take.picture is not None else -1.0
        if take.picture is None:
            take.picture = TrackPicture(progress.duration_s)
        take.picture.add(progress)
        if int(100 * take.picture.done) != int(100 * shown):  # the row says whole percents
            self.take_changed.emit(take_id)
        self.take_streamed.emit(take_id)

    def _on_window(self, take_id: int, window: object, logmel: object) -> None:
        take = self.by_id(take_id)
        if take is None or not isinstance(window, Window):
            return
        take.live_windows[window.name] = (window, logmel)  # type: ignore[assignment]
        self.take_streamed.emit(take_id)

    def _on_finished(self, take_id: int, result: object, detail: object) -> None:
        take = self.by_id(take_id)
        if take is None or not isinstance(result, TrackResult):
            return
        had_result = take.result is not None and take.state == State.DONE
        if take.recording_notes:
            result = replace(result, notes=(*result.notes, *(n for n in take.recording_notes if n not in result.notes)))
        take.result = result
        if detail is not None:
            take.detail = detail  # type: ignore[assignment]
        take.live_windows = {}
        take.state = State.DONE if result.ok else State.ERROR
        if not had_result:
            self.take_changed.emit(take_id)
            self._set_dirty(True)
        self.take_finished.emit(take_id, had_result)

    def _on_loudness(self, take_id: int, value: object, message: str) -> None:
        take = self.by_id(take_id)
        if take is None:
            return
        take.loudness = value  # type: ignore[assignment]
        take.loudness_error = message or None
        self.take_loudness.emit(take_id)
        self.take_changed.emit(take_id)

    def _on_take_done(self, take_id: int) -> None:
        take = self.by_id(take_id)
        if take is None:
            return
        if take.state in (State.QUEUED, State.ANALYSING):  # the job ended without an answer (cancelled)
            take.state = State.CANCELLED
            self.take_changed.emit(take_id)
        self.take_ended.emit(take_id)

    def _on_busy(self, _pending: int) -> None:
        self._emit_progress()

    def _on_idle(self) -> None:
        self._batch_total = 0
        self._emit_progress()
        self.all_done.emit()

    def _emit_progress(self) -> None:
        self.progress.emit(*self.batch)

    # ------------------------------------------------------------------------------------ exports and sessions
    def results(self) -> list[TrackResult]:
        """One result per take that has one, in list order (errors included), for exports."""
        out = []
        model = self._model.info.to_dict() if self._model is not None else {}
        mode = "fast" if self.prefs.fast else "full"
        for t in self._takes:
            if t.result is not None:
                out.append(t.result)
            elif t.state == State.ERROR and t.message:
                out.append(TrackResult(file=str(t.path), model=model, mode=mode, error=t.message))
        return out

    def export_results(self, path: Path) -> int:
        """CSV or JSON by the file's suffix; the fields of ``hitdesk analyze --csv`` / ``--json``.

        Returns how many results were written; raises ``OSError`` when the file cannot be written.
        """
        results = self.results()
        text = results_csv(results) if path.suffix.lower() == ".csv" else results_json(results)
        write_text(path, text)
        self.message.emit(f"Exported {_plural(len(results), 'result')} to {path.name}.")
        return len(results)

    def session_takes(self) -> list[SessionTake]:
        return [SessionTake(t.path, t.result, t.loudness, t.note) for t in self._takes]

    def save_session(self, path: Path) -> None:
        """Writes the takes with their results, loudness and notes; raises ``OSError``."""
        model = self._model.info.to_dict() if self._model is not None else {}
        save_session(path, self.session_takes(), model)
        self._set_dirty(False)
        self.message.emit(f"Session saved to {path.name}.")

    def open_session(self, path: Path) -> list[Take]:
        """Adds a session's takes with their results (no analysis); raises ``SessionError``.

        Results made by another model are dropped and those takes analysed again.
        """
        entries, model = load_session(path)
        was_empty = not self._takes
        current = self._model.info.to_dict() if self._model is not None else {}
        new = []
        seen = {t.key for t in self._takes}
        for e in entries:
            if path_key(e.path) in seen:
                continue
            take = self._new_take(e.path)
            seen.add(take.key)
            take.note = e.note
            take.loudness = e.loudness
            if e.result is not None and (not model or model == current or self._model is None):
                take.result = replace(e.result, file=str(e.path))
                take.state = State.DONE if e.result.ok else State.ERROR
            new.append(take)
        self._append(new)
        for take in new:
            if take.result is None:
                self._queue(take)
        if was_empty:
            self._set_dirty(False)  # the list is the session as saved
        if new:
            self.focus_requested.emit(new[0].id)
        self._emit_progress()
        return new

    def _set_dirty(self, dirty: bool) -> None:
        if dirty != self._dirty:
            self._dirty = dirty
            self.dirty_changed.emit(dirty)

    # ------------------------------------------------------------------------------------ waiting and stopping
    def wait_until_idle(self, timeout_ms: int = 600_000) -> bool:
        """Runs the event loop until no take waits, is queued or is analysed (for headless use and tests)."""
        if not self.is_busy:
            return True
        loop = QEventLoop()
        timer = QTimer()
        timer.setSingleShot(True)
        timer.timeout.connect(loop.quit)
        self.analyser.idle.connect(loop.quit)
        self.ready.connect(loop.quit)
        timer.start(timeout_ms)
        while self.is_busy and timer.isActive():
            loop.exec()
        self.analyser.idle.disconnect(loop.quit)
        self.ready.disconnect(loop.quit)
        return not self.is_busy

    def shutdown(self, timeout_ms: int = 30_000) -> bool:
        """Closing: every job is cancelled and waited for (each stops at its next block of audio)."""
        self._deferred.clear()
        self.analyser.cancel_all()
        if not self.analyser.wait(timeout_ms):
            log.warning("analysis jobs still running at close")
            return False
        return True
