"""Loudness in the core: the meter against pyloudnorm and scipy, and its place in one decoding pass.

Generated signals run in a fresh clone; real tracks come from ../shared/corpus (skipped without it).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile as sf

from hitdesk.audio import decode as decode_module
from hitdesk.audio.av_reader import AvReader
from hitdesk.audio.decode import open_stream
from hitdesk.audio.sndfile_reader import SndfileReader
from hitdesk.dsp import sos as sos_module
from hitdesk.dsp import truepeak
from hitdesk.dsp.loudness import Loudness, LoudnessMeter, k_weighting_sos
from hitdesk.present import CSV_FIELDS, loudness_line, results_csv
from hitdesk.results import LOUDNESS_ORDER, TrackResult

# Different codecs, rates and channel counts; a loud rock mix and a quiet electronic track among them.
CORPUS_TRACKS = (
    "armygeddon-mix.ogg",
    "awakening.ogg",
    "chipdisko.mp3",
    "forest-sprint.m4a",
    "warzone-track3.opus",
    "battle-96k-float.wav",
    "loyalists-8k-u8.wav",
)


def native(path: Path) -> tuple[int, np.ndarray]:
    """The whole file as the core decoder's native blocks give it: rate, (frames, channels) float32."""
    reader = open_stream(path)
    try:
        return reader.info.sample_rate, np.concatenate(list(reader.native_blocks()))
    finally:
        reader.close()


def measure(x: np.ndarray, rate: int, block: int = 65536) -> Loudness:
    x = x if x.ndim == 2 else x[:, None]
    meter = LoudnessMeter(rate, x.shape[1])
    for start in range(0, len(x), block):
        meter.feed(x[start : start + block])
    return meter.result()


def oversampled_peak_db(x: np.ndarray, factor: int) -> float:
    return 20 * math.log10(float(np.max(np.abs(scipy.signal.resample_poly(x.astype(np.float64), factor, 1, axis=0)))))


def sine(rate: int, seconds: float, freq: float, amplitude: float, phase: float = 0.0) -> np.ndarray:
    """A tone with 20 ms raised-cosine fades: an abrupt start is a step, whose ringing any true-peak
    meter reads (up to 1 dB over the tone), and differently for different filters."""
    t = np.arange(round(rate * seconds)) / rate
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.02)
    return (amplitude * np.sin(2 * np.pi * freq * t + phase) * (0.5 - 0.5 * np.cos(np.pi * fade))).astype(np.float32)


# ------------------------------------------------------------------------------------ real tracks


@pytest.mark.parametrize("name", CORPUS_TRACKS)
def test_integrated_loudness_matches_pyloudnorm_on_real_tracks(corpus_dir: Path, name: str) -> None:
    rate, x = native(corpus_dir / name)
    got = measure(x, rate)
    expected = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))
    assert got.integrated_lufs is not None
    assert abs(got.integrated_lufs - expected) < 0.1  # measured: within 0.001 LU


@pytest.mark.parametrize("name", CORPUS_TRACKS)
def test_true_peak_matches_scipy_oversampling_on_real_tracks(corpus_dir: Path, name: str) -> None:
    """Within 0.1 dB of 4x resample_poly (81 taps; the app's earlier meter) and 0.2 dB of 8x."""
    rate, x = native(corpus_dir / name)
    got = measure(x, rate).true_peak_dbtp
    assert got == pytest.approx(oversampled_peak_db(x, 4), abs=0.1)  # measured: within 0.03 dB
    assert got == pytest.approx(oversampled_peak_db(x, 8), abs=0.2)
    assert got >= 20 * math.log10(float(np.max(np.abs(x)))) - 1e-6  # never below the sample peak


# ------------------------------------------------------------------------------------ generated signals


