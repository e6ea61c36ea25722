"""Data builders for the training tests and benchmarks: synthetic chart data and the learnability set.

Neither ships with the app; they live here, beside the tests that use them
(``bench/bench_learnability.py`` adds this folder to ``sys.path``).

Synthetic chart data: tests must run in a fresh clone, where the real chart data (kept outside the
repository) is absent. ``write_synthetic_zalo`` writes files with the same columns, quirks (a failed
all-zero row, multi-artist ids) and value ranges as the real ones, with a planted signal so that the
models have something to find.

The learnability set: a generated labelled set on which the audio recipes must prove that they learn.

There is no labelled audio for hit prediction on this machine, so the networks are checked on a
task whose answer is known. Each clip is a run of synthetic notes; its "popularity" is the
percentile of a planted score that rises with the pitch register of the notes and with how many
notes a second it holds (rhythm density), and its label is popularity >= 50. Everything else
varies at random and carries no information: timbre (harmonics, decay), note lengths, the exact
pitches around the register, background noise level, a quiet drone at a random pitch and the
overall level. A net that reaches a high held-out ROC-AUC must therefore have read register and
rhythm from the log-mel; with the training labels shuffled it must not, which shows the figure
does not come from a leak in the pipeline (see ``shuffled_control`` for why that control is a
mean over seeds).

Features go through the project's own ``hitdesk.dsp`` log-mel, the code analysis uses.
"""

from __future__ import annotations

import csv
import json
import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from hitdesk.config import FEATURES, N_STATS, STAT_COLUMNS
from hitdesk.dsp.mel import melspectrogram, power_to_db

log = logging.getLogger(__name__)

# --- synthetic chart data in the zalo format ----------------------------------------------------------

_MEAN0 = np.array([-512.0, 92.0, 14.0, 18.0, 8.0, 1.0, 2.4, 0.0, -4.3, 0.6] + [-2.0] * 10)
_SD0 = np.array([44.0, 18.0, 10.0, 8.0, 5.8, 5.4, 4.9, 5.1, 4.9, 4.0] + [3.0] * 10)
_MEAN1 = np.array([89.0, 33.0, 21.5, 17.5, 14.2, 12.6, 11.6, 10.9, 11.2, 10.8] + [9.3] * 10)
_SD1 = np.array([20.0, 5.4, 3.3, 2.3, 2.0, 1.9, 1.5, 1.5, 1.6, 1.4] + [1.3] * 10)
GENRES = ("Nhạc Trẻ", "Nhạc Trữ Tình", "Nhạc Dance", "Rap Việt")


def synthetic_stats(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, 42] statistics in ``STAT_COLUMNS`` order with realistic scales."""
    means = _MEAN0 + _SD0 * rng.standard_normal((n, FEATURES.n_mfcc))
    stds = np.abs(_MEAN1 + _SD1 * rng.standard_normal((n, FEATURES.n_mfcc)))
    tempo = rng.uniform(75.0, 185.0, n)
    duration = rng.gamma(9.0, 32.0, n) + 30.0
    return np.column_stack([means, stds, tempo, duration])


def write_window_shift(path: Path, seed: int = 0, level_shift: float = 5.0) -> Path:
    """A small synthetic window-shift file for ``--window-shift`` (the real one is measured on music):
    a shift of ``level_shift`` in the first statistic and a random positive-definite covariance."""
    rng = np.random.default_rng(seed)
    a = rng.normal(0, 0.5, (N_STATS, N_STATS))
    payload = {
        "columns": list(STAT_COLUMNS),
        "mean": [level_shift] + [0.0] * (N_STATS - 1),
        "cov": (a @ a.T + np.eye(N_STATS)).tolist(),
        "n": 10,
        "source": "synthetic, for tests",
    }
    path.write_text(json.dumps(payload), encoding="utf-8")
    return path


def write_synthetic_zalo(out_dir: str | Path, n_songs: int = 400, n_artists: int = 60, seed: int = 0) -> Path:
    """Write features.csv, ranks.csv, info.tsv and metadata.csv; one song's MFCC stats are all zero."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.arange(1_073_700_000, 1_073_700_000 + n_songs, dtype=np.int64)
    stats = synthetic_stats(n_songs, rng)
    artist = rng.integers(0, n_artists, n_songs)
    artist_effect = rng.normal(0.0, 0.5, n_artists)[artist]
    # Planted signal: a wider loudness spread (mfcc_std_0) and a darker timbre (mfcc_mean_3) rank better.
    z = (stats[:, STAT_COLUMNS.index("mfcc_std_0")] - 89.0) / 20.0 - (stats[:, 3] - 18.0) / 8.0
    quality = 0.8 * z + artist_effect + rng.normal(0.0, 1.0, n_songs)
    rank = 10 - np.floor(10 * (np.argsort(np.argsort(quality)) / n_songs)).astype(np.int64)
    artist_ids = [str(a) for a in artist]
    for i in range(0, n_songs, 17):  # a few duets, written the way info.tsv joins them
        artist_ids[i] = f"{artist[i]}.{(artist[i] + 1) % n_artists}"
    stats[5, : 2 * FEATURES.n_mfcc] = 0.0  # a failed extraction
    features = pd.DataFrame(stats, columns=list(STAT_COLUMNS))
    features.insert(0, "id", ids)
    features.to_csv(out / "features.csv", index=False)
    pd.DataFrame({"ID": ids, "label": rank}).to_csv(out / "ranks.csv", index=False)
    pd.DataFrame(
        {
            "ID": ids,
            "title": [f"Song {i}" for i in range(n_songs)],
            "artist_name": [f"Artist {a}" for a in artist_ids],
            "artist_id": artist_ids,
            "composers_name": "",
            "composers_id": "",
            "release_time": "2017-10-01 20:00:00",
        }
    ).to_csv(out / "info.tsv", sep="\t", index=False)
    genre = np.asarray(GENRES, dtype=object)[rng.integers(0, len(GENRES), n_songs)]
    pd.DataFrame({"id": ids, "album": "", "genre": genre, "duration": stats[:, -1]}).to_csv(
        out / "metadata.csv", index=False
    )
    log.info("wrote a synthetic zalo data set of %d songs to %s", n_songs, out)
    return out


