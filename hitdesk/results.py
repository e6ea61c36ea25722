"""Result dataclasses shared by the command line, the app and reports; plain and JSON-serialisable.

``validate_result_dict`` is the one description of what a result's JSON may hold: the result cache
reads entries that anything running as the user can edit, and a value outside it (P(hit) 7.5, a
negative duration, NaN, an ok result without an overall score) must be refused there rather than
printed or crash the output.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitdesk.insights import (
    Explanation,
    HitCurve,
    InsightSchemaError,
    TonalBalance,
    check_curve,
    check_explanation,
    check_tonal_balance,
)

if TYPE_CHECKING:  # imported when first needed: every `hitdesk` command imports this module, few need numpy
    from hitdesk.dsp.loudness import Loudness

# Bumped whenever a field is added, dropped or changes meaning. The result cache folds it into its
# keys, so an entry written before the change is recomputed instead of read with a field missing.
RESULT_SCHEMA_VERSION = 3  # 2: "loudness"; 3: "curve", "explanation" (also per segment), "tonal_balance"

# The three windows, in the order analysis reports them (as hitdesk.dsp.windows names them; not
# imported from there so that this module stays free of numpy).
SEGMENT_NAMES: tuple[str, str, str] = ("beginning", "middle", "end")
MODES = ("full", "fast")
RESULT_KEYS = frozenset(
    {"file", "duration_s", "tags", "segments", "overall", "model", "mode", "familiarity", "loudness", "notes", "error"}
    | {"curve", "explanation", "tonal_balance"}
)
LOUDNESS_KEYS = frozenset({"lufs", "true_peak_dbtp"})
SCORE_KEYS = frozenset({"p_hit", "p_hit_low", "p_hit_high"})
SEGMENT_KEYS = SCORE_KEYS | {"name", "start_s", "end_s", "explanation"}
FAMILIARITY_KEYS = frozenset({"mahalanobis", "typicality", "unlike_training_data"})
# Tags a listener reads as text (the human output joins artist and title).
_TEXT_TAGS = ("title", "artist", "album")
# Times are written rounded to the millisecond; a window ending at the track's end stays within this.
_TIME_SLACK_S = 1e-3


@dataclass(frozen=True)
class Score:
    """A calibrated P(hit) with the range the model's ensemble members span."""

    p_hit: float
    p_hit_low: float
    p_hit_high: float

    def to_dict(self) -> dict[str, float]:
        return {"p_hit": self.p_hit, "p_hit_low": self.p_hit_low, "p_hit_high": self.p_hit_high}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        return cls(float(d["p_hit"]), float(d["p_hit_low"]), float(d["p_hit_high"]))


@dataclass(frozen=True)
class SegmentResult:
    name: str
    start_s: float
    end_s: float
    score: Score
    explanation: Explanation | None = None  # what drives this window's score (see hitdesk.explain)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            **self.score.to_dict(),
            "explanation": None if self.explanation is None else self.explanation.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SegmentResult:
        expl = d.get("explanation")
        return cls(
            str(d["name"]),
            float(d["start_s"]),
            float(d["end_s"]),
            Score.from_dict(d),
            None if expl is None else Explanation.from_dict(expl),
        )


