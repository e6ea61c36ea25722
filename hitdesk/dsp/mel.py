"""Log-mel spectrogram, computed block by block.

The frames are those of ``librosa.feature.melspectrogram(y, sr, n_fft, hop_length, n_mels)`` with
its defaults (centred frames, zero padding, periodic Hann window, power 2, Slaney mel filters), so
statistics computed from them follow the recipe the chart data was made with. Working block by
block keeps memory bounded on long files: only the mel power (128 floats a frame) is kept, never
the audio or the linear spectrogram.
"""

from __future__ import annotations

import functools

import numpy as np
import numpy.typing as npt
import scipy.fft

from hitdesk.config import FEATURES, FeatureConfig
from hitdesk.dsp.rhythm import hann

FloatArray = npt.NDArray[np.float32]

# Frames transformed at a time: bounds the temporary linear spectrogram to about 8 MB.
_FRAMES_PER_CHUNK = 1024
# OpenBLAS multiplies the filterbank by fewer than about 8 frames with other kernels than by more,
# and their rounding differs; by 8 or more its result for a frame does not depend on how many
# frames share the product (tested). Batched products therefore take such small groups on their own.
_SMALL_GROUP = 16


def _hz_to_mel(hz: npt.NDArray[np.float64], htk: bool) -> npt.NDArray[np.float64]:
    if htk:
        return 2595.0 * np.log10(1.0 + hz / 700.0)
    # Slaney's scale: linear below 1 kHz, logarithmic above.
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    mels = hz / f_sp
    high = hz >= min_log_hz
    mels[high] = min_log_mel + np.log(hz[high] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: npt.NDArray[np.float64], htk: bool) -> npt.NDArray[np.float64]:
    if htk:
        return 700.0 * (10.0 ** (mels / 2595.0) - 1.0)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    hz = f_sp * mels
    high = mels >= min_log_mel
    hz[high] = min_log_hz * np.exp(logstep * (mels[high] - min_log_mel))
    return hz


def mel_band_centres(cfg: FeatureConfig = FEATURES) -> npt.NDArray[np.float64]:
    """The centre frequency (Hz) of each mel band, the peak of its triangle in ``mel_basis``."""
    lo, hi = _hz_to_mel(np.array([cfg.fmin, cfg.fmax], dtype=np.float64), cfg.htk)
    return _mel_to_hz(np.linspace(lo, hi, cfg.n_mels + 2), cfg.htk)[1:-1]


@functools.cache
def mel_basis(cfg: FeatureConfig = FEATURES) -> FloatArray:
    """The mel filterbank of ``librosa.filters.mel`` (triangles on the mel scale, Slaney area norm).

    Written out so analysis does not import librosa (seconds of start-up); a test pins it to librosa.
    """
    if cfg.mel_norm != "slaney":
        raise ValueError(f"unsupported mel normalisation {cfg.mel_norm!r}")
    fft_freqs = np.linspace(0.0, cfg.sample_rate / 2.0, 1 + cfg.n_fft // 2)
    edges = np.array([cfg.fmin, cfg.fmax], dtype=np.float64)
    lo, hi = _hz_to_mel(edges, cfg.htk)
    mel_f = _mel_to_hz(np.linspace(lo, hi, cfg.n_mels + 2), cfg.htk)
    fdiff = np.diff(mel_f)
    ramps = np.subtract.outer(mel_f, fft_freqs)
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (mel_f[2:] - mel_f[:-2]))[:, None]
    return np.ascontiguousarray(weights, dtype=np.float32)


@functools.cache
def _hann(n_fft: int) -> FloatArray:
    return hann(n_fft).astype(np.float32)


