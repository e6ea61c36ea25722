"""Proof that the audio recipes learn: the four log-mel nets on the generated learnability set.

Small versions (2 s clips, a few hundred of them, few epochs) so the whole file runs in a few
minutes on one core; ``bench/bench_learnability.py`` runs the full-size set. Every net must reach a
held-out ROC-AUC of at least 0.9 with the true labels and at most 0.65 with the training labels
shuffled; seeds are fixed, so the figures are the same on every run.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from training_data import (
    META_COLUMNS,
    Learnset,
    LearnsetConfig,
    build_learnset,
    iter_logmel,
    logmel_array,
    write_learnset,
)

from hitdesk.config import FEATURES

SMALL = LearnsetConfig(n_clips=500, clip_seconds=2.0, seed=0, test_fraction=0.4)
# Epochs of the small runs: the cheap Yang et al. nets get more passes than the 2-D CNNs.
SMALL_EPOCHS = {"mel-cnn": 20, "mel-inception": 20, "resnet-tiers": 12, "cnn-metadata": 12}
MIN_AUC = 0.9
MAX_SHUFFLED_AUC = 0.65


@pytest.fixture(scope="module")
def small_set() -> tuple[Learnset, np.ndarray]:
    data = build_learnset(SMALL)
    return data, logmel_array(data.clips)


def test_the_set_is_reproducible_and_balanced(small_set: tuple[Learnset, np.ndarray]) -> None:
    data, x = small_set
    again = build_learnset(LearnsetConfig(n_clips=20, clip_seconds=2.0, seed=0))
    first = build_learnset(LearnsetConfig(n_clips=20, clip_seconds=2.0, seed=0))
    assert all(np.array_equal(a, b) for a, b in zip(again.clips, first.clips, strict=True))
    other = build_learnset(LearnsetConfig(n_clips=20, clip_seconds=2.0, seed=1))
    assert not np.array_equal(other.clips[0], first.clips[0])
    assert len(data.clips) == SMALL.n_clips
    assert all(c.dtype == np.float32 and c.shape == (int(2.0 * FEATURES.sample_rate),) for c in data.clips)
    assert abs(data.label.mean() - 0.5) < 0.01
    assert len(np.intersect1d(data.train, data.test)) == 0
    assert len(data.train) + len(data.test) == SMALL.n_clips
    assert x.shape == (SMALL.n_clips, FEATURES.n_mels, 87)
    assert np.allclose(x.max(axis=(1, 2)), 0.0, atol=1e-4) and x.min() >= -80.0 - 1e-3
    assert np.bincount(data.tiers).tolist() == [125, 200, 175]


def test_labels_follow_register_and_density_and_not_the_nuisances(small_set: tuple[Learnset, np.ndarray]) -> None:
    data, _ = small_set
    hit = data.label == 1
    assert data.register[hit].mean() > data.register[~hit].mean() + 5.0
    assert np.log(data.density[hit]).mean() > np.log(data.density[~hit]).mean() + 0.4
    for j in range(len(META_COLUMNS)):
        assert abs(np.corrcoef(data.meta[:, j], data.popularity)[0, 1]) < 0.15


def test_logmel_is_the_projects_dsp(small_set: tuple[Learnset, np.ndarray]) -> None:
    from hitdesk.dsp import melspectrogram, power_to_db

    data, x = small_set
    first = next(iter_logmel(data.clips[3:4]))
    np.testing.assert_array_equal(first, power_to_db(melspectrogram(data.clips[3])))
    np.testing.assert_array_equal(first, x[3])


def test_write_learnset_gives_a_manifest(tmp_path: Path) -> None:
    data = build_learnset(LearnsetConfig(n_clips=12, clip_seconds=1.0, seed=2))
    manifest = write_learnset(data, tmp_path)
    with manifest.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["path", "popularity", "label", "artist", *META_COLUMNS]
    assert len(rows) == 12 and len({r["artist"] for r in rows}) == 12
    audio, sr = sf.read(tmp_path / rows[4]["path"], dtype="float32")
    assert sr == FEATURES.sample_rate
    np.testing.assert_allclose(audio, data.clips[4], atol=1.0 / 32768 + 1e-6)
    assert [int(r["label"]) for r in rows] == data.label.tolist()


@pytest.mark.parametrize("name", list(SMALL_EPOCHS))
def test_net_learns_the_audio_label(name: str, small_set: tuple[Learnset, np.ndarray]) -> None:
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from training_data import run_net

    data, x = small_set
    result = run_net(name, data, x, epochs=SMALL_EPOCHS[name], shuffle=False, seed=0)
    assert result.n_test == 200 and not result.shuffled
    assert result.roc_auc >= MIN_AUC, f"{name} did not learn: held-out AUC {result.roc_auc:.3f}"


@pytest.mark.parametrize("name", list(SMALL_EPOCHS))
def test_net_does_not_learn_shuffled_labels(name: str, small_set: tuple[Learnset, np.ndarray]) -> None:
    """The control, as a mean over three shuffles (see ``shuffled_control`` for why one is not enough)."""
    pytest.importorskip("torch")
    pytest.importorskip("sklearn")
    from training_data import shuffled_control

    data, x = small_set
    mean_auc, runs = shuffled_control(name, data, x, epochs=SMALL_EPOCHS[name], seeds=(0, 1, 2))
    assert all(r.shuffled for r in runs) and len({r.roc_auc for r in runs}) == 3
    aucs = ", ".join(f"{r.roc_auc:.3f}" for r in runs)
    assert mean_auc <= MAX_SHUFFLED_AUC, f"{name} learned from shuffled labels: mean AUC {mean_auc:.3f} ({aucs})"
