"""Decoding every supported kind of file to mono 22,050 Hz, as librosa.load(path, sr=22050) would."""

from __future__ import annotations

import logging
import math
import tracemalloc
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
import soxr
from badinput import encode

from hitdesk.audio import AudioInfo, decode_all, iter_blocks, probe
from hitdesk.audio.av_reader import AvReader

SR = 22050


def expected_length(frames: int, sr: int) -> int:
    return math.ceil(frames * SR / sr)


def librosa_reference(path: Path) -> np.ndarray:
    y, sr = librosa.load(path, sr=SR)
    assert sr == SR
    return y


# name, samplerate, channels, libsndfile subtype, libsndfile major format, expected AudioInfo.format
SNDFILE_CASES = [
    ("u8.wav", 44100, 2, "PCM_U8", "WAV", "WAV"),
    ("s16.wav", 44100, 2, "PCM_16", "WAV", "WAV"),
    ("s24.wav", 48000, 2, "PCM_24", "WAV", "WAV"),
    ("s32.wav", 44100, 2, "PCM_32", "WAV", "WAV"),
    ("f32.wav", 96000, 2, "FLOAT", "WAV", "WAV"),
    ("f64.wav", 44100, 2, "DOUBLE", "WAV", "WAV"),
    ("s8.aiff", 44100, 2, "PCM_S8", "AIFF", "AIFF"),
    ("s16.aiff", 32000, 2, "PCM_16", "AIFF", "AIFF"),
    ("s24.flac", 44100, 2, "PCM_24", "FLAC", "FLAC"),
    ("mono-8k.wav", 8000, 1, "PCM_16", "WAV", "WAV"),
    ("hi-192k.wav", 192000, 2, "PCM_24", "WAV", "WAV"),
    ("eight-ch.wav", 48000, 8, "PCM_16", "WAV", "WAV"),
    ("native-22050.wav", 22050, 2, "PCM_16", "WAV", "WAV"),
    ("odd-rate.wav", 11111, 3, "PCM_16", "WAV", "WAV"),
    ("vorbis.ogg", 44100, 2, "VORBIS", "OGG", "Ogg Vorbis"),
]


@pytest.mark.parametrize(("name", "sr", "channels", "subtype", "fmt", "label"), SNDFILE_CASES)
def test_sndfile_formats_match_librosa(
    audio_factory, name: str, sr: int, channels: int, subtype: str, fmt: str, label: str
) -> None:
    path = audio_factory.sndfile(name, sr=sr, seconds=2.5, channels=channels, subtype=subtype, fmt=fmt)
    frames = round(sr * 2.5)

    info = probe(path)
    assert info == AudioInfo(
        path=path, format=label, sample_rate=sr, channels=channels, duration_s=frames / sr, frames=frames, seekable=True
    )

    y = decode_all(path)
    ref = librosa_reference(path)
    assert y.dtype == np.float32
    assert y.ndim == 1
    assert len(y) == len(ref) == expected_length(frames, sr)
    assert np.max(np.abs(y - ref)) < 1e-6


@pytest.mark.parametrize(
    ("name", "codec", "sr", "channels", "bit_rate", "container", "label", "atol"),
    [
        # MP3 is decoded by FFmpeg, not libsndfile's mpg123: the two agree to about 1e-6.
        ("lame.mp3", "libmp3lame", 44100, 2, 128_000, None, "MP3", 1e-5),
        ("mono.mp3", "libmp3lame", 22050, 1, 64_000, None, "MP3", 1e-5),
        # libsndfile returns different samples for this one depending on how reads split its frames.
        ("low-rate.mp3", "libmp3lame", 22050, 1, 32_000, None, "MP3", 1e-5),
        ("speech.opus", "libopus", 48000, 2, 96_000, "opus", "Opus", 1e-6),
    ],
)
def test_mp3_and_opus_match_librosa(
    audio_factory,
    name: str,
    codec: str,
    sr: int,
    channels: int,
    bit_rate: int,
    container: str | None,
    label: str,
    atol: float,
) -> None:
    path = audio_factory.encoded(name, codec, sr=sr, channels=channels, container=container, bit_rate=bit_rate)
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == (label, sr, channels)
    assert info.duration_s == pytest.approx(3.0, abs=0.1)

    y = decode_all(path)
    ref = librosa_reference(path)
    assert len(y) == len(ref)
    assert len(y) == pytest.approx(3.0 * SR, abs=0.06 * SR)
    assert np.max(np.abs(y - ref)) < atol


