"""The model card: the sidecar JSON every model ships with, read into a typed object."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, MAX_WINDOW_SECONDS, MIN_TRACK_SECONDS, STAT_COLUMNS, check_window_seconds
from hitdesk.errors import ModelError

CARD_FORMAT_VERSION = 2  # 2 adds the optional "runtime" section; cards without it read as version 1 models
# The feature constants a model must have been trained with; window length is not among them.
_CHECKED_FEATURE_KEYS = ("sample_rate", "n_fft", "hop_length", "n_mels", "n_mfcc", "top_db", "fmin", "fmax", "htk")


@dataclass(frozen=True)
class FamiliarityReference:
    mean: npt.NDArray[np.float64]
    inv_cov: npt.NDArray[np.float64]
    distance_percentiles: npt.NDArray[np.float64]  # 0th..100th percentile of training distances


# Graph inputs the analysis can feed, and how the overall score may be formed.
# ``tags``: the music tagger's probabilities of the track (hitdesk.style), one row per window;
# ``lyrics``: the take's sentence embedding (hitdesk.text), one row per window.
KNOWN_INPUTS = ("logmel", "tempo_duration", "meta", "tags", "lyrics")
AGGREGATIONS = ("head", "mean", "median", "middle")
# A card without a "runtime" section describes the default models' layout (hitdesk-zalo-v1 and v2).
_V1_RUNTIME: dict[str, Any] = {"inputs": ["logmel", "tempo_duration"], "overall": "head"}


@dataclass(frozen=True)
class RuntimeSpec:
    """What the combined graph eats and how the track's overall score is formed.

    ``overall`` is "head" (the ``.head.onnx`` graph on whole-track statistics) or an aggregation of
    the three window scores, for models trained on windows alone (Leefmans' intervals average them).
    A model with a ``meta`` input needs metadata the app does not have, so the card names the values
    fed instead (``meta_fill``) and says where they come from (``meta_fill_source``).
    """

    inputs: tuple[str, ...]
    overall: str
    meta_columns: tuple[str, ...] = ()
    meta_fill: tuple[float, ...] = ()
    meta_fill_source: str = ""

    @property
    def takes_lyrics(self) -> bool:
        """The graph has a ``lyrics`` input: the sentence encoder's embedding of the take's lyrics."""
        return "lyrics" in self.inputs

    @property
    def has_head(self) -> bool:
        return self.overall == "head"

    @property
    def overall_rule(self) -> str:
        """The overall score's origin in words, for notes and the app's explanation page."""
        return {
            "head": "head's score of the whole track's statistics",
            "mean": "mean of the three window scores",
            "median": "median of the three window scores",
            "middle": "middle window's score",
        }[self.overall]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"inputs": list(self.inputs), "overall": self.overall}
        if "meta" in self.inputs:
            out["meta"] = {
                "columns": list(self.meta_columns),
                "fill": list(self.meta_fill),
                "fill_source": self.meta_fill_source,
            }
        return out


def parse_runtime(raw: dict[str, Any] | None, label: str) -> RuntimeSpec:
    """Reads and checks a card's "runtime" section; every problem becomes one ModelError sentence."""
    spec = _V1_RUNTIME if raw is None else raw
    inputs = tuple(str(i) for i in spec.get("inputs", ()))
    unknown = [i for i in inputs if i not in KNOWN_INPUTS]
    if unknown or not {"logmel", "tags"} & set(inputs) or len(set(inputs)) != len(inputs):
        raise ModelError(
            f"Model '{label}' declares inputs {list(inputs)}; this version can feed a 'logmel' or 'tags' input "
            f"plus 'tempo_duration', 'meta' and 'lyrics', so it cannot be used."
        )
    overall = str(spec.get("overall", "head"))
    if overall not in AGGREGATIONS:
        raise ModelError(
            f"Model '{label}' forms its overall score by '{overall}', which this version does not know "
            f"(known: {', '.join(AGGREGATIONS)})."
        )
    if "meta" not in inputs:
        return RuntimeSpec(inputs, overall)
    meta = spec.get("meta") or {}
    columns = tuple(str(c) for c in meta.get("columns", ()))
    fill = tuple(float(v) for v in meta.get("fill", ()))
    source = str(meta.get("fill_source", "")).strip()
    if not columns or len(fill) != len(columns) or not source or not all(np.isfinite(fill)):
        raise ModelError(
            f"Model '{label}' needs metadata but its card does not give one finite value per column to use "
            f"in its place and where those values come from, so it cannot be used."
        )
    return RuntimeSpec(inputs, overall, columns, fill, source)


@dataclass(frozen=True)
class ModelCard:
    name: str
    version: str
    label_definition: str
    base_rate: float
    familiarity: FamiliarityReference | None
    window_seconds: float | None
    raw: dict[str, Any]
    runtime: RuntimeSpec = field(default_factory=lambda: parse_runtime(None, ""))

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
        runtime_raw = raw.get("runtime")
        if runtime_raw is not None and not isinstance(runtime_raw, dict):
            raise ModelError(f"Model card '{path.name}' has a 'runtime' entry that is not a JSON object.")
        runtime = parse_runtime(runtime_raw, label)
        if window is not None:  # the one window rule (config.check_window_seconds): a huge one exhausts memory
            try:
                window = check_window_seconds(float(window))
            except (TypeError, ValueError):
                raise ModelError(
                    f"Model card '{path.name}' gives a window length of {window!r}: "
                    f"it must be between {MIN_TRACK_SECONDS:g} and {MAX_WINDOW_SECONDS:g} seconds."
                ) from None
        return ModelCard(
            name=str(raw.get("name", label)),
            version=str(raw["version"]),
            label_definition=str(label_info["definition"]),
            base_rate=float(label_info["base_rate"]),
            familiarity=familiarity,
            window_seconds=None if window is None else float(window),
            raw=raw,
            runtime=runtime,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"Model card '{path.name}' lacks required fields ({exc}); it does not match this version."
        ) from exc
