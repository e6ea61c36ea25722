"""Integrated loudness (ITU-R BS.1770-4, LUFS) and true peak (dBTP) of a file, computed block by block.

No Qt here: the app runs this in a worker. The model's decoder mixes to mono at 22,050 Hz, which is
right for the features but wrong for loudness (a stereo mix measured as its mono average reads about
3 dB low, and inter-sample peaks above 11 kHz vanish), so this module decodes the native channels at
the native rate itself. The K-weighting filters are pyloudnorm's; the gating follows
``pyloudnorm.Meter.integrated_loudness`` exactly, but on running sums, so a long track is never held
in memory (a test checks the two agree).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import av
import numpy as np
import numpy.typing as npt
import soundfile as sf

from hitdesk.audio.inputs import check_input

FloatArray = npt.NDArray[np.float64]

_GATE_BLOCK_S = 0.400
_GATE_STEP = 0.25  # 75 % overlap
_ABSOLUTE_GATE_LUFS = -70.0
_CHANNEL_GAINS = (1.0, 1.0, 1.0, 1.41, 1.41)  # L, R, C, Ls, Rs (BS.1770)
_OVERSAMPLE = 4
_PEAK_CONTEXT = 32  # input samples either side; resample_poly's filter for 4x spans 10 input samples each side
_BLOCK_FRAMES = 1 << 16


def _pyloudnorm() -> Any:
    """pyloudnorm and scipy.signal are imported on first use: together they cost about a second of
    start-up, and the window should show before any file is measured (the warm-up measures one)."""
    import pyloudnorm

    return pyloudnorm


def _signal() -> Any:
    import scipy.signal

    return scipy.signal


@dataclass(frozen=True)
class Loudness:
    integrated_lufs: float | None  # None when the file is shorter than one 400 ms gating block
    true_peak_dbtp: float  # -inf for digital silence

    def to_dict(self) -> dict[str, float | None]:
        peak = None if math.isinf(self.true_peak_dbtp) else round(self.true_peak_dbtp, 2)
        lufs = None if self.integrated_lufs is None or math.isinf(self.integrated_lufs) else self.integrated_lufs
        return {"integrated_lufs": None if lufs is None else round(lufs, 2), "true_peak_dbtp": peak}

    @classmethod
    def from_dict(cls, d: dict[str, float | None]) -> Loudness:
        lufs = d.get("integrated_lufs")
        peak = d.get("true_peak_dbtp")
        return cls(None if lufs is None else float(lufs), -math.inf if peak is None else float(peak))


class LoudnessMeter:
    """Feed ``(frames, channels)`` float blocks in order, then read ``result()``."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        self.channels = channels
        self._filters = [
            (np.asarray(f.b, dtype=np.float64), np.asarray(f.a, dtype=np.float64), float(f.passband_gain))
            for f in _pyloudnorm().Meter(rate)._filters.values()
        ]
        self._zi = [np.zeros((max(len(a), len(b)) - 1, channels)) for b, a, _ in self._filters]
        self._n = 0
        self._cum = np.zeros(channels)
        self._sums: dict[int, FloatArray] = {0: np.zeros(channels)}  # index -> sum of squares before it
        self._next_lower = 0
        self._next_upper = 0
        self._peak = 0.0
        self._peak_carry = np.zeros((2 * _PEAK_CONTEXT, channels))  # the silence before the file
        self._started = False

    # Block j of pyloudnorm covers samples [_lower(j), _upper(j)); the same float expressions keep the
    # same integer boundaries.
    def _lower(self, j: int) -> int:
        return int(_GATE_BLOCK_S * (j * _GATE_STEP) * self.rate)

    def _upper(self, j: int) -> int:
        return int(_GATE_BLOCK_S * (j * _GATE_STEP + 1) * self.rate)

    def feed(self, block: npt.ArrayLike) -> None:
        x = np.asarray(block, dtype=np.float64)
        if x.ndim == 1:
            x = x[:, None]
        if x.shape[0] == 0:
            return
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
        self._feed_peak(x)
        y = x
        for k, (b, a, gain) in enumerate(self._filters):
            y, self._zi[k] = _signal().lfilter(b, a, y, axis=0, zi=self._zi[k])
            y = gain * y
        cs = np.cumsum(y * y, axis=0) + self._cum
        start, end = self._n, self._n + x.shape[0]
        for index in self._boundaries_upto(end):
            if index > start:
                self._sums[index] = cs[index - start - 1]
        self._cum = cs[-1]
        self._n = end

    def _boundaries_upto(self, end: int) -> Iterator[int]:
        while self._lower(self._next_lower) <= end:
            yield self._lower(self._next_lower)
            self._next_lower += 1
        while self._upper(self._next_upper) <= end:
            yield self._upper(self._next_upper)
            self._next_upper += 1

    def _feed_peak(self, x: FloatArray) -> None:
        """True peak: 4x oversampled, evaluated only where the filter sees real samples on both sides."""
        self._started = True
        self._peak = max(self._peak, float(np.max(np.abs(x))))
        joined = np.concatenate([self._peak_carry, x], axis=0)
        if joined.shape[0] > 2 * _PEAK_CONTEXT:
            up = _signal().resample_poly(joined, _OVERSAMPLE, 1, axis=0)
            valid = up[_OVERSAMPLE * _PEAK_CONTEXT : _OVERSAMPLE * (joined.shape[0] - _PEAK_CONTEXT)]
            if valid.size:
                self._peak = max(self._peak, float(np.max(np.abs(valid))))
        self._peak_carry = joined[-2 * _PEAK_CONTEXT :]

    def result(self) -> Loudness:
        if self._started:
            tail = np.concatenate([self._peak_carry, np.zeros((2 * _PEAK_CONTEXT, self.channels))], axis=0)
            up = _signal().resample_poly(tail, _OVERSAMPLE, 1, axis=0)
            self._peak = max(self._peak, float(np.max(np.abs(up[_OVERSAMPLE * _PEAK_CONTEXT :]))))
        peak_db = 20.0 * math.log10(self._peak) if self._peak > 0 else -math.inf
        return Loudness(self._integrated(), peak_db)

    def _sum_before(self, index: int) -> FloatArray:
        return self._cum if index >= self._n else self._sums[index]

    def _integrated(self) -> float | None:
        n_samples = self._n
        if n_samples < _GATE_BLOCK_S * self.rate:
            return None
        duration = n_samples / self.rate
        n_blocks = int(np.round((duration - _GATE_BLOCK_S) / (_GATE_BLOCK_S * _GATE_STEP))) + 1
        gains = np.array([_CHANNEL_GAINS[c] if c < len(_CHANNEL_GAINS) else 1.0 for c in range(self.channels)])
        z = np.empty((n_blocks, self.channels))
        for j in range(n_blocks):
            z[j] = (self._sum_before(self._upper(j)) - self._sum_before(self._lower(j))) / (_GATE_BLOCK_S * self.rate)
        power = z @ gains
        with np.errstate(divide="ignore"):
            block_lufs = -0.691 + 10.0 * np.log10(power)
        above_abs = block_lufs >= _ABSOLUTE_GATE_LUFS
        if not above_abs.any():
            return -math.inf
        relative_gate = -0.691 + 10.0 * math.log10(float(z[above_abs].mean(axis=0) @ gains)) - 10.0
        gated = (block_lufs > relative_gate) & (block_lufs > _ABSOLUTE_GATE_LUFS)
        if not gated.any():
            return -math.inf
        return -0.691 + 10.0 * math.log10(float(z[gated].mean(axis=0) @ gains))


