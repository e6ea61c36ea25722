"""Result parts that say why a track scores as it does: the hit curve, what drives a score, tonal balance.

Plain dataclasses beside ``hitdesk.results`` (which carries them in a ``TrackResult``), computed by
``hitdesk.explain`` and read back from the result cache, so each has ``to_dict``, ``from_dict`` and a
check of the JSON it writes. Every value here is the model's view of the track, never a promise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

CURVE_KEYS = frozenset({"window_s", "hop_s", "points"})
POINT_KEYS = frozenset({"start_s", "end_s", "p_hit"})
EXPLANATION_KEYS = frozenset({"baseline", "contributions"})
CONTRIBUTION_KEYS = frozenset({"name", "value", "text"})
TONAL_KEYS = frozenset({"bands_hz", "take_db", "hits_db", "hits_p10_db", "hits_p90_db", "others_db"})
TONAL_TARGET_KEYS = frozenset({"name", "median_db", "p10_db", "p90_db"})  # tonal_balance.target (--tonal-target)


class InsightSchemaError(ValueError):
    """A curve, explanation or tonal balance that no analysis can have written; the message names the field."""


@dataclass(frozen=True)
class CurvePoint:
    start_s: float
    end_s: float
    p_hit: float


@dataclass(frozen=True)
class HitCurve:
    """P(hit) of windows of ``window_s`` seconds every ``hop_s`` seconds across the audible part."""

    window_s: float
    hop_s: float
    points: tuple[CurvePoint, ...]

    def strongest(self) -> CurvePoint:
        """The window the model scores highest (the first of equals)."""
        return max(self.points, key=lambda p: p.p_hit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "window_s": self.window_s,
            "hop_s": self.hop_s,
            "points": [
                {"start_s": round(p.start_s, 3), "end_s": round(p.end_s, 3), "p_hit": p.p_hit} for p in self.points
            ],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> HitCurve:
        points = tuple(CurvePoint(float(p["start_s"]), float(p["end_s"]), float(p["p_hit"])) for p in d["points"])
        return cls(float(d["window_s"]), float(d["hop_s"]), points)


@dataclass(frozen=True)
class Contribution:
    """One group of the model's inputs and how much it moves the score (in probability, not points)."""

    name: str
    value: float
    text: str


@dataclass(frozen=True)
class Explanation:
    """``baseline`` plus the contributions' values is the score explained (Shapley values of groups)."""

    baseline: float
    contributions: tuple[Contribution, ...]

    @property
    def total(self) -> float:
        return self.baseline + sum(c.value for c in self.contributions)

    def to_dict(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline,
            "contributions": [{"name": c.name, "value": c.value, "text": c.text} for c in self.contributions],
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Explanation:
        parts = tuple(Contribution(str(c["name"]), float(c["value"]), str(c["text"])) for c in d["contributions"])
        return cls(float(d["baseline"]), parts)


@dataclass(frozen=True)
class TonalBalance:
    """The take's smoothed mel envelope (dB under the track's maximum) against the training songs'."""

    bands_hz: tuple[float, ...]
    take_db: tuple[float, ...]
    hits_db: tuple[float, ...]
    hits_p10_db: tuple[float, ...]
    hits_p90_db: tuple[float, ...]
    others_db: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        # Six decimals keep the round trip to the MFCC means within 1e-4 after JSON.
        return {key: [round(float(v), 6) for v in getattr(self, key)] for key in sorted(TONAL_KEYS)}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> TonalBalance:
        return cls(**{key: tuple(float(v) for v in d[key]) for key in TONAL_KEYS})


def _fields(d: object, keys: frozenset[str], what: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise InsightSchemaError(f"{what} must be an object")
    if set(d) != keys:
        raise InsightSchemaError(f"{what} fields differ (expected {sorted(keys)})")
    return d


def _finite(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise InsightSchemaError(f"{name} must be a finite number")
    x = float(value)
    if (low is not None and x < low) or (high is not None and x > high):
        raise InsightSchemaError(f"{name} = {x!r} is outside [{low}, {high}]")
    return x


def check_curve(d: object, duration_s: float) -> None:
    c = _fields(d, CURVE_KEYS, "curve")
    window = _finite(c["window_s"], "curve.window_s", low=0.0)
    _finite(c["hop_s"], "curve.hop_s", low=0.0)
    if not isinstance(c["points"], list) or not c["points"]:
        raise InsightSchemaError("curve.points must be a non-empty list")
    for p in c["points"]:
        point = _fields(p, POINT_KEYS, "curve point")
        start = _finite(point["start_s"], "curve point start_s", low=0.0)
        end = _finite(point["end_s"], "curve point end_s", high=duration_s + 1e-3)
        _finite(point["p_hit"], "curve point p_hit", 0.0, 1.0)
        if abs(end - start - window) > 1e-2:
            raise InsightSchemaError("a curve point spans another length than the curve's window")


def check_explanation(d: object, what: str) -> None:
    e = _fields(d, EXPLANATION_KEYS, what)
    _finite(e["baseline"], f"{what}.baseline", 0.0, 1.0)
    if not isinstance(e["contributions"], list) or not e["contributions"]:
        raise InsightSchemaError(f"{what}.contributions must be a non-empty list")
    for c in e["contributions"]:
        part = _fields(c, CONTRIBUTION_KEYS, f"{what} contribution")
        _finite(part["value"], f"{what} contribution value", -1.0, 1.0)
        if not isinstance(part["name"], str) or not part["name"] or not isinstance(part["text"], str):
            raise InsightSchemaError(f"{what} contributions need a name and a text")


def check_tonal_balance(d: object) -> None:
    """The take's balance, with a user's own target under ``target`` when ``analyze --tonal-target`` added one."""
    if isinstance(d, dict) and "target" in d:
        target = _fields(d["target"], TONAL_TARGET_KEYS, "tonal_balance.target")
        if not isinstance(target["name"], str) or not target["name"]:
            raise InsightSchemaError("tonal_balance.target.name must be a non-empty string")
        for key in sorted(TONAL_TARGET_KEYS - {"name"}):
            if not isinstance(target[key], list) or len(target[key]) != len(d.get("take_db") or ()):
                raise InsightSchemaError(f"tonal_balance.target.{key} must have one value per band")
            for v in target[key]:
                _finite(v, f"tonal_balance.target.{key}")
        d = {k: v for k, v in d.items() if k != "target"}
    t = _fields(d, TONAL_KEYS, "tonal_balance")
    n = None
    for key in sorted(TONAL_KEYS):
        values = t[key]
        if not isinstance(values, list) or not values:
            raise InsightSchemaError(f"tonal_balance.{key} must be a non-empty list")
        for v in values:
            _finite(v, f"tonal_balance.{key}")
        if n is not None and len(values) != n:
            raise InsightSchemaError("tonal_balance lists differ in length")
        n = len(values)
