"""File in, result out: decode, place the windows, compute features, run the model.

Two modes. ``full`` decodes the whole track once, block by block, keeping only its mel power
frames; the overall score is the model on the whole track's statistics, which is what it was
trained on. ``fast`` reads only the three windows and a few evenly spaced short excerpts (by
seeking where the format allows) and scores the overall statistics of those.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import numpy as np

from hitdesk.audio import iter_blocks, probe, read_excerpts, read_tags
from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES, MIN_TRACK_SECONDS
from hitdesk.dsp.mel import FloatArray, StreamingMel, melspectrogram, power_to_db
from hitdesk.dsp.stats import mfcc_stats, onset_envelope, stats_from_mel, tempo_bpm, tempo_from_envelope
from hitdesk.dsp.windows import WindowPlan, content_extent, frame_range, is_digital_silence, plan_windows
from hitdesk.errors import HitdeskError, SilentTrackError, TooShortError
from hitdesk.model.runtime import HitModel
from hitdesk.results import SegmentResult, TrackResult

log = logging.getLogger(__name__)

T = TypeVar("T")

# Fast mode: overall statistics from the three windows plus this many evenly spaced excerpts of
# this length (chosen by measurement against full mode, see bench/fast_agreement.py).
FAST_EXCERPTS = 3
FAST_EXCERPT_SECONDS = 10.0
# Fast mode reads this much more than a window at each end so that leading and trailing silence
# can be skipped without decoding the whole track.
FAST_SILENCE_SLACK_SECONDS = 5.0
# Fast mode decodes the whole track instead when the pieces would be more than this share of it.
FAST_MAX_SHARE = 0.8
# Files read through FFmpeg whose excerpts are still found by seeking: AAC in MP4 (see hitdesk.audio).
_SEEKS_BY_TIMESTAMP = frozenset({".m4a", ".mp4", ".m4b"})


@dataclass(frozen=True)
class AnalysisOptions:
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    fast: bool = False

    def __post_init__(self) -> None:
        if not self.window_seconds >= MIN_TRACK_SECONDS:
            raise ValueError(f"window length must be at least {MIN_TRACK_SECONDS:g} s")


@dataclass
class AnalysisDetail:
    """What the model heard, for drawing: each window's log-mel (dB, 0 at the window's maximum)."""

    plan: WindowPlan | None = None
    window_logmel: dict[str, FloatArray] = field(default_factory=dict)
    track_stats: FloatArray | None = None


@dataclass(frozen=True)
class _Features:
    duration_s: float
    plan: WindowPlan
    window_mel: dict[str, FloatArray]  # mel power of each window
    track_stats: FloatArray
    window_tempo: dict[str, float]  # tempo of each window on its own


_SIDE_THREAD = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hitdesk-dsp")


def _window_tempi(plan: WindowPlan, window_mel: dict[str, FloatArray]) -> dict[str, float]:
    windows = plan.windows[:1] if plan.single else plan.windows
    return {w.name: tempo_bpm(window_mel[w.name]) for w in windows}


def analyze_file(path: str | Path, model: HitModel, options: AnalysisOptions | None = None) -> TrackResult:
    return analyze(path, model, options)[0]


def analyze(
    path: str | Path,
    model: HitModel,
    options: AnalysisOptions | None = None,
    on_window: Callable[[str, FloatArray], None] | None = None,
) -> tuple[TrackResult, AnalysisDetail]:
    """Analyses one file; a problem with the file becomes the result's ``error``, never an exception."""
    opts = options or AnalysisOptions()
    p = Path(path)
    base = TrackResult(file=str(path), model=model.info.to_dict(), mode="fast" if opts.fast else "full")
    detail = AnalysisDetail()
    try:
        tags = read_tags(p).to_dict()
        feats, mode = _fast_features(p, opts) if opts.fast else (_full_features(p, opts), "full")
    except HitdeskError as exc:
        return replace(base, error=str(exc)), detail
    except MemoryError:
        return replace(base, error=f"Cannot analyse '{p.name}': not enough memory."), detail
    except Exception as exc:  # a decoder or library failure on odd input must not stop a batch
        log.exception("analysis of %s failed", p)
        return replace(base, error=f"Cannot analyse '{p.name}': unexpected {type(exc).__name__} ({exc})."), detail

    windows = feats.plan.windows[:1] if feats.plan.single else feats.plan.windows
    logmels = [power_to_db(feats.window_mel[w.name]) for w in windows]
    tempo_duration = np.array([[feats.window_tempo[w.name], feats.duration_s] for w in windows])
    scores = model.score_logmel(logmels, tempo_duration)
    if feats.plan.single:
        scores = scores * 3
        logmels = logmels * 3
    segments = tuple(
        SegmentResult(w.name, w.start_s, w.end_s, s) for w, s in zip(feats.plan.windows, scores, strict=True)
    )
    for w, lm in zip(feats.plan.windows, logmels, strict=True):
        detail.window_logmel[w.name] = lm
        if on_window is not None:
            on_window(w.name, lm)
    detail.plan = feats.plan
    detail.track_stats = feats.track_stats
    # A model without a head (trained on windows alone) forms the overall score from its window scores.
    overall = model.score_stats(feats.track_stats)[0] if model.has_head else model.aggregate(scores)
    familiarity = model.familiarity(feats.track_stats)
    notes = list(feats.plan.notes(opts.window_seconds))
    if familiarity is not None and familiarity.unlike_training_data:
        notes.append(
            "This track's sound is unlike the songs the model was trained on (further from them than 99% of "
            "its training songs), so its scores are not reliable."
        )
    result = TrackResult(
        file=str(path),
        duration_s=feats.duration_s,
        tags=tags,
        segments=segments,
        overall=overall,
        model=model.info.to_dict(),
        mode=mode,
        familiarity=familiarity,
        notes=tuple(notes),
    )
    return result, detail


