"""read_excerpts: each excerpt equals the same slice of decode_all, whether read by seeking or not."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import hitdesk.audio.decode as decode_module
from hitdesk.audio import decode_all, read_excerpts
from hitdesk.audio.av_reader import AvReader
from hitdesk.audio.info import SeekFailed
from hitdesk.audio.sndfile_reader import SndfileReader

SR = 22050


def assert_slices(path: Path, starts: list[float], duration: float, *, exact: bool) -> list[np.ndarray]:
    whole = decode_all(path)
    excerpts = read_excerpts(path, starts, duration)
    assert len(excerpts) == len(starts)
    for start, excerpt in zip(starts, excerpts, strict=True):
        j = round(start * SR)
        expected = whole[j : j + round(duration * SR)]
        assert excerpt.dtype == np.float32
        assert len(excerpt) == len(expected), f"start {start}"
        if len(expected) < 100:
            continue
        if exact:
            np.testing.assert_allclose(excerpt, expected, atol=2e-6, err_msg=f"start {start}")
        else:
            assert np.corrcoef(excerpt, expected)[0, 1] > 0.99, f"start {start}"
    return excerpts


def no_decode_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(*args: object) -> None:
        raise AssertionError("read_excerpts decoded the file through instead of seeking")

    monkeypatch.setattr(decode_module, "_excerpts_by_decoding", fail)


@pytest.mark.parametrize(
    ("clip", "exact"),
    [("chipdisko-12s.ogg", True), ("elvish-theme-3s-24bit.flac", True), ("forest-sprint-6s.m4a", False)],
)
def test_committed_clips_by_seeking(data_dir: Path, clip: str, exact: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    # libsndfile lands some Vorbis seeks a lapped block off unless it decodes a while first; this clip
    # (written by libsndfile) showed it at most positions. The M4A's timestamps wander (it was remuxed
    # from Ogg), which the PyAV seek must see through; its excerpts are not bit-exact because the AAC
    # decoder's noise substitution depends on where decoding starts.
    starts = [0.0, 0.01, 0.5, 1.0, 1.2345, 2.0, 2.7] + [0.37 * k for k in range(1, 16)]
    starts = [s for s in starts if s < 2.8 or "12s" in clip or "6s" in clip]
    path = data_dir / clip
    whole = decode_all(path)
    no_decode_pass(monkeypatch)
    excerpts = read_excerpts(path, starts, 0.3)
    for start, excerpt in zip(starts, excerpts, strict=True):
        j = round(start * SR)
        expected = whole[j : j + round(0.3 * SR)]
        assert len(excerpt) == len(expected)
        if exact:
            np.testing.assert_allclose(excerpt, expected, atol=2e-6, err_msg=f"start {start}")
        else:
            assert np.corrcoef(excerpt, expected)[0, 1] > 0.99, f"start {start}"


@pytest.mark.parametrize(("name", "fmt", "subtype"), [("a.wav", "WAV", "PCM_16"), ("b.flac", "FLAC", "PCM_24")])
def test_ffmpeg_seeks_exactly_in_lossless_containers(audio_factory, name: str, fmt: str, subtype: str) -> None:
    # libsndfile normally reads these; the FFmpeg back end must still place its seeks exactly.
    path = audio_factory.sndfile(name, sr=44100, seconds=5.0, subtype=subtype, fmt=fmt)
    reader = AvReader.open(path)
    try:
        native = np.concatenate(list(reader.blocks()))
        for start in [0, 1, 4000, 44100, 100_003, 200_000, 220_000]:
            np.testing.assert_array_equal(reader.read_range(start, start + 5000), native[start : start + 5000])
    finally:
        reader.close()


@pytest.mark.parametrize(
    ("name", "sr", "channels", "subtype", "fmt"),
    [
        ("s16.wav", 44100, 2, "PCM_16", "WAV"),
        ("s24-48k.wav", 48000, 2, "PCM_24", "WAV"),
        ("mono-8k.wav", 8000, 1, "PCM_U8", "WAV"),
        ("hi-192k.wav", 192000, 2, "FLOAT", "WAV"),
        ("native.wav", 22050, 2, "PCM_16", "WAV"),
        ("odd-rate.flac", 11111, 3, "PCM_16", "FLAC"),
        ("eight.flac", 96000, 8, "PCM_24", "FLAC"),
        ("vorbis.ogg", 48000, 2, "VORBIS", "OGG"),
    ],
)
def test_sndfile_formats_seek_exactly(audio_factory, name: str, sr: int, channels: int, subtype: str, fmt: str) -> None:
    path = audio_factory.sndfile(name, sr=sr, seconds=4.0, channels=channels, subtype=subtype, fmt=fmt)
    assert_slices(path, [0.0, 0.05, 1.0, 1.77, 3.5, 3.95], 0.4, exact=True)


@pytest.mark.parametrize(
    ("name", "codec", "sr", "channels", "container", "exact"),
    [
        ("lame.mp3", "libmp3lame", 44100, 2, None, True),
        ("opus.opus", "libopus", 48000, 2, "opus", True),
        ("aac.m4a", "aac", 44100, 2, "ipod", False),
        ("aac-mono.m4a", "aac", 48000, 1, "ipod", False),
        ("opus.webm", "libopus", 48000, 2, "webm", True),  # decoded through: exact
        ("raw.aac", "aac", 44100, 2, "adts", True),  # decoded through: exact
    ],
)
def test_encoded_formats(
    audio_factory, name: str, codec: str, sr: int, channels: int, container: str | None, exact: bool
) -> None:
    path = audio_factory.encoded(name, codec, sr=sr, channels=channels, container=container, seconds=4.0)
    assert_slices(path, [0.0, 0.3, 1.0, 2.5, 3.6], 0.4, exact=exact)


def test_past_the_end_is_truncated_and_order_is_kept(data_dir: Path) -> None:
    path = data_dir / "chipdisko-12s.ogg"
    starts = [11.5, 0.0, 30.0, 11.9999, 5.0]
    excerpts = assert_slices(path, starts, 1.0, exact=True)
    assert [len(e) for e in excerpts] == [round(0.5 * SR), SR, 0, round(12 * SR) - round(11.9999 * SR), SR]


def test_failed_seek_falls_back_to_one_decode_pass(data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = data_dir / "chipdisko-12s.ogg"
    whole = decode_all(path)
    passes: list[Path] = []
    real_iter_blocks = decode_module.iter_blocks

    def counting_iter_blocks(p: str | Path, block_seconds: float = 8.0):  # type: ignore[no-untyped-def]
        passes.append(Path(p))
        return real_iter_blocks(p, block_seconds)

    calls = {"n": 0}
    real_read_range = SndfileReader.read_range

    def flaky_read_range(self: SndfileReader, start: int, stop: int) -> np.ndarray:
        calls["n"] += 1
        if calls["n"] == 2:
            raise SeekFailed("simulated")
        return real_read_range(self, start, stop)

    monkeypatch.setattr(decode_module, "iter_blocks", counting_iter_blocks)
    monkeypatch.setattr(SndfileReader, "read_range", flaky_read_range)
    starts = [1.0, 3.0, 6.0, 9.0, 11.8]
    excerpts = read_excerpts(path, starts, 0.5)
    assert passes == [path]  # one pass for every excerpt the seeks did not deliver
    for start, excerpt in zip(starts, excerpts, strict=True):
        j = round(start * SR)
        np.testing.assert_allclose(excerpt, whole[j : j + len(excerpt)], atol=2e-6)
        assert len(excerpt) == len(whole[j : j + round(0.5 * SR)])


def test_bad_arguments(data_dir: Path) -> None:
    path = data_dir / "chipdisko-12s.ogg"
    with pytest.raises(ValueError):
        read_excerpts(path, [1.0], 0.0)
    with pytest.raises(ValueError):
        read_excerpts(path, [-1.0], 1.0)
    with pytest.raises(ValueError):
        read_excerpts(path, [float("nan")], 1.0)
    assert read_excerpts(path, [], 1.0) == []
