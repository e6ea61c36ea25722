"""Bounded memory for long tracks: full mode spills a long track's mel frames to a temporary file and
computes its statistics a chunk at a time; the results equal the in-memory computation.

The spill limit (20 minutes) is forced down to a few hundred frames here, so short generated signals
take the long-track path. GNU time's figures on 4-hour and 1-hour files are bench/bench_memory.py's.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import AppFolders

import hitdesk.analysis as analysis
from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.config import FEATURES
from hitdesk.dsp import MelFrames, StreamingMel, melspectrogram, stats_from_frames, stats_from_mel
from hitdesk.dsp.frames import spill_frames
from hitdesk.dsp.rhythm import ONSET_CHUNK_FRAMES
from hitdesk.model import HitModel

SR = FEATURES.sample_rate
REPO = Path(__file__).resolve().parents[2]


def _music(seconds: float, seed: int = 0) -> np.ndarray:
    """Tones with changing pitch and level, noise bursts on a beat and a quiet passage."""
    rng = np.random.default_rng(seed)
    t = np.arange(round(seconds * SR)) / SR
    tone = np.sin(2 * np.pi * (220.0 + 40.0 * np.sin(2 * np.pi * t / 11.0)) * t)
    level = 0.3 + 0.25 * np.sin(2 * np.pi * t / 5.0)
    beat = np.exp(-((t * 2.1) % 1.0) * 25.0) * rng.standard_normal(t.size)
    y = level * tone + 0.3 * beat
    y[(t > 0.4 * seconds) & (t < 0.45 * seconds)] *= 0.001
    return y.astype(np.float32)


def _store(mel: np.ndarray, limit: int | None, piece: int = 777) -> MelFrames:
    frames = MelFrames(limit)
    for a in range(0, mel.shape[1], piece):
        frames.append(mel[:, a : a + piece])
    return frames


@pytest.fixture(scope="module")
def long_mel() -> np.ndarray:
    return melspectrogram(_music((3 * ONSET_CHUNK_FRAMES + 8) * FEATURES.hop_length / SR))


@pytest.mark.parametrize("extra", [0, 1, 2])
def test_spilled_statistics_equal_the_whole_array_ones(long_mel: np.ndarray, extra: int) -> None:
    # Lengths that leave the onset envelope's last chunk empty, one frame or two.
    mel = np.ascontiguousarray(long_mel[:, : 3 * ONSET_CHUNK_FRAMES + extra])
    expected = stats_from_mel(mel, 99.0)
    with _store(mel, limit=300) as frames:
        assert frames.spilled
        got = stats_from_frames(frames, 99.0)
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-5)
    assert got[-2] == expected[-2] and got[-1] == 99.0  # the same onset envelope, so the same tempo


def test_frames_read_back_as_written_in_memory_or_spilled(tmp_path: Path) -> None:
    mel = melspectrogram(_music(20.0, seed=3))
    in_memory = _store(mel, limit=None)
    with MelFrames(500, folder=tmp_path) as spilled:
        for a in range(0, mel.shape[1], 333):
            spilled.append(mel[:, a : a + 333])
        assert spilled.spilled and not in_memory.spilled
        assert spilled.max() == in_memory.max() == float(mel.max())
        assert spilled.n_frames == in_memory.n_frames == mel.shape[1]
        for r in (slice(0, 10), slice(499, 1203), slice(800, 10**9)):
            assert np.array_equal(spilled.read(r), mel[:, r]) and spilled.read(r).flags.c_contiguous
            assert np.array_equal(in_memory.read(r), mel[:, r])
        assert np.array_equal(np.concatenate([c for _, c in spilled.chunks(256)], axis=1), mel)
        assert np.array_equal(spilled.array(), mel)
        # The file has no name from the start, so it cannot be left behind, however the process ends.
        assert list(tmp_path.iterdir()) == []


def test_streaming_mel_can_keep_levels_without_frames() -> None:
    y = _music(30.0)
    both, levels = StreamingMel(batch_frames=256), StreamingMel(batch_frames=256, keep_mel=False)
    handed = [levels.feed(y[a : a + 10_000]) for a in range(0, y.size, 10_000)] + [levels.finish()]
    for a in range(0, y.size, 10_000):
        both.feed(y[a : a + 10_000])
    both.finish()
    assert levels.mel_power().shape == (FEATURES.n_mels, 0)
    assert np.array_equal(np.concatenate(handed, axis=1), both.mel_power())
    assert np.array_equal(levels.frame_rms(), both.frame_rms())


def _open_temp_files(folder: Path) -> list[str]:
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(folder)):
            found.append(target)
    return found


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_full_mode_spills_and_scores_as_in_memory(
    model: HitModel, tmp_path: Path, app_folders: AppFolders, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "two-minutes.wav"
    sf.write(path, np.stack([_music(120.0, seed=5), _music(120.0, seed=6)], axis=1), SR)
    opts = AnalysisOptions(window_seconds=20.0)
    in_memory, _ = analyze(path, model, opts)
    assert in_memory.error is None

    seen: list[str] = []
    monkeypatch.setattr(analysis, "spill_frames", lambda: 1000)  # about 23 s of frames
    spilled, _ = analyze(path, model, opts, on_progress=lambda p: seen.extend(_open_temp_files(app_folders.home)))
    assert spilled.error is None
    # While the pass ran, the frames were in an unnamed file in the app's temporary folder; it is gone.
    assert seen and all(t.endswith("(deleted)") for t in seen)
    assert _open_temp_files(app_folders.home) == [] and list((app_folders.home / "tmp").iterdir()) == []
    a, b = in_memory.to_dict(), spilled.to_dict()
    for key in ("duration_s", "segments", "loudness", "notes"):
        assert a[key] == b[key]
    assert a["overall"]["p_hit"] == pytest.approx(b["overall"]["p_hit"], abs=1e-6)

    # A pass stopped after it spilled (five 8 s blocks) leaves no file open either.
    asked: list[int] = []
    with pytest.raises(analysis.AnalysisCancelledError):
        analyze(path, model, opts, should_stop=lambda: bool(asked.append(1)) or len(asked) > 6)
    assert len(asked) == 7 and _open_temp_files(app_folders.home) == []


def test_spill_limit_is_twenty_minutes() -> None:
    assert spill_frames() == int(1200 * SR / FEATURES.hop_length)


_PEAK = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], check=True, stdout=subprocess.DEVNULL)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024)
"""


