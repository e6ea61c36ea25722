"""File in, result out: decode, place the windows, compute features, run the model.

Two modes. ``full`` decodes the whole track once, block by block, keeping only its mel power
frames; the overall score is the model on the whole track's statistics, what it was trained on;
the same pass feeds the meters the native blocks the features are mixed down from. ``fast`` reads
only the three windows and a few evenly spaced short excerpts (by seeking where the format
allows) and scores the overall statistics of those; it measures no loudness (needs the whole track).
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from hitdesk.audio import iter_blocks, probe, read_excerpts, read_pieces, read_tags
from hitdesk.audio.prefetch import prefetched
from hitdesk.audio.problems import collecting
from hitdesk.config import DEFAULT_CURVE_HOP_S, DEFAULT_WINDOW_SECONDS, FEATURES, MIN_TRACK_SECONDS
from hitdesk.dsp.frames import MelFrames, spill_frames
from hitdesk.dsp.loudness import Loudness
from hitdesk.dsp.mel import FloatArray, StreamingMel, melspectrogram, power_to_db, power_to_fs_db
from hitdesk.dsp.meter_tap import MeterTap
from hitdesk.dsp.stats import mfcc_stats, onset_envelope, stats_from_frames, tempo_bpm, tempo_from_envelope
from hitdesk.dsp.windows import Window, WindowPlan, content_extent, frame_range, is_digital_silence, plan_windows
from hitdesk.errors import AnalysisCancelledError, HitdeskError, SilentTrackError, TooShortError
from hitdesk.memory import release_free_memory
from hitdesk.model.runtime import HitModel
from hitdesk.paths import temp_dir
from hitdesk.results import SegmentResult, TrackResult
from hitdesk.style import Style, StyleListener, style_of_pieces, tagged
from hitdesk.take_lyrics import take_embedding

log = logging.getLogger(__name__)

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
# Progress reports are gathered for at least this long, so a fast analysis does not flood a GUI.
PROGRESS_INTERVAL_S = 0.1
# Drawn columns never go below this many dB under full scale.
PROGRESS_FLOOR_DB = -100.0
# Full mode multiplies the mel filterbank by this many frames at a time (about 24 s of audio; see
# StreamingMel), while decoding still hands on 8 s blocks.
_MEL_BATCH_FRAMES = 1024
# Tracks longer than this give freed memory back after their pass (short ones have little to give).
_TRIM_AFTER_S = 600.0
FAST_LOUDNESS_NOTE = "Loudness is measured in full mode only: --fast decodes excerpts."


@dataclass(frozen=True)
class AnalysisOptions:
    window_seconds: float = DEFAULT_WINDOW_SECONDS
    fast: bool = False
    # Threads that read one file's excerpts in fast mode (see hitdesk.audio.parallel). The samples, and
    # so the results, are the same for any count, so it is left out of the options' repr, which keys
    # the result cache.
    decode_threads: int = field(default=1, repr=False, compare=False)
    # The hit curve (hitdesk.explain, full mode only): on or off, and the step between its windows.
    curve: bool = True
    curve_hop_s: float = DEFAULT_CURVE_HOP_S
    style: bool = False  # the music tagger's tags (hitdesk.style), from the same pass or pieces
    lyrics: str | None = None  # pasted lyrics, for models that take them (else the .lrc/.txt beside the file)

    def __post_init__(self) -> None:
        if not self.window_seconds >= MIN_TRACK_SECONDS:
            raise ValueError(f"window length must be at least {MIN_TRACK_SECONDS:g} s")


@dataclass(frozen=True)
class Progress:
    """A piece of the track's log-mel as the analysis computes it, for drawing while it runs.

    ``columns`` are mel frames in dB relative to a full-scale sine (the model's own log-mel is
    relative to each window's maximum, which is not known until the window is complete), starting
    at ``start_s`` on the track's timeline. ``done`` is the share of the work done so far.
    """

    start_s: float
    columns: FloatArray
    done: float
    duration_s: float


ProgressCallback = Callable[[Progress], None]
WindowCallback = Callable[[Window, FloatArray], None]
StopCheck = Callable[[], bool]
# Asked in full mode with the whole track's mel frames (in memory or in the temporary file, open only
# during the call), the window plan, each window's tempo, the duration and the tagger's probabilities
# of the track (None unless tagged: for models that score from them); hitdesk.explain's curve.
TrackHook = Callable[[MelFrames, WindowPlan, dict[str, float], float, "FloatArray | None"], object]


class _Reporter:
    """Collects log-mel columns and hands them on at most every ``PROGRESS_INTERVAL_S`` seconds."""

    def __init__(
        self, callback: ProgressCallback | None, should_stop: StopCheck | None, duration_s: float = 0.0
    ) -> None:
        self.callback = callback
        self.should_stop = should_stop
        self.duration_s = duration_s
        self._pending: list[FloatArray] = []
        self._start_s = 0.0
        self._last = time.monotonic()

    def check(self) -> None:
        if self.should_stop is not None and self.should_stop():
            raise AnalysisCancelledError

    def add(self, start_s: float, mel_power: FloatArray, done: float, final: bool = False) -> None:
        """Columns of mel power starting at ``start_s``; contiguous with the pending ones or not."""
        self.check()
        if self.callback is None:
            return
        hop_s = FEATURES.hop_length / FEATURES.sample_rate
        pending_end = self._start_s + sum(c.shape[1] for c in self._pending) * hop_s
        if self._pending and abs(start_s - pending_end) > 0.5 * hop_s:
            self.flush(done)
        if not self._pending:
            self._start_s = start_s
        if mel_power.shape[1]:
            self._pending.append(np.maximum(power_to_fs_db(mel_power), PROGRESS_FLOOR_DB))
        if final or time.monotonic() - self._last >= PROGRESS_INTERVAL_S:
            self.flush(done)

    def flush(self, done: float) -> None:
        if self.callback is None or not self._pending:
            return
        columns = np.concatenate(self._pending, axis=1) if len(self._pending) > 1 else self._pending[0]
        self._pending = []
        self._last = time.monotonic()
        self.callback(Progress(self._start_s, columns, min(1.0, max(0.0, done)), self.duration_s))


@dataclass
class AnalysisDetail:
    """What the model heard, for drawing: each window's log-mel (dB, 0 at the window's maximum)."""

    plan: WindowPlan | None = None
    window_logmel: dict[str, FloatArray] = field(default_factory=dict)
    track_stats: FloatArray | None = None
    window_tempo: dict[str, float] = field(default_factory=dict)  # each window's own tempo, for hitdesk.explain
    track_extra: object = None  # what the caller's ``on_track`` made of the whole track's frames (full mode)
    onset_envelope: FloatArray | None = None  # the whole track's, at the feature hop (full mode; hitdesk.align)
    style: Style | None = None  # every tag's probability, with ``style`` on


@dataclass(frozen=True)
class _Features:
    duration_s: float
    plan: WindowPlan
    window_mel: dict[str, FloatArray]  # mel power of each window
    track_stats: FloatArray
    window_tempo: dict[str, float]  # tempo of each window on its own
    loudness: Loudness | None = None  # measured in full mode only
    track_extra: object = None  # on_track's answer, full mode only
    style: Style | None = None
    style_note: str | None = None  # why there is no style although it was asked for


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
    on_window: WindowCallback | None = None,
    on_progress: ProgressCallback | None = None,
    should_stop: StopCheck | None = None,
    on_track: TrackHook | None = None,
) -> tuple[TrackResult, AnalysisDetail]:
    """Analyses one file; a problem with the file becomes the result's ``error``, never an exception.

    ``on_progress`` receives the log-mel as it is computed and ``on_window`` each window the model
    scores, both in the calling thread. ``should_stop`` is asked between blocks; when it answers
    True the analysis ends soon with ``AnalysisCancelledError``, the one exception this raises.
    """
    opts = options or AnalysisOptions()
    shown_style, needs_tags = opts.style, bool(model.tag_names)
    if needs_tags:  # the model scores from the tagger's tags: the same pass computes them
        opts = replace(opts, style=True)
    p = Path(path)
    base = TrackResult(file=str(path), model=model.info.to_dict(), mode="fast" if opts.fast else "full")
    detail = AnalysisDetail()
    reporter = _Reporter(on_progress, should_stop)
    try:
        reporter.check()
        tags = read_tags(p).to_dict()
        with collecting() as decode_problems:
            if opts.fast:
                feats, mode = _fast_features(p, opts, reporter)
            else:
                feats, mode = _full_features(p, opts, reporter, on_track), "full"
    except AnalysisCancelledError:
        raise
    except HitdeskError as exc:
        return replace(base, error=str(exc)), detail
    except MemoryError:
        return replace(base, error=f"Cannot analyse '{p.name}': not enough memory."), detail
    except Exception as exc:  # a decoder or library failure on odd input must not stop a batch
        log.exception("analysis of %s failed", p)
        return replace(base, error=f"Cannot analyse '{p.name}': unexpected {type(exc).__name__} ({exc})."), detail

    windows = feats.plan.windows[:1] if feats.plan.single else feats.plan.windows
    logmels = [power_to_db(feats.window_mel[w.name]) for w in windows]
    if on_window is not None:  # what the model is about to hear, before it is scored
        for w, lm in zip(windows, logmels, strict=True):
            on_window(w, lm)
    reporter.check()
    tempo_duration = np.array([[feats.window_tempo[w.name], feats.duration_s] for w in windows])
    if needs_tags and (feats.style is None or feats.style.tags != model.tag_names):
        log.warning("no usable tags for %s: %s", p, feats.style_note or "the tagger has other tags")
        why = f"Model '{model.info.name}' scores from the music tagger's tags, and '{p.name}' has none it can use."
        return replace(base, error=why), detail
    lyrics, lyrics_note = take_embedding(p, model.runtime, opts.lyrics)
    scores = model.score_logmel(
        logmels, tempo_duration, tags=None if feats.style is None else feats.style.probabilities, lyrics=lyrics
    )
    if feats.plan.single:
        scores = scores * 3
        logmels = logmels * 3
    segments = tuple(
        SegmentResult(w.name, w.start_s, w.end_s, s) for w, s in zip(feats.plan.windows, scores, strict=True)
    )
    for w, lm in zip(feats.plan.windows, logmels, strict=True):
        detail.window_logmel[w.name] = lm
    detail.plan = feats.plan
    detail.track_stats = feats.track_stats
    detail.window_tempo = dict(feats.window_tempo)
    detail.track_extra = feats.track_extra
    detail.style = feats.style
    # A model without a head (trained on windows alone) forms the overall score from its window scores.
    overall = model.score_stats(feats.track_stats)[0] if model.has_head else model.aggregate(scores)
    familiarity = model.familiarity(feats.track_stats)
    # What the decoder had to work around (a truncated or damaged file, unusable samples) comes first.
    notes = decode_problems + list(feats.plan.notes(opts.window_seconds))
    if familiarity is not None and familiarity.unlike_training_data:
        notes.append(
            "This track's sound is unlike the songs the model was trained on (further from them than 99% of "
            "its training songs), so its scores are not reliable."
        )
    if mode == "fast":
        notes.append(FAST_LOUDNESS_NOTE)
    notes += [note for note in (feats.style_note, lyrics_note) if note]  # the tagger's, the lyrics'
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
        loudness=feats.loudness,
        style=None if feats.style is None or not shown_style else feats.style.top(),
    )
    return result, detail


def _check_length(name: str, duration_s: float) -> None:
    if duration_s < MIN_TRACK_SECONDS:
        raise TooShortError(
            f"'{name}' is {duration_s:.1f} s long; at least {MIN_TRACK_SECONDS:g} s of audio are needed to score it."
        )


@dataclass(frozen=True)
class TrackMel:
    """A whole track's mel power frames, its length and where its audible part lies (seconds)."""

    mel: FloatArray
    duration_s: float
    start_s: float
    end_s: float
    loudness: Loudness | None = None