def iter_native_blocks(path: str | Path) -> tuple[int, int, Iterator[npt.NDArray[np.float32]]]:
    """Sample rate, channel count and ``(frames, channels)`` float32 blocks at the native rate.

    libsndfile for what it reads (WAV, FLAC, Ogg, AIFF), FFmpeg through PyAV for the rest. Raises
    ``hitdesk.errors.HitdeskError`` for a missing or empty file and ``Exception`` from the decoders.
    """
    p = check_input(path)
    try:
        handle = sf.SoundFile(str(p))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _av_blocks(p)

    def sndfile_blocks() -> Iterator[npt.NDArray[np.float32]]:
        with handle:
            yield from handle.blocks(blocksize=_BLOCK_FRAMES, dtype="float32", always_2d=True)

    return int(handle.samplerate), int(handle.channels), sndfile_blocks()


def _av_blocks(path: Path) -> tuple[int, int, Iterator[npt.NDArray[np.float32]]]:
    container = av.open(str(path))
    try:
        stream = container.streams.audio[0]
    except IndexError:
        container.close()
        raise ValueError("no audio stream") from None
    rate = int(stream.codec_context.sample_rate or stream.rate)
    channels = int(stream.codec_context.channels or 1)
    # Packed output: PyAV reads planar frames of more than 8 channels out of bounds (see frame_array).
    resampler = av.AudioResampler(format="flt", layout=stream.codec_context.layout, rate=rate)

    def blocks() -> Iterator[npt.NDArray[np.float32]]:
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    yield np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1, out.layout.nb_channels)
            for out in resampler.resample(None):
                yield np.asarray(out.to_ndarray(), dtype=np.float32).reshape(-1, out.layout.nb_channels)
        finally:
            container.close()

    return rate, channels, blocks()


def measure_file(path: str | Path, should_stop: Callable[[], bool] | None = None) -> Loudness | None:
    """Loudness of a file, or None when stopped early. Decoder errors propagate to the caller."""
    rate, channels, blocks = iter_native_blocks(path)
    meter = LoudnessMeter(rate, channels)
    for block in blocks:
        if should_stop is not None and should_stop():
            close = getattr(blocks, "close", None)
            if close is not None:
                close()
            return None
        meter.feed(block)
    return meter.result()