def test_stereo_sine_reads_its_level_and_one_channel_reads_3_01_db_less() -> None:
    rate = 48000
    tone = sine(rate, 5.0, 1000.0, 10 ** (-20 / 20))  # -20 dBFS peak
    both = measure(np.stack([tone, tone], axis=1), rate)
    left = measure(np.stack([tone, np.zeros_like(tone)], axis=1), rate)
    assert both.integrated_lufs is not None and left.integrated_lufs is not None
    # BS.1770: a 0 dBFS 1 kHz sine in one channel reads -3.01 LUFS; in both, 3.01 LU more. pyloudnorm's
    # filters (cookbook biquads, not the standard's tabled coefficients) read 0.035 dB less at 1 kHz.
    assert left.integrated_lufs == pytest.approx(-23.01, abs=0.05)
    assert both.integrated_lufs - left.integrated_lufs == pytest.approx(3.01, abs=0.01)
    mono = pyloudnorm.Meter(rate).integrated_loudness(np.stack([tone, 0 * tone], axis=1).astype(np.float64))
    assert left.integrated_lufs == pytest.approx(mono, abs=0.001)
    assert both.true_peak_dbtp == pytest.approx(-20.0, abs=0.05)


def test_silence_has_no_loudness_and_no_peak() -> None:
    result = measure(np.zeros((48000 * 2, 2), dtype=np.float32), 48000)
    assert result.integrated_lufs is None and result.true_peak_dbtp == -math.inf
    assert result.to_dict() == {"lufs": None, "true_peak_dbtp": None}


def test_below_the_absolute_gate_is_null_but_the_peak_is_measured() -> None:
    rate = 44100
    quiet = sine(rate, 3.0, 1000.0, 1e-4)  # -80 dBFS: about -83 LUFS
    result = measure(np.stack([quiet, quiet], axis=1), rate)
    assert result.integrated_lufs is None
    assert result.true_peak_dbtp == pytest.approx(-80.0, abs=0.1)
    assert result.to_dict() == {"lufs": None, "true_peak_dbtp": pytest.approx(-80.0, abs=0.1)}


def test_shorter_than_one_gating_block_has_no_integrated_loudness() -> None:
    result = measure(sine(48000, 0.3, 1000.0, 0.1)[:, None], 48000)
    assert result.integrated_lufs is None and result.true_peak_dbtp == pytest.approx(-20.0, abs=0.01)


@pytest.mark.parametrize(
    ("freq_fraction", "phase"), [(1 / 4, math.pi / 4), (1 / 6, math.pi / 3), (1 / 8, 3 * math.pi / 8)]
)
def test_true_peak_finds_inter_sample_peaks(freq_fraction: float, phase: float) -> None:
    """EBU Tech 3341's true-peak tones: no sample reaches the crest, the reading must (+0.2/-0.4 dB)."""
    rate = 48000
    x = sine(rate, 2.0, rate * freq_fraction, 0.5, phase)
    got = measure(np.stack([x, x], axis=1), rate).true_peak_dbtp
    assert 20 * math.log10(float(np.max(np.abs(x)))) < -6.5  # the samples miss the crest
    assert -6.02 - 0.4 <= got <= -6.02 + 0.2


def test_true_peak_against_scipy_on_noise_and_tones() -> None:
    """Band-limited content below 15 kHz: within 0.1 dB of 4x resample_poly (higher tones, see truepeak.py)."""
    rate = 44100
    rng = np.random.default_rng(3)
    noise = scipy.signal.sosfilt(scipy.signal.butter(8, 12000, fs=rate, output="sos"), rng.standard_normal(rate * 3))
    x = (0.3 * noise / np.max(np.abs(noise))).astype(np.float32)
    for signal in (x, sine(rate, 3.0, 9000.0, 0.5, 1.0), sine(rate, 3.0, 14000.0, 0.5, 0.3)):
        stereo = np.stack([signal, 0.7 * signal], axis=1)
        assert measure(stereo, rate).true_peak_dbtp == pytest.approx(oversampled_peak_db(stereo, 4), abs=0.1)