def track_mel(
    path: Path,
    reporter: _Reporter | None = None,
    loudness: bool = False,
    store: MelFrames | None = None,
    listener: StyleListener | None = None,
) -> TrackMel:
    """One decode of the whole file into mel frames, as full mode does it (training reuses this).

    With ``loudness`` the same pass also measures integrated loudness and true peak from the
    native blocks. Raises the one-sentence errors for a track that is too short or silent. With
    ``store`` the frames go there (full mode's, which may spill them to a file) and ``mel`` is empty.
    A ``listener`` hears every block of the same pass (the tagger's input).
    """
    frames_to = MelFrames() if store is None else store
    report = reporter or _Reporter(None, None)
    if report.callback is not None and not report.duration_s:
        with contextlib.suppress(HitdeskError):  # the decoder below gives the sentence for this file
            report.duration_s = probe(path).duration_s
    hop_s = FEATURES.hop_length / FEATURES.sample_rate
    stream = StreamingMel(batch_frames=_MEL_BATCH_FRAMES, keep_mel=False)
    frames = 0
    total = report.duration_s or 0.0
    tap = MeterTap() if loudness else None
    for block in prefetched(iter_blocks(path, native_sink=tap)):
        report.check()
        new = stream.feed(block)
        frames_to.append(new)
        if listener is not None:
            listener.feed(block)
        if tap is not None:
            tap.drain()
        report.add(frames * hop_s, new, stream.n_samples / FEATURES.sample_rate / total if total else 0.0)
        frames += new.shape[1]
    frames_to.append(last := stream.finish())
    report.add(frames * hop_s, last, 1.0, final=True)
    n_samples = stream.n_samples
    duration = n_samples / FEATURES.sample_rate
    _check_length(path.name, duration)
    rms = stream.frame_rms()
    if is_digital_silence(rms):
        raise SilentTrackError(f"'{path.name}' contains only silence, so there is nothing to score.")
    start, end = content_extent(rms, n_samples)
    _check_length(path.name, end - start)
    mel = frames_to.array() if store is None else stream.mel_power()  # the latter empty: not kept
    return TrackMel(mel, duration, start, end, None if tap is None else tap.result())