class StreamingMel:
    """Mel power frames of a signal fed in arbitrary blocks.

    Feeding the whole signal at once or in any split gives the same frames. Alongside the mel
    power it keeps each frame's RMS level (same framing), used to find leading and trailing silence.
    With ``keep=False`` it keeps neither and only hands the frames on (live use, where the caller
    keeps what it still needs and a take can run for hours); with ``keep_mel=False`` it keeps the RMS
    levels but only hands the mel frames on (full mode stores them itself, see ``MelFrames``).

    With ``batch_frames`` the filterbank product waits until that many frames' spectra are pending
    and then takes them in one product (``feed`` returns nothing until then). Each product wakes
    numpy's second BLAS thread, which waits for a core that the decoding thread of the same
    analysis, or another program, is using: at 8 s blocks that wait was longer than the mel itself
    on a busy machine. The frames are the same, bit for bit, as without batching.
    """

    def __init__(
        self, cfg: FeatureConfig = FEATURES, keep: bool = True, batch_frames: int = 0, keep_mel: bool = True
    ) -> None:
        self.cfg = cfg
        self.keep = keep
        self._keep_mel = keep and keep_mel
        self._batch = batch_frames
        self._pending: list[FloatArray] = []  # power spectra (frames x bins) awaiting the filterbank
        self._pad = cfg.n_fft // 2
        # Samples not yet consumed by a frame, starting with the centring pad of zeros.
        self._buf: FloatArray = np.zeros(self._pad, dtype=np.float32)
        self._n_samples = 0
        self._n_frames = 0
        self._mel_chunks: list[FloatArray] = []
        self._rms_chunks: list[FloatArray] = []
        self._finished = False

    @property
    def n_samples(self) -> int:
        return self._n_samples

    def feed(self, block: npt.ArrayLike) -> FloatArray:
        """Adds samples; returns the mel power frames that became complete (n_mels x k)."""
        if self._finished:
            raise RuntimeError("StreamingMel.feed after finish")
        samples = np.asarray(block, dtype=np.float32).reshape(-1)
        self._n_samples += samples.size
        self._buf = np.concatenate([self._buf, samples])
        return self._emit()

    def finish(self) -> FloatArray:
        """Pads the end as librosa does and returns the last frames."""
        if self._finished:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        self._finished = True
        self._buf = np.concatenate([self._buf, np.zeros(self._pad, dtype=np.float32)])
        total = 1 + self._n_samples // self.cfg.hop_length
        return self._emit(limit=total - self._n_frames)

    @property
    def n_frames(self) -> int:
        """Frames handed out so far."""
        return self._n_frames - sum(len(p) for p in self._pending)

    def mel_power(self) -> FloatArray:
        """All frames so far (n_mels x frames); none when not keeping them."""
        self._flush()
        if not self._mel_chunks:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        if len(self._mel_chunks) > 1:
            self._mel_chunks = [np.concatenate(self._mel_chunks, axis=1)]
        return self._mel_chunks[0]

    def frame_rms(self) -> FloatArray:
        if not self._rms_chunks:
            return np.zeros(0, dtype=np.float32)
        if len(self._rms_chunks) > 1:
            self._rms_chunks = [np.concatenate(self._rms_chunks)]
        return self._rms_chunks[0]

    def _emit(self, limit: int | None = None) -> FloatArray:
        n_fft, hop = self.cfg.n_fft, self.cfg.hop_length
        if self._buf.size < n_fft:
            return self._flush() if limit is not None else np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        n_frames = 1 + (self._buf.size - n_fft) // hop
        if limit is not None:
            n_frames = max(0, min(n_frames, limit))
        frames = np.lib.stride_tricks.sliding_window_view(self._buf, n_fft)[::hop][:n_frames]
        out = []
        for a in range(0, n_frames, _FRAMES_PER_CHUNK):
            power, rms = _power_frames(frames[a : a + _FRAMES_PER_CHUNK], self.cfg)
            if self.keep:
                self._rms_chunks.append(rms)
            if self._batch:
                self._pending.append(power)
            else:
                out.append(_mel_of(power, self.cfg))
        self._n_frames += n_frames
        self._buf = self._buf[n_frames * hop :].copy()
        if self._batch and (limit is not None or sum(len(p) for p in self._pending) >= self._batch):
            out.append(self._flush())
        mel = np.concatenate(out, axis=1) if len(out) > 1 else out[0] if out else None
        if mel is None:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        if self._keep_mel and not self._batch:
            self._mel_chunks.append(mel)
        return mel

    def _flush(self) -> FloatArray:
        """The filterbank on the pending spectra: consecutive groups of 16 frames or more in one
        product, smaller groups on their own (see ``_SMALL_GROUP``)."""
        out: list[FloatArray] = []
        run: list[FloatArray] = []
        for power in [*self._pending, None]:
            if power is not None and len(power) >= _SMALL_GROUP:
                run.append(power)
                continue
            if run:
                out.append(_mel_of(np.concatenate(run) if len(run) > 1 else run[0], self.cfg))
                run = []
            if power is not None:
                out.append(_mel_of(power, self.cfg))
        self._pending = []
        if not out:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        mel = np.concatenate(out, axis=1) if len(out) > 1 else out[0]
        if self._keep_mel:
            self._mel_chunks.append(mel)
        return mel


def _power_frames(chunk: FloatArray, cfg: FeatureConfig) -> tuple[FloatArray, FloatArray]:
    """Power spectra (frames x bins) and RMS of up to ``_FRAMES_PER_CHUNK`` frames."""
    rms = np.sqrt(np.mean(np.square(chunk), axis=1))
    spec = scipy.fft.rfft(chunk * _hann(cfg.n_fft), axis=1)
    return np.square(spec.real) + np.square(spec.imag), rms


def _mel_of(power: FloatArray, cfg: FeatureConfig) -> FloatArray:
    out: FloatArray = mel_basis(cfg) @ power.T
    return out


def melspectrogram(y: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """Mel power of a whole signal in memory (n_mels x frames)."""
    stream = StreamingMel(cfg)
    stream.feed(y)
    stream.finish()
    return stream.mel_power()


def power_to_db(mel_power: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """``librosa.power_to_db(S, ref=np.max)``: 0 dB at the loudest bin, floor ``top_db`` below it."""
    S = np.asarray(mel_power, dtype=np.float32)
    if S.size == 0:
        return S.copy()
    log_s = 10.0 * np.log10(np.maximum(cfg.amin, S))
    log_s -= 10.0 * np.log10(max(cfg.amin, float(S.max())))
    np.maximum(log_s, log_s.max() - cfg.top_db, out=log_s)
    return log_s.astype(np.float32, copy=False)


@functools.cache
def full_scale_db(cfg: FeatureConfig = FEATURES) -> float:
    """The loudest mel bin of a 1 kHz sine at full scale, in dB: the 0 dB of drawings on a fixed scale.

    The model's log-mel is relative to each window's own maximum; a picture that grows while audio
    arrives (recording, or a file being analysed) cannot know that maximum yet, so it uses this.
    """
    t = np.arange(cfg.sample_rate // 4) / cfg.sample_rate
    power = melspectrogram(np.sin(2 * np.pi * 1000.0 * t).astype(np.float32), cfg)
    return float(10.0 * np.log10(power.max()))


def power_to_fs_db(mel_power: npt.ArrayLike, cfg: FeatureConfig = FEATURES) -> FloatArray:
    """Mel power in dB relative to a full-scale sine (see ``full_scale_db``), floored at ``amin``."""
    power = np.asarray(mel_power, dtype=np.float32)
    db = 10.0 * np.log10(np.maximum(power, cfg.amin)) - full_scale_db(cfg)
    return db.astype(np.float32, copy=False)
