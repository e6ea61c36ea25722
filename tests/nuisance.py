"""Nuisance changes of a track: the same music re-encoded, re-gained, resampled, folded to mono or
shelf-equalised, written as files the analysis reads like any other.

Used by the invariance tests (tests/analysis/test_invariance.py) and by bench/bench_nuisance.py,
which measures how far these changes move P(hit) and sets the paired comparison's margin from that.
Lossy codecs go through FFmpeg's encoders in PyAV (``badinput.encode``); the rest is written as
32-bit float WAV, so a +6 dB gain is not clipped by the file format.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from badinput import encode
from scipy.signal import lfilter, resample_poly

Audio = np.ndarray  # float32 (frames, channels)
# One nuisance: (audio, sample rate, path without suffix) -> the file written.
Change = Callable[[Audio, int, Path], Path]


def read_native(path: Path, start_s: float = 0.0, seconds: float | None = None) -> tuple[Audio, int]:
    """The file's samples at its own rate and channels (float32, frames x channels), from ``start_s``."""
    blocks = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        sr = int(stream.rate)
        resampler = av.AudioResampler(format="flt", layout=stream.layout.name, rate=sr)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                blocks.append(out.to_ndarray().reshape(-1, len(stream.layout.channels)))
        for out in resampler.resample(None):
            blocks.append(out.to_ndarray().reshape(-1, len(stream.layout.channels)))
    data = np.concatenate(blocks).astype(np.float32)
    first = round(start_s * sr)
    last = len(data) if seconds is None else first + round(seconds * sr)
    return np.ascontiguousarray(data[first:last]), sr


def _named(stem: Path, suffix: str) -> Path:
    return stem.parent / f"{stem.name}{suffix}"  # the stem's own dots stay (Path.with_suffix would cut them)


def _wav(data: Audio, sr: int, stem: Path) -> Path:
    path = _named(stem, ".wav")
    sf.write(path, data, sr, subtype="FLOAT")
    return path


def _stereo_or_mono(data: Audio) -> Audio:
    """Codecs here take one or two channels; more are folded to two (none of the corpus has more)."""
    return data if data.shape[1] <= 2 else np.stack([data[:, ::2].mean(1), data[:, 1::2].mean(1)], axis=1)


def _resample(data: Audio, sr: int, target: int) -> Audio:
    g = math.gcd(sr, target)
    return resample_poly(data, target // g, sr // g, axis=0).astype(np.float32)


def mp3_128k(data: Audio, sr: int, stem: Path) -> Path:
    return encode(_named(stem, ".mp3"), "libmp3lame", _stereo_or_mono(data), sr, "mp3", 128_000)


def opus_96k(data: Audio, sr: int, stem: Path) -> Path:
    """Opus codes at 48 kHz only: other rates are resampled first, as FFmpeg does."""
    pcm = data if sr == 48_000 else _resample(data, sr, 48_000)
    return encode(_named(stem, ".opus"), "libopus", _stereo_or_mono(pcm), 48_000, "ogg", 96_000)


def aac_128k(data: Audio, sr: int, stem: Path) -> Path:
    return encode(_named(stem, ".m4a"), "aac", _stereo_or_mono(data), sr, "mp4", 128_000)


def gain(db: float) -> Change:
    def change(data: Audio, sr: int, stem: Path) -> Path:
        return _wav(data * np.float32(10 ** (db / 20)), sr, stem)

    return change


def resampled_48k(data: Audio, sr: int, stem: Path) -> Path:
    """To 48 kHz; a track already at 48 kHz goes to 44.1 kHz instead, so it is resampled all the same."""
    return _wav(_resample(data, sr, 44_100 if sr == 48_000 else 48_000), 44_100 if sr == 48_000 else 48_000, stem)


def mono(data: Audio, sr: int, stem: Path) -> Path:
    return _wav(data.mean(axis=1, keepdims=True), sr, stem)


def shelf(db: float, freq_hz: float, high: bool) -> Change:
    """A shelving EQ of ``db`` above (``high``) or below ``freq_hz`` (RBJ cookbook biquad, slope 1)."""

    def change(data: Audio, sr: int, stem: Path) -> Path:
        a = 10 ** (db / 40)
        w0 = 2 * math.pi * freq_hz / sr
        cos, alpha = math.cos(w0), math.sin(w0) / 2 * math.sqrt(2)
        root = 2 * math.sqrt(a) * alpha
        sign = 1 if high else -1
        b = [
            a * ((a + 1) + sign * (a - 1) * cos + root),
            -2 * sign * a * ((a - 1) + sign * (a + 1) * cos),
            a * ((a + 1) + sign * (a - 1) * cos - root),
        ]
        den = [(a + 1) - sign * (a - 1) * cos + root, 2 * sign * ((a - 1) - sign * (a + 1) * cos)]
        den.append((a + 1) - sign * (a - 1) * cos - root)
        return _wav(lfilter(b, den, data, axis=0).astype(np.float32), sr, stem)

    return change


# Every nuisance change the margin is measured on, by name.
CHANGES: dict[str, Change] = {
    "mp3-128k": mp3_128k,
    "opus-96k": opus_96k,
    "aac-128k": aac_128k,
    "gain+6dB": gain(6.0),
    "gain-6dB": gain(-6.0),
    "resample-48k": resampled_48k,
    "mono": mono,
    "high-shelf+2dB": shelf(2.0, 4000.0, high=True),
    "high-shelf-2dB": shelf(-2.0, 4000.0, high=True),
    "low-shelf+2dB": shelf(2.0, 200.0, high=False),
    "low-shelf-2dB": shelf(-2.0, 200.0, high=False),
}


def write_changes(
    data: Audio, sr: int, folder: Path, name: str, kinds: tuple[str, ...] = tuple(CHANGES)
) -> dict[str, Path]:
    """Each change of ``data`` written into ``folder`` (as ``name.<kind>.<ext>``), by kind."""
    folder.mkdir(parents=True, exist_ok=True)
    return {kind: CHANGES[kind](data, sr, folder / f"{name}.{kind}") for kind in kinds}
