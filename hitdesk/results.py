"""Result dataclasses shared by the command line, the app and reports; plain and JSON-serialisable."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

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
                "notes": list(self.notes),
                "error": self.error,
            }
        )

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
        )


def _text(value: str) -> str:
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
            return _text(value)
        if isinstance(value, dict):
            return {clean(k): clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    out: dict[str, Any] = clean(d)
    if out["file"] != d["file"]:
        out["file_raw"] = os.fsencode(d["file"]).hex()
    return out
