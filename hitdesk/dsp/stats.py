"""The 42 per-track statistics the model was trained on: 20 MFCC means, 20 MFCC standard
deviations, tempo and duration, computed with the chart data's recipe from mel power frames.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import scipy.fft

from hitdesk.config import FEATURES, N_STATS, FeatureConfig
from hitdesk.dsp.mel import FloatArray, melspectrogram, power_to_db
from hitdesk.dsp.rhythm import onset_envelope, tempo_bpm, tempo_from_envelope

__all__ = [
    "dct_matrix",
    "mfcc_stats",
    "onset_envelope",
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


def track_statistics(y: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """The recipe on a whole mono signal at ``cfg.sample_rate`` held in memory."""
    samples = np.asarray(y, dtype=np.float32).reshape(-1)
    return stats_from_mel(melspectrogram(samples, cfg), samples.size / cfg.sample_rate, cfg=cfg)
