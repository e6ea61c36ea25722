"""The vectorscope's data path (a goniometer): the latest frames of what is heard, as mid/side points.

Two producers write a ``ScopeRing``: the playback callback (what goes to the sound card: the take's
own channels at the stream's rate, after its gain) and the capture writer thread (the input's
channels at the device's rate). The display reads the newest ``window`` frames once per frame of
its own timer and turns them into at most ``max_points`` points with ``scope_frame``, so the work
per drawn frame is bounded whatever the rate or the timer's lateness.

A point is (side, mid) = ((R - L) / sqrt 2, (L + R) / sqrt 2): identical channels (mono) lie on the
vertical axis, one channel the other's inverse on the horizontal axis, the left channel alone on
the diagonal to the upper left and the right alone on the one to the upper right. The correlation
printed beside it is the same formula as the analysis's (``hitdesk.dsp.stereo``) over the window,
without the K-weighting: sum(L*R) / sqrt(sum(L^2) * sum(R^2)).

No Qt and no allocation on the write side: the playback callback calls ``write``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Frames = npt.NDArray[np.float32]

RING_FRAMES = 16_384  # about 0.37 s at 44.1 kHz, 85 ms at 192 kHz: more than a drawn window
WINDOW_FRAMES = 2_048  # read per drawn frame (46 ms at 44.1 kHz)
MAX_POINTS = 1_024  # drawn per frame at most
SILENT = 1e-4  # peak below which a window is drawn as a dot (about -80 dBFS)
MAX_GAIN = 16.0  # quiet passages are enlarged by up to 24 dB so that their shape stays readable
_ROOT_HALF = 1.0 / math.sqrt(2.0)


class ScopeRing:
    """The newest ``capacity`` stereo frames written; one writer thread, any number of readers.

    A 1-channel block is written to both sides; of more than two channels the first two (the front
    pair) are kept. ``source_channels`` is how many the source itself has (a mono take played on
    two speakers is still mono), set by the writer. The counter is published after the copy; a
    reader that copies while the writer wraps may get a few frames of the next block, which a
    display cannot tell from the signal.
    """

    def __init__(self, capacity: int = RING_FRAMES) -> None:
        if capacity < 1:
            raise ValueError("a scope ring needs at least one frame")
        self._buf: Frames = np.zeros((capacity, 2), dtype=np.float32)
        self.capacity = capacity
        self.written = 0  # frames ever written; only the writer changes it
        self.source_channels = 2

    def write(self, block: Frames, source_channels: int | None = None) -> None:
        """Copies the newest frames of ``block`` (frames x channels) in: slicing and copies only."""
        n = int(block.shape[0])
        if n == 0 or block.ndim != 2 or block.shape[1] == 0:
            return
        if source_channels is not None:
            self.source_channels = source_channels
        if n > self.capacity:
            block = block[n - self.capacity :]
            n = self.capacity
        start = self.written % self.capacity
        first = min(n, self.capacity - start)
        pair = slice(0, 2) if block.shape[1] >= 2 else slice(0, 1)  # a 1-channel block broadcasts to both
        self._buf[start : start + first] = block[:first, pair]
        self._buf[: n - first] = block[first:n, pair]
        self.written += n

    def latest(self, out: Frames) -> int:
        """Copies the newest ``len(out)`` frames (fewer when fewer were written) to the end of ``out``;
        returns how many."""
        written = self.written
        n = min(len(out), written, self.capacity)
        if n == 0:
            return 0
        end = written % self.capacity
        dest = out[len(out) - n :]
        if end >= n:
            dest[:] = self._buf[end - n : end]
        else:
            dest[: n - end] = self._buf[self.capacity - (n - end) :]
            dest[n - end :] = self._buf[:end]
        return n


@dataclass(frozen=True)
class ScopeFrame:
    """One drawn frame: the points (side on x, mid on y, scaled into -1..1), the window's correlation
    (None when it is silent), whether the source is mono, and the gain the points were scaled by."""

    x: npt.NDArray[np.float32]
    y: npt.NDArray[np.float32]
    correlation: float | None
    mono: bool
    gain: float

    @property
    def readout(self) -> str:
        if self.mono:
            return "mono"
        if self.correlation is None:
            return "silence"
        return f"correlation {self.correlation:+.2f}"


def correlation_of(frames: Frames) -> float | None:
    """sum(L*R) / sqrt(sum(L^2) * sum(R^2)) of (frames x 2); None when either channel is silent."""
    left = frames[:, 0].astype(np.float64)
    right = frames[:, 1].astype(np.float64)
    denominator = math.sqrt(float(left @ left) * float(right @ right))
    if denominator <= 0.0:
        return None
    return max(-1.0, min(1.0, float(left @ right) / denominator))


def scope_frame(frames: Frames, source_channels: int = 2, max_points: int = MAX_POINTS) -> ScopeFrame:
    """The points and readout of a window of (frames x 2) samples: at most ``max_points`` of them
    (every k-th frame), scaled so that the window's largest excursion reaches 0.9 of the display
    (by at most ``MAX_GAIN``; full scale is 1 otherwise)."""
    if frames.ndim != 2 or frames.shape[1] != 2:
        raise ValueError("the scope reads frames x 2 samples")
    mono = source_channels == 1
    step = max(1, -(-len(frames) // max_points))
    shown = frames[::step]
    x = ((shown[:, 1] - shown[:, 0]) * _ROOT_HALF).astype(np.float32)
    y = ((shown[:, 1] + shown[:, 0]) * _ROOT_HALF).astype(np.float32)
    peak = float(max(np.abs(x).max(initial=0.0), np.abs(y).max(initial=0.0)))
    gain = 1.0 if peak < SILENT else min(MAX_GAIN, max(1.0, 0.9 / peak))
    if gain != 1.0:
        x *= gain
        y *= gain
    correlation = None if peak < SILENT else correlation_of(frames)
    return ScopeFrame(x, y, correlation, mono, gain)