def av_reference(path: Path) -> np.ndarray:
    """What librosa.load would give if its audioread fallback had FFmpeg: native decode, mean, soxr."""
    reader = AvReader.open(path)
    try:
        native = np.concatenate(list(reader.blocks()))
        sr = reader.info.sample_rate
    finally:
        reader.close()
    return librosa.resample(native, orig_sr=sr, target_sr=SR, res_type="soxr_hq")


def best_lag(a: np.ndarray, b: np.ndarray, max_lag: int) -> int:
    """The shift of ``b`` against ``a`` (in samples) that lines them up best."""
    n = min(len(a), len(b)) - 2 * max_lag
    window = a[max_lag : max_lag + n]
    scores = [float(np.dot(window, b[max_lag + k : max_lag + k + n])) for k in range(-max_lag, max_lag + 1)]
    return int(np.argmax(scores)) - max_lag


@pytest.mark.parametrize(
    ("name", "codec", "sr", "channels", "container", "label", "delay_removed"),
    [
        ("aac.m4a", "aac", 44100, 2, "ipod", "AAC", True),
        ("aac-mono-48k.m4a", "aac", 48000, 1, "ipod", "AAC", True),
        ("raw.aac", "aac", 44100, 2, "adts", "AAC", False),  # ADTS cannot say how long the encoder delay is
        ("opus.webm", "libopus", 48000, 2, "webm", "Opus", True),
        ("opus.mka", "libopus", 48000, 2, "matroska", "Opus", True),
        ("wma.wma", "wmav2", 44100, 2, "asf", "WMA", False),  # FFmpeg drops the first WMA frame
    ],
)
def test_ffmpeg_formats_decode(
    audio_factory, name: str, codec: str, sr: int, channels: int, container: str, label: str, delay_removed: bool
) -> None:
    path = audio_factory.encoded(name, codec, sr=sr, channels=channels, container=container)
    with pytest.raises(sf.LibsndfileError):
        sf.info(path)  # these really need the FFmpeg path

    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == (label, sr, channels)
    assert info.frames is None and not info.seekable
    y = decode_all(path)
    ref = av_reference(path)
    assert len(y) == len(ref)
    assert np.max(np.abs(y - ref)) < 1e-5
    # Where the container records the codec delay, FFmpeg removes it: the output lines up with the input.
    source = soxr.resample(audio_factory.signal(sr, 3.0, channels).mean(axis=1), sr, SR, quality="HQ")
    lag = best_lag(source, y, 1200)
    if delay_removed:
        assert lag == 0
    else:
        assert abs(lag) <= 1200  # shifted by up to a codec frame (ADTS keeps the delay; WMA drops a frame)
    a, b = (source, y[lag:]) if lag >= 0 else (source[-lag:], y)
    n = min(len(a), len(b))
    assert np.corrcoef(a[:n], b[:n])[0, 1] > 0.95


def test_committed_m4a_matches_ffmpeg_reference(data_dir: Path) -> None:
    path = data_dir / "forest-sprint-6s.m4a"
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels) == ("AAC", 44100, 2)
    y = decode_all(path)
    ref = av_reference(path)
    assert len(y) == len(ref) == pytest.approx(6.0 * SR, abs=0.05 * SR)
    assert np.max(np.abs(y - ref)) < 1e-5


@pytest.mark.parametrize(
    ("clip", "label", "seconds"),
    [("chipdisko-12s.ogg", "Ogg Vorbis", 12.0), ("elvish-theme-3s-24bit.flac", "FLAC", 3.0)],
)
def test_committed_clips_match_librosa(data_dir: Path, clip: str, label: str, seconds: float) -> None:
    path = data_dir / clip
    info = probe(path)
    assert (info.format, info.sample_rate, info.channels, info.duration_s) == (label, 44100, 2, seconds)
    y = decode_all(path)
    ref = librosa_reference(path)
    assert len(y) == len(ref) == round(seconds * SR)
    assert np.max(np.abs(y - ref)) < 1e-6


def test_blocks_have_the_requested_size_and_concatenate_to_decode_all(data_dir: Path) -> None:
    path = data_dir / "chipdisko-12s.ogg"
    blocks = list(iter_blocks(path, block_seconds=2.5))
    sizes = [len(b) for b in blocks]
    assert sizes[:-1] == [round(2.5 * SR)] * (len(blocks) - 1)
    assert 0 < sizes[-1] <= round(2.5 * SR)
    assert all(b.dtype == np.float32 and b.ndim == 1 for b in blocks)
    np.testing.assert_array_equal(np.concatenate(blocks), decode_all(path))


def test_native_rate_is_not_resampled(audio_factory) -> None:
    path = audio_factory.sndfile("native.wav", sr=SR, seconds=1.0, channels=2, subtype="FLOAT")
    data, _ = sf.read(path, dtype="float32")
    np.testing.assert_array_equal(decode_all(path), data.mean(axis=1))


