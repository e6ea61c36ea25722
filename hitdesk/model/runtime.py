"""Running a model: the combined graph on log-mel windows, the head on track statistics."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, N_STATS
from hitdesk.errors import ModelError
from hitdesk.model.card import ModelCard, load_card
from hitdesk.results import Familiarity, Score

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "hitdesk-zalo-v1"
# A track farther from the training centre than this share of training songs gets a note.
UNFAMILIAR_TYPICALITY = 0.01

_OUTPUTS = ("p_hit", "p_hit_low", "p_hit_high")
_FULL_INPUTS = ("logmel", "tempo_duration")
_HEAD_INPUTS = ("stats",)


def models_dir() -> Path:
    """Where bundled models live: $HITDESK_MODELS_DIR, the frozen app's folder, or the source tree."""
    env = os.environ.get("HITDESK_MODELS_DIR")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "models"
    return Path(__file__).resolve().parents[2] / "models"


def available_models(directory: Path | None = None) -> list[str]:
    folder = directory or models_dir()
    if not folder.is_dir():
        return []
    return sorted(p.stem for p in folder.glob("*.json") if (folder / f"{p.stem}.onnx").exists())


def resolve_model_path(spec: str | Path | None) -> Path:
    """The stem path (``dir/name``) of a model given by name, by any of its files, or by its stem."""
    if spec is None or str(spec) == "":
        return models_dir() / DEFAULT_MODEL_NAME
    path = Path(spec)
    name = path.name
    for suffix in (".head.onnx", ".onnx", ".json"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    if path.parent == Path(".") and not path.exists() and not (Path(f"{spec}.onnx")).exists():
        return models_dir() / name
    return path.parent / name


def _check_numbers(card: ModelCard, path: Path) -> None:
    """Refuses a card whose numbers the runtime cannot use.

    Caught here, at load time, because later they would stop a batch in the middle (empty
    percentiles raise inside every file's scoring) or, worse, give silent nonsense (a NaN in the
    reference makes every track look typical).
    """
    problem = None
    if not 0.0 < card.base_rate < 1.0:
        problem = "its base rate is not a probability"
    elif card.window_seconds is not None and not (np.isfinite(card.window_seconds) and card.window_seconds > 0):
        problem = "its window length is not a positive number of seconds"
    elif card.familiarity is not None:
        fam = card.familiarity
        pct = fam.distance_percentiles
        if pct.ndim != 1 or pct.size < 2 or not np.isfinite(pct).all() or bool(np.any(np.diff(pct) < 0)):
            problem = "its familiarity percentiles are missing or out of order"
        elif not (np.isfinite(fam.mean).all() and np.isfinite(fam.inv_cov).all()):
            problem = "its familiarity reference holds numbers that are not finite"
    if problem is not None:
        raise ModelError(f"Model card '{path.name}' is damaged: {problem}.")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    version: str

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "version": self.version}


class HitModel:
    """A loaded model: two onnxruntime sessions and the card.

    One thread per session keeps several analyses in parallel from fighting over the cores.
    """

    def __init__(self, stem: Path, threads: int = 1) -> None:
        import onnxruntime as ort  # deferred: costs start-up time in commands that need no model

        self.stem = stem
        self.card: ModelCard = load_card(stem.with_suffix(".json"))
        _check_numbers(self.card, stem.with_suffix(".json"))
        self.info = ModelInfo(stem.name, self.card.version)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        self._full = self._session(ort, stem.parent / f"{stem.name}.onnx", opts, _FULL_INPUTS)
        self._head = self._session(ort, stem.parent / f"{stem.name}.head.onnx", opts, _HEAD_INPUTS)

    @classmethod
    def load(cls, spec: str | Path | None = None, threads: int = 1) -> HitModel:
        return cls(resolve_model_path(spec), threads)

    @staticmethod
    def _session(ort: object, path: Path, opts: object, inputs: tuple[str, ...]) -> object:
        if not path.exists():
            raise ModelError(f"Model file '{path.name}' is missing from {path.parent}.")
        try:
            session = ort.InferenceSession(  # type: ignore[attr-defined]
                str(path), sess_options=opts, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # onnxruntime raises its own exception types for damaged files
            raise ModelError(f"Model file '{path.name}' cannot be loaded: it is damaged or not an ONNX model.") from exc
        names_in = tuple(i.name for i in session.get_inputs())
        names_out = {o.name for o in session.get_outputs()}
        if names_in != inputs or not set(_OUTPUTS) <= names_out:
            raise ModelError(
                f"Model file '{path.name}' has inputs {list(names_in)} and outputs {sorted(names_out)}; "
                f"this version needs inputs {list(inputs)} and outputs {list(_OUTPUTS)}."
            )
        return session

    def score_stats(self, stats: npt.ArrayLike) -> list[Score]:
        """Scores rows of the 42 statistics (STAT_COLUMNS order, raw values)."""
        x = np.atleast_2d(np.asarray(stats, dtype=np.float32))
        if x.shape[1] != N_STATS:
            raise ValueError(f"expected {N_STATS} statistics per row, got {x.shape[1]}")
        return self._run(self._head, {"stats": x})

    def score_logmel(self, logmels: Sequence[npt.ArrayLike], tempo_duration: npt.ArrayLike) -> list[Score]:
        """Scores log-mel windows (dB, 0 at each window's maximum), grouped by length into batches."""
        td = np.atleast_2d(np.asarray(tempo_duration, dtype=np.float32))
        arrays = [np.asarray(m, dtype=np.float32) for m in logmels]
        out: list[Score | None] = [None] * len(arrays)
        by_len: dict[int, list[int]] = {}
        for i, m in enumerate(arrays):
            if m.ndim != 2 or m.shape[0] != FEATURES.n_mels:
                raise ValueError(f"expected log-mel of shape ({FEATURES.n_mels}, frames), got {m.shape}")
            by_len.setdefault(m.shape[1], []).append(i)
        for idx in by_len.values():
            batch = np.stack([arrays[i] for i in idx])
            for i, score in zip(idx, self._run(self._full, {"logmel": batch, "tempo_duration": td[idx]}), strict=True):
                out[i] = score
        return [s for s in out if s is not None]

    def familiarity(self, stats: npt.ArrayLike) -> Familiarity | None:
        ref = self.card.familiarity
        if ref is None:
            return None
        diff = np.asarray(stats, dtype=np.float64).reshape(-1) - ref.mean
        distance = float(np.sqrt(max(0.0, float(diff @ ref.inv_cov @ diff))))
        pct = ref.distance_percentiles
        # Share of training songs at least this far out, interpolated between stored percentiles.
        below = float(np.interp(distance, pct, np.linspace(0.0, 1.0, pct.size), left=0.0, right=1.0))
        typicality = 1.0 - below
        return Familiarity(distance, typicality, typicality < UNFAMILIAR_TYPICALITY)

    @staticmethod
    def _run(session: object, feeds: dict[str, npt.NDArray[np.float32]]) -> list[Score]:
        p, lo, hi = session.run(list(_OUTPUTS), feeds)  # type: ignore[attr-defined]
        p, lo, hi = (np.asarray(a, dtype=np.float64).reshape(-1) for a in (p, lo, hi))
        # Keep the documented ordering even where float rounding crosses it.
        lo = np.minimum(lo, p)
        hi = np.maximum(hi, p)
        return [Score(float(a), float(b), float(c)) for a, b, c in zip(p, lo, hi, strict=True)]
