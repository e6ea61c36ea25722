"""Problem spots from the one pass: clipped spans and spans whose true peak is over -1 dBTP."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hitdesk.dsp.meters import TrackMeter
from hitdesk.dsp.spots import FLOOR_DBTP, MAX_RUNS, ProblemSpots, RunLog
from hitdesk.dsp.truepeak import TruePeakMeter
from hitdesk.result_schema import validate_result_dict

RATE = 44_100


def _quiet(seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    x = 0.2 * np.sin(2 * np.pi * 220 * t)
    return np.stack([x, 0.8 * x], axis=1)


def _clip_at(x: np.ndarray, start_s: float, length_s: float) -> None:
    """Drives the left channel into full scale for ``length_s`` seconds from ``start_s``."""
    a, b = round(start_s * RATE), round((start_s + length_s) * RATE)
    x[a:b, 0] = np.clip(x[a:b, 0] * 20.0, -1.0, 1.0)


def _inter_sample_over_at(x: np.ndarray, start_s: float, length_s: float) -> None:
    """A sine at a quarter of the rate, 45 degrees off the samples: every sample at 0.67 (-3.5 dBFS),
    the waveform between them at 0.95 (-0.45 dBTP): over the floor only where oversampled."""
    a, b = round(start_s * RATE), round((start_s + length_s) * RATE)
    n = np.arange(b - a)
    x[a:b, 1] = 0.95 * np.sin(np.pi / 2 * n + np.pi / 4)


def _measure(x: np.ndarray, block: int = 4_608) -> TrackMeter:
    meter = TrackMeter(RATE, x.shape[1])
    x = x.astype(np.float32)
    for i in range(0, len(x), block):
        meter.feed_true_peak(x[i : i + block])
        meter.feed_loudness(x[i : i + block])
    return meter


def test_clipped_runs_and_inter_sample_overs_are_placed_and_merged() -> None:
    x = _quiet(30.0)
    _clip_at(x, 5.0, 0.05)
    _clip_at(x, 5.3, 0.05)  # 0.3 s later: the same mark
    _clip_at(x, 20.0, 1.0)
    _inter_sample_over_at(x, 12.0, 0.5)
    result = _measure(x).result()
    spots = result.problem_spots
    assert spots is not None and spots.left_off == 0
    assert [(round(a, 1), round(b, 1)) for a, b in spots.clipped] == [(5.0, 5.4), (20.0, 21.0)]
    # The clipped spans, and the over between samples (a 32-sample chunk that straddles a 100 ms step
    # may count in the step before).
    assert _near([s[:2] for s in spots.true_peak], [(5.0, 5.4), (12.0, 12.5), (20.0, 21.0)])
    between = spots.true_peak[1][2]
    assert -0.6 < between < -0.3  # its own true peak, though no sample of it reaches -3 dBFS
    marks, applied = spots.over(0.0)
    assert applied == 0.0 and [round(a) for a, _ in marks] == [5, 20]  # a 0 dBTP ceiling: the clipped ones
    marks, applied = spots.over(-3.0)
    assert applied == FLOOR_DBTP and len(marks) == 3  # below the floor: the floor's spans, and says so
    assert result.true_peak_dbtp == pytest.approx(20 * math.log10(_plain_peak(x)), abs=1e-6)


def _near(spans: list, expected: list[tuple[float, float]]) -> bool:
    """Spans that start at most one 100 ms step before and end at most one after the expected."""
    return len(spans) == len(expected) and all(
        a - 0.1 - 1e-6 <= float(s[0]) <= a + 1e-6 and b - 1e-6 <= float(s[1]) <= b + 0.1 + 1e-6
        for s, (a, b) in zip(spans, expected, strict=True)
    )


def _plain_peak(x: np.ndarray) -> float:
    meter = TruePeakMeter(x.shape[1])
    for i in range(0, len(x), 4_608):
        meter.feed(x[i : i + 4_608])
    return meter.peak()


def test_looking_for_spots_leaves_the_true_peak_exact() -> None:
    rng = np.random.default_rng(3)
    x = (rng.normal(0, 0.35, (RATE * 6, 2))).astype(np.float32)  # loud: most chunks near the floor
    meter = TruePeakMeter(2)
    meter.spots = RunLog(RATE)
    for i in range(0, len(x), 1_000):
        meter.feed(x[i : i + 1_000])
    assert meter.peak() == _plain_peak(x)
    runs = meter.spots.finish(len(x))
    assert runs and runs[0][0] == 0.0 and runs[-1][1] == pytest.approx(6.0)


def test_runs_are_bounded_and_the_rest_counted() -> None:
    log = RunLog(RATE)
    frames = np.arange(0, RATE * 200, RATE, dtype=np.int64)  # one spot a second: 200 runs
    log.add(frames[:150], np.full(150, 1.5))
    log.add(frames[150:], np.full(50, 1.2))
    runs = log.finish(RATE * 200)
    assert len(runs) == MAX_RUNS and log.left_off == 200 - MAX_RUNS
    assert runs[0] == (0.0, pytest.approx(0.1), 1.5)


def test_json_round_trip_and_the_analysis_pass(tmp_path: Path, model: object) -> None:
    from hitdesk.analysis import analyze_file
    from hitdesk.results import TrackResult

    spots = ProblemSpots(((1.0, 1.2),), ((1.0, 1.2, 0.5),), FLOOR_DBTP, 3)
    assert ProblemSpots.from_dict(spots.to_dict()) == spots
    x = _quiet(40.0)
    _clip_at(x, 25.0, 0.2)
    path = tmp_path / "clipped.wav"
    sf.write(path, x.astype(np.float32), RATE, subtype="FLOAT")
    d = analyze_file(path, model).to_dict()  # type: ignore[arg-type]
    validate_result_dict(d)
    assert d["problem_spots"]["clipped"] == [[25.0, 25.2]]
    assert _near(d["problem_spots"]["true_peak"], [(25.0, 25.2)])
    assert TrackResult.from_dict(d).to_dict()["problem_spots"] == d["problem_spots"]  # also from the cache
