"""The model card: the sidecar JSON every model ships with, read into a typed object."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, STAT_COLUMNS
from hitdesk.errors import ModelError

CARD_FORMAT_VERSION = 1
# The feature constants a model must have been trained with; window length is not among them.
_CHECKED_FEATURE_KEYS = ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc", "top_db", "fmin", "fmax", "htk")


@dataclass(frozen=True)
class FamiliarityReference:
    mean: npt.NDArray[np.float64]
    inv_cov: npt.NDArray[np.float64]
    distance_percentiles: npt.NDArray[np.float64]  # 0th..100th percentile of training distances


@dataclass(frozen=True)
class ModelCard:
    name: str
    version: str
    label_definition: str
    base_rate: float
    familiarity: FamiliarityReference | None
    window_seconds: float | None
    raw: dict[str, Any]

    @property
    def training_data(self) -> dict[str, Any]:
        return dict(self.raw.get("training_data") or {})

    @property
    def metrics(self) -> dict[str, Any]:
        return dict(self.raw.get("metrics") or {})

    @property
    def caveats(self) -> list[str]:
        caveats = self.raw.get("caveats") or []
        return [caveats] if isinstance(caveats, str) else [str(c) for c in caveats]


def load_card(path: Path) -> ModelCard:
    label = path.stem
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ModelError(f"Model card '{path.name}' is missing; a model needs its .json card beside it.") from exc
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"Model card '{path.name}' cannot be read: it is damaged or not JSON.") from exc
    if not isinstance(raw, dict):
        raise ModelError(f"Model card '{path.name}' is not a JSON object.")
    try:
        feature_config = raw["feature_config"]
        for key in _CHECKED_FEATURE_KEYS:
            if key in feature_config and float(feature_config[key]) != float(getattr(FEATURES, key)):
                raise ModelError(
                    f"Model '{label}' was trained on different features ({key} = {feature_config[key]}, "
                    f"this version computes {getattr(FEATURES, key)}), so it cannot be used."
                )
        if tuple(raw["stat_columns"]) != STAT_COLUMNS:
            raise ModelError(f"Model '{label}' expects other statistics than this version computes.")
        fam = raw.get("familiarity")
        familiarity = None
        if fam:
            familiarity = FamiliarityReference(
                mean=np.asarray(fam["mean"], dtype=np.float64),
                inv_cov=np.asarray(fam["inv_cov"], dtype=np.float64),
                distance_percentiles=np.asarray(fam["distance_percentiles"], dtype=np.float64),
            )
            if familiarity.mean.shape != (len(STAT_COLUMNS),) or familiarity.inv_cov.shape != (
                len(STAT_COLUMNS),
                len(STAT_COLUMNS),
            ):
                raise ModelError(f"Model card '{path.name}' has a familiarity reference of the wrong size.")
        label_info = raw["label"]
        window = raw.get("window_seconds")
        return ModelCard(
            name=str(raw.get("name", label)),
            version=str(raw["version"]),
            label_definition=str(label_info["definition"]),
            base_rate=float(label_info["base_rate"]),
            familiarity=familiarity,
            window_seconds=None if window is None else float(window),
            raw=raw,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"Model card '{path.name}' lacks required fields ({exc}); it does not match this version."
        ) from exc
