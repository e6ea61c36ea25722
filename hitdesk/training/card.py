"""The model card: the sidecar JSON that the runtime reads next to each ``.onnx`` file.

It carries what the app needs to run the model (feature config, inputs, outputs, familiarity
statistics) and what a user needs to trust it (label, data provenance, cross-validated metrics,
caveats). Every number in it is computed by the training run that wrote it.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.config import FEATURES, STAT_COLUMNS
from hitdesk.training.zalo import HIT_MAX_RANK, N_FOLDS, ChartData

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
CV_SCHEME = f"artist-disjoint {N_FOLDS}-fold GroupKFold"
LABEL_DEFINITION = "hit = Zing MP3 chart rank <= 3 within six months of upload (top 30%)"

PROVENANCE = {
    "challenge": "Zalo AI Challenge 2019, Hit Song Prediction",
    "labels_and_metadata": "public repository vuthede/zalo-hit-song-prediction (csv/)",
    "features": "public repository anhtholee/zalo-hit-song (audio-features/train_song_features2.csv, from its history)",
    "terms": "published for research use; no licence is stated",
    "audio": "not available; only per-song statistics recomputable with the recipe in feature_config",
    "held_out": "the challenge kept the rest of its songs aside; this card reports cross-validation only",
}


def _round(value: Any) -> Any:
    """JSON-friendly copy: numpy scalars to Python, NaN to None."""
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_round(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def caveats(
    data: ChartData,
    default_cv: dict[str, dict[str, Any]],
    fold_hit_rates: list[float],
    windows_cv: dict[str, dict[str, Any]] | None,
) -> list[str]:
    rho = default_cv["spearman"]
    auc = default_cv["roc_auc"]
    window_note = []
    if windows_cv is not None:
        window_note = [
            f"On 30 s windows it is weaker: with held-out songs shifted the way measured windows differ from whole "
            f"tracks, cross-validated Spearman is {windows_cv['spearman']['mean']:.2f} and ROC-AUC "
            f"{windows_cv['roc_auc']['mean']:.2f} (a simulation; the chart data has no audio)."
        ]
    return [
        "Trained on one market only: Vietnamese songs uploaded to Zing MP3 in 2017-2018, ranked by that "
        "service's charts. Other markets, eras and platforms may reward different sounds.",
        f"A weak signal: cross-validated Spearman {rho['mean']:.2f} (+-{rho['std']:.2f} over folds) and ROC-AUC "
        f"{auc['mean']:.2f}. Audio-only rank correlations in the literature are about 0.2-0.4; most of what makes "
        "a hit (artist, promotion, timing) is not in the audio.",
        "Use it to compare takes and mixes of the same material, not as a forecast of a release's chart "
        "position; its skill at ordering takes of one song has not been measured (there are no such labels).",
        *window_note,
        f"Inputs are whole-song MFCC statistics, tempo and duration ({len(STAT_COLUMNS)} numbers); the model "
        "never hears lyrics, arrangement detail or structure.",
        f"Probabilities are calibrated on held-out artists, but the hit rate of held-out folds ranged from "
        f"{min(fold_hit_rates):.2f} to {max(fold_hit_rates):.2f}: an artist's catalogue can sit well above or below "
        f"the {data.hit.mean():.2f} base rate, and the 42 statistics capture little of that.",
        "p_hit_low/p_hit_high show disagreement between members trained on different songs, not the "
        "uncertainty of the chart outcome itself.",
        "The cross-validated numbers score each member on the artists it did not see; the shipped p_hit averages "
        "all five members, so it has no held-out estimate of its own (it is expected to be at least as good).",
    ]


def build_card(
    *,
    name: str,
    version: str,
    recipe: str,
    data: ChartData,
    data_name: str,
    io: dict[str, Any],
    files: dict[str, str],
    model: dict[str, Any],
    cv: dict[str, Any],
    baselines: dict[str, Any],
    calibration: dict[str, Any],
    uncertainty: dict[str, Any],
    familiarity: dict[str, Any],
    augmentation: dict[str, Any],
    training: dict[str, Any],
    caveat_list: list[str],
) -> dict[str, Any]:
    assert data.groups is not None
    card: dict[str, Any] = {
        "name": name,
        "version": version,
        "created": dt.date.today().isoformat(),
        "format_version": FORMAT_VERSION,
        "recipe": recipe,
        "files": files,
        "feature_config": FEATURES.to_dict(),
        "stat_columns": list(STAT_COLUMNS),
        "inputs": io["combined"]["inputs"],
        "outputs": io["combined"]["outputs"],
        "head": {"file": files["head"], "inputs": io["head"]["inputs"], "outputs": io["head"]["outputs"]},
        "label": {
            "definition": LABEL_DEFINITION,
            "positive_if_rank_at_most": HIT_MAX_RANK,
            "base_rate": float(data.hit.mean()),
        },
        "training_data": {
            "name": data_name,
            "description": "Per-song MFCC statistics (20 means, 20 stds over the whole song), tempo and duration, "
            "with each song's Zing MP3 chart rank (1 best .. 10) over six months after upload.",
            "n_songs": data.n,
            "n_dropped": data.n_dropped,
            "dropped_because": "all MFCC statistics zero (failed extraction)",
            "n_artist_groups": len(np.unique(data.groups)),
            "provenance": PROVENANCE,
            "market": "Vietnamese songs on Zing MP3, uploaded 2017-2018",
        },
        "model": model,
        "metrics": {"cv": cv, "baselines": baselines},
        "calibration": calibration,
        "uncertainty": uncertainty,
        "familiarity": familiarity,
        "augmentation": augmentation,
        "training": training,
        "caveats": caveat_list,
    }
    return _round(card)  # type: ignore[no-any-return]


def write_card(card: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(card, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")
    log.info("wrote %s", path)
