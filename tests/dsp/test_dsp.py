"""The feature code against librosa's reference implementation of the chart data's recipe."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from hitdesk.config import FEATURES
from hitdesk.dsp import (
    StreamingMel,
    dct_matrix,
    mel_basis,
    melspectrogram,
    mfcc_stats,
    onset_envelope,
    power_to_db,
    tempo_from_envelope,
    track_statistics,
)

SR = FEATURES.sample_rate


@pytest.fixture(scope="module")
def real_clip(data_dir) -> np.ndarray:  # type: ignore[no-untyped-def]
    y, _ = librosa.load(data_dir / "chipdisko-12s.ogg", sr=SR)
    return y.astype(np.float32)


def _reference_stats(y: np.ndarray) -> np.ndarray:
    """The recipe exactly as written in the chart data's README."""
    S = librosa.feature.melspectrogram(y=y, sr=SR, n_fft=2048, hop_length=512, n_mels=128)
    log_S = librosa.power_to_db(S, ref=np.max)
    M = librosa.feature.mfcc(S=log_S, n_mfcc=20)
    tempo = librosa.feature.tempo(y=y, sr=SR)[0]
    return np.concatenate([M.mean(axis=1), M.std(axis=1), [tempo, len(y) / SR]])


def test_mel_matches_librosa_on_real_audio(real_clip: np.ndarray) -> None:
    ref = librosa.feature.melspectrogram(y=real_clip, sr=SR, n_fft=2048, hop_length=512, n_mels=128)
    ours = melspectrogram(real_clip)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-5 * float(ref.max()))
    np.testing.assert_allclose(power_to_db(ours), librosa.power_to_db(ref, ref=np.max), atol=2e-3)


@pytest.mark.parametrize("block", [1, 511, 512, 2048, 4097, 100_000])
def test_streaming_mel_does_not_depend_on_block_size(real_clip: np.ndarray, block: int) -> None:
    y = real_clip[: 3 * SR]
    stream = StreamingMel()
    for a in range(0, y.size, block):
        stream.feed(y[a : a + block])
    stream.finish()
    np.testing.assert_allclose(stream.mel_power(), melspectrogram(y), rtol=1e-5, atol=1e-9)
    assert stream.frame_rms().shape == (stream.mel_power().shape[1],)
    assert stream.n_samples == y.size


def test_streaming_mel_without_keeping_hands_on_the_same_frames(real_clip: np.ndarray) -> None:
    y = real_clip[: 3 * SR]
    stream = StreamingMel(keep=False)
    parts = [stream.feed(y[a : a + 883]) for a in range(0, y.size, 883)] + [stream.finish()]
    np.testing.assert_allclose(np.concatenate(parts, axis=1), melspectrogram(y), rtol=1e-5, atol=1e-9)
    assert stream.n_frames == 1 + y.size // 512 and stream.mel_power().shape == (128, 0)


@pytest.mark.parametrize("block", [8 * SR, 3 * SR + 123, 40_000])
def test_batched_filterbank_gives_the_same_frames_bit_for_bit(real_clip: np.ndarray, block: int) -> None:
    """Full mode batches the filterbank products (StreamingMel(batch_frames=...)); every frame must
    equal the unbatched stream's exactly, or scores would move in their last digits."""
    y = np.concatenate([real_clip] * 5)  # a minute: several batches and a short last block
    plain, batched = StreamingMel(), StreamingMel(batch_frames=256)
    parts = []
    for a in range(0, y.size, block):
        plain.feed(y[a : a + block])
        parts.append(batched.feed(y[a : a + block]))
    plain.finish()
    parts.append(batched.finish())
    assert np.array_equal(batched.mel_power(), plain.mel_power())
    assert np.array_equal(np.concatenate(parts, axis=1), plain.mel_power())
    assert np.array_equal(batched.frame_rms(), plain.frame_rms())
    assert batched.n_frames == plain.n_frames


def test_statistics_match_the_recipe_on_real_audio(real_clip: np.ndarray) -> None:
    ref = _reference_stats(real_clip)
    ours = track_statistics(real_clip)
    np.testing.assert_allclose(ours[:40], ref[:40], atol=2e-3, rtol=1e-4)
    assert ours[40] == pytest.approx(ref[40], rel=1e-6)  # tempo
    assert ours[41] == pytest.approx(ref[41], rel=1e-9)  # duration
    # Value ranges the chart data's README reports for real music.
    assert -700 < ours[0] < -100 and 0 < ours[1] < 250


def test_dct_matrix_is_librosas_mfcc() -> None:
    rng = np.random.default_rng(0)
    log_s = rng.uniform(-80, 0, size=(128, 50)).astype(np.float32)
    ref = librosa.feature.mfcc(S=log_s, n_mfcc=20)
    np.testing.assert_allclose(dct_matrix() @ log_s, ref, atol=1e-3)
    stats = mfcc_stats(log_s)
    np.testing.assert_allclose(stats[:20], ref.mean(axis=1), atol=1e-3)
    np.testing.assert_allclose(stats[20:], ref.std(axis=1), atol=1e-3)


def test_statistics_ignore_gain(real_clip: np.ndarray) -> None:
    base = track_statistics(real_clip)
    for gain_db in (-12.0, 12.0):
        shifted = track_statistics(real_clip * np.float32(10 ** (gain_db / 20)))
        np.testing.assert_allclose(shifted[:40], base[:40], atol=0.05)
        assert shifted[40] == pytest.approx(base[40], rel=1e-6)


def test_mfcc_stats_rejects_wrong_shape() -> None:
    with pytest.raises(ValueError):
        mfcc_stats(np.zeros((64, 10), dtype=np.float32))
    with pytest.raises(ValueError):
        mfcc_stats(np.zeros((128, 0), dtype=np.float32))


def test_mel_basis_is_librosas() -> None:
    ref = librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128)
    np.testing.assert_allclose(mel_basis(), ref, rtol=1e-5, atol=1e-9)


def test_onset_envelope_and_tempo_are_librosas(real_clip: np.ndarray) -> None:
    mel = melspectrogram(real_clip)
    ref_env = librosa.onset.onset_strength(y=real_clip, sr=SR)
    ours_env = onset_envelope(mel)
    np.testing.assert_allclose(ours_env, ref_env, rtol=1e-4, atol=1e-4)
    assert tempo_from_envelope(ours_env) == pytest.approx(librosa.feature.tempo(onset_envelope=ref_env, sr=SR)[0])
    # Excerpts of different lengths, with different tempo estimates.
    for a, b in ((0, 5), (2, 9), (4, 12)):
        y = real_clip[a * SR : b * SR]
        ref = librosa.feature.tempo(y=y, sr=SR)[0]
        assert tempo_from_envelope(onset_envelope(melspectrogram(y))) == pytest.approx(ref)


@pytest.mark.corpus
def test_tempo_matches_librosa_on_full_tracks(corpus_dir) -> None:  # type: ignore[no-untyped-def]
    for name in ("battle_theme.ogg", "chipdisko.ogg", "hr3-crossroads.ogg"):
        y, _ = librosa.load(corpus_dir / name, sr=SR)
        ours = track_statistics(y)
        assert ours[40] == pytest.approx(librosa.feature.tempo(y=y, sr=SR)[0]), name