def _full_features(
    path: Path, opts: AnalysisOptions, reporter: _Reporter | None = None, on_track: TrackHook | None = None
) -> _Features:
    with MelFrames(spill_frames(), temp_dir(), path.name) as frames:  # a long track's spill to a file
        listener = StyleListener() if opts.style else None
        track = track_mel(path, reporter, loudness=True, store=frames, listener=listener)
        if track.duration_s > _TRIM_AFTER_S:
            release_free_memory()  # before the statistics allocate theirs (see hitdesk.memory)
        duration, n = track.duration_s, frames.n_frames
        plan = plan_windows(track.start_s, track.end_s, opts.window_seconds)
        window_mel = {w.name: frames.read(frame_range(w.start_s, w.end_s, n)) for w in plan.windows}
        # The windows' tempi (their frames are in memory) on a second thread while this one works out the
        # whole track's statistics (its tempo dominates): both are mostly FFTs, which release the GIL.
        window_tempo = _SIDE_THREAD.submit(_window_tempi, plan, window_mel)
        track_stats = stats_from_frames(frames, duration)
        tempi = window_tempo.result()
        style, note = (None, None) if listener is None else tagged(listener.finish)
        tags = None if style is None else style.probabilities
        extra = None if on_track is None else on_track(frames, plan, tempi, duration, tags)  # while the frames exist
        return _Features(duration, plan, window_mel, track_stats, tempi, track.loudness, extra, style, note)


