"""Running a model: the combined graph on log-mel windows, the optional head on track statistics.

The card's "runtime" section says which inputs the combined graph takes (``logmel``, or the music
tagger's ``tags`` of the track, or both; also ``tempo_duration`` and ``meta`` where declared) and
whether a head scores the whole track or the window scores are aggregated instead. Cards without
it describe the first layout (both graphs).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES, N_STATS
from hitdesk.errors import ModelError
from hitdesk.model.card import ModelCard, load_card
from hitdesk.model.sessions import session_options
from hitdesk.paths import models_dir
from hitdesk.results import HEAD_TRACK, HEAD_WINDOW, Familiarity, Score

log = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "hitdesk-zalo-v2"
# A track farther from the training centre than this share of training songs gets a note.
UNFAMILIAR_TYPICALITY = 0.01

_OUTPUTS = ("p_hit", "p_hit_low", "p_hit_high")
# Optional: each ensemble member's calibrated P(hit), [batch, n_members]; p_hit is their mean (models
# from version 2 on).
MEMBERS_OUTPUT = "members"
_HEAD_INPUTS = ("stats",)


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


def lyric_rows(lyrics: npt.ArrayLike | None, n: int) -> npt.NDArray[np.float32]:
    """One embedding row per window: the take's embedding (one vector) repeated, ``n`` rows as given,
    or zeros when the take has no lyrics."""
    from hitdesk.model.encoder import EMBEDDING_SIZE

    rows = (
        np.zeros((1, EMBEDDING_SIZE), np.float32) if lyrics is None else np.atleast_2d(np.asarray(lyrics, np.float32))
    )
    return rows if len(rows) == n else np.tile(rows[:1], (n, 1))


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
        opts = session_options(threads)
        self.runtime = self.card.runtime
        self._full = self._session(ort, stem.parent / f"{stem.name}.onnx", opts, self.runtime.inputs)
        self._head = (
            self._session(ort, stem.parent / f"{stem.name}.head.onnx", opts, _HEAD_INPUTS)
            if self.runtime.has_head
            else None
        )
        # Two-head models (v2 on) also ship the window head on statistics, for the segments' explanations.
        window_path = stem.parent / f"{stem.name}.window.onnx"
        self._window = self._session(ort, window_path, opts, _HEAD_INPUTS) if window_path.exists() else None
        if "meta" in self.runtime.inputs:
            self._check_meta_width(self._full, stem.name)
        self._probe()

    @property
    def has_head(self) -> bool:
        """Whether the overall score comes from a head on whole-track statistics."""
        return self._head is not None

    @property
    def has_members(self) -> bool:
        """Whether the overall score comes with each ensemble member's score (``Score.members``): the
        head has a ``members`` output, or, for a model without a head, the combined graph has one."""
        return _has_members(self._head if self._head is not None else self._full)

    def _check_meta_width(self, session: object, name: str) -> None:
        shape = next(i.shape for i in session.get_inputs() if i.name == "meta")  # type: ignore[attr-defined]
        width = shape[1] if len(shape) == 2 else None
        if isinstance(width, int) and width != len(self.runtime.meta_columns):
            raise ModelError(
                f"Model '{name}' takes {width} metadata values but its card names "
                f"{len(self.runtime.meta_columns)}, so it cannot be used."
            )

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
        if sorted(names_in) != sorted(inputs) or not set(_OUTPUTS) <= names_out:
            raise ModelError(
                f"Model file '{path.name}' has inputs {list(names_in)} and outputs {sorted(names_out)}; "
                f"its card and this version need inputs {list(inputs)} and outputs {list(_OUTPUTS)}."
            )
        return session

    def score_stats(self, stats: npt.ArrayLike, probe: str | None = None) -> list[Score]:
        """Scores rows of the 42 statistics (STAT_COLUMNS order, raw values)."""
        if self._head is None:
            raise ModelError(f"Model '{self.info.name}' has no head; its overall score is the {self.overall_rule}.")
        x = np.atleast_2d(np.asarray(stats, dtype=np.float32))
        if x.shape[1] != N_STATS:
            raise ValueError(f"expected {N_STATS} statistics per row, got {x.shape[1]}")
        return self._run(self._head, {"stats": x}, probe, HEAD_TRACK)

    def score_window_stats(self, stats: npt.ArrayLike) -> list[Score]:
        """Rows of the 42 statistics of windows, scored by the window head (the track head where a model
        has only one statistics graph); the scores say which head gave them."""
        if self._window is None:
            return self.score_stats(stats)
        x = np.atleast_2d(np.asarray(stats, dtype=np.float32))
        if x.shape[1] != N_STATS:
            raise ValueError(f"expected {N_STATS} statistics per row, got {x.shape[1]}")
        return self._run(self._window, {"stats": x}, None, HEAD_WINDOW)

    def members_stats(self, stats: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """[rows, n_members]: every member's calibrated P(hit) of rows of the 42 statistics (the track head)."""
        scores = self.score_stats(stats)
        if any(s.members is None for s in scores):
            raise ModelError(f"Model '{self.info.name}' does not give its members' scores.")
        return np.array([s.members for s in scores], dtype=np.float64)

    @property
    def overall_rule(self) -> str:
        """The overall score's origin in words, for cards and notes."""
        return self.runtime.overall_rule

    def aggregate(self, scores: Sequence[Score]) -> Score:
        """The overall score from the window scores (beginning, middle, end) by the card's rule.

        The range is aggregated the same way as the probability, unless the card measured it as a
        function of a song's probability (recipes: ``uncertainty.knots``); then it is read off there.
        """
        if not scores:
            raise ValueError("no window scores to aggregate")
        rule = self.runtime.overall
        if rule == "middle":
            return scores[len(scores) // 2]
        arr = np.array([[s.p_hit, s.p_hit_low, s.p_hit_high] for s in scores], dtype=np.float64)
        agg = np.median(arr, axis=0) if rule == "median" else arr.mean(axis=0)
        knots = (self.card.raw.get("uncertainty") or {}).get("knots")
        if knots:  # the range was measured for a song's probability: read it off at the overall one
            agg[1] = np.interp(agg[0], knots["p"], knots["low"])
            agg[2] = np.interp(agg[0], knots["p"], knots["high"])
        members = None
        if all(s.members is not None for s in scores):  # each member's windows, aggregated the same way
            per = np.array([s.members for s in scores], dtype=np.float64)
            agg_members = np.median(per, axis=0) if rule == "median" else per.mean(axis=0)
            members = tuple(float(m) for m in agg_members)
        return Score(float(agg[0]), float(min(agg[1], agg[0])), float(max(agg[2], agg[0])), HEAD_WINDOW, members)

    def meta_fill(self, n: int) -> npt.NDArray[np.float32]:
        """The metadata fed for ``n`` windows when none is known: the card's declared values."""
        return np.tile(np.asarray(self.runtime.meta_fill, dtype=np.float32), (n, 1))

    def score_logmel(
        self,
        logmels: Sequence[npt.ArrayLike],
        tempo_duration: npt.ArrayLike,
        meta: npt.ArrayLike | None = None,
        probe: str | None = None,
        tags: npt.ArrayLike | None = None,
        lyrics: npt.ArrayLike | None = None,
    ) -> list[Score]:
        """Scores log-mel windows (dB, 0 at each window's maximum), grouped by length into batches.

        Only the inputs the card declares are fed; ``meta`` (one row per window) defaults to the
        card's fill values; ``lyrics`` (the take's embedding, one row for every window) to zeros,
        which is what a lyrics model was trained with for songs without lyrics. ``tags`` (the tagger's
        probabilities of the track, one row, or one per window) has no default: a model that takes
        them cannot score without them.
        """
        td = np.atleast_2d(np.asarray(tempo_duration, dtype=np.float32))
        inputs = self.runtime.inputs
        meta_rows = self.meta_fill(len(logmels)) if meta is None else np.atleast_2d(np.asarray(meta, dtype=np.float32))
        lyrics_rows = lyric_rows(lyrics, len(logmels)) if "lyrics" in inputs else None
        arrays = [np.asarray(m, dtype=np.float32) for m in logmels]
        tag_rows = self._tag_rows(tags, len(arrays))
        out: list[Score | None] = [None] * len(arrays)
        by_len: dict[int, list[int]] = {}
        for i, m in enumerate(arrays):
            if m.ndim != 2 or m.shape[0] != FEATURES.n_mels:
                raise ValueError(f"expected log-mel of shape ({FEATURES.n_mels}, frames), got {m.shape}")
            by_len.setdefault(m.shape[1], []).append(i)
        for idx in by_len.values():
            feeds = {"logmel": np.stack([arrays[i] for i in idx])} if "logmel" in inputs else {}
            if tag_rows is not None:
                feeds["tags"] = tag_rows[idx]
            if "tempo_duration" in inputs:
                feeds["tempo_duration"] = td[idx]
            if "meta" in inputs:
                feeds["meta"] = meta_rows[idx]
            if lyrics_rows is not None:
                feeds["lyrics"] = lyrics_rows[idx]
            for i, score in zip(idx, self._run(self._full, feeds, probe, HEAD_WINDOW), strict=True):
                out[i] = score
        return [s for s in out if s is not None]

    def _tag_rows(self, tags: npt.ArrayLike | None, n: int) -> npt.NDArray[np.float32] | None:
        if "tags" not in self.runtime.inputs:
            return None
        if tags is None:
            raise ModelError(f"Model '{self.info.name}' scores from the music tagger's tags, and this track has none.")
        rows = np.atleast_2d(np.asarray(tags, dtype=np.float32))
        return np.tile(rows, (n, 1)) if len(rows) == 1 else rows

    @property
    def tag_names(self) -> tuple[str, ...]:
        """The tagger's tags the model takes, in its input's order (empty when it takes none)."""
        if "tags" not in self.runtime.inputs:
            return ()
        tagger = (self.card.raw.get("model") or {}).get("tagger") or {}
        return tuple(str(t) for t in tagger.get("tags", ()))

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

    def _probe(self) -> None:
        """Runs the model once on inputs of the shapes analysis feeds, so a model that cannot take
        them, or answers with something that is not a probability, is refused when it loads (with
        one sentence) instead of failing on every file."""
        window_s = self.card.window_seconds or DEFAULT_WINDOW_SECONDS
        frames = 1 + int(window_s * FEATURES.sample_rate) // FEATURES.hop_length
        what = f"{FEATURES.n_mels}-band log-mel windows of {window_s:g} s"
        tags = None
        if "tags" in self.runtime.inputs:
            n_tags = len(self.tag_names)
            if not n_tags:
                raise ModelError(
                    f"Model '{self.info.name}' takes the music tagger's tags, but its card does not name them."
                )
            tags = np.full((1, n_tags), 0.1, dtype=np.float32)
            what += f" and {n_tags} tag probabilities"
        self.score_logmel(
            [np.full((FEATURES.n_mels, frames), -40.0, dtype=np.float32)], [[120.0, window_s]], probe=what, tags=tags
        )
        if self._head is not None:
            self.score_stats(np.zeros((1, N_STATS), dtype=np.float32), probe=f"{N_STATS} statistics")
        if self._window is not None:
            self._run(
                self._window, {"stats": np.zeros((1, N_STATS), dtype=np.float32)}, "window statistics", HEAD_WINDOW
            )

    def _run(
        self, session: object, feeds: dict[str, npt.NDArray[np.float32]], probe: str | None, head: str
    ) -> list[Score]:
        """The model's scores for a batch; a failing run or an output that is no probability is a ModelError."""
        n = len(next(iter(feeds.values())))
        name = self.info.name
        wanted = [*_OUTPUTS, MEMBERS_OUTPUT] if _has_members(session) else list(_OUTPUTS)
        try:
            outputs = session.run(wanted, feeds)  # type: ignore[attr-defined]
        except Exception as exc:  # onnxruntime's own exception types: shapes, types, kernels
            what = f" ({probe})" if probe else ""
            raise ModelError(
                f"Model '{name}' cannot take the inputs HitDesk gives it{what}: its input shapes differ."
            ) from exc
        p, lo, hi = (np.asarray(a, dtype=np.float64).reshape(-1) for a in outputs[:3])
        if not p.size == lo.size == hi.size == n:
            raise ModelError(f"Model '{name}' gives {p.size} scores for {n} inputs, so it cannot be used.")
        members = _member_rows(outputs[3], n, name) if len(outputs) > 3 else None
        for values in (p, lo, hi, *([] if members is None else [members.reshape(-1)])):
            bad = values[~(np.isfinite(values) & (values >= 0.0) & (values <= 1.0))]
            if bad.size:
                raise ModelError(
                    f"Model '{name}' gives {float(bad[0]):g} where a probability between 0 and 1 belongs, "
                    "so its scores cannot be used."
                )
        # Keep the documented ordering even where float rounding crosses it.
        lo = np.minimum(lo, p)
        hi = np.maximum(hi, p)
        rows: list[tuple[float, ...] | None] = (
            [None] * n if members is None else [tuple(float(m) for m in row) for row in members]
        )
        return [Score(float(a), float(b), float(c), head, m) for a, b, c, m in zip(p, lo, hi, rows, strict=True)]


def _has_members(session: object) -> bool:
    return any(o.name == MEMBERS_OUTPUT for o in session.get_outputs())  # type: ignore[attr-defined]


def _member_rows(values: object, n: int, name: str) -> npt.NDArray[np.float64]:
    """The ``members`` output as [n, members]; any other shape is refused with one sentence."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[0] != n or arr.shape[1] < 1:
        raise ModelError(
            f"Model '{name}' gives member scores of shape {list(arr.shape)} for {n} inputs "
            f"(expected [{n}, members]), so it cannot be used."
        )
    return arr