# --- the learnability set ------------------------------------------------------------------------

SAMPLE_RATE = FEATURES.sample_rate
REGISTER_MIDI = (45.0, 81.0)  # A2 to A5: the register every clip's notes sit around
DENSITY_PER_S = (1.0, 8.0)  # notes a second, drawn log-uniformly
TIER_EDGES = (25.0, 65.0)  # the DeepHits tiers on the 0-100 popularity scale
META_COLUMNS = ("gain_db", "snr_db")  # nuisance metadata: recorded, independent of the label


@dataclass(frozen=True)
class LearnsetConfig:
    n_clips: int = 400
    clip_seconds: float = 6.0
    seed: int = 0
    test_fraction: float = 0.4
    hit_threshold: float = 50.0  # label = popularity >= this (the median: balanced classes)


@dataclass(frozen=True)
class Learnset:
    """Clips (mono float32 at 22,050 Hz), their targets, and a fixed train/test split."""

    clips: list[np.ndarray]
    popularity: np.ndarray  # (n,) 0-100, percentile of the planted score
    label: np.ndarray  # (n,) int 0/1
    meta: np.ndarray  # (n, 2) META_COLUMNS
    register: np.ndarray  # (n,) MIDI pitch the notes sit around
    density: np.ndarray  # (n,) notes a second, as realised in the clip
    train: np.ndarray  # row indices
    test: np.ndarray
    config: LearnsetConfig = field(default_factory=LearnsetConfig)

    @property
    def tiers(self) -> np.ndarray:
        """0/1/2 for popularity in [0, 25), [25, 65), [65, 100]."""
        return np.asarray(np.digitize(self.popularity, TIER_EDGES), dtype=np.int64)


def _midi_hz(midi: np.ndarray) -> np.ndarray:
    return np.asarray(440.0 * 2.0 ** ((midi - 69.0) / 12.0))


def _note(f0: float, seconds: float, n_harm: int, rolloff: float, tau: float) -> np.ndarray:
    """A harmonic tone with a 5 ms attack and an exponential decay; partials above Nyquist are dropped."""
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tone = np.zeros_like(t)
    for k in range(1, n_harm + 1):
        if k * f0 < 0.45 * SAMPLE_RATE:
            tone += rolloff ** (k - 1) * np.sin(2.0 * np.pi * k * f0 * t)
    env = np.minimum(1.0, t / 0.005) * np.exp(-t / tau)
    return np.asarray(tone * env)


