"""The training feature cache: same features as analysis, a second run reads the disk, damage is repaired."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hitdesk.analysis import AnalysisOptions, _full_features
from hitdesk.config import FEATURES, N_STATS
from hitdesk.dsp.mel import power_to_db
from hitdesk.dsp.windows import SEGMENT_NAMES
from hitdesk.training.featcache import FeatureCache, compute_features
from hitdesk.training.manifest import Track

CLIPS = ("chipdisko-12s.ogg", "forest-sprint-6s.m4a")


def _tracks(data_dir: Path, names: tuple[str, ...] = CLIPS) -> list[Track]:
    return [Track(data_dir / n, None, 1, None, {}) for n in names]


def test_features_match_analysis(data_dir: Path) -> None:
    path = data_dir / "chipdisko-12s.ogg"
    window = 4.0
    ours = compute_features(path, window)
    ref = _full_features(path, AnalysisOptions(window_seconds=window))
    assert np.allclose(ours.stats, ref.track_stats, rtol=1e-6, atol=1e-4)
    assert ours.duration_s == pytest.approx(ref.duration_s)
    for name in SEGMENT_NAMES:
        assert np.array_equal(ours.windows[name], power_to_db(ref.window_mel[name]))
        assert ours.windows[name].shape[0] == FEATURES.n_mels and ours.windows[name].dtype == np.float32
        assert ours.window_stats[name].shape == (N_STATS,)
        assert ours.window_stats[name][-2] == pytest.approx(ref.window_tempo[name])
        assert ours.window_stats[name][-1] == pytest.approx(ref.duration_s)
    # The track is shorter than 60 s: the middle 60 s are its whole audible part.
    assert ours.middle60.shape[1] >= ours.windows["middle"].shape[1] * 2
    assert ours.middle60.max() == pytest.approx(0.0, abs=1e-4)


def test_second_run_reads_the_cache(tmp_path: Path, data_dir: Path) -> None:
    tracks = _tracks(data_dir)
    cache = FeatureCache(tmp_path / "cache", window_seconds=3.0, progress=False)
    first, errors = cache.features(tracks)
    assert errors == [] and all(f is not None for f in first)
    assert cache.misses == 2 and cache.audio_seconds > 0.0
    first_seconds = cache.audio_seconds
    again = FeatureCache(tmp_path / "cache", window_seconds=3.0, progress=False)
    second, errors = again.features(tracks, jobs=2)
    assert errors == [] and again.hits == 2
    assert again.audio_seconds < 0.1 * first_seconds
    for a, b in zip(first, second, strict=True):
        assert a is not None and b is not None
        assert np.array_equal(a.stats, b.stats) and np.array_equal(a.middle60, b.middle60)
        assert all(np.array_equal(a.windows[n], b.windows[n]) for n in SEGMENT_NAMES)
    # Another window length is another entry.
    other = FeatureCache(tmp_path / "cache", window_seconds=4.0, progress=False)
    other.features(tracks[:1])
    assert other.misses == 1


def test_damaged_entries_are_recomputed(tmp_path: Path, data_dir: Path) -> None:
    tracks = _tracks(data_dir, CLIPS[:1])
    cache = FeatureCache(tmp_path, window_seconds=3.0, progress=False)
    (good,), _ = cache.features(tracks)
    key = cache.key(tracks[0].path)
    assert key is not None
    entry = cache.entry(key)
    entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])  # a half-written file
    (again,), errors = cache.features(tracks)
    assert errors == [] and cache.misses == 1 and again is not None and good is not None
    assert np.array_equal(again.stats, good.stats)
    cache.features(tracks)
    assert cache.hits == 1  # the repaired entry is used


def test_failures_are_one_sentence_per_track(tmp_path: Path, data_dir: Path) -> None:
    bad = tmp_path / "not-audio.mp3"
    bad.write_bytes(b"this is not audio" * 100)
    short = data_dir / "elvish-theme-3s-24bit.flac"
    tracks = [Track(bad, 1.0, None, None, {}), *_tracks(data_dir, CLIPS[1:])]
    cache = FeatureCache(tmp_path / "cache", window_seconds=3.0, progress=False)
    feats, errors = cache.features([*tracks, Track(short, 1.0, None, None, {})], jobs=2)
    assert feats[0] is None and feats[1] is not None
    assert len(errors) == 1 + (feats[2] is None)
    assert errors[0].startswith("'not-audio.mp3'") or "'not-audio.mp3'" in errors[0]