def _check_length(name: str, duration_s: float) -> None:
    if duration_s < MIN_TRACK_SECONDS:
        raise TooShortError(
            f"'{name}' is {duration_s:.1f} s long; at least {MIN_TRACK_SECONDS:g} s of audio are needed to score it."
        )


def _full_features(path: Path, opts: AnalysisOptions) -> _Features:
    stream = StreamingMel()
    for block in _prefetched(iter_blocks(path)):
        stream.feed(block)
    stream.finish()
    n_samples = stream.n_samples
    duration = n_samples / FEATURES.sample_rate
    _check_length(path.name, duration)
    rms = stream.frame_rms()
    if is_digital_silence(rms):
        raise SilentTrackError(f"'{path.name}' contains only silence, so there is nothing to score.")
    start, end = content_extent(rms, n_samples)
    _check_length(path.name, end - start)
    plan = plan_windows(start, end, opts.window_seconds)
    mel = stream.mel_power()
    window_mel = {w.name: mel[:, frame_range(w.start_s, w.end_s, mel.shape[1])] for w in plan.windows}
    # The whole track's statistics (its tempo dominates) on a second thread while this one works out
    # the windows' tempi: both are mostly FFTs, which release the GIL.
    track_stats = _SIDE_THREAD.submit(stats_from_mel, mel, duration)
    window_tempo = _window_tempi(plan, window_mel)
    return _Features(duration, plan, window_mel, track_stats.result(), window_tempo)


def _mel_and_rms(samples: FloatArray) -> tuple[FloatArray, FloatArray]:
    stream = StreamingMel()
    stream.feed(samples)
    stream.finish()
    return stream.mel_power(), stream.frame_rms()


def _prefetched(blocks: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Runs a block iterator in a thread, so decoding overlaps with the DSP on the other core.

    The decoder and numpy release the GIL for their heavy work. Stopping early closes the source.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(("block", block)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it in its own thread
            put(("error", exc))
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=produce, name="hitdesk-decode", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "block":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        worker.join(timeout=5.0)


def _fast_features(path: Path, opts: AnalysisOptions) -> tuple[_Features, str]:
    info = probe(path)
    w, slack = opts.window_seconds, FAST_SILENCE_SLACK_SECONDS
    dur = info.duration_s
    to_read = 3.0 * w + 2.0 * slack + FAST_EXCERPTS * FAST_EXCERPT_SECONDS
    seeks = info.seekable or path.suffix.lower() in _SEEKS_BY_TIMESTAMP
    if not seeks or to_read > FAST_MAX_SHARE * dur:
        # Reading the pieces would cost about as much as decoding the whole track once.
        return _full_features(path, opts), "full"
    # Beginning and end: a window plus some slack, to find where the audible part starts and ends.
    chunk = w + slack
    head, tail = (np.asarray(x, dtype=np.float32) for x in read_excerpts(path, [0.0, dur - chunk], chunk))
    (head_mel, head_rms), (tail_mel, tail_rms) = _mel_and_rms(head), _mel_and_rms(tail)
    peak = max(float(head_rms.max(initial=0.0)), float(tail_rms.max(initial=0.0)))
    if is_digital_silence(np.array([peak])):
        # Silent at both ends: only a full pass can tell where (and whether) there is music.
        return _full_features(path, opts), "full"
    start, _ = content_extent(head_rms, head.size, peak)
    _, tail_end = content_extent(tail_rms, tail.size, peak)
    end = dur - chunk + tail_end
    _check_length(path.name, end - start)
    plan = plan_windows(start, end, w)
    beginning, middle, ending = plan.windows
    # The middle window, and short excerpts evenly spaced over the audible part between the windows.
    centres = np.linspace(beginning.end_s, ending.start_s, FAST_EXCERPTS + 2)[1:-1]
    ex_starts = [float(c - 0.5 * FAST_EXCERPT_SECONDS) for c in centres]
    mid_audio = np.asarray(read_excerpts(path, [middle.start_s], w)[0], dtype=np.float32)
    excerpts = read_excerpts(path, ex_starts, FAST_EXCERPT_SECONDS) if FAST_EXCERPTS else []
    window_mel = {
        beginning.name: head_mel[:, frame_range(beginning.start_s, beginning.end_s, head_mel.shape[1])],
        middle.name: melspectrogram(mid_audio),
        ending.name: tail_mel[
            :, frame_range(ending.start_s - (dur - chunk), ending.end_s - (dur - chunk), tail_mel.shape[1])
        ],
    }
    win_mels = [window_mel[v.name] for v in plan.windows]
    ex_mels = [melspectrogram(np.asarray(x, dtype=np.float32)) for x in excerpts if np.asarray(x).size]
    joined = np.concatenate(win_mels + ex_mels, axis=1)
    stats = np.empty(2 * FEATURES.n_mfcc + 2, dtype=np.float32)
    stats[:-2] = mfcc_stats(power_to_db(joined))
    stats[-2] = tempo_from_envelope(np.concatenate([onset_envelope(m) for m in win_mels]))
    stats[-1] = dur
    return _Features(dur, plan, window_mel, stats, _window_tempi(plan, window_mel)), "fast"