@dataclass(frozen=True)
class Familiarity:
    """How typical a track's statistics are of the songs the model was trained on.

    ``typicality`` is the share of training songs that lie at least as far from the training
    centre (Mahalanobis distance) as this track: near 0 means unlike anything seen in training.
    """

    mahalanobis: float
    typicality: float
    unlike_training_data: bool

    def to_dict(self) -> dict[str, Any]:
        return {
            "mahalanobis": round(self.mahalanobis, 3),
            "typicality": round(self.typicality, 4),
            "unlike_training_data": self.unlike_training_data,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Familiarity:
        return cls(float(d["mahalanobis"]), float(d["typicality"]), bool(d["unlike_training_data"]))


@dataclass(frozen=True)
class TrackResult:
    file: str
    duration_s: float | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    segments: tuple[SegmentResult, ...] = ()
    overall: Score | None = None
    model: dict[str, str] = field(default_factory=dict)
    mode: str = "full"
    familiarity: Familiarity | None = None
    notes: tuple[str, ...] = ()
    error: str | None = None
    loudness: Loudness | None = None  # full mode only; None in fast mode and for errors
    # Why this score (hitdesk.explain): None where not computed (fast mode has no curve; a model
    # without a head or background has no explanation).
    curve: HitCurve | None = None
    explanation: Explanation | None = None
    tonal_balance: TonalBalance | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return _valid_text(
            {
                "file": self.file,
                "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
                "tags": dict(self.tags),
                "segments": [s.to_dict() for s in self.segments],
                "overall": None if self.overall is None else self.overall.to_dict(),
                "model": dict(self.model),
                "mode": self.mode,
                "familiarity": None if self.familiarity is None else self.familiarity.to_dict(),
                "loudness": _loudness_dict(self),
                "curve": None if self.curve is None else self.curve.to_dict(),
                "explanation": None if self.explanation is None else self.explanation.to_dict(),
                "tonal_balance": None if self.tonal_balance is None else self.tonal_balance.to_dict(),
                "notes": list(self.notes),
                "error": self.error,
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any], strict: bool = False) -> TrackResult:
        """The result ``to_dict`` wrote; ``strict`` first checks it (see ``validate_result_dict``).

        Without ``strict`` missing optional fields take their defaults (sessions saved by the app).
        """
        if strict:
            validate_result_dict(d)
        return cls(
            file=str(d["file"]),
            duration_s=None if d.get("duration_s") is None else float(d["duration_s"]),
            tags=dict(d.get("tags") or {}),
            segments=tuple(SegmentResult.from_dict(s) for s in d.get("segments") or ()),
            overall=None if d.get("overall") is None else Score.from_dict(d["overall"]),
            model={str(k): str(v) for k, v in (d.get("model") or {}).items()},
            mode=str(d.get("mode", "full")),
            familiarity=None if d.get("familiarity") is None else Familiarity.from_dict(d["familiarity"]),
            notes=tuple(str(n) for n in d.get("notes") or ()),
            error=d.get("error"),
            loudness=_loudness_from(d.get("loudness")),
            curve=None if d.get("curve") is None else HitCurve.from_dict(d["curve"]),
            explanation=None if d.get("explanation") is None else Explanation.from_dict(d["explanation"]),
            tonal_balance=None if d.get("tonal_balance") is None else TonalBalance.from_dict(d["tonal_balance"]),
        )


def _utf8(value: str) -> str:
    """A string that encodes as UTF-8: bytes of a file name that are not UTF-8 become U+FFFD."""
    return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _valid_text(d: dict[str, Any]) -> dict[str, Any]:
    """Keeps every string of a result valid UTF-8, and the exact path in ``file_raw`` when it had to change.

    A file name is bytes on POSIX; Python carries the ones that are not UTF-8 as lone surrogates,
    which no UTF-8 output (JSON, CSV, a terminal) can hold. ``file_raw`` is the name's bytes in hex,
    present only when ``file`` differs from them.
    """

    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return _utf8(value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out: dict[str, Any] = clean(d)
    if out["file"] != d["file"]:
        out["file_raw"] = os.fsencode(d["file"]).hex()
    return out


class ResultSchemaError(ValueError):
    """A result dict that no analysis can have produced; the message names the field."""


def validate_result_dict(d: object) -> dict[str, Any]:
    """Returns ``d`` when it is a result as ``TrackResult.to_dict`` writes it; raises ``ResultSchemaError``.

    Checks every field's type (booleans are not numbers), that numbers are finite, probabilities lie
    in [0, 1] with low <= p_hit <= high, durations and familiarity are not negative, and that an ok
    result has its duration, overall score and the three windows, in order, within the track. An
    error result carries no scores. Unknown or missing fields are refused too: they mean the dict was
    written for another version of the result.
    """
    if isinstance(d, dict) and "file_raw" in d:  # the exact bytes of a name that is not UTF-8
        raw = d["file_raw"]
        if not isinstance(raw, str) or len(raw) % 2 or any(c not in "0123456789abcdef" for c in raw):
            raise ResultSchemaError("file_raw must be hexadecimal")
        d = {k: v for k, v in d.items() if k != "file_raw"}
    r = _fields(d, RESULT_KEYS, "result")
    _text(r["file"], "file")
    if r["error"] is not None:
        _text(r["error"], "error")
    if r["mode"] not in MODES:
        raise ResultSchemaError(f"mode must be one of {', '.join(MODES)}")
    model = r["model"]
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in model.items()):
        raise ResultSchemaError("model must map names to strings")
    _check_tags(r["tags"])
    notes = r["notes"]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ResultSchemaError("notes must be a list of strings")
    duration = r["duration_s"]
    if duration is not None:
        _number(duration, "duration_s", low=0.0)
    if not isinstance(r["segments"], list):
        raise ResultSchemaError("segments must be a list")
    segments = [_fields(s, SEGMENT_KEYS, "segment") for s in r["segments"]]
    for seg in segments:
        _check_score(seg, f"segment {seg['name']!r}")
    if r["overall"] is not None:
        _check_score(_fields(r["overall"], SCORE_KEYS, "overall"), "overall")
    if r["familiarity"] is not None:
        fam = _fields(r["familiarity"], FAMILIARITY_KEYS, "familiarity")
        _number(fam["mahalanobis"], "familiarity.mahalanobis", low=0.0)
        _number(fam["typicality"], "familiarity.typicality", low=0.0, high=1.0)
        if not isinstance(fam["unlike_training_data"], bool):
            raise ResultSchemaError("familiarity.unlike_training_data must be true or false")
    if r["loudness"] is not None:
        loud = _fields(r["loudness"], LOUDNESS_KEYS, "loudness")
        for key in sorted(LOUDNESS_KEYS):
            if loud[key] is not None:
                _number(loud[key], f"loudness.{key}", low=-200.0, high=200.0)
    extras = ("curve", "explanation", "tonal_balance")
    if r["error"] is not None:
        if segments or any(r[k] is not None for k in ("overall", "familiarity", "loudness", *extras)):
            raise ResultSchemaError("a failed analysis has no scores")
        return r
    if duration is None or duration <= 0:
        raise ResultSchemaError("an analysed track has a positive duration_s")
    if r["overall"] is None:
        raise ResultSchemaError("an analysed track has an overall score")
    if r["loudness"] is None:
        raise ResultSchemaError("an analysed track has a loudness field (its values may be null)")
    _check_windows(segments, duration)
    _check_insights(r, segments, duration)
    return r


def _check_insights(r: dict[str, Any], segments: list[dict[str, Any]], duration: float) -> None:
    try:
        if r["curve"] is not None:
            check_curve(r["curve"], duration)
        if r["explanation"] is not None:
            check_explanation(r["explanation"], "explanation")
        for seg in segments:
            if seg["explanation"] is not None:
                check_explanation(seg["explanation"], f"segment {seg['name']!r} explanation")
        if r["tonal_balance"] is not None:
            check_tonal_balance(r["tonal_balance"])
    except InsightSchemaError as exc:
        raise ResultSchemaError(str(exc)) from exc


def _fields(d: object, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ResultSchemaError(f"{what} must be an object")
    if set(d) != keys:
        missing, extra = sorted(keys - set(d)), sorted(str(k) for k in set(d) - keys)
        raise ResultSchemaError(f"{what} fields differ (missing {missing}, unexpected {extra})")
    return d


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ResultSchemaError(f"{name} must be a non-empty string")
    return value


def _number(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultSchemaError(f"{name} must be a number")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond any float
        x = math.inf
    if not math.isfinite(x):
        raise ResultSchemaError(f"{name} must be finite")
    if (low is not None and x < low) or (high is not None and x > high):
        raise ResultSchemaError(f"{name} = {x!r} is outside [{low}, {high}]")
    return x


def _check_score(d: dict[str, Any], what: str) -> None:
    p, lo, hi = (_number(d[k], f"{what} {k}", 0.0, 1.0) for k in ("p_hit", "p_hit_low", "p_hit_high"))
    if not lo <= p <= hi:
        raise ResultSchemaError(f"{what}: p_hit_low <= p_hit <= p_hit_high does not hold")


def _check_tags(tags: object) -> None:
    if not isinstance(tags, dict) or not all(isinstance(k, str) for k in tags):
        raise ResultSchemaError("tags must be an object")
    for key, value in tags.items():
        if key in _TEXT_TAGS:
            if value is not None and not isinstance(value, str):
                raise ResultSchemaError(f"tags.{key} must be a string or null")
        elif value is not None and not isinstance(value, str):
            _number(value, f"tags.{key}")


def _check_windows(segments: list[dict[str, Any]], duration: float) -> None:
    names = tuple(s["name"] for s in segments)
    if names != SEGMENT_NAMES:
        raise ResultSchemaError(f"an analysed track has the segments {', '.join(SEGMENT_NAMES)} in that order")
    previous_start = 0.0
    for seg in segments:
        start = _number(seg["start_s"], f"{seg['name']} start_s", low=0.0)
        end = _number(seg["end_s"], f"{seg['name']} end_s")
        if not previous_start <= start <= end <= duration + _TIME_SLACK_S:
            raise ResultSchemaError(f"segment {seg['name']!r} ({start}-{end} s) is out of order or beyond the track")
        previous_start = start


def _loudness_dict(result: TrackResult) -> dict[str, float | None] | None:
    """``{"lufs", "true_peak_dbtp"}`` for every analysed file (both None when not measured, as in fast
    mode), so the field always has one shape; None, like ``overall``, for a file that failed."""
    if not result.ok:
        return None
    if result.loudness is None:
        return {"lufs": None, "true_peak_dbtp": None}
    return result.loudness.to_dict()


def _loudness_from(d: dict[str, Any] | None) -> Loudness | None:
    """Results written before loudness was measured have no field; both values null means not measured."""
    if not d or (d.get("lufs") is None and d.get("true_peak_dbtp") is None):
        return None
    from hitdesk.dsp.loudness import Loudness

    return Loudness.from_dict(d)
