"""The analysis pipeline on real audio with the shipped ONNX model."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hitdesk.analysis import AnalysisOptions, analyze, analyze_file
from hitdesk.audio import decode_all
from hitdesk.config import FEATURES
from hitdesk.dsp import stats_from_mel, tempo_bpm
from hitdesk.dsp.mel import melspectrogram
from hitdesk.dsp.windows import frame_range
from hitdesk.model import HitModel

SR = FEATURES.sample_rate


@pytest.fixture(scope="module")
def clip(data_dir: Path) -> Path:
    return data_dir / "chipdisko-12s.ogg"


def _check_scores(result_dict: dict) -> None:  # type: ignore[type-arg]
    for score in [result_dict["overall"], *result_dict["segments"]]:
        assert 0.0 <= score["p_hit_low"] <= score["p_hit"] <= score["p_hit_high"] <= 1.0


def test_real_clip_gives_three_segments_and_overall(model: HitModel, clip: Path) -> None:
    result = analyze_file(clip, model, AnalysisOptions(window_seconds=3.0))
    assert result.error is None, result.error
    d = result.to_dict()
    assert [s["name"] for s in d["segments"]] == ["beginning", "middle", "end"]
    assert d["duration_s"] == pytest.approx(12.0, abs=0.05)
    b, m, e = d["segments"]
    assert b["start_s"] < m["start_s"] < e["start_s"]
    assert all(s["end_s"] - s["start_s"] == pytest.approx(3.0) for s in d["segments"])
    assert d["notes"] == []
    assert d["model"]["name"] == model.info.name and d["mode"] == "full"
    assert 0.0 <= d["familiarity"]["typicality"] <= 1.0
    _check_scores(d)


def test_short_track_notes(model: HitModel, clip: Path) -> None:
    overlapping = analyze_file(clip, model, AnalysisOptions(window_seconds=5.0))
    assert any("overlap" in n for n in overlapping.notes)
    single = analyze_file(clip, model)  # 12 s < one 30 s window
    assert any("shorter than one" in n for n in single.notes)
    assert len({s.score.p_hit for s in single.segments}) == 1


def test_segment_scores_equal_window_head_on_window_statistics(model: HitModel, clip: Path) -> None:
    """The window head's combined graph (log-mel in) and its statistics graph agree through the runtime."""
    result, detail = analyze(clip, model, AnalysisOptions(window_seconds=4.0))
    assert detail.plan is not None
    mel = melspectrogram(decode_all(clip))
    for seg, win in zip(result.segments, detail.plan.windows, strict=True):
        window_mel = mel[:, frame_range(win.start_s, win.end_s, mel.shape[1])]
        stats = stats_from_mel(window_mel, result.duration_s or 0.0, tempo=tempo_bpm(window_mel))
        assert model.score_window_stats(stats)[0].p_hit == pytest.approx(seg.score.p_hit, abs=1e-4)
        assert detail.window_logmel[seg.name].shape == window_mel.shape


@pytest.mark.parametrize("gain_db", [-12.0, 12.0])
def test_gain_change_moves_scores_by_less_than_a_percent(
    model: HitModel, clip: Path, tmp_path: Path, gain_db: float
) -> None:
    y = decode_all(clip)
    base_path, gained_path = tmp_path / "base.wav", tmp_path / "gained.wav"
    sf.write(base_path, 0.25 * y, SR, subtype="FLOAT")
    sf.write(gained_path, 0.25 * y * 10 ** (gain_db / 20), SR, subtype="FLOAT")
    opts = AnalysisOptions(window_seconds=3.0)
    a, b = analyze_file(base_path, model, opts), analyze_file(gained_path, model, opts)
    assert a.overall is not None and b.overall is not None
    assert abs(a.overall.p_hit - b.overall.p_hit) < 0.01
    for sa, sb in zip(a.segments, b.segments, strict=True):
        assert abs(sa.score.p_hit - sb.score.p_hit) < 0.01
        assert sa.start_s == pytest.approx(sb.start_s, abs=0.05)


