"""Result dataclasses shared by the command line, the app and reports; plain and JSON-serialisable."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported when first needed: every `hitdesk` command imports this module, few need numpy
    from hitdesk.dsp.loudness import Loudness

# The analysed windows of a track, in order; every output names its segments so.
SEGMENT_NAMES: tuple[str, str, str] = ("beginning", "middle", "end")


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

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "start_s": round(self.start_s, 3),
            "end_s": round(self.end_s, 3),
            **self.score.to_dict(),
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SegmentResult:
        return cls(str(d["name"]), float(d["start_s"]), float(d["end_s"]), Score.from_dict(d))


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

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "duration_s": None if self.duration_s is None else round(self.duration_s, 3),
            "tags": dict(self.tags),
            "segments": [s.to_dict() for s in self.segments],
            "overall": None if self.overall is None else self.overall.to_dict(),
            "model": dict(self.model),
            "mode": self.mode,
            "familiarity": None if self.familiarity is None else self.familiarity.to_dict(),
            "loudness": _loudness_dict(self),
            "notes": list(self.notes),
            "error": self.error,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TrackResult:
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
        )


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
