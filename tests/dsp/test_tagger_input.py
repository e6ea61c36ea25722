"""The tagger's input features against musicnn's own preprocessing, as it calls librosa."""

from __future__ import annotations

from pathlib import Path

import librosa
import numpy as np
import pytest

from hitdesk.audio import decode_all
from hitdesk.dsp.tagger_input import PATCH_FRAMES, TaggerInput, log_compress, patches, tagger_frames


def musicnn_batch(audio: np.ndarray) -> np.ndarray:
    """``musicnn.extractor.batch_data`` (musicnn 0.1.0) on 16 kHz audio, its librosa calls as it makes them.

    The one change: numpy < 1.17 (which musicnn pinned) computed ``float16 array * 10000`` in float32;
    numpy 2 stays in float16 and overflows, so the promotion is written out.
    """
    rep = librosa.feature.melspectrogram(y=audio, sr=16000, hop_length=256, n_fft=512, n_mels=96).T
    rep = rep.astype(np.float16)
    rep = np.log10(10000 * rep.astype(np.float32) + 1)
    n_frames = librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
    starts = range(0, rep.shape[0] - n_frames + 1, n_frames)
    return np.stack([rep[s : s + n_frames] for s in starts])


def test_patch_length_is_musicnns() -> None:
    assert librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1 == PATCH_FRAMES


def test_patches_equal_musicnn_on_the_same_16k_audio(data_dir: Path) -> None:
    y, _ = librosa.load(data_dir / "chipdisko-12s.ogg", sr=16000)
    want = musicnn_batch(y)
    got = patches(tagger_frames(y, source_sr=16000))
    assert got.shape == want.shape == (4, PATCH_FRAMES, 96)
    # Both round the mel power to float16 first: an FFT's last-bit difference can move a value by one
    # float16 step (1e-3 relative), which the logarithm shrinks; nearly all values are identical.
    assert np.abs(got - want).max() < 2e-3
    assert np.mean(got == want) > 0.99


def test_loud_bands_stay_finite() -> None:
    """musicnn's float16 step under numpy 2 arithmetic would give inf above a mel power of 6.55."""
    out = log_compress(np.array([[1e-9, 6.0, 100.0, 5e4]], dtype=np.float32).T)
    assert np.isfinite(out).all()
    assert out[0, 2] == pytest.approx(np.log10(1e6 + 1), rel=1e-6)


def test_from_the_analysis_rate_matches_librosa_load(data_dir: Path) -> None:
    """The analysis hands 22,050 Hz blocks; resampled once more they give musicnn's frames to float16 rounding."""
    clip = data_dir / "chipdisko-12s.ogg"
    y16, _ = librosa.load(clip, sr=16000)
    want = tagger_frames(y16, source_sr=16000)
    got = tagger_frames(decode_all(clip))
    assert got.shape == want.shape
    # The two resamplers' roll-offs differ a little just below 8 kHz, in the top bands (values near 0.1
    # there, against 3-4 where the music is); the tags agree to 2e-4 (tests/model/test_tagger_parity.py).
    assert np.abs(got - want).max() < 0.05
    assert np.abs(got - want).mean() < 1e-3


def test_any_split_gives_the_same_frames(data_dir: Path) -> None:
    x = decode_all(data_dir / "chipdisko-12s.ogg")
    whole = tagger_frames(x)
    tap = TaggerInput()
    for block in np.array_split(x, [1, 1000, 22050, 100_000, 177_777]):
        tap.feed(block)
    np.testing.assert_array_equal(tap.finish(), whole)


def test_evenly_spaced_patches_keep_the_grid() -> None:
    frames = np.arange(10 * PATCH_FRAMES * 2, dtype=np.float32).reshape(-1, 2)
    every = patches(frames)
    some = patches(frames, max_patches=4)
    assert len(every) == 10 and len(some) == 4
    assert all(any(np.array_equal(p, q) for q in every) for p in some)
    np.testing.assert_array_equal(some[0], every[0])
    np.testing.assert_array_equal(some[-1], every[-1])
    assert patches(frames[: PATCH_FRAMES - 1]).shape == (0, PATCH_FRAMES, 2)