def test_fast_mode_on_a_short_track_reads_it_whole(model: HitModel, clip: Path) -> None:
    full = analyze_file(clip, model, AnalysisOptions(window_seconds=3.0))
    fast = analyze_file(clip, model, AnalysisOptions(window_seconds=3.0, fast=True))
    assert fast.mode == "full"
    assert fast.to_dict()["overall"] == full.to_dict()["overall"]


def test_fast_mode_on_a_long_track(model: HitModel, corpus_dir: Path) -> None:
    path = corpus_dir / "battle_theme.ogg"
    full = analyze_file(path, model)
    fast = analyze_file(path, model, AnalysisOptions(fast=True))
    assert fast.mode == "fast" and fast.error is None
    for a, b in zip(full.segments, fast.segments, strict=True):
        assert a.start_s == pytest.approx(b.start_s, abs=0.2)
        assert a.score.p_hit == pytest.approx(b.score.p_hit, abs=0.02)
    assert fast.duration_s == pytest.approx(full.duration_s, abs=0.1)
    _check_scores(fast.to_dict())


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"this is text, not audio " * 50, "not audio"),
    ],
)
def test_bad_files_become_error_results(model: HitModel, tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "bad.mp3"
    path.write_bytes(content)
    result = analyze_file(path, model)
    assert result.error is not None and expected in result.error and "bad.mp3" in result.error
    assert result.segments == () and result.overall is None


def test_too_short_and_silent_and_missing(model: HitModel, tmp_path: Path) -> None:
    short = tmp_path / "short.wav"
    sf.write(short, 0.1 * np.sin(np.arange(2 * SR) * 0.05), SR)
    assert "at least 3 s" in (analyze_file(short, model).error or "")
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(10 * SR), SR)
    assert "only silence" in (analyze_file(silent, model).error or "")
    assert "not found" in (analyze_file(tmp_path / "nope.wav", model).error or "").lower()


def test_input_is_never_written(model: HitModel, clip: Path, tmp_path: Path) -> None:
    copy = tmp_path / "take.ogg"
    copy.write_bytes(clip.read_bytes())
    before = hashlib.sha256(copy.read_bytes()).hexdigest()
    analyze_file(copy, model)
    analyze_file(copy, model, AnalysisOptions(fast=True))
    assert hashlib.sha256(copy.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["take.ogg"]


def test_core_packages_import_neither_qt_nor_torch_nor_librosa() -> None:
    """Nor scipy.signal (half a second of start-up; only recording's picture needs it)."""
    code = (
        "import sys, hitdesk.analysis, hitdesk.cli, hitdesk.model, hitdesk.audio, hitdesk.dsp, hitdesk.cache;"
        "import hitdesk.explain, hitdesk.explain.whatif, hitdesk.explain.compare;"
        "from hitdesk.dsp import track_statistics; import numpy as np; track_statistics(np.ones(70000, 'f4'));"
        "bad = [m for m in ('PySide6', 'torch', 'pyqtgraph', 'librosa', 'scipy.signal') if m in sys.modules];"
        "sys.exit(f'imported {bad}' if bad else 0)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_decoder_problems_become_notes(model: HitModel, tmp_path: Path) -> None:
    """A truncated file and unusable samples still give a result, which says what was worked around."""
    rate = 44100
    t = np.arange(12 * rate) / rate
    tone = (0.3 * np.sin(2 * np.pi * 330 * t) * (1 + np.sin(2 * np.pi * 1.5 * t))).astype(np.float32)
    flac = tmp_path / "cut.flac"
    sf.write(flac, tone, rate)
    data = flac.read_bytes()
    cut = tmp_path / "cut-short.flac"
    cut.write_bytes(data[: int(len(data) * 0.6)])
    nan = tmp_path / "nan.wav"
    bad = tone.copy()
    bad[rate : rate + 100] = np.nan
    sf.write(nan, bad, rate, subtype="FLOAT")
    for path, words in ((cut, "truncated"), (nan, "NaN")):
        for fast in (False, True):
            result, _ = analyze(path, model, AnalysisOptions(window_seconds=3.0, fast=fast))
            assert result.ok, result.error
            assert any(words in n and path.name in n for n in result.notes), result.notes
    clean, _ = analyze(flac, model, AnalysisOptions(window_seconds=3.0))
    assert not any("truncated" in n or "NaN" in n for n in clean.notes)
