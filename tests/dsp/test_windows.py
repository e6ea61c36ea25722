from __future__ import annotations

import numpy as np
import pytest

from hitdesk.config import FEATURES
from hitdesk.dsp import StreamingMel
from hitdesk.dsp.windows import content_extent, frame_range, is_digital_silence, plan_windows

SR = FEATURES.sample_rate


def _rms_of(y: np.ndarray) -> np.ndarray:
    s = StreamingMel()
    s.feed(y)
    s.finish()
    return s.frame_rms()


def test_long_track_windows_are_disjoint_and_placed() -> None:
    plan = plan_windows(2.0, 182.0, 30.0)
    b, m, e = plan.windows
    assert (b.start_s, b.end_s) == (2.0, 32.0)
    assert (m.start_s + m.end_s) / 2 == pytest.approx(92.0)
    assert (e.start_s, e.end_s) == (152.0, 182.0)
    assert not plan.overlapping and not plan.single and plan.notes(30.0) == []


def test_shorter_than_three_windows_overlap_with_note() -> None:
    plan = plan_windows(0.0, 60.0, 30.0)
    assert plan.overlapping and not plan.single
    assert "overlap" in plan.notes(30.0)[0]
    assert all(w.duration_s == pytest.approx(30.0) for w in plan.windows)


def test_shorter_than_one_window_uses_the_whole_track() -> None:
    plan = plan_windows(0.5, 15.5, 30.0)
    assert plan.single
    assert {(w.start_s, w.end_s) for w in plan.windows} == {(0.5, 15.5)}
    assert "shorter than one" in plan.notes(30.0)[0]


def test_too_short_is_rejected() -> None:
    with pytest.raises(ValueError):
        plan_windows(0.0, 2.9, 30.0)


def test_leading_and_trailing_silence_is_skipped_whatever_the_gain() -> None:
    rng = np.random.default_rng(1)
    music = 0.3 * rng.standard_normal(20 * SR).astype(np.float32)
    y = np.concatenate([np.zeros(5 * SR, np.float32), music, np.zeros(3 * SR, np.float32)])
    y += 1e-6 * rng.standard_normal(y.size).astype(np.float32)  # dither well below -60 dB
    for gain in (0.25, 1.0, 3.0):
        start, end = content_extent(_rms_of(gain * y), y.size)
        assert start == pytest.approx(5.0, abs=0.1)
        assert end == pytest.approx(25.0, abs=0.1)


def test_digital_silence_is_detected() -> None:
    assert is_digital_silence(_rms_of(np.zeros(SR * 4, np.float32)))
    assert not is_digital_silence(_rms_of(np.full(SR * 4, 0.01, np.float32)))


def test_frame_range_covers_the_window() -> None:
    sl = frame_range(10.0, 40.0, 100_000)
    assert sl.stop - sl.start == round(30.0 * SR / FEATURES.hop_length)
    assert frame_range(0.0, 1e9, 50) == slice(0, 50)