def _mel_and_rms(samples: FloatArray) -> tuple[FloatArray, FloatArray]:
    stream = StreamingMel()
    stream.feed(samples)
    stream.finish()
    return stream.mel_power(), stream.frame_rms()


def _fast_features(path: Path, opts: AnalysisOptions, reporter: _Reporter | None = None) -> tuple[_Features, str]:
    report = reporter or _Reporter(None, None)
    info = probe(path)
    report.duration_s = info.duration_s
    w, slack = opts.window_seconds, FAST_SILENCE_SLACK_SECONDS
    dur = info.duration_s
    to_read = 3.0 * w + 2.0 * slack + FAST_EXCERPTS * FAST_EXCERPT_SECONDS
    seeks = info.seekable or path.suffix.lower() in _SEEKS_BY_TIMESTAMP
    if not seeks or to_read > FAST_MAX_SHARE * dur:
        # Reading the pieces would cost about as much as decoding the whole track once.
        return _full_features(path, opts, report), "full"
    # Everything is read at once (two readers with two threads): the beginning and the end, a
    # window plus some slack to find where the audible part starts and ends; the middle, a window
    # plus the same slack around the track's centre (the audible part's centre lies within half the
    # slack of it unless more than the slack is silent); and short excerpts evenly spaced between
    # the nominal windows.
    chunk = w + slack
    centres = np.linspace(w, dur - w, FAST_EXCERPTS + 2)[1:-1]
    ex_starts = [float(max(0.0, c - 0.5 * FAST_EXCERPT_SECONDS)) for c in centres]
    mid_lo = max(0.0, 0.5 * dur - 0.5 * chunk)
    pieces = [(0.0, chunk), (dur - chunk, chunk), (mid_lo, chunk)] + [(s, FAST_EXCERPT_SECONDS) for s in ex_starts]
    read = [np.asarray(x, dtype=np.float32) for x in read_pieces(path, pieces, opts.decode_threads)]
    head, tail, mid_region, excerpts = read[0], read[1], read[2], read[3:]
    report.check()
    (head_mel, head_rms), (tail_mel, tail_rms) = _mel_and_rms(head), _mel_and_rms(tail)
    report.add(0.0, head_mel, 0.4)
    report.add(dur - chunk, tail_mel, 0.6, final=True)
    peak = max(float(head_rms.max(initial=0.0)), float(tail_rms.max(initial=0.0)))
    if is_digital_silence(np.array([peak])):
        # Silent at both ends: only a full pass can tell where (and whether) there is music.
        return _full_features(path, opts, report), "full"
    start, _ = content_extent(head_rms, head.size, peak)
    _, tail_end = content_extent(tail_rms, tail.size, peak)
    end = dur - chunk + tail_end
    _check_length(path.name, end - start)
    plan = plan_windows(start, end, w)
    beginning, middle, ending = plan.windows
    first = round(middle.start_s * FEATURES.sample_rate) - round(mid_lo * FEATURES.sample_rate)
    length = round(w * FEATURES.sample_rate)
    if first >= 0 and first + length <= mid_region.size:
        mid_audio = mid_region[first : first + length]  # the same samples a read at the window gives
    else:  # long silence at one end moved the middle out of the piece read for it
        mid_audio = np.asarray(read_excerpts(path, [middle.start_s], w)[0], dtype=np.float32)
    mid_mel = melspectrogram(mid_audio)
    report.add(middle.start_s, mid_mel, 0.8, final=True)
    window_mel = {
        beginning.name: head_mel[:, frame_range(beginning.start_s, beginning.end_s, head_mel.shape[1])],
        middle.name: mid_mel,
        ending.name: tail_mel[
            :, frame_range(ending.start_s - (dur - chunk), ending.end_s - (dur - chunk), tail_mel.shape[1])
        ],
    }
    win_mels = [window_mel[v.name] for v in plan.windows]
    ex_mels = []
    for start_s, x in zip(ex_starts, excerpts, strict=True):
        if x.size:
            ex_mels.append(melspectrogram(x))
            report.add(start_s, ex_mels[-1], 0.9, final=True)
    joined = np.concatenate(win_mels + ex_mels, axis=1)
    stats = np.empty(2 * FEATURES.n_mfcc + 2, dtype=np.float32)
    stats[:-2] = mfcc_stats(power_to_db(joined))
    stats[-2] = tempo_from_envelope(np.concatenate([onset_envelope(m) for m in win_mels]))
    stats[-1] = dur
    heard = [(0.0, head), (mid_lo, mid_region), (dur - chunk, tail), *zip(ex_starts, excerpts, strict=True)]
    style, note = tagged(lambda: style_of_pieces(heard)) if opts.style else (None, None)
    return _Features(
        dur, plan, window_mel, stats, _window_tempi(plan, window_mel), style=style, style_note=note
    ), "fast"
