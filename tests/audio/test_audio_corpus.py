"""The decoder on real, full-length tracks from ../shared/corpus (skipped in a fresh clone)."""

from __future__ import annotations

import time
import tracemalloc
from pathlib import Path

import librosa
import numpy as np
import pytest

from hitdesk.audio import decode_all, iter_blocks, probe, read_excerpts

pytestmark = pytest.mark.corpus
SR = 22050
_DECODED: dict[Path, np.ndarray] = {}


def decoded(path: Path) -> np.ndarray:
    """decode_all, once per file per session: several tests compare against the same decode."""
    if path not in _DECODED:
        _DECODED[path] = decode_all(path)
    return _DECODED[path]


@pytest.mark.parametrize(
    ("name", "label", "sr", "channels", "atol"),
    [
        ("chipdisko.ogg", "Ogg Vorbis", 44100, 2, 1e-6),
        ("awakening.ogg", "Ogg Vorbis", 48000, 2, 1e-6),
        ("elvish-theme-60s.flac", "FLAC", 44100, 2, 1e-6),
        ("awakening-30s-24bit.wav", "WAV", 48000, 2, 1e-6),
        ("battle-96k-float.wav", "WAV", 96000, 2, 1e-6),
        ("loyalists-8k-u8.wav", "WAV", 8000, 1, 1e-6),
        ("warzone-track3.opus", "Opus", 48000, 2, 1e-6),
        ("chipdisko.mp3", "MP3", 44100, 2, 1e-5),  # FFmpeg here, mpg123 in librosa
    ],
)
def test_matches_librosa(corpus_dir: Path, name: str, label: str, sr: int, channels: int, atol: float) -> None:
    path = corpus_dir / name
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == (label, sr, channels)
    y = decoded(path)
    ref, _ = librosa.load(path, sr=SR)
    assert len(y) == len(ref)
    assert len(y) == pytest.approx(info.duration_s * SR, abs=2)
    assert np.corrcoef(y, ref)[0, 1] > 0.999
    assert np.max(np.abs(y - ref)) < atol


def test_m4a_matches_the_same_music_in_ogg(corpus_dir: Path) -> None:
    # librosa cannot read M4A without an ffmpeg binary; forest-sprint.ogg is the same music.
    info = probe(corpus_dir / "forest-sprint.m4a")
    assert (info.format, info.sample_rate, info.channels, info.seekable) == ("AAC", 44100, 2, False)
    aac = decoded(corpus_dir / "forest-sprint.m4a")
    vorbis = decoded(corpus_dir / "forest-sprint.ogg")
    assert abs(len(aac) - len(vorbis)) < 1024  # AAC keeps up to a frame of encoder padding at the end
    n = min(len(aac), len(vorbis))
    assert np.corrcoef(aac[:n], vorbis[:n])[0, 1] > 0.999


@pytest.mark.parametrize(
    "name",
    [
        "chipdisko.ogg",
        "elvish-theme-60s.flac",
        "awakening-30s-24bit.wav",
        "battle-96k-float.wav",
        "chipdisko.mp3",
        "forest-sprint.m4a",
        "warzone-track3.opus",
    ],
)
def test_excerpts_equal_decode_all_slices(corpus_dir: Path, name: str) -> None:
    path = corpus_dir / name
    whole = decoded(path)
    total = len(whole) / SR
    starts = [0.0, 0.3, total * 0.25, total * 0.5 + 0.123, total * 0.8, total - 2.0, total + 1.0]
    excerpts = read_excerpts(path, starts, 3.0)
    for start, excerpt in zip(starts, excerpts, strict=True):
        j = round(start * SR)
        expected = whole[j : j + round(3.0 * SR)]
        assert len(excerpt) == len(expected), start
        if len(expected):
            assert np.corrcoef(excerpt, expected)[0, 1] > 0.99, start


def test_ten_minute_file_streams_in_bounded_memory(corpus_dir: Path) -> None:
    path = corpus_dir / "blupi-music004-long.ogg"
    info = probe(path)
    assert info.duration_s == pytest.approx(602, abs=1)
    tracemalloc.start()
    started = time.perf_counter()
    try:
        blocks = iter_blocks(path)
        first = next(blocks)
        first_after = time.perf_counter() - started
        total = len(first) + sum(len(b) for b in blocks)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert first_after < 2.0  # the first block does not wait for the whole file
    assert info.frames is not None
    assert total == -(-info.frames * SR // info.sample_rate)
    # The whole file at 44.1 kHz stereo float32 would be 212 MB; streaming holds a few blocks.
    assert peak < 20e6, f"peak {peak / 1e6:.1f} MB"
