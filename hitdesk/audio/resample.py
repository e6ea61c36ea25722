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

import numpy as np
import soxr

from hitdesk.audio.info import TARGET_SR, Samples

QUALITY = "HQ"  # librosa's default res_type "soxr_hq"
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
        wanted = target_length(self._frames_in, self._native_sr) - self._frames_out
        if len(tail) > wanted:
            tail = tail[: max(wanted, 0)]
        elif len(tail) < wanted:
            tail = np.concatenate([tail, np.zeros(wanted - len(tail), dtype=np.float32)])
        self._frames_out += len(tail)
        return tail


def resample_segment(segment: Samples, native_sr: int) -> Samples:
    """One-shot resampling of a native segment that starts on the grid (see module docstring)."""
    if native_sr == TARGET_SR or len(segment) == 0:
        return segment
    return np.asarray(soxr.resample(segment, native_sr, TARGET_SR, quality=QUALITY), dtype=np.float32)