def test_pruning_gives_what_interpolating_everywhere_gives(monkeypatch: pytest.MonkeyPatch) -> None:
    rate = 44100
    rng = np.random.default_rng(7)
    x = (rng.standard_normal((rate * 2, 2)) * np.linspace(0.01, 0.4, rate * 2)[:, None]).astype(np.float32)
    pruned = measure(x, rate, block=10_000).true_peak_dbtp
    taps, _bound = truepeak.phase_taps()
    monkeypatch.setattr(truepeak, "phase_taps", lambda: (taps, math.inf))  # every chunk a candidate
    everywhere = measure(x, rate, block=10_000).true_peak_dbtp
    assert pruned == everywhere


def test_block_sizes_do_not_matter() -> None:
    rate = 48000
    rng = np.random.default_rng(1)
    x = (0.2 * rng.standard_normal((rate * 3, 2))).astype(np.float32)
    whole = measure(x, rate, block=len(x))
    for block in (31, 7777, 65536):
        split = measure(x, rate, block=block)
        assert split.true_peak_dbtp == whole.true_peak_dbtp
        assert split.integrated_lufs == pytest.approx(whole.integrated_lufs, abs=1e-9)
    short = x[: rate // 2]
    one_by_one, at_once = measure(short, rate, block=1), measure(short, rate, block=len(short))
    assert one_by_one.true_peak_dbtp == at_once.true_peak_dbtp
    assert one_by_one.integrated_lufs == pytest.approx(at_once.integrated_lufs, abs=1e-9)


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000, 96000, 192000])
def test_k_weighting_is_pyloudnorms(rate: int) -> None:
    ours = k_weighting_sos(rate)
    for section, stage in zip(ours, pyloudnorm.Meter(rate)._filters.values(), strict=True):
        np.testing.assert_allclose(section[:3], stage.b, rtol=1e-12)
        np.testing.assert_allclose(section[3:], stage.a, rtol=1e-12)
        assert stage.passband_gain == 1.0