def _peak_mb(path: Path, minutes: int) -> int:
    """Write `minutes` of 8 kHz tones and beats to `path`; the peak memory (MB) of one fresh
    `hitdesk analyze --json --no-cache` on it."""
    rate, block = 8000, 8000 * 60
    t = np.arange(block) / rate
    with sf.SoundFile(path, "w", rate, 1, "PCM_16") as f:
        for minute in range(minutes):
            level = 0.05 + 0.4 * ((minute * 7) % 10) / 10
            beat = np.exp(-((t * (1.5 + minute / 60)) % 1.0) * 30.0) * np.sin(2 * np.pi * 900.0 * t)
            f.write((level * np.sin(2 * np.pi * (110.0 + 5 * minute) * t) + 0.3 * beat).astype(np.float32))
    cmd = [sys.executable, "-m", "hitdesk", "analyze", "--json", "--no-cache", str(path)]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True, text=True, env=env, check=True)
    return int(proc.stdout.split()[-1])


@pytest.mark.slow
@pytest.mark.usefixtures("needs_model")
def test_three_quarters_of_an_hour_in_full_mode_stay_small(tmp_path: Path) -> None:
    """A 45-minute 8 kHz file peaks within 40 MB of a 3-minute one: the command's memory does not
    grow with the frames (9 MB more here; holding them all cost 120 MB more). The figure is relative because
    the absolute peak depends on the machine's libraries (about 215 MB here, 250 MB on another machine);
    bench/bench_memory.py measures 4 hours."""
    short = _peak_mb(tmp_path / "short.wav", 3)
    long = _peak_mb(tmp_path / "long.wav", 45)
    assert long - short < 40, f"peak memory {long} MB for 45 minutes, {short} MB for 3"


def test_loudness_meter_keeps_a_few_bytes_a_gating_block() -> None:
    """Ten minutes of stereo are 6,000 gating blocks; the meter keeps each block's mean squares
    (the relative gate needs them all at the end) in one array: 16 bytes a block (doubled at most
    while it grows), not a Python object of about 160 bytes each."""
    import tracemalloc

    from hitdesk.dsp.loudness import LoudnessMeter

    rate = 4000
    meter = LoudnessMeter(rate, 2)
    block = (0.1 * np.random.default_rng(0).standard_normal((60 * rate, 2))).astype(np.float32)
    meter.feed_loudness(block)  # the buffers a block needs, allocated before counting
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        for _ in range(9):
            meter.feed_loudness(block)
        held = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    assert len(meter._z) == 5_997  # blocks complete after 10 minutes
    assert held < 6_000 * 2 * 8 * 2.5, f"{held} bytes for 10 minutes"
    lufs = meter.result().integrated_lufs
    assert lufs is not None and -25.0 < lufs < -10.0


@pytest.mark.parametrize("failure", ["cannot make", "disk full"])
def test_no_room_for_the_frames_is_one_sentence(
    model: HitModel, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failure: str
) -> None:
    import errno
    import tempfile

    path = tmp_path / "long take.wav"
    sf.write(path, _music(60.0, seed=7), SR)
    monkeypatch.setattr(analysis, "spill_frames", lambda: 1000)

    def no_file(**kwargs: object) -> object:
        if failure == "disk full":
            return open("/dev/full", "w+b")  # every write fails: no space left
        raise OSError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "TemporaryFile", no_file)
    result, _ = analyze(path, model, AnalysisOptions(window_seconds=20.0))
    assert result.error is not None and result.overall is None
    assert result.error.startswith("Cannot analyse 'long take.wav': a track this long needs a temporary file in ")
    reason = "No space left on device" if failure == "disk full" else "Permission denied"
    assert result.error.endswith(f"which cannot be written ({reason}).") and "\n" not in result.error


def test_the_hit_curve_of_a_spilled_track_equals_the_in_memory_one(
    model: HitModel, tmp_path: Path, app_folders: AppFolders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The curve is worked out while the frames exist, from the temporary file for a long track."""
    from hitdesk import explain

    path = tmp_path / "ninety-seconds.wav"
    sf.write(path, _music(90.0, seed=7), SR)
    opts = AnalysisOptions(window_seconds=20.0, curve_hop_s=5.0)
    in_memory = explain.analyze(path, model, opts)[0]
    monkeypatch.setattr(analysis, "spill_frames", lambda: 1000)  # about 23 s of frames
    spilled = explain.analyze(path, model, opts)[0]
    assert in_memory.curve is not None and spilled.curve is not None
    a, b = in_memory.curve.points, spilled.curve.points
    assert [(p.start_s, p.end_s) for p in b] == [(p.start_s, p.end_s) for p in a]
    assert [p.p_hit for p in b] == pytest.approx([p.p_hit for p in a], abs=1e-5)
    assert spilled.curve.points[0].p_hit == spilled.segments[0].score.p_hit
    assert _open_temp_files(app_folders.home) == []
