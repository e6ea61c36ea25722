"""The hit curve: the model's score of windows sliding across the track, from the mel the analysis kept.

Every window is scored like the analysis's own windows: its log-mel relative to its own maximum,
a tempo and the track's duration, through the combined graph. The first window is the beginning
window and the last one ends where the end window ends, so those score exactly like the segments.

Tempo is the costly input. Estimating it on each window alone (as the analysis does for its three
windows) costs about 50 ms a window, which for a window every 5 s would add more than half to the
analysis. Instead, the onset envelope of the whole track is computed once and each window's tempo
is picked from the mean autocorrelation of the 8 s frames centred in it, summed block by block
(``context_tempi``): the same estimate, except that frames near a window's edges see the music
around the window rather than a ramp to zero (on the corpus, 406 of 416 windows of 30 s every 5 s
get the same tempo both ways). Windows that are one of the analysis's own take the analysis's score.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.fft

from hitdesk.config import FEATURES
from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.mel import FloatArray, power_to_db
from hitdesk.dsp.rhythm import bpm_from_autocorrelation, hann, onset_envelope
from hitdesk.dsp.stats import frames_onset_envelope
from hitdesk.dsp.windows import WindowPlan, frame_range
from hitdesk.insights import CurvePoint, HitCurve
from hitdesk.model.runtime import HitModel

_AC_SIZE_S = 8.0  # librosa.feature.tempo's autocorrelation window, as hitdesk.dsp.rhythm
_CHUNK_FRAMES = 2048  # onset frames transformed at once: memory stays flat on long tracks
_SCORE_BATCH = 32  # windows given to the model at once (32 log-mel windows of 30 s: about 20 MB)
_SAME_S = 1e-6


def curve_windows(plan: WindowPlan, window_s: float, hop_s: float) -> list[tuple[float, float]]:
    """(start, end) seconds of the curve's windows, or none when the audible part is under two windows."""
    start, end = plan.content_start_s, plan.content_end_s
    if end - start < 2.0 * window_s:
        return []
    steps = int(np.floor((end - window_s - start) / hop_s + 1e-9))
    out = [(start + k * hop_s, start + k * hop_s + window_s) for k in range(steps + 1)]
    if out[-1][1] < end - _SAME_S:
        out.append((end - window_s, end))
    return out


def context_tempi(mel: FloatArray, spans: list[slice]) -> list[float]:
    """Tempo (BPM) of each frame span, from the whole track's onset envelope (see the module docstring)."""
    return envelope_tempi(onset_envelope(mel, FEATURES), spans)


