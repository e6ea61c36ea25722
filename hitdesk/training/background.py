"""``hitdesk-train background``: the summary of the training songs that explanations compare against.

From the chart data's statistics (never shipping a song's own row, which its terms do not allow):
weighted centroids of k-means on the standardised 42 statistics (each centroid the mean of its
songs' raw statistics, weighted by its share of songs), the chart hits' 25th-75th percentiles of
each group's descriptor, and percentiles of the songs' envelopes. Deterministic for a given data
set, cluster count and seed, so the file can be rebuilt and its hash compared with the card's.
The card's ``explanation`` section records the file's hash, how it was made, from what, and what
the explanations are and are not.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.explain.background import Background, background_path, file_sha256, parse_background
from hitdesk.explain.drivers import explain_many, head_scorer
from hitdesk.explain.groups import GROUP_NAMES, describe, envelope_db
from hitdesk.training.card import write_card
from hitdesk.training.zalo import ChartData, load_scored

log = logging.getLogger(__name__)

DEFAULT_CLUSTERS = 8
COMMAND = "hitdesk-train background --data DIR --model models/hitdesk-zalo-v2"

WHAT_IT_IS = (
    "What drives a score: exact Shapley values of eight groups of the model's 42 inputs (tempo; length; "
    "density, the MFCC-0 mean; four bands of the mean mel envelope's shape: below 250 Hz, 250 Hz-2 kHz, "
    "2-6 kHz, above 6 kHz; movement, the 20 MFCC standard deviations). A group's value is how much the "
    "model's score moves, on average over all orders of swapping groups in, when that group is taken from "
    "the track instead of from the training songs' centroids; the baseline is the centroids' own mean score, "
    "and baseline plus the values is the track's score. The hit curve scores windows sliding across the track. "
    "Tonal balance is the track's mean mel envelope as the model sees it (from its MFCC means) beside the "
    "chart hits' percentiles. Comparing two takes uses the same Shapley values with take B's statistics as "
    "the baseline instead of the centroids, so the values add up to the difference of the two scores. What "
    "if re-scores the track's statistics with any of its groups edited at once, and refuses settings outside "
    "the training songs' 1st-99th percentile."
)
WHAT_IT_IS_NOT = (
    "These describe this model's arithmetic, which learned from one market's chart (Vietnamese songs on "
    "Zing MP3, 2017-2018) and is a weak signal: they are not causes of success, not advice, and not what "
    "another market or a listener would say. Changing a track to move a group's value changes other groups "
    "too, and the model was never shown such edits. Values depend on the background: against other reference "
    "songs they would differ."
)


def _kmeans(x: np.ndarray, k: int, seed: int, iterations: int = 100) -> np.ndarray:
    """Cluster labels by Lloyd's algorithm from a k-means++ start (deterministic for a seed)."""
    rng = np.random.default_rng(seed)
    centres = [x[rng.integers(len(x))]]
    for _ in range(1, k):
        d2 = np.min(((x[:, None, :] - np.array(centres)[None]) ** 2).sum(axis=2), axis=1)
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
    c = np.array(centres)
    labels = np.full(len(x), -1)
    for _ in range(iterations):
        new = np.argmin(((x[:, None, :] - c[None]) ** 2).sum(axis=2), axis=1)
        if np.array_equal(new, labels):
            break
        labels = new
        c = np.array([x[labels == j].mean(axis=0) if np.any(labels == j) else c[j] for j in range(k)])
    return labels


def build_background(data: ChartData, clusters: int = DEFAULT_CLUSTERS, seed: int = 0) -> Background:
    stats = data.stats
    z = (stats - stats.mean(axis=0)) / np.where(stats.std(axis=0) > 0, stats.std(axis=0), 1.0)
    labels = _kmeans(z, clusters, seed)
    used = [j for j in range(clusters) if np.any(labels == j)]
    centroids = np.array([stats[labels == j].mean(axis=0) for j in used])
    weights = np.array([np.mean(labels == j) for j in used])
    hit = data.hit.astype(bool)
    described = [describe(row) for row in stats[hit]]
    ranges = {}
    for name in GROUP_NAMES:
        values = [d[name] for d in described]
        ranges[name] = (float(np.percentile(values, 25)), float(np.percentile(values, 75)))
    everyone = [describe(row) for row in stats]
    training = {}
    for name in GROUP_NAMES:
        values = [d[name] for d in everyone]
        training[name] = (float(np.percentile(values, 1)), float(np.percentile(values, 99)))
    env = envelope_db(stats)
    envelopes = {
        "hits_p50": np.percentile(env[hit], 50, axis=0),
        "hits_p10": np.percentile(env[hit], 10, axis=0),
        "hits_p90": np.percentile(env[hit], 90, axis=0),
        "others_p50": np.percentile(env[~hit], 50, axis=0),
    }
    return Background(centroids, weights / weights.sum(), ranges, envelopes, training)


def write_background(
    data_dir: Path, model_stem: Path, clusters: int = DEFAULT_CLUSTERS, seed: int = 0
) -> dict[str, Any]:
    """Writes ``<model>.background`` and the card's ``explanation`` section; returns that section."""
    from hitdesk.model import HitModel

    data = load_scored(data_dir)
    bg = build_background(data, clusters, seed)
    card_path = model_stem.with_suffix(".json")
    card = json.loads(card_path.read_text(encoding="utf-8"))
    provenance = {
        "made_by": COMMAND + f" --clusters {clusters} --seed {seed}",
        "source": "chart data statistics (zalo2019 features.csv joined with ranks.csv); no song's own row is stored",
        "source_sha256": {n: file_sha256(data_dir / n) for n in ("features.csv", "ranks.csv")},
        "n_songs": data.n,
        "n_hits": int(data.hit.sum()),
        "method": (
            f"k-means (k-means++ start, seed {seed}) with {clusters} clusters on the standardised 42 statistics; "
            "each centroid is the mean of its songs' raw statistics, weighted by its share of the songs; "
            "descriptor ranges are the chart hits' 25th-75th percentiles (for the sentences) and all songs' "
            "1st-99th percentiles (what-if's limits); envelopes are percentiles of "
            "every song's MFCC means turned back into 128 mel bands"
        ),
    }
    out = background_path(model_stem)
    out.write_text(json.dumps(bg.to_dict(model_stem.name, provenance), indent=1) + "\n", encoding="utf-8")
    bg = parse_background(json.loads(out.read_text(encoding="utf-8")), out.name)  # what the app will read
    # How well the centroids stand for the songs: their mean score against the songs' mean score.
    model = HitModel(model_stem)
    score = head_scorer(model)
    baseline = explain_many(score, [data.stats[0]], bg)[0].baseline
    section = {
        "background": {
            "file": out.name,
            "sha256": file_sha256(out),
            **provenance,
            "centroids": len(bg.weights),
            "baseline_p_hit": round(baseline, 4),
            "mean_p_hit_of_training_songs": round(float(score(data.stats).mean()), 4),
        },
        "groups": list(GROUP_NAMES),
        "what_it_is": WHAT_IT_IS,
        "what_it_is_not": WHAT_IT_IS_NOT,
    }
    card["explanation"] = section
    card.setdefault("files", {})["background"] = out.name  # the package build bundles what the card names
    write_card(card, card_path)
    log.info("wrote %s (%d centroids) and the card's explanation section", out, len(bg.weights))
    return section
