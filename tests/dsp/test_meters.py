"""Loudness over time, stereo and clipping meters on the EBU Tech 3341/3342 reference signals (generated
here), against pyloudnorm where the two overlap, and on the channel layouts the stereo meters promise."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pyloudnorm
import pytest

from hitdesk.dsp.clipping import MAX_TIMES, ClipCounter
from hitdesk.dsp.loudness import Loudness
from hitdesk.dsp.loudness_range import StepHistory, loudness_range
from hitdesk.dsp.meters import TrackLoudness, TrackMeter
from hitdesk.result_schema import validate_result_dict
from hitdesk.results import TrackResult

RATE = 48000
Block = npt.NDArray[np.float32]


def tone(dbfs: float, seconds: float, channels: int = 2, rate: int = RATE, freq: float = 1000.0) -> Block:
    """Tech 3341's test signal: a 1 kHz sine, ``dbfs`` its peak, the same in every channel."""
    t = np.arange(round(seconds * rate)) / rate
    x = (10 ** (dbfs / 20) * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.repeat(x[:, None], channels, axis=1)


def measure(x: Block, rate: int = RATE, block: int = 7919) -> TrackLoudness:
    """Fed in odd block sizes, so windows and steps never line up with the blocks."""
    meter = TrackMeter(rate, x.shape[1])
    for i in range(0, x.shape[0], block):
        meter.feed(x[i : i + block])
    return meter.result()


# ---------------------------------------------------------------------------------------------- EBU Tech 3342


@pytest.mark.parametrize(
    ("levels", "lra"),
    [
        ((-20, -30), 10.0),  # Tech 3342 case 1
        ((-20, -15), 5.0),  # case 2
        ((-40, -20), 20.0),  # case 3
        ((-50, -35, -20, -35, -50), 15.0),  # case 4: the -50 dBFS parts fall under the relative gate
    ],
)
def test_loudness_range_of_the_tech_3342_signals(levels: tuple[int, ...], lra: float) -> None:
    result = measure(np.concatenate([tone(level, 20.0) for level in levels]))
    assert result.lra_lu == pytest.approx(lra, abs=1.0)
    assert result.lra_lu == pytest.approx(lra, abs=0.05)  # and much closer than the tolerance


def test_loudness_range_is_none_below_the_absolute_gate_and_zero_for_a_steady_tone() -> None:
    assert loudness_range(np.full(100, -80.0)) is None
    assert loudness_range(np.full(100, -math.inf)) is None
    assert measure(tone(-23.0, 10.0)).lra_lu == pytest.approx(0.0, abs=0.01)


# ---------------------------------------------------------------------------------------------- EBU Tech 3341


@pytest.mark.parametrize("level", [-23.0, -33.0])
def test_tech_3341_cases_1_and_2_steady_tone(level: float) -> None:
    r = measure(tone(level, 20.0))
    for value in (r.integrated_lufs, r.momentary_max_lufs, r.short_term_max_lufs):
        assert value == pytest.approx(level, abs=0.1)
    assert r.curves is not None
    assert np.all(np.abs(r.curves.momentary - level) < 0.1) and np.all(np.abs(r.curves.short_term - level) < 0.1)


def test_tech_3341_case_9_short_term_is_constant() -> None:
    """1.34 s at -20 dBFS then 1.66 s at -30 dBFS, repeated: every 3 s window reads -23.0 LUFS."""
    x = np.concatenate([np.concatenate([tone(-20.0, 1.34), tone(-30.0, 1.66)]) for _ in range(8)])
    r = measure(x)
    assert r.curves is not None
    assert np.all(np.abs(r.curves.short_term - (-23.0)) < 0.1)
    assert r.momentary_max_lufs == pytest.approx(-20.0, abs=0.1)


def test_tech_3341_case_12_momentary_is_constant() -> None:
    """0.18 s at -20 dBFS then 0.22 s at -30 dBFS, repeated: every 400 ms window reads -23.0 LUFS."""
    x = np.concatenate([np.concatenate([tone(-20.0, 0.18), tone(-30.0, 0.22)]) for _ in range(50)])
    r = measure(x)
    assert r.curves is not None
    assert np.all(np.abs(r.curves.momentary - (-23.0)) < 0.1)


@pytest.mark.parametrize("offset_s", [0.0, 0.03, 0.531])
def test_maxima_of_a_burst_in_silence(offset_s: float) -> None:
    """A 3 s burst at -23 LUFS in silence: short-term max -23 +/- 0.1 when the burst starts up to 30 ms
    off the 100 ms steps (at 50 ms off, the worst case, the window misses 1/60 of it: 0.07 LU low,
    with the tone's own -0.03 just past the tolerance); the momentary max reads the same."""
    silence = np.zeros((round((2.0 + offset_s) * RATE), 2), dtype=np.float32)
    r = measure(np.concatenate([silence, tone(-23.0, 3.0), silence]))
    assert r.short_term_max_lufs == pytest.approx(-23.0, abs=0.1)
    assert r.momentary_max_lufs == pytest.approx(-23.0, abs=0.1)


def test_curves_are_float32_at_100_ms_and_only_whole_windows() -> None:
    r = measure(tone(-20.0, 10.0))
    assert r.curves is not None
    assert r.curves.momentary.dtype == np.float32 and r.curves.momentary.size == 100 - 3
    assert r.curves.short_term.size == 100 - 29
    assert r.curves.end_s(r.curves.short_term, 3.0)[0] == pytest.approx(3.0)
    short = measure(tone(-20.0, 2.0))
    assert short.short_term_max_lufs is None and short.lra_lu is None and short.momentary_max_lufs is not None


def test_plr_is_true_peak_minus_integrated_loudness() -> None:
    r = measure(tone(-23.0, 10.0))
    assert r.plr_db == pytest.approx(r.true_peak_dbtp - r.integrated_lufs)  # type: ignore[operator]
    assert r.plr_db == pytest.approx(0.0, abs=0.1)  # a sine: peak -23 dBFS, -23 LUFS
    assert TrackLoudness(None, -10.0).plr_db is None and TrackLoudness(-20.0, -math.inf).plr_db is None


# ---------------------------------------------------------------------------------------------- pyloudnorm


def test_windows_equal_pyloudnorm_on_the_same_samples() -> None:
    """pyloudnorm measures one block of 400 ms (or 3 s) as the momentary (short-term) value of that window."""
    rng = np.random.default_rng(3)
    x = (rng.standard_normal((RATE * 12, 2)) * np.linspace(0.02, 0.3, RATE * 12)[:, None]).astype(np.float32)
    r = measure(x)
    assert r.curves is not None
    for i in (0, 17, 55):
        window = x[i * RATE // 10 : i * RATE // 10 + RATE * 4 // 10].astype(np.float64)
        expected = pyloudnorm.Meter(RATE, block_size=0.4).integrated_loudness(window)
        assert r.curves.momentary[i] == pytest.approx(expected, abs=0.01)
    for i in (0, 40, 89):
        window = x[i * RATE // 10 : i * RATE // 10 + RATE * 3].astype(np.float64)
        expected = pyloudnorm.Meter(RATE, block_size=3.0).integrated_loudness(window)
        assert r.curves.short_term[i] == pytest.approx(expected, abs=0.01)
    assert r.integrated_lufs == pytest.approx(
        pyloudnorm.Meter(RATE).integrated_loudness(x.astype(np.float64)), abs=0.01
    )


def test_steps_do_not_depend_on_block_sizes_and_odd_rates() -> None:
    x = tone(-18.0, 4.0, rate=11025, freq=440.0)
    rows = []
    for block in (1, 997, 44100):
        history = StepHistory(11025, 2)
        for i in range(0, x.shape[0], block):
            history.feed(x[i : i + block].T.astype(np.float64), i)
        rows.append(history.rows.copy())
    assert rows[0].shape == (40, 4)  # 1102.5 samples a step: rounded boundaries, no step lost
    np.testing.assert_allclose(rows[0], rows[1], rtol=1e-9)
    np.testing.assert_allclose(rows[0], rows[2], rtol=1e-9)


def test_history_of_a_long_track_stays_small() -> None:
    """Four numbers a 100 ms step: an hour at 8 kHz keeps 36,000 rows, about 1 MB; no samples."""
    meter = TrackMeter(8000, 2)
    block = (0.1 * np.random.default_rng(1).standard_normal((80000, 2))).astype(np.float32)
    for _ in range(360):  # 3600 s
        meter.feed_loudness(block)
    assert meter.history.rows.shape == (36000, 4)
    assert meter.history._rows.nbytes <= 2 * 36000 * 4 * 8
    r = meter.result()
    assert r.curves is not None and r.curves.momentary.nbytes < 200_000


# ---------------------------------------------------------------------------------------------- stereo


def _noise(seconds: float = 10.0, seed: int = 0) -> npt.NDArray[np.float32]:
    return (0.1 * np.random.default_rng(seed).standard_normal(round(seconds * RATE))).astype(np.float32)


def test_identical_channels() -> None:
    n = _noise()
    r = measure(np.stack([n, n], axis=1))
    assert r.stereo is not None and r.curves is not None and r.curves.correlation is not None
    assert r.stereo.correlation == pytest.approx(1.0) and r.stereo.width == pytest.approx(0.0, abs=1e-9)
    assert r.stereo.mono_loss_lu == pytest.approx(0.0, abs=1e-6)
    assert np.allclose(r.curves.correlation, 1.0)


def test_inverted_channels() -> None:
    n = _noise()
    r = measure(np.stack([n, -n], axis=1))
    assert r.stereo is not None and r.curves is not None and r.curves.correlation is not None
    assert r.stereo.correlation == pytest.approx(-1.0) and r.stereo.width == pytest.approx(1.0)
    assert np.allclose(r.curves.correlation, -1.0)
    # Everything is lost: the fold counts as the -70 LUFS gate, so the loss is the pair's loudness above it.
    assert r.integrated_lufs is not None
    assert r.stereo.mono_loss_lu == pytest.approx(r.integrated_lufs + 70.0, abs=0.01)


def test_independent_channels() -> None:
    r = measure(np.stack([_noise(seed=1), _noise(seed=2)], axis=1))
    assert r.stereo is not None and r.curves is not None and r.curves.correlation is not None
    assert abs(r.stereo.correlation) < 0.02 and r.stereo.width == pytest.approx(0.5, abs=0.01)
    assert r.stereo.mono_loss_lu == pytest.approx(3.01, abs=0.05)  # half the power of two equal channels
    assert np.all(np.abs(r.curves.correlation) < 0.15)


def test_correlation_over_time_follows_the_signal() -> None:
    n = _noise(10.0)
    x = np.stack([n, np.concatenate([n[: 5 * RATE], -n[5 * RATE :]])], axis=1)
    r = measure(x)
    assert r.curves is not None and r.curves.correlation is not None
    assert np.allclose(r.curves.correlation[:46], 1.0) and np.allclose(r.curves.correlation[50:], -1.0)
    assert r.stereo is not None and abs(r.stereo.correlation) < 0.05


def test_one_channel_has_no_stereo_and_more_channels_use_the_front_pair() -> None:
    mono = measure(_noise()[:, None])
    assert mono.stereo is None and mono.curves is not None and mono.curves.correlation is None
    n = _noise()
    surround = np.stack([n, n, _noise(seed=5), _noise(seed=6), -n, _noise(seed=7)], axis=1)
    r = measure(surround)
    assert r.stereo is not None and r.stereo.correlation == pytest.approx(1.0) and r.stereo.width < 1e-9


# ---------------------------------------------------------------------------------------------- clipping


def test_clipping_counts_runs_of_three_full_scale_samples_across_blocks() -> None:
    x = np.zeros((RATE, 2), dtype=np.float32)
    x[100, 0] = 1.0  # one sample at full scale: a normalised peak, not clipping
    x[1000:1003, 0] = 1.0  # a run of three
    x[2000:2010, 1] = -1.0  # a run of ten, counted once
    x[4998:5003, 0] = 1.2  # a float file's over, across the block boundary at 5000
    counter = ClipCounter(RATE, 2)
    for i in range(0, RATE, 5000):
        counter.feed(x[i : i + 5000])
    result = counter.result()
    assert result.spots == 3
    assert result.times_s == pytest.approx((1000 / RATE, 2000 / RATE, 4998 / RATE))


def test_clipped_sine_through_the_meter_and_the_kept_times_are_bounded() -> None:
    t = np.arange(RATE * 2) / RATE
    clipped = np.clip(1.5 * np.sin(2 * np.pi * 100 * t), -1.0, 1.0).astype(np.float32)
    r = measure(np.stack([clipped, clipped], axis=1))
    assert r.clipping is not None
    assert r.clipping.spots == 2 * 2 * 200  # two channels, a run on each half period
    assert len(r.clipping.times_s) == MAX_TIMES
    assert measure(tone(-1.0, 2.0)).clipping.spots == 0  # type: ignore[union-attr]


# ---------------------------------------------------------------------------------------------- the result


def test_result_json_round_trip_and_validation() -> None:
    n = _noise()
    measured = measure(np.stack([n, 0.5 * n + 0.5 * _noise(seed=9)], axis=1))
    result = TrackResult(file="a.wav", loudness=measured)
    d = result.to_dict()
    assert list(d["loudness"]) == [
        "lufs",
        "true_peak_dbtp",
        "lra_lu",
        "plr_db",
        "momentary_max_lufs",
        "short_term_max_lufs",
    ]
    assert set(d["stereo"]) == {"correlation", "width", "mono_loss_lu"} and 0.0 < d["stereo"]["correlation"] < 1.0
    assert d["clipping"] == {"spots": 0, "times_s": []}
    back = TrackResult.from_dict(d)
    assert isinstance(back.loudness, TrackLoudness) and back.to_dict() == d
    assert back.loudness.curves is None  # curves are drawn from the pass, not stored
    plain = TrackResult(file="b.wav", loudness=Loudness(-12.0, -1.0)).to_dict()
    assert plain["stereo"] is None and plain["loudness"]["lra_lu"] is None


@pytest.mark.parametrize(
    ("section", "value"),
    [
        ("stereo", {"correlation": 1.5, "width": 0.0, "mono_loss_lu": 0.0}),
        ("stereo", {"correlation": 0.5, "width": -0.1, "mono_loss_lu": 0.0}),
        ("stereo", {"correlation": 0.5, "width": 0.2}),
        ("clipping", {"spots": -1, "times_s": []}),
        ("clipping", {"spots": 1, "times_s": [1.0, 2.0]}),
        ("problem_spots", {"true_peak_floor_dbtp": -1.0, "clipped": [[2.0, 1.0]], "true_peak": [], "left_off": 0}),
        ("problem_spots", {"true_peak_floor_dbtp": -1.0, "clipped": [], "true_peak": [[1.0, 2.0]], "left_off": 0}),
        ("loudness", {"lufs": -9.0, "true_peak_dbtp": -1.0}),
        ("platforms", [{"name": "Spotify", "target_lufs": -14.0, "gain_db": float("nan"), "true_peak_after_dbtp": 0}]),
        ("qc", [{"rule": "clipping", "status": "maybe", "detail": "x"}]),
    ],
)
def test_validator_refuses_bad_meter_fields(section: str, value: object) -> None:
    from hitdesk.result_schema import ResultSchemaError
    from hitdesk.results import Score, SegmentResult

    score = Score(0.3, 0.2, 0.4)
    ok = TrackResult(
        file="a.wav",
        duration_s=60.0,
        segments=tuple(SegmentResult(n, 0.0, 30.0, score) for n in ("beginning", "middle", "end")),
        overall=score,
        loudness=measure(tone(-20.0, 4.0)),
    ).to_dict()
    validate_result_dict(ok)
    with pytest.raises(ResultSchemaError):
        validate_result_dict({**ok, section: value})