def envelope_tempi(envelope: npt.ArrayLike, spans: list[slice]) -> list[float]:
    """``context_tempi`` given the whole track's onset envelope."""
    cfg = FEATURES
    env = np.asarray(envelope, dtype=np.float64)
    win = int(_AC_SIZE_S * cfg.sample_rate) // cfg.hop_length
    half = win // 2
    padded = np.pad(env, (half, half), mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)  # frame t is centred on onset frame t
    window = hann(win)
    n_fft = scipy.fft.next_fast_len(2 * win)  # no wrap-around for lags below win
    bounds = sorted({s.start for s in spans} | {s.stop for s in spans})
    sums = np.zeros((len(bounds), n_fft // 2 + 1), dtype=np.float64)  # row i: frames before bounds[i]
    for i in range(1, len(bounds)):
        total = np.zeros(n_fft // 2 + 1, dtype=np.float64)
        for a in range(bounds[i - 1], bounds[i], _CHUNK_FRAMES):
            chunk = frames[a : min(a + _CHUNK_FRAMES, bounds[i])] * window
            energy = np.einsum("ij,ij->i", chunk, chunk)
            energy[energy < np.finfo(np.float64).tiny] = 1.0  # silent frames stay unscaled, as in librosa
            chunk *= (1.0 / np.sqrt(energy))[:, None]
            spec = scipy.fft.rfft(chunk, n=n_fft, axis=1)
            total += (spec.real**2 + spec.imag**2).sum(axis=0)
        sums[i] = sums[i - 1] + total
    index = {b: i for i, b in enumerate(bounds)}
    out = []
    for s in spans:
        n = s.stop - s.start
        if n < 2 or not np.any(env[s] > 0):
            out.append(0.0)
            continue
        ac = scipy.fft.irfft(sums[index[s.stop]] - sums[index[s.start]], n=n_fft)[:win] / n
        out.append(bpm_from_autocorrelation(ac, cfg))
    return out


def hit_curve(
    model: HitModel,
    mel: FloatArray | MelFrames,
    plan: WindowPlan,
    duration_s: float,
    window_s: float,
    hop_s: float,
    window_tempo: dict[str, float],
    envelope: npt.NDArray[np.float32] | None = None,
    tags: npt.ArrayLike | None = None,
    lyrics: npt.ArrayLike | None = None,
) -> HitCurve | None:
    """The curve from a whole track's mel power (an array, or the analysis's frames, read a window at a
    time when they are in a temporary file); None when the audible part is shorter than two windows.

    A curve window that is one of the analysis's own (``plan``) is scored with the tempo the analysis
    measured on it; ``with_window_scores`` then gives it the analysis's own score. ``envelope``: the
    frames' onset envelope when the caller has it already; ``tags`` the tagger's probabilities of the
    track, for a model that scores from them (every window gets the track's).
    """
    check_hop(hop_s)
    spans_s = curve_windows(plan, window_s, hop_s)
    if not spans_s:
        return None
    frames = mel if isinstance(mel, MelFrames) else MelFrames.holding(mel)
    n = frames.n_frames
    spans = [frame_range(a, b, n) for a, b in spans_s]
    own = [_plan_window(plan, a, b) for a, b in spans_s]
    tempi = envelope_tempi(frames_onset_envelope(frames) if envelope is None else envelope, spans)
    tempi = [window_tempo.get(name, t) if name is not None else t for name, t in zip(own, tempi, strict=True)]
    scored: list[float] = []
    for a in range(0, len(spans), _SCORE_BATCH):
        logmels = [power_to_db(frames.read(s)) for s in spans[a : a + _SCORE_BATCH]]
        td = np.array([[t, duration_s] for t in tempi[a : a + _SCORE_BATCH]], dtype=np.float64)
        scored += [s.p_hit for s in model.score_logmel(logmels, td, tags=tags, lyrics=lyrics)]  # the take's own
    return HitCurve(window_s, hop_s, tuple(CurvePoint(a, b, p) for (a, b), p in zip(spans_s, scored, strict=True)))


def check_hop(hop_s: float) -> None:
    """Raises ``ValueError`` for a hop that is not a positive number of seconds."""
    if not (np.isfinite(hop_s) and hop_s > 0):
        raise ValueError("the curve's hop must be a positive number of seconds")


def _plan_window(plan: WindowPlan, start_s: float, end_s: float) -> str | None:
    """The name of the analysis's window that spans exactly these seconds, if one does."""
    for w in plan.windows:
        if abs(w.start_s - start_s) < _SAME_S and abs(w.end_s - end_s) < _SAME_S:
            return w.name
    return None


def exact_window_tempi(mel: npt.ArrayLike, spans: list[slice]) -> list[float]:
    """Each span's tempo measured on the span alone, as the analysis does (for measuring ``context_tempi``)."""
    from hitdesk.dsp.rhythm import tempo_bpm

    power = np.asarray(mel, dtype=np.float32)
    return [tempo_bpm(power[:, s]) for s in spans]


def with_window_scores(curve: object, plan: WindowPlan, scores: dict[str, float]) -> HitCurve | None:
    """The curve (None, or what ``hit_curve`` made) with its points that are one of ``plan``'s windows
    scored as the analysis scored them."""
    if not isinstance(curve, HitCurve):
        return None
    points = []
    for p in curve.points:
        name = _plan_window(plan, p.start_s, p.end_s)
        points.append(CurvePoint(p.start_s, p.end_s, scores[name]) if name in scores else p)
    return HitCurve(curve.window_s, curve.hop_s, tuple(points))