def test_nan_and_inf_become_silence_and_are_logged(audio_factory, caplog: pytest.LogCaptureFixture) -> None:
    data = audio_factory.signal(44100, 1.0, 2)
    data[1000:1010, 0] = np.nan
    data[5000, 1] = np.inf
    data[6000, :] = -np.inf
    path = audio_factory.folder / "nan.wav"
    sf.write(path, data, 44100, subtype="FLOAT")

    with caplog.at_level(logging.WARNING, logger="hitdesk.audio"):
        y = decode_all(path)
    assert np.isfinite(y).all()
    assert len(y) == SR
    assert any("13 NaN or infinite samples" in r.getMessage() and "nan.wav" in r.getMessage() for r in caplog.records)
    clean = data.copy()
    clean[~np.isfinite(clean)] = 0.0
    ref = soxr.resample(clean.mean(axis=1), 44100, SR, quality="HQ")
    assert np.max(np.abs(y - ref)) < 1e-5


def test_long_file_is_decoded_in_bounded_memory(audio_factory) -> None:
    # 4 minutes of 48 kHz stereo float is 92 MB at the native rate; streaming must hold a few blocks.
    path = audio_factory.folder / "long.wav"
    block = audio_factory.signal(48000, 10.0, 2)
    with sf.SoundFile(path, "w", 48000, 2, subtype="FLOAT") as f:
        for _ in range(24):
            f.write(block)
    tracemalloc.start()
    try:
        total = sum(len(b) for b in iter_blocks(path))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total == 240 * SR
    assert peak < 15e6, f"peak {peak / 1e6:.1f} MB"


def encode_opus(src: Path, dst: Path, seconds: float = 6.0) -> Path:
    """The start of a committed music clip as Ogg Opus at 48 kHz, encoded by libopus through PyAV."""
    y, sr = sf.read(src, dtype="float32", always_2d=True)
    y = soxr.resample(y[: int(seconds * sr)], sr, 48000).astype(np.float32)
    return encode(dst, "libopus", y, 48000, "opus", bit_rate=96_000)


def test_opus_through_ffmpeg_is_libopus(data_dir: Path, tmp_path: Path) -> None:
    """Whole-file decoding of Opus goes through FFmpeg with libopus: libsndfile's samples, not those of
    FFmpeg's own Opus decoder (which differ by up to 0.005 on this music, 0.06 on a corpus track)."""
    path = encode_opus(data_dir / "chipdisko-12s.ogg", tmp_path / "music.opus")
    reader = AvReader.open(path)
    try:
        ours = np.concatenate(list(reader.blocks()))
    finally:
        reader.close()
    ref, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == 48000
    assert len(ours) == len(ref)
    assert np.max(np.abs(ours - ref.mean(axis=1))) < 1e-6


@pytest.mark.parametrize("sr", [16000, 44100, 48000, 96000])
def test_low_delay_resampler_gives_each_block_at_once(sr: int) -> None:
    """The live spectrogram's resampler: output as blocks come, the HQ samples' content, full length."""
    from hitdesk.audio.resample import LowDelayResampler, StreamResampler, target_length

    t = np.arange(3 * sr) / sr
    audible = 0.5 * np.sin(2 * np.pi * 1000 * t) + 0.2 * np.sin(2 * np.pi * 4000 * t)
    above = 0.3 * np.sin(2 * np.pi * 15000 * t) if sr > 30000 else 0.0  # above the feature rate's band
    x = (audible + above).astype(np.float32)
    block = sr // 50  # 20 ms, as a sound card hands them over
    low, hq = LowDelayResampler(sr), StreamResampler(sr)
    got, ref, sizes = [], [], []
    for a in range(0, x.size, block):
        out = low.push(x[a : a + block])
        sizes.append(out.size)
        got.append(out)
        ref.append(hq.push(x[a : a + block]))
    got.append(low.finish())
    ref.append(hq.finish())
    # Every block gives its share at once (less the filter's 0.7 ms at the start); soxr's HQ stream,
    # going down in rate, holds the first 40-60 ms back.
    share = block * SR / sr
    assert all(s >= share - 40 for s in sizes[:-1]), sizes[:5]
    if sr > SR:
        assert sum(r.size for r in ref[:3]) < 2 * share
    low_all, hq_all = np.concatenate(got), np.concatenate(ref)
    assert low_all.size == hq_all.size == target_length(x.size, sr)
    inner = slice(2000, -2000)
    tolerance = 0.06 if sr < SR else 0.003  # cubic interpolation when going up; the HQ content going down
    assert np.max(np.abs(low_all[inner] - hq_all[inner])) < tolerance