def _pinkish(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f power spectrum, so it covers the low mel bands as music does."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=np.float64)
    spec /= np.sqrt(np.maximum(f, 1.0))
    noise = np.fft.irfft(spec, n)
    return np.asarray(noise / (np.std(noise) + 1e-12))


def _clip(register: float, density: float, seconds: float, rng: np.random.Generator) -> tuple[np.ndarray, int, float]:
    """One clip; returns the audio, its number of notes, and the noise SNR in dB."""
    n = int(seconds * SAMPLE_RATE)
    y = np.zeros(n)
    count = max(1, round(density * seconds))
    onsets = np.sort(rng.uniform(0.0, seconds - 0.1, count))
    pitches = register + rng.choice([-5, -3, -2, 0, 2, 4, 5], count)  # a pentatonic-ish set around the register
    n_harm = int(rng.integers(1, 9))
    rolloff = float(rng.uniform(0.3, 0.9))
    for onset, pitch in zip(onsets, pitches, strict=True):
        length = float(rng.uniform(0.06, 0.3))
        tau = float(rng.uniform(0.04, 0.3))
        note = _note(float(_midi_hz(np.array(pitch))), length, n_harm, rolloff, tau) * rng.uniform(0.5, 1.0)
        a = int(onset * SAMPLE_RATE)
        b = min(n, a + note.size)
        y[a:b] += note[: b - a]
    level = np.sqrt(np.mean(y**2)) + 1e-12
    drone_hz = float(_midi_hz(np.array(rng.uniform(36.0, 84.0))))
    t = np.arange(n) / SAMPLE_RATE
    drone = np.sin(2.0 * np.pi * drone_hz * t) * np.sqrt(2.0) * level * 10.0 ** (rng.uniform(-35.0, -20.0) / 20.0)
    snr_db = float(rng.uniform(6.0, 30.0))
    noise = _pinkish(n, rng) * level * 10.0 ** (-snr_db / 20.0)
    return y + drone + noise, count, snr_db


def build_learnset(cfg: LearnsetConfig | None = None) -> Learnset:
    """Generates the clips and their labels; the same config always gives the same set."""
    cfg = cfg or LearnsetConfig()
    if cfg.n_clips < 10 or cfg.clip_seconds < 1.0:
        raise ValueError("the learnability set needs at least 10 clips of at least 1 s")
    rng = np.random.default_rng(cfg.seed)
    register = rng.uniform(*REGISTER_MIDI, cfg.n_clips)
    wanted = np.exp(rng.uniform(np.log(DENSITY_PER_S[0]), np.log(DENSITY_PER_S[1]), cfg.n_clips))
    clips: list[np.ndarray] = []
    density = np.empty(cfg.n_clips)
    meta = np.empty((cfg.n_clips, len(META_COLUMNS)))
    for i in range(cfg.n_clips):
        y, count, snr_db = _clip(float(register[i]), float(wanted[i]), cfg.clip_seconds, rng)
        gain_db = float(rng.uniform(-30.0, -3.0))
        y = y / (np.max(np.abs(y)) + 1e-12) * 10.0 ** (gain_db / 20.0)
        clips.append(y.astype(np.float32))
        density[i] = count / cfg.clip_seconds
        meta[i] = (gain_db, snr_db)
    # The planted score: register and (log) density in equal measure, each on its own range's scale.
    lo, hi = REGISTER_MIDI
    score = (register - lo) / (hi - lo) + np.log(density / DENSITY_PER_S[0]) / np.log(
        DENSITY_PER_S[1] / DENSITY_PER_S[0]
    )
    popularity = 100.0 * np.argsort(np.argsort(score)) / (cfg.n_clips - 1)
    label = (popularity >= cfg.hit_threshold).astype(np.int64)
    order = np.random.default_rng(cfg.seed + 1).permutation(cfg.n_clips)
    n_test = round(cfg.n_clips * cfg.test_fraction)
    return Learnset(
        clips=clips,
        popularity=popularity,
        label=label,
        meta=meta,
        register=register,
        density=density,
        train=np.sort(order[n_test:]),
        test=np.sort(order[:n_test]),
        config=cfg,
    )


def iter_logmel(clips: Sequence[np.ndarray]) -> Iterator[np.ndarray]:
    """Each clip's log-mel (128, frames) float32 in dB, 0 at its maximum: what analysis feeds a model."""
    for clip in clips:
        yield power_to_db(melspectrogram(clip))


def logmel_array(clips: Sequence[np.ndarray]) -> np.ndarray:
    """(n, 128, frames) for clips of one length (the learnability set's are)."""
    return np.stack(list(iter_logmel(clips)))


def write_learnset(data: Learnset, folder: Path) -> Path:
    """Writes the clips as WAV files and a manifest CSV (path, popularity, label, artist, metadata).

    Each clip is its own "artist", so grouped splits are plain random splits here. Returns the
    manifest's path; paths in it are relative to its folder.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["path", "popularity", "label", "artist", *META_COLUMNS])
        for i, clip in enumerate(data.clips):
            name = f"clip{i:04d}.wav"
            sf.write(folder / name, clip, SAMPLE_RATE, subtype="PCM_16")
            writer.writerow(
                [
                    name,
                    f"{data.popularity[i]:.3f}",
                    int(data.label[i]),
                    f"synth{i:04d}",
                    *(f"{v:.3f}" for v in data.meta[i]),
                ]
            )
    return manifest


# --- the learnability check: one net, true or shuffled labels, held-out ROC-AUC --------------------------


@dataclass(frozen=True)
class LearnabilityResult:
    net: str
    shuffled: bool
    task: str
    roc_auc: float  # held-out, against the true labels
    seconds: float  # training wall time
    examples_per_s: float
    best_epoch: int
    epochs_run: int
    n_train: int
    n_test: int


def run_net(
    name: str,
    data: Learnset,
    x: np.ndarray,
    epochs: int,
    shuffle: bool,
    seed: int = 0,
    batch_size: int = 16,
    lr: float = 1e-3,
) -> LearnabilityResult:
    """Trains net ``name`` on the training clips and scores the test clips against the true labels.

    Each net learns its recipe's task: the Yang et al. nets and CNNMetadata regress popularity
    (CNNMetadata with the nuisance metadata as its second input), ResNetTiers classifies into the
    three tiers and its score is the expected tier. ``shuffle`` permutes the training targets (the
    control); the test labels are never shuffled.
    """
    import torch
    from sklearn.metrics import roc_auc_score

    from hitdesk.training.nets import make_net
    from hitdesk.training.trainer import TrainConfig, predict, train

    tr, te = data.train, data.test
    perm = np.random.default_rng(seed + 7).permutation(len(tr)) if shuffle else np.arange(len(tr))
    meta = None
    torch.manual_seed(seed)
    if name == "resnet-tiers":
        net, task, y = make_net(name, n_classes=len(TIER_EDGES) + 1), "classification", data.tiers[tr][perm]
    elif name == "cnn-metadata":
        mu, sd = data.meta[tr].mean(axis=0), data.meta[tr].std(axis=0) + 1e-9
        meta = ((data.meta - mu) / sd).astype(np.float32)
        net, task, y = make_net(name, n_meta=len(META_COLUMNS)), "regression", data.popularity[tr][perm]
    else:
        net, task, y = make_net(name), "regression", data.popularity[tr][perm]
    # One-cycle for every net (DeepHits' schedule): on a few hundred clips it converges in fewer
    # epochs and with a steadier validation loss than a constant rate.
    cfg = TrainConfig(
        epochs=epochs, batch_size=batch_size, lr=lr, patience=max(3, epochs // 2), one_cycle=True, seed=seed
    )
    started = time.perf_counter()
    res = train(net, x[tr], y, task, cfg, meta=None if meta is None else meta[tr])
    seconds = time.perf_counter() - started
    out = predict(res.net, x[te], None if meta is None else meta[te])
    score = out @ np.arange(out.shape[1]) if out.ndim == 2 else out
    return LearnabilityResult(
        net=name,
        shuffled=shuffle,
        task=task,
        roc_auc=float(roc_auc_score(data.label[te], score)),
        seconds=seconds,
        examples_per_s=res.examples_per_s,
        best_epoch=res.best_epoch,
        epochs_run=len(res.history["train_loss"]),
        n_train=len(tr),
        n_test=len(te),
    )


def shuffled_control(
    name: str, data: Learnset, x: np.ndarray, epochs: int, seeds: Sequence[int] = (0, 1, 2)
) -> tuple[float, list[LearnabilityResult]]:
    """Mean held-out ROC-AUC of ``name`` trained on shuffled labels, over one run per seed.

    Why a mean over seeds: the label here is a function of the audio, so any fixed function of the
    log-mel, an untrained net included, correlates with it by chance, in a direction set by the
    initial weights (single untrained nets score anywhere from about 0.25 to 0.75 on this set). A
    net that learned nothing from its labels scores 0.5 on average over initialisations, which is
    what this measures; each seed draws its own permutation, initialisation and batch order.
    """
    runs = [run_net(name, data, x, epochs=epochs, shuffle=True, seed=s) for s in seeds]
    return float(np.mean([r.roc_auc for r in runs])), runs
