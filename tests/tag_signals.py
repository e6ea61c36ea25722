"""Generated drum-heavy and piano-like clips for the tag recipes' learnability proof.

Every clip mixes a drum kit (kick, snare and hi-hat on a beat at a random tempo) with piano-like
notes (harmonic partials with a hammer-like attack and decay, a random register); the label is 1
when the drums dominate. Loudness, tempo, register, note rate and background noise vary at random
and carry no label. The music tagger hears the difference (``test_training_tag_learnability``
shows it first), so a recipe that reads its tags can learn the label.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hitdesk.config import FEATURES

SR = FEATURES.sample_rate


@dataclass(frozen=True)
class TagSet:
    clips: list[np.ndarray]  # float32 mono at 22,050 Hz
    label: np.ndarray  # (n,) 1 = drum-heavy
    drum_share: np.ndarray  # (n,) share of the mix's energy from the drums


def _drums(n: int, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(int(0.4 * SR)) / SR
    kick = np.sin(2 * np.pi * (45 + 90 * np.exp(-t / 0.03)) * t) * np.exp(-t / 0.12)
    snare = rng.standard_normal(t.size) * np.exp(-t / 0.07) * 0.6 + np.sin(2 * np.pi * 190 * t) * np.exp(-t / 0.05)
    hat = np.diff(rng.standard_normal(t.size + 1)) * np.exp(-t / 0.02) * 0.3
    beat = 60.0 / rng.uniform(80, 160)
    y = np.zeros(n)
    step = 0
    while (a := int(step * beat / 2 * SR)) < n:
        parts = [hat] + ([kick] if step % 4 == 0 else []) + ([snare] if step % 4 == 2 else [])
        for part in parts:
            b = min(n, a + part.size)
            y[a:b] += part[: b - a] * rng.uniform(0.7, 1.0)
        step += 1
    return y


def _piano(n: int, rng: np.random.Generator) -> np.ndarray:
    y = np.zeros(n)
    register = rng.uniform(48, 76)
    rate = rng.uniform(1.5, 6.0)
    for onset in np.sort(rng.uniform(0, n / SR - 0.2, max(2, round(rate * n / SR)))):
        f0 = 440.0 * 2 ** ((register + rng.choice([-7, -5, -3, 0, 2, 4, 7, 9]) - 69) / 12)
        length = int(rng.uniform(0.4, 1.2) * SR)
        t = np.arange(length) / SR
        tone = sum(0.6 ** (k - 1) * np.sin(2 * np.pi * k * f0 * 1.0005**k * t) for k in range(1, 9) if k * f0 < 9000)
        env = np.minimum(1.0, t / 0.003) * np.exp(-t / rng.uniform(0.3, 0.9))
        a = int(onset * SR)
        b = min(n, a + length)
        y[a:b] += (tone * env)[: b - a] * rng.uniform(0.5, 1.0)
    return y


def build_tagset(n_clips: int, seconds: float = 3.5, seed: int = 0) -> TagSet:
    """``n_clips`` clips, half of them drum-heavy; the same arguments always give the same set."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    clips, labels, shares = [], [], []
    for i in range(n_clips):
        label = i % 2
        share = rng.uniform(0.6, 0.95) if label else rng.uniform(0.05, 0.4)
        d, p = _drums(n, rng), _piano(n, rng)
        d /= np.sqrt(np.mean(d**2)) + 1e-12
        p /= np.sqrt(np.mean(p**2)) + 1e-12
        y = np.sqrt(share) * d + np.sqrt(1 - share) * p
        y += rng.standard_normal(n) * 10 ** (-rng.uniform(25, 45) / 20)
        y *= 10 ** (rng.uniform(-24, -3) / 20) / (np.max(np.abs(y)) + 1e-12)
        clips.append(y.astype(np.float32))
        labels.append(label)
        shares.append(share)
    return TagSet(clips, np.array(labels, dtype=np.int64), np.array(shares))


def clip_tags(clips: list[np.ndarray]) -> np.ndarray:
    """(n, 50) tag probabilities of each clip, by the code the feature cache and the analysis use."""
    from hitdesk.style import StyleListener

    out = []
    for clip in clips:
        listener = StyleListener()
        listener.feed(clip)
        style = listener.finish()
        assert style is not None, "a clip shorter than the tagger's 3 s patch"
        out.append(style.probabilities)
    return np.stack(out).astype(np.float64)


def recipe_data(tags: np.ndarray, label: np.ndarray, logmels: list[np.ndarray] | None = None):  # type: ignore[no-untyped-def]
    """A ``RecipeData`` of the clips as the fit command would load it (one artist a clip)."""
    from hitdesk.config import N_STATS
    from hitdesk.training.featcache import TrackFeatures
    from hitdesk.training.recipes.base import WINDOW_NAMES, RecipeData

    feats = []
    for i, row in enumerate(tags):
        lm = np.zeros((FEATURES.n_mels, 8), np.float32) if logmels is None else logmels[i]
        windows = {w: lm for w in WINDOW_NAMES}
        stats = {w: np.zeros(N_STATS) for w in WINDOW_NAMES}
        feats.append(TrackFeatures(np.zeros(N_STATS), windows, stats, lm, 3.5, row.astype(np.float32)))
    n = len(tags)
    return RecipeData(
        tracks=[None] * n,  # type: ignore[list-item]
        feats=feats,
        hit=np.asarray(label, dtype=np.int64),
        popularity=None,
        groups=np.arange(n),
        meta=np.zeros((n, 0)),
        window_seconds=3.0,
    )


def held_out_auc(  # type: ignore[no-untyped-def]
    recipe: str, data, train: np.ndarray, test: np.ndarray, shuffle_seed: int | None = None, epochs: int | None = None
) -> float:
    """Held-out ROC-AUC of ``recipe`` fit on ``train`` (labels permuted with ``shuffle_seed``)."""
    from sklearn.metrics import roc_auc_score

    from hitdesk.training.recipes import manifest_recipes

    fit_rows = data.subset(train)
    if shuffle_seed is not None:
        fit_rows.hit = fit_rows.hit[np.random.default_rng(shuffle_seed).permutation(len(train))]
    scorer = manifest_recipes()[recipe].fit(fit_rows, seed=0 if shuffle_seed is None else shuffle_seed, epochs=epochs)
    held = data.subset(test)
    return float(roc_auc_score(held.hit, np.asarray(scorer.score_songs(held)).mean(axis=1)))
