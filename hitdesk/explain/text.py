"""One plain sentence per contribution, always said as the model's view of the track."""

from __future__ import annotations

from hitdesk.explain.groups import BANDS
from hitdesk.insights import HitCurve
from hitdesk.present import mmss


def points(value: float) -> str:
    """A probability change in points (0.043 -> "4 points")."""
    pts = abs(value) * 100.0
    if pts >= 0.95:
        return "1 point" if round(pts) == 1 else f"{pts:.0f} points"
    return f"{pts:.1f} points" if pts >= 0.05 else "less than 0.1 points"


def _effect(value: float) -> str:
    if abs(value) * 100.0 < 0.05:
        return "hardly moves the score"
    return f"pushes the score up {points(value)}" if value > 0 else f"pulls the score down {points(value)}"


def _signed_db(v: float) -> str:
    return f"{v:+.1f} dB"


def _subject(name: str, value: float) -> str:
    if name == "tempo":
        return f"the tempo ({value:.0f} BPM)"
    if name == "length":
        return f"the length ({mmss(value)})"
    if name == "density":
        return f"the density (average level {value:.1f} dB under the loudest)"
    if name == "movement":
        return f"the movement (level swings of {value:.1f} dB)"
    band = next(b for b in BANDS if b.name == name)
    return f"the {band.name} ({band.label}, {_signed_db(value)} against the track's average)"


def _hits(name: str, lo: float, hi: float) -> str:
    if name == "tempo":
        return f"half the chart's hits run at {lo:.0f}-{hi:.0f} BPM"
    if name == "length":
        return f"half the chart's hits last {mmss(lo)}-{mmss(hi)}"
    if name == "density":
        return f"half the chart's hits average {lo:.1f}-{hi:.1f} dB under their loudest"
    if name == "movement":
        return f"half the chart's hits swing {lo:.1f}-{hi:.1f} dB"
    return f"half the chart's hits sit at {_signed_db(lo)} to {_signed_db(hi)} there"


def sentence(name: str, contribution: float, value: float, hits_range: tuple[float, float]) -> str:
    """'In the model's view, the length (5:41) pulls the score down 4 points; half the chart's hits last 3:30-4:30.'"""
    return f"In the model's view, {_subject(name, value)} {_effect(contribution)}; {_hits(name, *hits_range)}."


def strongest_part(curve: HitCurve) -> str:
    """'strongest part: 1:42-2:12' (the window the model scores highest)."""
    best = curve.strongest()
    return f"strongest part: {mmss(best.start_s)}-{mmss(best.end_s)} ({best.p_hit:.0%})"
