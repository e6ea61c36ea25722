"""Scoring a take while it is being recorded (the capture session adds its full result when it ends).

The live scores use the one feature code path: the recorded audio (mixed to mono) is resampled to
the feature rate by the same streaming soxr resampler the file decoder uses, turned into mel power
frames by one ``StreamingMel`` over the whole take, and a window is the frames whose centres fall in
it, exactly as ``hitdesk.analysis`` slices a file. That resampler hands its output on in bursts of
about 37 ms, 40-60 ms late, so the spectrogram's columns come from a second, picture-only path: the
low-delay resampler (``LowDelayResampler``) and a mel stream on the same frame grid, fed every block
the recorder hands over, so a column is ready within milliseconds of its audio.

Each window's log-mel uses its own maximum as the 0 dB reference; tempo comes from ``tempo_bpm`` on
the window, duration is the length recorded so far. Times are counted in samples, never on the wall
clock, so the schedule is the same whatever the machine's load:

- ``beginning``: the first W seconds, scored as soon as they are recorded;
- ``now``: the last W seconds, scored at every multiple of the refresh interval (5 s) after W.

When the take ends, its file is analysed by ``hitdesk.analysis.analyze``, the same code as for any
file, and that result (with notes about lost audio) is the take's result.

Threads: ``feed`` and ``finish`` run on the recorder's writer thread and only do the cheap signal
processing; the model runs on one worker thread of its own; the caller (a GUI timer) polls
``status``, ``new_scores`` and ``new_mel_columns``, none of which waits for the others, and may ask
to be told (``on_columns``, called on the writer thread) when new columns are ready.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from hitdesk.analysis import AnalysisOptions
from hitdesk.audio.info import Samples
from hitdesk.audio.resample import LowDelayResampler, StreamResampler
from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES
from hitdesk.dsp.mel import FloatArray, StreamingMel, full_scale_db, melspectrogram, power_to_db, power_to_fs_db
from hitdesk.dsp.stats import tempo_bpm
from hitdesk.dsp.windows import frame_range
from hitdesk.model.runtime import HitModel
from hitdesk.results import Score

log = logging.getLogger(__name__)

DEFAULT_REFRESH_SECONDS = 5.0
BATCH_SECONDS = 0.1  # audio gathered before it goes through the scores' resampler and mel stream
BEGINNING, NOW = "beginning", "now"
# Live spectrogram columns are in dB relative to a full-scale sine, floored here.
MEL_FLOOR_DB = -120.0
_SR = FEATURES.sample_rate
_HOP = FEATURES.hop_length
_ALL_FRAMES = 1 << 62  # "no upper bound" for frame_range


@dataclass(frozen=True)
class LiveScore:
    segment: str  # "beginning" or "now"
    t_s: float  # recorded time at which the window ends (= the take's length when it was scored)
    start_s: float
    end_s: float
    score: Score

    def to_dict(self) -> dict[str, Any]:
        return {
            "event": "live",
            "segment": self.segment,
            "t_s": round(self.t_s, 3),
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            **self.score.to_dict(),
        }


@dataclass(frozen=True)
class MelColumns:
    """New spectrogram columns: ``values`` is n_mels x k, in dB relative to a full-scale sine.

    ``first_frame`` numbers the first column from the start of the take (one frame per ``hop_length``
    samples at the feature rate), so a gap shows when columns were not fetched for a long time.
    """

    first_frame: int
    values: FloatArray

    frame_seconds = _HOP / _SR

    @property
    def start_s(self) -> float:
        return self.first_frame * self.frame_seconds


class _PictureStream:
    """The spectrogram's own path: low-delay resampling, then mel power frames on the features' grid."""

    def __init__(self, native_rate: int) -> None:
        self._resampler = LowDelayResampler(native_rate)
        self._mel = StreamingMel(keep=False)

    @property
    def n_frames(self) -> int:
        return self._mel.n_frames

    def push(self, mono: Samples) -> FloatArray:
        return self._mel.feed(self._resampler.push(mono))

    def finish(self) -> FloatArray:
        last = self._mel.feed(self._resampler.finish())
        return np.concatenate([last, self._mel.finish()], axis=1)


def _warm_up() -> None:
    """The first tempo estimate in a process costs about a second of one-off set-up: pay it early."""
    try:
        tempo_bpm(melspectrogram(np.zeros(_SR, dtype=np.float32)))
    except Exception:  # only a warm-up; a real failure shows when scoring
        log.debug("live analysis warm-up failed", exc_info=True)


def _next_now(after_samples: int, refresh: int) -> int:
    """The first multiple of ``refresh`` strictly after ``after_samples``."""
    return (after_samples // refresh + 1) * refresh


class LiveScorer:
    """Live windows of one take. ``feed``/``finish`` from one thread, the getters from any other."""

    def __init__(
        self,
        model: HitModel,
        native_rate: int,
        window_seconds: float = DEFAULT_WINDOW_SECONDS,
        refresh_seconds: float = DEFAULT_REFRESH_SECONDS,
        executor: ThreadPoolExecutor | None = None,
        column_seconds: float = 60.0,
        on_columns: Callable[[], None] | None = None,
        picture: bool = True,
    ) -> None:
        AnalysisOptions(window_seconds=window_seconds)  # the same bounds as for files
        if not refresh_seconds > 0:
            raise ValueError("the refresh interval must be positive")
        self._model = model
        self._resampler = StreamResampler(native_rate)
        self._mel = StreamingMel(keep=False)
        self._picture = _PictureStream(native_rate) if picture else None  # none: no spectrogram columns
        self._on_columns = on_columns
        self._window = round(window_seconds * _SR)  # samples at the feature rate
        self._refresh = round(refresh_seconds * _SR)
        self._own_pool = executor is None
        self._pool = executor or ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitdesk-live")
        self._chunks: deque[tuple[int, FloatArray]] = deque()  # (first frame, mel power) still needed
        self._n_frames = 0
        self._beginning_done = False
        self._next_now = _next_now(self._window, self._refresh)
        self._finished = False
        self._lock = threading.Lock()  # guards the outputs below
        self._scores: list[LiveScore] = []
        self._unread = 0
        self._columns: deque[tuple[int, FloatArray]] = deque()
        self._column_frames = 0
        self._max_columns = max(1, round(column_seconds * _SR / _HOP))
        self._pending = 0
        self._batch: list[Samples] = []
        self._batched = 0
        self._batch_size = max(1, round(BATCH_SECONDS * native_rate))
        self.problem: str | None = None
        full_scale_db()  # computed now rather than on the writer thread's first block
        self._pool.submit(_warm_up)

    # ------------------------------------------------------------------------------------ writer thread

    def feed(self, mono: Samples) -> None:
        """Native-rate mono samples, in recording order.

        The picture's columns are computed at once; for the scores the audio is gathered into blocks
        of ``BATCH_SECONDS`` first (the writer hands over ~20 ms at a time, and every block kept
        for a window is a chunk, so fewer, larger blocks cost less).
        """
        if self._finished:
            raise RuntimeError("LiveScorer.feed after finish")
        mono = np.asarray(mono, dtype=np.float32)
        if self._picture is not None:
            self._add_columns(self._picture.push(mono))
        self._batch.append(mono)
        self._batched += len(mono)
        if self._batched >= self._batch_size:
            self._process_batch()
            self._schedule(final=False)

    def _process_batch(self) -> None:
        if not self._batch:
            return
        block = self._batch[0] if len(self._batch) == 1 else np.concatenate(self._batch)
        self._batch, self._batched = [], 0
        self._add_frames(self._mel.feed(self._resampler.push(block)))

    def finish(self) -> None:
        """The take has ended: flushes the resampler and the mel frames and schedules what is due."""
        if self._finished:
            return
        self._finished = True
        self._process_batch()
        self._add_frames(self._mel.feed(self._resampler.finish()))
        self._add_frames(self._mel.finish())
        if self._picture is not None:
            self._add_columns(self._picture.finish())
        self._schedule(final=True)

    def _add_frames(self, power: FloatArray) -> None:
        k = power.shape[1]
        if k == 0:
            return
        self._chunks.append((self._n_frames, power))
        self._n_frames += k

    def _add_columns(self, power: FloatArray) -> None:
        k = power.shape[1]
        if k == 0:
            return
        assert self._picture is not None
        first = self._picture.n_frames - k
        db = power_to_fs_db(power)
        np.maximum(db, MEL_FLOOR_DB, out=db)
        with self._lock:
            self._columns.append((first, db.astype(np.float32, copy=False)))
            self._column_frames += k
            while self._column_frames > self._max_columns and len(self._columns) > 1:
                self._column_frames -= self._columns.popleft()[1].shape[1]
        if self._on_columns is not None:
            try:
                self._on_columns()
            except Exception:  # the picture's notice must not stop the take's analysis
                log.exception("the new-columns notice failed; the columns are still polled")
                self._on_columns = None

    def _schedule(self, final: bool) -> None:
        recorded = self._mel.n_samples
        while True:
            segment, end = (BEGINNING, self._window) if not self._beginning_done else (NOW, self._next_now)
            if end > recorded:
                break
            frames = frame_range((end - self._window) / _SR, end / _SR, _ALL_FRAMES)
            if self._n_frames < frames.stop and not final:
                break  # the frames around ``end`` need a little more audio
            power = self._frames(frames.start, min(frames.stop, self._n_frames))
            if segment == BEGINNING:
                self._beginning_done = True
            else:
                self._next_now += self._refresh
            with self._lock:
                self._pending += 1
            self._pool.submit(self._score, segment, end, power)
        self._prune()

    def _frames(self, start: int, stop: int) -> FloatArray:
        parts = [
            p[:, max(start - first, 0) : stop - first]
            for first, p in self._chunks
            if first < stop and first + p.shape[1] > start
        ]
        return (
            np.ascontiguousarray(np.concatenate(parts, axis=1))
            if parts
            else np.zeros((FEATURES.n_mels, 0), dtype=np.float32)
        )

    def _prune(self) -> None:
        end = self._window if not self._beginning_done else self._next_now
        needed = frame_range(max(0, end - self._window) / _SR, end / _SR, _ALL_FRAMES).start
        while self._chunks and self._chunks[0][0] + self._chunks[0][1].shape[1] <= needed:
            self._chunks.popleft()

    # ------------------------------------------------------------------------------------ model thread

    def _score(self, segment: str, end: int, power: FloatArray) -> None:
        try:
            t = end / _SR
            logmel = power_to_db(power)
            tempo = tempo_bpm(power)
            score = self._model.score_logmel([logmel], np.array([[tempo, t]], dtype=np.float32))[0]
            live = LiveScore(segment, t, (end - self._window) / _SR, t, score)
            with self._lock:
                self._scores.append(live)
        except Exception as exc:  # a failed live score is reported; the take goes on
            log.exception("live scoring failed")
            self.problem = f"Live scoring failed ({exc}); the take is still recorded and scored when it ends."
        finally:
            with self._lock:
                self._pending -= 1

    # ------------------------------------------------------------------------------------ any thread

    def new_scores(self) -> list[LiveScore]:
        """Scores computed since the previous call, oldest first."""
        with self._lock:
            out = self._scores[self._unread :]
            self._unread = len(self._scores)
        return out

    def scores(self) -> list[LiveScore]:
        with self._lock:
            return list(self._scores)

    @property
    def busy(self) -> bool:
        """Scores are still being computed."""
        with self._lock:
            return self._pending > 0

    def new_mel_columns(self) -> MelColumns:
        """Spectrogram columns computed since the previous call (at most ``column_seconds`` of them)."""
        with self._lock:
            chunks = list(self._columns)
            self._columns.clear()
            self._column_frames = 0
        if not chunks:
            done = self._picture.n_frames if self._picture is not None else 0
            return MelColumns(done, np.zeros((FEATURES.n_mels, 0), dtype=np.float32))
        first = chunks[0][0]
        return MelColumns(first, np.concatenate([c for _, c in chunks], axis=1))

    def close(self) -> None:
        if self._own_pool:
            self._pool.shutdown(wait=True)
