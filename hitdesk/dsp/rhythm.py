"""librosa's default onset strength and global tempo estimate, in numpy.

The chart statistics hold ``librosa.feature.tempo(y=y, sr=22050)``: this is that algorithm step for
step (spectral flux of the dB mel frames, Hann-windowed autocorrelation over 8 s, mean over time,
log-normal prior around 120 BPM), computed from mel frames we already have. Written out so that
analysis does not import librosa, whose import (numba included) costs seconds of start-up;
tests pin it to librosa's results.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, FeatureConfig

# librosa.feature.tempo defaults.
_START_BPM = 120.0
_STD_BPM = 1.0
_AC_SIZE_S = 8.0
_MAX_TEMPO = 320.0
ONSET_CHUNK_FRAMES = 2048
_GRAM_CHUNK_FRAMES = 2048


def hann(n: int) -> npt.NDArray[np.float64]:
    """Periodic Hann window, as ``scipy.signal.get_window("hann", n, fftbins=True)``."""
    return 0.5 - 0.5 * np.cos(2.0 * np.pi * np.arange(n) / n)


def onset_envelope(mel_power: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> npt.NDArray[np.float32]:
    """``librosa.onset.onset_strength(y=y)`` given the mel power frames of ``y``."""
    S = np.asarray(mel_power, dtype=np.float32)
    n = S.shape[1]
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    # Worked through in chunks of frames (overlapping by one for the difference) to keep memory flat
    # on long tracks; hitdesk.dsp.stats takes the same chunks from a file for the longest ones.
    floor = onset_floor(float(S.max()), cfg)
    flux = np.empty(n - 1, dtype=np.float32)
    for a in range(0, n - 1, ONSET_CHUNK_FRAMES):
        chunk = S[:, a : a + ONSET_CHUNK_FRAMES + 1]
        flux[a : a + chunk.shape[1] - 1] = onset_flux(chunk, floor, cfg)
    return envelope_from_flux(flux, n, cfg)


def onset_floor(max_power: float, cfg: FeatureConfig = FEATURES) -> np.float32:
    """librosa.power_to_db(S) with ref=1.0 floors top_db below the loudest bin: that floor, in dB."""
    return np.float32(10.0 * np.log10(max(cfg.amin, max_power))) - np.float32(cfg.top_db)


def onset_flux(
    chunk: npt.NDArray[np.float32], floor: np.float32, cfg: FeatureConfig = FEATURES
) -> npt.NDArray[np.float32]:
    """The spectral flux between consecutive frames of a chunk (one value fewer than frames)."""
    log_s = np.maximum(10.0 * np.log10(np.maximum(np.float32(cfg.amin), chunk)), floor)
    flux: npt.NDArray[np.float32] = np.maximum(np.float32(0.0), log_s[:, 1:] - log_s[:, :-1]).mean(axis=0)
    return flux


def envelope_from_flux(flux: npt.NDArray[np.float32], n: int, cfg: FeatureConfig = FEATURES) -> npt.NDArray[np.float32]:
    # Lag 1 plus the centring of the frames (n_fft / (2 hop)) are padded at the start.
    pad = 1 + cfg.n_fft // (2 * cfg.hop_length)
    return np.concatenate([np.zeros(pad, dtype=np.float32), flux.astype(np.float32)])[:n]


def _win_length(cfg: FeatureConfig) -> int:
    return int(_AC_SIZE_S * cfg.sample_rate) // cfg.hop_length


def tempo_from_envelope(envelope: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> float:
    """``librosa.feature.tempo(onset_envelope=envelope)`` in BPM (0 when there is no onset at all)."""
    env = np.asarray(envelope, dtype=np.float32).reshape(-1)
    n = env.size
    if n < 2 or not np.any(env > 0):
        return 0.0
    win = _win_length(cfg)
    half = win // 2
    padded = np.pad(env, (half, half), mode="linear_ramp", end_values=(0, 0))
    frames = np.lib.stride_tricks.sliding_window_view(padded, win)[:n]  # (n, win): one frame per onset
    window = hann(win)
    # The mean over frames of each frame's autocorrelation scaled to a maximum of 1. librosa takes
    # the autocorrelations by FFT and divides each by its largest magnitude, which is its value at
    # lag 0 (the frame's energy). Summed over frames, lag k is the sum of the k-th diagonal of
    # F^T F, where F holds the windowed frames each divided by the square root of its energy: one
    # matrix product, which is several times faster than the FFTs and equal to about 1e-15.
    gram = np.zeros((win, win), dtype=np.float64)
    # A chunk of frames at a time: for an hour of audio the whole matrix would take gigabytes.
    for a in range(0, n, _GRAM_CHUNK_FRAMES):
        chunk = frames[a : a + _GRAM_CHUNK_FRAMES] * window
        energy = np.einsum("ij,ij->i", chunk, chunk)
        energy[energy < np.finfo(np.float64).tiny] = 1.0  # silent frames stay unscaled, as in librosa
        chunk *= (1.0 / np.sqrt(energy))[:, None]
        gram += chunk.T @ chunk
    tg = np.array([np.trace(gram, offset=k) for k in range(win)]) / n
    return bpm_from_autocorrelation(tg, cfg)


def bpm_from_autocorrelation(tg: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> float:
    """The tempo librosa picks from a mean normalised onset autocorrelation (lags 0 .. win - 1)."""
    ac = np.asarray(tg, dtype=np.float64)
    win = ac.size
    bpms = np.full(win, np.inf)
    bpms[1:] = 60.0 * cfg.sample_rate / (cfg.hop_length * np.arange(1.0, win))
    with np.errstate(divide="ignore", invalid="ignore"):
        logprior = -0.5 * ((np.log2(bpms) - np.log2(_START_BPM)) / _STD_BPM) ** 2
    logprior[: int(np.argmax(bpms < _MAX_TEMPO))] = -np.inf
    return float(bpms[int(np.argmax(np.log1p(1e6 * ac) + logprior))])


def tempo_bpm(mel_power: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> float:
    return tempo_from_envelope(onset_envelope(mel_power, cfg), cfg)
