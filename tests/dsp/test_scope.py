"""The vectorscope's data path without Qt: samples into the ring, points out."""

from __future__ import annotations

import numpy as np
import pytest

from hitdesk.dsp.scope import MAX_POINTS, WINDOW_FRAMES, ScopeRing, correlation_of, scope_frame

RATE = 44_100


def _tone(n: int, freq: float = 440.0, level: float = 0.5) -> np.ndarray:
    return (level * np.sin(2 * np.pi * freq * np.arange(n) / RATE)).astype(np.float32)


def test_identical_channels_are_a_vertical_line() -> None:
    x = _tone(WINDOW_FRAMES)
    frame = scope_frame(np.stack([x, x], axis=1))
    assert np.abs(frame.x).max() < 1e-6  # no side
    assert np.abs(frame.y).max() > 0.5  # all mid, scaled up to the display
    assert frame.correlation == pytest.approx(1.0)
    assert frame.readout == "correlation +1.00"


def test_inverted_channels_are_a_horizontal_line() -> None:
    x = _tone(WINDOW_FRAMES)
    frame = scope_frame(np.stack([x, -x], axis=1))
    assert np.abs(frame.y).max() < 1e-6
    assert np.abs(frame.x).max() > 0.5
    assert frame.correlation == pytest.approx(-1.0)


def test_left_alone_leans_left_and_independent_channels_spread() -> None:
    x = _tone(WINDOW_FRAMES)
    left = scope_frame(np.stack([x, np.zeros_like(x)], axis=1))
    np.testing.assert_allclose(left.x, -left.y, atol=1e-6)  # the diagonal to the upper left
    assert left.correlation is None  # one channel silent: nothing to correlate
    rng = np.random.default_rng(1)
    noise = rng.normal(0, 0.2, (WINDOW_FRAMES, 2)).astype(np.float32)
    wide = scope_frame(noise)
    assert abs(wide.correlation or 1.0) < 0.1
    assert np.abs(wide.x).max() > 0.3 and np.abs(wide.y).max() > 0.3


def test_points_are_bounded_and_quiet_windows_enlarged_at_most_24_db() -> None:
    x = _tone(8 * MAX_POINTS, level=1e-3)
    frame = scope_frame(np.stack([x, x], axis=1))
    assert len(frame.x) <= MAX_POINTS
    assert frame.gain == pytest.approx(16.0)
    silent = scope_frame(np.zeros((WINDOW_FRAMES, 2), dtype=np.float32))
    assert silent.correlation is None and silent.readout == "silence"
    assert scope_frame(np.zeros((10, 2), dtype=np.float32), source_channels=1).readout == "mono"


def test_ring_keeps_the_newest_frames_across_the_wrap_and_says_mono() -> None:
    ring = ScopeRing(capacity=1000)
    ramp = np.arange(2600, dtype=np.float32)
    for start in range(0, 2600, 300):  # blocks that wrap the ring several times
        block = ramp[start : start + 300]
        ring.write(np.stack([block, -block], axis=1), 2)
    out = np.zeros((700, 2), dtype=np.float32)
    assert ring.latest(out) == 700
    np.testing.assert_array_equal(out[:, 0], ramp[-700:])
    np.testing.assert_array_equal(out[:, 1], -ramp[-700:])
    assert correlation_of(out) == pytest.approx(-1.0)
    mono = ScopeRing(capacity=64)
    mono.write(_tone(10)[:, None], 1)  # one channel: both sides
    short = np.zeros((64, 2), dtype=np.float32)
    n = mono.latest(short)
    assert n == 10 and mono.source_channels == 1
    frame = scope_frame(short[-n:], mono.source_channels)
    assert np.abs(frame.x).max() < 1e-6 and frame.readout == "mono"
    big = np.ones((5000, 3), dtype=np.float32)  # longer than the ring, three channels: the front pair
    mono.write(big, 3)
    assert mono.latest(short) == 64 and np.all(short == 1.0)
