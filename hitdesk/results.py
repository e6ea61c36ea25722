"""Result dataclasses shared by the command line, the app and reports; plain and JSON-serialisable.

``hitdesk.result_schema.validate_result_dict`` checks a result's JSON against the keys declared here.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hitdesk.insights import Explanation, HitCurve, TonalBalance

if TYPE_CHECKING:  # imported when first needed: every `hitdesk` command imports this module, few need numpy
    from hitdesk.dsp.loudness import Loudness
    from hitdesk.dsp.meters import TrackLoudness

# Bumped whenever a field is added, dropped or changes meaning. The result cache folds it into its
# keys, so an entry written before the change is recomputed instead of read with a field missing.
RESULT_SCHEMA_VERSION = 4  # 2: "loudness"; 3: its range, PLR and maxima, "stereo", "clipping", "curve",
# "explanation" (also per segment), "tonal_balance"; 4: "problem_spots", "style", and "members" in
# scores of models that give them

# The three windows, in the order analysis reports them (as hitdesk.dsp.windows names them; not
# imported from there so that this module stays free of numpy).
SEGMENT_NAMES: tuple[str, str, str] = ("beginning", "middle", "end")
MODES = ("full", "fast")
RESULT_KEYS = frozenset(
    {
        "file",
        "duration_s",
        "tags",
        "segments",
        "overall",
        "model",
        "mode",
        "familiarity",
        "loudness",
        "stereo",
        "clipping",
        "problem_spots",
        "curve",
        "explanation",
        "tonal_balance",
        "style",
        "notes",
        "error",
    }
)
# What ``hitdesk analyze`` adds to a result from the user's platform presets and QC profile (see
# hitdesk.platforms and hitdesk.qc): checked when present, never stored in the result cache.
OUTPUT_KEYS = frozenset({"platforms", "qc"})
LOUDNESS_ORDER = ("lufs", "true_peak_dbtp", "lra_lu", "plr_db", "momentary_max_lufs", "short_term_max_lufs")
LOUDNESS_KEYS = frozenset(LOUDNESS_ORDER)
STEREO_ORDER = ("correlation", "width", "mono_loss_lu")
STEREO_KEYS = frozenset(STEREO_ORDER)
CLIPPING_KEYS = frozenset({"spots", "times_s"})
PROBLEM_SPOTS_KEYS = frozenset({"true_peak_floor_dbtp", "clipped", "true_peak", "left_off"})
PLATFORM_KEYS = frozenset({"name", "target_lufs", "gain_db", "true_peak_after_dbtp"})
QC_KEYS = frozenset({"rule", "status", "detail"})
QC_STATUSES = ("pass", "warn", "fail")
SCORE_KEYS = frozenset({"p_hit", "p_hit_low", "p_hit_high"})
MEMBER_KEYS = frozenset({"members"})  # present in a score only where the model gives member scores
SEGMENT_KEYS = SCORE_KEYS | {"name", "start_s", "end_s", "explanation"}
FAMILIARITY_KEYS = frozenset({"mahalanobis", "typicality", "unlike_training_data"})
STYLE_KEYS = frozenset({"tag", "p"})


@dataclass(frozen=True)
class StyleTag:
    """One of the music tagger's tags and its probability (see hitdesk.style)."""

    tag: str
    p: float

    def to_dict(self) -> dict[str, Any]:
        return {"tag": self.tag, "p": round(self.p, 4)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StyleTag:
        return cls(str(d["tag"]), float(d["p"]))


@dataclass(frozen=True)
class Score:
    """A calibrated P(hit) with the range the model's ensemble members span.

    ``members`` holds each ensemble member's own calibrated P(hit), in the model's member order, when
    the model gives them (a graph with a ``members`` output); paired comparisons of two takes
    (``hitdesk.ranking``) need them, because the same members score both takes. None otherwise, and
    then the JSON has no "members" key (results of such models read as they always did).
    """

    p_hit: float
    p_hit_low: float
    p_hit_high: float
    members: tuple[float, ...] | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"p_hit": self.p_hit, "p_hit_low": self.p_hit_low, "p_hit_high": self.p_hit_high}
        if self.members is not None:
            out["members"] = list(self.members)
        return out

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Score:
        members = d.get("members")
        return cls(
            float(d["p_hit"]),
            float(d["p_hit_low"]),
            float(d["p_hit_high"]),
            None if members is None else tuple(float(m) for m in members),
        )


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
    # The tagger's most probable tags, most probable first (``--style``; None when not asked for).
    style: tuple[StyleTag, ...] | None = None

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
                "stereo": _meter_dict(self, "stereo"),
                "clipping": _meter_dict(self, "clipping"),
                "problem_spots": _meter_dict(self, "problem_spots"),
                "curve": None if self.curve is None else self.curve.to_dict(),
                "explanation": None if self.explanation is None else self.explanation.to_dict(),
                "tonal_balance": None if self.tonal_balance is None else self.tonal_balance.to_dict(),
                "style": None if self.style is None else [t.to_dict() for t in self.style],
                "notes": list(self.notes),
                "error": self.error,
            }
        )

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrackResult:
        """The result ``to_dict`` wrote, not checked (``hitdesk.result_schema.validate_result_dict``
        checks it first where it comes from a file); missing optional fields take their defaults."""
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
            loudness=_loudness_from(d.get("loudness"), d.get("stereo"), d.get("clipping"), d.get("problem_spots")),
            curve=None if d.get("curve") is None else HitCurve.from_dict(d["curve"]),
            explanation=None if d.get("explanation") is None else Explanation.from_dict(d["explanation"]),
            tonal_balance=None if d.get("tonal_balance") is None else TonalBalance.from_dict(d["tonal_balance"]),
            style=None if d.get("style") is None else tuple(StyleTag.from_dict(t) for t in d["style"]),
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


def _loudness_dict(result: TrackResult) -> dict[str, float | None] | None:
    """``LOUDNESS_ORDER``'s keys for every analysed file (all None when not measured, as in fast mode;
    the range and maxima None for a loudness measured without them), so the field always has one
    shape; None, like ``overall``, for a file that failed."""
    if not result.ok:
        return None
    measured = {} if result.loudness is None else result.loudness.to_dict()
    return {key: measured.get(key) for key in LOUDNESS_ORDER}


def _meter_dict(result: TrackResult, name: str) -> dict[str, Any] | None:
    """The loudness pass's "stereo", "clipping" or "problem_spots" object; None where not measured
    (fast mode, a failed file, a 1-channel file's stereo)."""
    meter = getattr(result.loudness, name, None) if result.ok else None
    return None if meter is None else dict(meter.to_dict())


def _loudness_from(
    d: dict[str, Any] | None,
    stereo: dict[str, Any] | None = None,
    clipping: dict[str, Any] | None = None,
    spots: dict[str, Any] | None = None,
) -> Loudness | TrackLoudness | None:
    """Results written before loudness was measured have no field; all values null means not measured."""
    if not d or all(v is None for v in d.values()):
        return None
    if stereo is None and clipping is None and all(d.get(k) is None for k in LOUDNESS_ORDER[2:]):
        from hitdesk.dsp.loudness import Loudness

        return Loudness.from_dict(d)  # measured without the pass's meters (an earlier version, the app's own)
    from hitdesk.dsp.meters import TrackLoudness

    return TrackLoudness.from_dicts(d, stereo, clipping, spots)
