"""Resampling to the feature rate exactly as ``librosa.load(path, sr=22050)`` does, but in pieces.

librosa resamples the whole mono signal with soxr at "HQ" quality and then fixes the length to
``ceil(n * target / native)``. Streaming the same soxr filter over blocks gives the same samples
without holding the file in memory; ``StreamResampler`` adds the length fix at the end.

Short excerpts are resampled on their own with some native context on each side. Their first native
frame is placed on the *grid* (a frame whose time is a whole number of target samples), so the
filter phases match the whole-file stream and the trimmed excerpt equals the same slice of it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import soxr

from hitdesk.audio.info import TARGET_SR, Samples

QUALITY = "HQ"  # librosa's default res_type "soxr_hq"
# The low-delay resampler's anti-aliasing filter: a linear-phase FIR whose delay, taken out of its
# output, is this long at any rate (so the transition band is ~2 kHz wide at any rate). The delay
# matters: a block that ends less than this after a column's last sample brings that column only
# with the next block (measured with 1.5 ms: 7% of columns a block late, the 95th percentile of
# block-to-screen latency 27 ms instead of 5).
LOW_DELAY_S = 0.0007
LOW_DELAY_CUTOFF = 0.45  # of the target rate: 9.9 kHz at 22,050 Hz, where the mel bands end at 11 kHz
CONTEXT_SECONDS = 0.1  # far longer than the HQ filter's reach; edges then match the stream


def target_length(native_frames: int, native_sr: int) -> int:
    """Length of the resampled signal, as ``librosa.resample(..., fix=True)`` sets it."""
    return -(-native_frames * TARGET_SR // native_sr)


def grid_step(native_sr: int) -> int:
    """Native frames between consecutive frames that fall exactly on a target sample."""
    return native_sr // math.gcd(native_sr, TARGET_SR)


def native_to_target_index(native_frame: int, native_sr: int) -> int:
    """Target index of a grid frame (exact only for multiples of ``grid_step``)."""
    return native_frame * TARGET_SR // native_sr


def _fit(tail: Samples, wanted: int) -> Samples:
    """``tail`` trimmed or padded with zeros to ``wanted`` samples (none if ``wanted`` < 0)."""
    if len(tail) > wanted:
        return tail[: max(wanted, 0)]
    if len(tail) < wanted:
        return np.concatenate([tail, np.zeros(wanted - len(tail), dtype=np.float32)])
    return tail


class StreamResampler:
    """Feeds blocks through one soxr stream and fixes the total length on ``finish``."""

    def __init__(self, native_sr: int) -> None:
        self._native_sr = native_sr
        self._stream = (
            None
            if native_sr == TARGET_SR
            else soxr.ResampleStream(native_sr, TARGET_SR, 1, dtype="float32", quality=QUALITY)
        )
        self._frames_in = 0
        self._frames_out = 0

    def push(self, block: Samples) -> Samples:
        self._frames_in += len(block)
        out = block if self._stream is None else self._stream.resample_chunk(block)
        self._frames_out += len(out)
        return np.asarray(out, dtype=np.float32)

    def finish(self) -> Samples:
        """Flush the filter and pad or trim so the total is ``target_length`` of the input."""
        tail = np.zeros(0, dtype=np.float32)
        if self._stream is not None:
            tail = np.asarray(self._stream.resample_chunk(tail, last=True), dtype=np.float32)
        tail = _fit(tail, target_length(self._frames_in, self._native_sr) - self._frames_out)
        self._frames_out += len(tail)
        return tail


class LowDelayResampler:
    """Resampling for pictures drawn while audio arrives: output at once, not in bursts.

    soxr's HQ stream gives its first output only after 40-60 ms of input and then about 37 ms at a
    time, which is what a recording's spectrogram would lag by. Here a short linear-phase low-pass
    (when going down in rate; 0.7 ms of delay) and soxr's "quick" cubic interpolation give each
    block's samples as it comes, with the filter's delay taken out; ``finish`` gives the rest, so
    the total length is ``target_length`` as for ``StreamResampler``. Close to the HQ samples below
    9.9 kHz, but not equal: scores never use it.
    """

    def __init__(self, native_sr: int) -> None:
        import scipy.signal  # here, not at the top: it costs ~0.5 s of start-up, and only recording needs it

        self._lfilter: Any = scipy.signal.lfilter
        self._native_sr = native_sr
        taps = 2 * round(LOW_DELAY_S * native_sr) + 1
        self._taps = (
            scipy.signal.firwin(taps, LOW_DELAY_CUTOFF * TARGET_SR, fs=native_sr).astype(np.float32)
            if native_sr > TARGET_SR
            else None
        )
        self._state = None if self._taps is None else np.zeros(len(self._taps) - 1, dtype=np.float32)
        self._skip = 0 if self._taps is None else len(self._taps) // 2  # the filter's delay, in native samples
        self._stream = (
            None
            if native_sr == TARGET_SR
            else soxr.ResampleStream(native_sr, TARGET_SR, 1, dtype="float32", quality="QQ")  # cubic: no delay
        )
        self._frames_in = 0
        self._frames_out = 0

    def _filter(self, x: Samples) -> Samples:
        if self._taps is None:
            return x
        y, self._state = self._lfilter(self._taps, 1.0, x, zi=self._state)
        cut = min(self._skip, len(y))
        self._skip -= cut
        return np.asarray(y[cut:], dtype=np.float32)

    def _resample(self, x: Samples, last: bool = False) -> Samples:
        out = x if self._stream is None else self._stream.resample_chunk(x, last=last)
        return np.asarray(out, dtype=np.float32)

    def push(self, block: Samples) -> Samples:
        x = np.asarray(block, dtype=np.float32)
        self._frames_in += len(x)
        out = self._resample(self._filter(x))
        self._frames_out += len(out)
        return out

    def finish(self) -> Samples:
        """The filter's delayed tail and the resampler's, padded or trimmed to ``target_length``."""
        flush = np.zeros(0 if self._taps is None else len(self._taps) // 2, dtype=np.float32)
        tail = self._resample(self._filter(flush), last=True)
        tail = _fit(tail, target_length(self._frames_in, self._native_sr) - self._frames_out)
        self._frames_out += len(tail)
        return tail


def resample_segment(segment: Samples, native_sr: int) -> Samples:
    """One-shot resampling of a native segment that starts on the grid (see module docstring)."""
    if native_sr == TARGET_SR or len(segment) == 0:
        return segment
    return np.asarray(soxr.resample(segment, native_sr, TARGET_SR, quality=QUALITY), dtype=np.float32)
