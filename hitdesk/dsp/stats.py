"""The 42 per-track statistics the model was trained on: 20 MFCC means, 20 MFCC standard
deviations, tempo and duration, computed with the chart data's recipe from mel power frames.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import scipy.fft

from hitdesk.config import FEATURES, N_STATS, FeatureConfig
from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.mel import FloatArray, melspectrogram, power_to_db
from hitdesk.dsp.rhythm import (
    ONSET_CHUNK_FRAMES,
    envelope_from_flux,
    onset_envelope,
    onset_floor,
    onset_flux,
    tempo_bpm,
    tempo_from_envelope,
)

__all__ = [
    "dct_matrix",
    "frames_onset_envelope",
    "mfcc_stats",
    "onset_envelope",
    "stats_from_frames",
    "stats_from_mel",
    "tempo_bpm",
    "tempo_from_envelope",
    "track_statistics",
]


@functools.cache
def dct_matrix(cfg: FeatureConfig = FEATURES) -> FloatArray:
    """Orthonormal DCT-II rows used by ``librosa.feature.mfcc(S=log_S, n_mfcc)`` (n_mfcc x n_mels).

    The exported model applies the same matrix as a fixed 1x1 convolution, so this is the one
    definition of the MFCC transform.
    """
    eye = np.eye(cfg.n_mels, dtype=np.float64)
    return np.ascontiguousarray(scipy.fft.dct(eye, type=2, norm="ortho", axis=0)[: cfg.n_mfcc], dtype=np.float32)


def mfcc_stats(log_mel: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """Means then population standard deviations over time of the MFCCs of a log-mel (dB) array."""
    log_s = np.asarray(log_mel, dtype=np.float32)
    if log_s.ndim != 2 or log_s.shape[0] != cfg.n_mels or log_s.shape[1] == 0:
        raise ValueError(f"expected a log-mel array of shape ({cfg.n_mels}, frames), got {log_s.shape}")
    # float32 product (20 x frames is small), statistics in float64: an hour's log-mel in float64
    # would double the analysis's peak memory.
    mfcc = (dct_matrix(cfg) @ log_s).astype(np.float64)
    return np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1)]).astype(np.float32)


def stats_from_mel(
    mel_power: npt.ArrayLike, duration_s: float, tempo: float | None = None, cfg: FeatureConfig = FEATURES
) -> FloatArray:
    """The 42 statistics (STAT_COLUMNS order) of mel power frames.

    The dB reference is the maximum of the frames given, so a window's statistics are those of the
    window heard on its own, and a gain change leaves them unchanged. ``duration_s`` is passed in
    because a segment is scored with its track's duration.
    """
    power = np.asarray(mel_power, dtype=np.float32)
    out = np.empty(N_STATS, dtype=np.float32)
    out[: 2 * cfg.n_mfcc] = mfcc_stats(power_to_db(power, cfg), cfg)
    out[-2] = tempo_bpm(power, cfg) if tempo is None else tempo
    out[-1] = duration_s
    return out


def stats_from_frames(frames: MelFrames, duration_s: float, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """``stats_from_mel`` of a whole track's frames: on the one array when they are held in memory,
    a chunk at a time from the file when they were spilled (equal to the one-array statistics within
    float rounding: the means and deviations are summed in another order)."""
    if not frames.spilled:
        return stats_from_mel(frames.array(), duration_s, cfg=cfg)
    n = frames.n_frames
    if n == 0:
        raise ValueError("no mel frames to compute statistics of")
    max_power = frames.max()
    # power_to_db's reference and floor for the whole track, from its loudest bin (which a pass over
    # the frames would find again: the dB of the loudest power is the largest dB).
    ref = 10.0 * np.log10(max(cfg.amin, max_power))
    loudest = 10.0 * np.log10(np.maximum(cfg.amin, np.array([max_power], dtype=np.float32)))
    loudest -= ref
    db_floor = loudest.max() - cfg.top_db
    flux_floor = onset_floor(max_power, cfg)
    dct = dct_matrix(cfg)
    flux = np.empty(max(0, n - 1), dtype=np.float32)
    moments = _Moments(cfg.n_mfcc)
    for a, chunk in frames.chunks(ONSET_CHUNK_FRAMES, overlap=1):
        if a < n - 1:
            flux[a : a + chunk.shape[1] - 1] = onset_flux(chunk, flux_floor, cfg)
        log_s = 10.0 * np.log10(np.maximum(cfg.amin, chunk[:, : min(ONSET_CHUNK_FRAMES, n - a)]))
        log_s -= ref
        np.maximum(log_s, db_floor, out=log_s)
        moments.add((dct @ log_s.astype(np.float32, copy=False)).astype(np.float64))
    out = np.empty(N_STATS, dtype=np.float32)
    out[: 2 * cfg.n_mfcc] = np.concatenate([moments.mean, moments.std()]).astype(np.float32)
    out[-2] = tempo_from_envelope(envelope_from_flux(flux, n, cfg), cfg)
    out[-1] = duration_s
    return out


class _Moments:
    """Running means and population standard deviations of rows, a chunk of columns at a time
    (Chan, Golub and LeVeque's pairwise update: as accurate as two passes over the whole)."""

    def __init__(self, rows: int) -> None:
        self.n = 0
        self.mean = np.zeros(rows)
        self._m2 = np.zeros(rows)

    def add(self, x: npt.NDArray[np.float64]) -> None:
        k = x.shape[1]
        if k == 0:
            return
        mean = x.mean(axis=1)
        m2 = np.square(x - mean[:, None]).sum(axis=1)
        n = self.n + k
        delta = mean - self.mean
        self.mean = self.mean + delta * (k / n)
        self._m2 = self._m2 + m2 + np.square(delta) * (self.n * k / n)
        self.n = n

    def std(self) -> npt.NDArray[np.float64]:
        return np.sqrt(self._m2 / self.n)


def track_statistics(y: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """The recipe on a whole mono signal at ``cfg.sample_rate`` held in memory."""
    samples = np.asarray(y, dtype=np.float32).reshape(-1)
    return stats_from_mel(melspectrogram(samples, cfg), samples.size / cfg.sample_rate, cfg=cfg)


def frames_onset_envelope(frames: MelFrames, cfg: FeatureConfig = FEATURES) -> npt.NDArray[np.float32]:
    """``onset_envelope`` of a whole track's frames, a chunk at a time from the file when they were
    spilled (the same chunks and floor, so the same values)."""
    if not frames.spilled:
        return onset_envelope(frames.array(), cfg)
    n = frames.n_frames
    floor = onset_floor(frames.max(), cfg)
    flux = np.empty(max(0, n - 1), dtype=np.float32)
    for a, chunk in frames.chunks(ONSET_CHUNK_FRAMES, overlap=1):
        if a < n - 1:
            flux[a : a + chunk.shape[1] - 1] = onset_flux(chunk, floor, cfg)
    return envelope_from_flux(flux, n, cfg)
