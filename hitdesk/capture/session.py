"""A capture session: records a take, scores it live, and analyses its file when it ends.

No Qt: the app's record panel and ``hitdesk capture`` poll it. The live scores come from
``capture.live``; the take's full result is ``hitdesk.analysis.analyze`` on the finished file, the
same code as for any file, with notes about lost audio added.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path

import numpy as np

from hitdesk.analysis import AnalysisOptions
from hitdesk.audio.info import Samples
from hitdesk.capture.live import DEFAULT_REFRESH_SECONDS, LiveScore, LiveScorer, MelColumns
from hitdesk.capture.recorder import Recorder, RecorderSettings, RecorderStatus
from hitdesk.capture.stream import StreamFactory
from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES
from hitdesk.explain import analyze
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult

log = logging.getLogger(__name__)


class SessionState(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"  # includes stopping: audio still reaching the file
    ANALYSING = "analysing"  # the file is finished; the take's full result is being computed
    DONE = "done"


@dataclass(frozen=True)
class CaptureStatus:
    state: SessionState
    recording: RecorderStatus
    live_problem: str | None


@dataclass(frozen=True)
class RecordedTake:
    """A finished take: its file, the same result ``hitdesk analyze`` gives for it, and what happened."""

    path: Path
    result: TrackResult
    live_scores: tuple[LiveScore, ...]
    recording: RecorderStatus

    @property
    def problems(self) -> list[str]:
        return [n for n in capture_notes(self.recording) if n]


def capture_notes(rec: RecorderStatus) -> list[str]:
    """Sentences about audio lost or a take cut short, added to the take's notes."""
    notes: list[str] = []
    if rec.problem:
        notes.append(rec.problem)
    if rec.input_overflows:
        notes.append(
            f"The input overflowed {rec.input_overflows} time{'s' if rec.input_overflows != 1 else ''} during "
            "recording: some audio was lost before it reached HitDesk (the computer was too busy)."
        )
    if rec.dropped_frames and rec.sample_rate:
        notes.append(
            f"{rec.dropped_frames / rec.sample_rate:.2f} s of audio were dropped because writing the take fell behind."
        )
    return notes


class CaptureSession:
    """Records a take, scores it live, and analyses its file when it ends. No Qt: a GUI polls it.

    ``on_columns``, if given, is called on the writer thread whenever new spectrogram columns are
    ready (it must only schedule work elsewhere, e.g. emit a queued Qt signal). With
    ``picture=False`` (the command line) no columns are computed at all.

    ``start`` raises CaptureError (one sentence) when recording cannot begin; every later problem
    (device unplugged, disk full, overflows) ends or annotates the take instead of raising, and the
    take is kept and analysed. Call ``close`` (or ``stop`` and ``wait``) before dropping it.
    """

    def __init__(
        self,
        model: HitModel,
        settings: RecorderSettings | None = None,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        stream_factory: StreamFactory | None = None,
        on_columns: Callable[[], None] | None = None,
        picture: bool = True,
    ) -> None:
        self._options = AnalysisOptions(window_seconds=window_seconds)
        self._picture = picture
        self._model = model
        self._refresh = refresh_seconds
        self._on_columns = on_columns
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitdesk-live")
        self._recorder = Recorder(
            settings, on_audio=self._feed, on_finished=self._finished, stream_factory=stream_factory
        )
        self._live: LiveScorer | None = None
        self._state = SessionState.IDLE
        self._take: RecordedTake | None = None
        self._done = threading.Event()

    @property
    def recorder(self) -> Recorder:
        return self._recorder

    @property
    def window_seconds(self) -> float:
        return self._options.window_seconds

    def open(self) -> RecorderStatus:
        """Opens the device and creates the file (see ``Recorder.open``); ``start`` does this if needed."""
        status = self._recorder.open()
        if self._live is None:
            self._live = LiveScorer(
                self._model,
                status.sample_rate,
                self._options.window_seconds,
                self._refresh,
                executor=self._pool,
                on_columns=self._on_columns,
                picture=self._picture,
            )
        return status

    def start(self) -> None:
        self.open()
        self._recorder.start()
        self._state = SessionState.RECORDING

    def stop(self) -> None:
        """Ends the take; returns at once. The result follows (``wait``, ``take``, ``status().state``)."""
        self._recorder.stop()

    def status(self) -> CaptureStatus:
        live = self._live
        return CaptureStatus(self._state, self._recorder.status(), None if live is None else live.problem)

    def new_scores(self) -> list[LiveScore]:
        return [] if self._live is None else self._live.new_scores()

    @property
    def scoring(self) -> bool:
        """A live window is being scored right now (benchmarks leave these moments out)."""
        return self._live is not None and self._live.busy

    def new_mel_columns(self) -> MelColumns:
        if self._live is None:
            return MelColumns(0, np.zeros((FEATURES.n_mels, 0), dtype=np.float32))
        return self._live.new_mel_columns()

    @property
    def take(self) -> RecordedTake | None:
        return self._take

    def wait(self, timeout: float | None = None) -> RecordedTake | None:
        """The take once it has been analysed; None if that has not happened within ``timeout``."""
        if self._state is SessionState.IDLE:
            return None
        self._done.wait(timeout)
        return self._take

    def close(self, wait_for_result: bool = True) -> None:
        """Stops recording if needed and waits until the file is finished, and by default its result.

        With ``wait_for_result=False`` (closing the app) the take's file is complete on return and
        its analysis is dropped if it has not started yet.
        """
        if self._state is SessionState.IDLE:
            self._recorder.close()
            self._pool.shutdown(wait=False)
            return
        self.stop()
        if wait_for_result:
            self._done.wait()
            return
        self._recorder.wait()
        self._pool.shutdown(wait=False, cancel_futures=True)

    # ------------------------------------------------------------------------------------ writer thread

    def _feed(self, mono: Samples) -> None:
        if self._live is not None:
            self._live.feed(mono)

    def _finished(self, rec: RecorderStatus) -> None:
        self._state = SessionState.ANALYSING
        if self._live is not None:
            try:
                self._live.finish()
            except Exception:
                log.exception("finishing the live analysis failed")
        try:
            self._pool.submit(self._analyse, rec)
        except RuntimeError:  # closed without waiting for the result
            self._state = SessionState.DONE
            self._done.set()

    # ------------------------------------------------------------------------------------ model thread

    def _analyse(self, rec: RecorderStatus) -> None:
        assert rec.path is not None
        try:
            result, _ = analyze(rec.path, self._model, self._options)
        except Exception as exc:  # analyze reports problems in the result; this is a last resort
            log.exception("analysis of the take %s failed", rec.path)
            result = TrackResult(
                file=str(rec.path), model=self._model.info.to_dict(), error=f"Analysis failed ({exc})."
            )
        notes = capture_notes(rec)
        if notes:
            result = replace(result, notes=(*result.notes, *notes))
        live = tuple(self._live.scores()) if self._live is not None else ()
        self._take = RecordedTake(rec.path, result, live, rec)
        self._state = SessionState.DONE
        self._done.set()
        self._pool.shutdown(wait=False)