def test_compiled_sosfilt_equals_scipy_signal(monkeypatch: pytest.MonkeyPatch) -> None:
    """Either kernel, or one after the other on the same stream (a fallback mid-track), gives scipy's
    result; three signals, so a state kept in the wrong layout could not pass."""
    sos = k_weighting_sos(44100)
    x = np.random.default_rng(2).standard_normal((3, 5000))
    expected, _ = scipy.signal.sosfilt(sos, x, axis=-1, zi=np.zeros((2, 3, 2)))
    compiled, public = sos_module._load_compiled(), sos_module._public
    assert compiled is not None
    for first, second in ((compiled, compiled), (public, public), (compiled, public)):
        zi = np.zeros((3, 2, 2))
        a, b = np.ascontiguousarray(x[:, :1234]), np.ascontiguousarray(x[:, 1234:])
        monkeypatch.setattr(sos_module, "_kernel", first)
        sos_module.sosfilt_inplace(sos, a, zi)
        monkeypatch.setattr(sos_module, "_kernel", second)
        sos_module.sosfilt_inplace(sos, b, zi)
        np.testing.assert_allclose(np.concatenate([a, b], axis=1), expected, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("channels", [1, 2, 3, 6])
def test_channels_filtered_in_complex_pairs_are_each_channel_filtered_alone(channels: int) -> None:
    """Two channels share one complex pass; each part must be bit for bit the real filter's output,
    an odd last channel too, across block boundaries."""
    rate = 44100
    x = (0.3 * np.random.default_rng(channels).standard_normal((20_000, channels))).astype(np.float32)
    meter = LoudnessMeter(rate, channels)
    got = np.concatenate([meter._k_weighted_squares(x[:7000]).copy(), meter._k_weighted_squares(x[7000:])], axis=1)
    sos = k_weighting_sos(rate)
    expected = np.empty((channels, len(x)))
    for c in range(channels):
        row = np.ascontiguousarray(x[:, c], dtype=np.float64)[None, :]
        sos_module.sosfilt_inplace(sos, row, np.zeros((1, 2, 2)))
        expected[c] = np.square(row[0])
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_read_as_silence_in_both_halves_of_the_meter(bad: float) -> None:
    """The meter no longer reads every block to look for them: it finds them in its own results."""
    rate = 44100
    x = (0.2 * np.random.default_rng(3).standard_normal((rate * 2, 2))).astype(np.float32)
    x[:, 1] *= 4  # the loud channel peaks far above where the damage is
    damaged = x.copy()
    damaged[30_000, 0] = bad
    damaged[50_000:50_010, :] = bad
    clean = x.copy()
    clean[30_000, 0] = 0.0
    clean[50_000:50_010, :] = 0.0
    for block in (20_000, 65536):
        got, expected = measure(damaged, rate, block=block), measure(clean, rate, block=block)
        assert got == expected
        assert got.integrated_lufs is not None and math.isfinite(got.true_peak_dbtp)


def test_the_meter_does_not_import_scipy_signal() -> None:
    """Half a second of start-up on every command: the compiled biquad loop is loaded on its own, and
    takes the meter's work buffer (rows of a wider array) as it is."""
    import subprocess
    import sys

    code = (
        "import sys, numpy as np\n"
        "from hitdesk.dsp.loudness import LoudnessMeter\n"
        "from hitdesk.dsp import sos\n"
        "m = LoudnessMeter(44100, 2)\n"
        "x = np.random.default_rng(0).standard_normal((44100, 2)).astype(np.float32) * 0.1\n"
        "m.feed(x); m.feed(x[:1000]); r = m.result()\n"
        "print('scipy.signal' in sys.modules, sos._kernel is sos._public, r.integrated_lufs is not None)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False", "True"]


def test_loudness_dict_round_trip_and_older_sessions() -> None:
    value = Loudness(-9.126, -0.304)
    assert value.to_dict() == {"lufs": -9.13, "true_peak_dbtp": -0.3}
    assert Loudness.from_dict(value.to_dict()) == Loudness(-9.13, -0.3)
    assert Loudness.from_dict({"integrated_lufs": -14.2, "true_peak_dbtp": -0.9}) == Loudness(-14.2, -0.9)
    assert Loudness.from_dict({"lufs": None, "true_peak_dbtp": None}) == Loudness(None, -math.inf)


# ------------------------------------------------------------------------------------ results and outputs


def test_track_result_carries_loudness() -> None:
    ok = TrackResult(file="a.ogg", duration_s=10.0, loudness=Loudness(-9.1, -0.3))
    d = ok.to_dict()
    unmeasured = {"lra_lu": None, "plr_db": None, "momentary_max_lufs": None, "short_term_max_lufs": None}
    assert d["loudness"] == {"lufs": -9.1, "true_peak_dbtp": -0.3, **unmeasured}
    assert TrackResult.from_dict(d) == ok
    fast = TrackResult(file="b.ogg", mode="fast")
    assert fast.to_dict()["loudness"] == {"lufs": None, "true_peak_dbtp": None, **unmeasured}
    assert TrackResult.from_dict(fast.to_dict()).loudness is None
    failed = TrackResult(file="c.ogg", error="Cannot decode 'c.ogg'.")
    assert failed.to_dict()["loudness"] is None
    older = {k: v for k, v in ok.to_dict().items() if k != "loudness"}  # cached before the field existed
    assert TrackResult.from_dict(older).loudness is None


def test_csv_columns_and_human_line() -> None:
    assert CSV_FIELDS[CSV_FIELDS.index("p_hit_high") + 1 :][:2] == ("lufs", "true_peak_dbtp")
    rows = [
        TrackResult(file="a.ogg", loudness=Loudness(-9.126, -0.304)).to_dict(),
        TrackResult(file="b.ogg", mode="fast").to_dict(),
    ]
    lines = results_csv(rows).splitlines()
    header = lines[0].split(",")
    a, b = (dict(zip(header, line.split(","), strict=True)) for line in lines[1:])
    assert (a["lufs"], a["true_peak_dbtp"]) == ("-9.13", "-0.3")
    assert (b["lufs"], b["true_peak_dbtp"]) == ("", "")
    assert loudness_line(rows[0]["loudness"]) == "loudness: -9.1 LUFS integrated, true peak -0.3 dBTP"
    assert loudness_line(rows[1]["loudness"]) == ""
    assert loudness_line({"lufs": None, "true_peak_dbtp": -80.0}).startswith("loudness: below the -70 LUFS gate")


def test_importing_results_does_not_import_numpy_code() -> None:
    """Every `hitdesk` command imports hitdesk.results; the Loudness class comes only when a result has one."""
    import subprocess
    import sys

    code = "import sys, hitdesk.results; print('hitdesk.dsp' in sys.modules, 'numpy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


# ------------------------------------------------------------------------------------ in the analysis


def test_full_mode_measures_loudness_in_its_one_decoding_pass(
    model: object, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hitdesk.analysis import AnalysisOptions, analyze_file

    passes: list[str] = []
    for cls in (SndfileReader, AvReader):
        real = cls.native_blocks

        def counted(self: object, real: object = real, cls: type = cls) -> object:
            passes.append(cls.__name__)
            return real(self)  # type: ignore[operator]

        monkeypatch.setattr(cls, "native_blocks", counted)
    opens: list[Path] = []
    real_open = decode_module._open_stream_reader
    monkeypatch.setattr(decode_module, "_open_stream_reader", lambda p: opens.append(p) or real_open(p))
    for name in ("chipdisko-12s.ogg", "forest-sprint-6s.m4a", "elvish-theme-3s-24bit.flac"):
        passes.clear()
        opens.clear()
        path = data_dir / name
        result = analyze_file(path, model, AnalysisOptions(window_seconds=3.0))  # type: ignore[arg-type]
        assert result.ok and result.mode == "full"
        assert len(passes) == 1 and opens == [path]  # one decoder, read once, for features and loudness
        rate, x = native(path)
        expected = pyloudnorm.Meter(rate).integrated_loudness(x.astype(np.float64))
        assert result.loudness is not None and result.loudness.integrated_lufs == pytest.approx(expected, abs=0.01)
        assert result.to_dict()["loudness"]["lufs"] == pytest.approx(expected, abs=0.01)


def test_fast_mode_reports_no_loudness_with_a_note(model: object, tmp_path: Path) -> None:
    from hitdesk.analysis import FAST_LOUDNESS_NOTE, AnalysisOptions, analyze_file

    rate = 44100
    rng = np.random.default_rng(0)
    t = np.arange(rate * 75) / rate
    x = 0.3 * np.sin(2 * np.pi * 220 * t) * (1 + np.sin(2 * np.pi * 2 * t)) + 0.02 * rng.standard_normal(t.size)
    path = tmp_path / "seventy-five-seconds.flac"
    sf.write(path, np.stack([x, x], axis=1).astype(np.float32), rate)
    result = analyze_file(path, model, AnalysisOptions(window_seconds=3.0, fast=True))  # type: ignore[arg-type]
    assert result.ok and result.mode == "fast"
    assert result.loudness is None and result.notes[-1] == FAST_LOUDNESS_NOTE
    assert result.to_dict()["loudness"] == dict.fromkeys(LOUDNESS_ORDER)
    assert result.to_dict()["stereo"] is None and result.to_dict()["clipping"] is None
    full = analyze_file(path, model, AnalysisOptions(window_seconds=3.0))  # type: ignore[arg-type]
    assert full.loudness is not None and FAST_LOUDNESS_NOTE not in full.notes
