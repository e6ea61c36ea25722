"""The training songs in summary, shipped beside a model: what explanations compare a track against.

``<model>.background`` (JSON under its own extension, so no model listing takes it for a card) holds
weighted centroids of the training songs' 42 statistics, the middle half of the chart hits' values
of each group's descriptor, and percentiles of the training songs' envelopes. It holds no song's
own row: the chart data's terms do not allow redistributing them. It is made by
``hitdesk-train background`` (hitdesk/training/background.py); the model card's ``explanation``
section names the file, its SHA-256 and how it was made.
"""

from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, N_STATS, STAT_COLUMNS
from hitdesk.explain.groups import GROUP_NAMES

BACKGROUND_SUFFIX = ".background"
BACKGROUND_FORMAT = "hitdesk-explain-background"
BACKGROUND_VERSION = 1
ENVELOPE_KEYS = ("hits_p50", "hits_p10", "hits_p90", "others_p50")


class BackgroundError(ValueError):
    """A background file that cannot be used; the message is one sentence for the user."""


@dataclass(frozen=True)
class Background:
    centroids: npt.NDArray[np.float64]  # [K, 42]
    weights: npt.NDArray[np.float64]  # [K], sums to 1
    hits_range: dict[str, tuple[float, float]]  # group -> 25th and 75th percentile of the hits' descriptor
    envelopes: dict[str, npt.NDArray[np.float64]]  # ENVELOPE_KEYS -> [128] dB
    training_range: dict[str, tuple[float, float]]  # group -> 1st and 99th percentile over all songs (what-if)

    def to_dict(self, model_name: str, provenance: dict[str, Any]) -> dict[str, Any]:
        return {
            "format": BACKGROUND_FORMAT,
            "version": BACKGROUND_VERSION,
            "model": model_name,
            "stat_columns": list(STAT_COLUMNS),
            "provenance": provenance,
            "centroids": [[round(float(v), 6) for v in row] for row in self.centroids],
            "weights": [round(float(v), 8) for v in self.weights],
            "hits_range": {k: [round(v[0], 4), round(v[1], 4)] for k, v in self.hits_range.items()},
            "training_range": {k: [round(v[0], 4), round(v[1], 4)] for k, v in self.training_range.items()},
            "envelopes_db": {k: [round(float(v), 4) for v in self.envelopes[k]] for k in ENVELOPE_KEYS},
        }


def background_path(stem: Path) -> Path:
    return stem.parent / f"{stem.name}{BACKGROUND_SUFFIX}"


def file_sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def parse_background(raw: object, name: str) -> Background:
    bad = BackgroundError(f"The explanation background '{name}' is damaged or of another version.")
    if not isinstance(raw, dict) or raw.get("format") != BACKGROUND_FORMAT or raw.get("version") != BACKGROUND_VERSION:
        raise bad
    try:
        if tuple(raw["stat_columns"]) != STAT_COLUMNS:
            raise bad
        centroids = np.asarray(raw["centroids"], dtype=np.float64)
        weights = np.asarray(raw["weights"], dtype=np.float64)
        ranges = {str(k): (float(v[0]), float(v[1])) for k, v in raw["hits_range"].items()}
        training = {str(k): (float(v[0]), float(v[1])) for k, v in raw["training_range"].items()}
        envelopes = {k: np.asarray(raw["envelopes_db"][k], dtype=np.float64) for k in ENVELOPE_KEYS}
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise bad from exc
    ok = (
        centroids.ndim == 2
        and centroids.shape[1] == N_STATS
        and weights.shape == (centroids.shape[0],)
        and centroids.shape[0] > 0
        and np.isfinite(centroids).all()
        and np.isfinite(weights).all()
        and bool(np.all(weights > 0))
        and set(ranges) == set(GROUP_NAMES)
        and set(training) == set(GROUP_NAMES)
        and all(np.isfinite(v).all() and v[0] <= v[1] for v in training.values())
        and all(np.isfinite(v).all() and v.shape == (FEATURES.n_mels,) for v in envelopes.values())
    )
    if not ok:
        raise bad
    return Background(centroids, weights / weights.sum(), ranges, envelopes, training)


@functools.lru_cache(maxsize=4)
def _load_cached(path: Path, mtime_ns: int, size: int) -> Background:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BackgroundError(f"The explanation background '{path.name}' cannot be read: it is damaged.") from exc
    return parse_background(raw, path.name)


def load_background(stem: Path, card_raw: dict[str, Any]) -> Background | None:
    """The model's background, or None when its card names none (then there is nothing to explain against).

    Raises BackgroundError when the card names one that is missing or damaged.
    """
    section = card_raw.get("explanation")
    if not isinstance(section, dict) or "background" not in section:
        return None
    path = background_path(stem)
    try:
        st = path.stat()
    except OSError as exc:
        raise BackgroundError(f"The explanation background '{path.name}' named by the model card is missing.") from exc
    return _load_cached(path, st.st_mtime_ns, st.st_size)
