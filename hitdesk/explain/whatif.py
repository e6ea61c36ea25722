"""What the model would say if groups of a take's inputs were different: edits of its 42 statistics.

Each control edits the statistics the way its group is defined (hitdesk.explain.groups): tempo in
percent; length in seconds; density in dB of the average level (MFCC-0 mean); a band in dB of the
envelope's shape in that band (MFCC means 1-19, the average left to density); movement in percent of
the 20 MFCC standard deviations. All controls can be moved at once. An edit whose result lies
outside the 1st-99th percentile of the training songs (for that group's descriptor) is refused with a
sentence: the model has hardly seen such songs, so what it would say there means little. This is the
model's arithmetic on edited statistics, never advice: the audio edits that would move one group move
others too.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.stats import dct_matrix
from hitdesk.explain.background import Background
from hitdesk.explain.groups import BANDS, DURATION, GROUP_NAMES, N_MFCC, TEMPO, band_masks, describe, describe_rows
from hitdesk.explain.shapley import ScoreRows
from hitdesk.present import mmss

_ROOT_BANDS = float(np.sqrt(dct_matrix().shape[1]))


@dataclass(frozen=True)
class Control:
    name: str  # a group of hitdesk.explain.groups
    unit: str  # "%", "s" or "dB"
    low: float  # the control's range around the take (for "s": absolute seconds, set from the training range)
    high: float


CONTROLS: tuple[Control, ...] = (
    Control("tempo", "%", -15.0, 15.0),
    Control("length", "s", 0.0, 0.0),
    Control("density", "dB", -6.0, 6.0),
    *(Control(b.name, "dB", -6.0, 6.0) for b in BANDS),
    Control("movement", "%", -30.0, 30.0),
)


class WhatIfError(ValueError):
    """An edit outside what the model saw in training; the message is one sentence."""


def control(name: str) -> Control:
    for c in CONTROLS:
        if c.name == name:
            return c
    raise ValueError(f"no control named {name!r}")


def edited(stats: npt.ArrayLike, name: str, amount: float) -> npt.NDArray[np.float64]:
    """The statistics with one control moved by ``amount`` (for length: set to ``amount`` seconds)."""
    s = np.asarray(stats, dtype=np.float64).reshape(-1).copy()
    if name == "tempo":
        s[TEMPO] *= 1.0 + amount / 100.0
    elif name == "length":
        s[DURATION] = amount
    elif name == "density":
        s[0] += amount * _ROOT_BANDS  # +dB: the average level that much nearer the peaks (denser)
    elif name == "movement":
        s[N_MFCC : 2 * N_MFCC] *= 1.0 + amount / 100.0
    else:
        i = next(i for i, b in enumerate(BANDS) if b.name == name)
        rows = dct_matrix().astype(np.float64)[1:]
        s[1:N_MFCC] += rows @ (amount * band_masks()[i])
    return s


def _value_text(name: str, value: float) -> str:
    if name == "tempo":
        return f"{value:.0f} BPM"
    if name == "length":
        return mmss(value)
    if name == "movement":
        return f"level swings of {value:.1f} dB"
    if name == "density":
        return f"an average level {value:.1f} dB under the loudest"
    return f"{value:+.1f} dB against the average"


def neutral(stats: npt.ArrayLike, name: str) -> float:
    """The control's setting that leaves the take as it is (0, or for length the take's own seconds)."""
    return float(np.asarray(stats, dtype=np.float64).reshape(-1)[DURATION]) if name == "length" else 0.0


def settings_edited(stats: npt.ArrayLike, amounts: Mapping[str, float]) -> npt.NDArray[np.float64]:
    """The statistics with every control in ``amounts`` moved (controls edit disjoint statistics, or add
    to the same ones, so the order does not matter)."""
    s = np.asarray(stats, dtype=np.float64).reshape(-1)
    for name, amount in amounts.items():
        if amount != neutral(stats, name):
            s = edited(s, name, amount)
    return s


def refusal(stats: npt.ArrayLike, amounts: Mapping[str, float], background: Background) -> str | None:
    """Why the model cannot answer for these settings (one sentence), or None when it can.

    A control beyond its own range is refused; so is a group that ends outside the training songs'
    1st-99th percentile when its control was moved or the edits took it there (a band edit spills a
    little into the bands beside it). A group the take itself has outside the range and nobody moved
    is left alone: that is the take as it is.
    """
    before, after = describe(stats), describe(settings_edited(stats, amounts))
    for name in GROUP_NAMES:
        lo, hi = background.training_range[name]
        if not lo <= after[name] <= hi and (_moved(stats, amounts, name) or lo <= before[name] <= hi):
            return (
                f"The model cannot say what {_value_text(name, after[name])} would do for the {name}: 98% of its "
                f"training songs lie between {_value_text(name, lo)} and {_value_text(name, hi)}."
            )
    for name, amount in amounts.items():
        lo, hi = control_range(stats, name, background)
        if not lo - 1e-9 <= amount <= hi + 1e-9 and amount != neutral(stats, name):
            return f"The {name} control goes from {_amount_text(name, lo)} to {_amount_text(name, hi)}."
    return None


def _moved(stats: npt.ArrayLike, amounts: Mapping[str, float], name: str) -> bool:
    return name in amounts and amounts[name] != neutral(stats, name)


def _answerable(
    stats: npt.ArrayLike, settings: list[dict[str, float]], rows: npt.ArrayLike, bg: Background
) -> npt.NDArray[np.bool_]:
    """``refusal(stats, s, bg) is None`` for each of ``settings`` (edited into ``rows``), all at once."""
    before = describe(stats)
    after = describe_rows(rows)
    ok = np.ones(len(settings), dtype=bool)
    for name in GROUP_NAMES:
        lo, hi = bg.training_range[name]
        outside = (after[name] < lo) | (after[name] > hi)
        moved = np.array([_moved(stats, s, name) for s in settings])
        ok &= ~(outside & (moved | (lo <= before[name] <= hi)))
    for name in {n for s in settings for n in s}:
        lo, hi = control_range(stats, name, bg)
        amount = np.array([s.get(name, neutral(stats, name)) for s in settings])
        moved = np.array([_moved(stats, s, name) for s in settings])
        ok &= ~(((amount < lo - 1e-9) | (amount > hi + 1e-9)) & moved)
    return ok


def what_if(score: ScoreRows, stats: npt.ArrayLike, name: str, amount: float, background: Background) -> float:
    """What the model would say with one control moved; WhatIfError outside the training range."""
    return what_if_all(score, stats, {name: amount}, background)


def what_if_all(score: ScoreRows, stats: npt.ArrayLike, amounts: Mapping[str, float], background: Background) -> float:
    """What the model would say with every control in ``amounts`` moved at once; WhatIfError (one
    sentence, from ``refusal``) when the model cannot answer for them."""
    why_not = refusal(stats, amounts, background)
    if why_not is not None:
        raise WhatIfError(why_not)
    return float(np.asarray(score(settings_edited(stats, amounts)[None, :]), dtype=np.float64)[0])


@dataclass(frozen=True)
class Response:
    """The model's score along one control (the others held), and where it may answer there."""

    amounts: npt.NDArray[np.float64]
    p_hit: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.bool_]


def control_range(stats: npt.ArrayLike, name: str, background: Background) -> tuple[float, float]:
    c = control(name)
    if name == "length":
        return background.training_range["length"]
    return c.low, c.high


def response(
    score: ScoreRows,
    stats: npt.ArrayLike,
    name: str,
    background: Background,
    n: int = 41,
    amounts: Mapping[str, float] | None = None,
) -> Response:
    """The score at ``n`` amounts across one control's range, the other controls at ``amounts``."""
    return responses(score, stats, amounts or {}, background, n, (name,))[name]


def responses(
    score: ScoreRows,
    stats: npt.ArrayLike,
    amounts: Mapping[str, float],
    background: Background,
    n: int = 41,
    names: tuple[str, ...] | None = None,
) -> dict[str, Response]:
    """Each control's response curve around the current settings (the others held at ``amounts``),
    all controls' rows scored in one batch of the head. ``allowed`` marks where ``refusal`` lets the
    model answer: the part of the control inside the training songs' 1st-99th percentile."""
    names = names or tuple(c.name for c in CONTROLS)
    sweeps: dict[str, npt.NDArray[np.float64]] = {}
    rows: list[npt.NDArray[np.float64]] = []
    allowed: dict[str, npt.NDArray[np.bool_]] = {}
    for name in names:
        lo, hi = control_range(stats, name, background)
        sweeps[name] = np.linspace(lo, hi, n)
        settings = [{**amounts, name: float(a)} for a in sweeps[name]]
        edited_rows = np.array([settings_edited(stats, s) for s in settings])
        rows.append(edited_rows)
        allowed[name] = _answerable(stats, settings, edited_rows, background)
    p = np.asarray(score(np.concatenate(rows)), dtype=np.float64).reshape(len(names), n)
    return {name: Response(sweeps[name], p[i], allowed[name]) for i, name in enumerate(names)}


def _amount_text(name: str, amount: float) -> str:
    unit = control(name).unit
    if unit == "s":
        return mmss(amount)
    return f"{amount:+.0f}%" if unit == "%" else f"{amount:+.0f} dB"


def setting_text(stats: npt.ArrayLike, amounts: Mapping[str, float]) -> str:
    """'tempo +5%, high band +2.0 dB, length 3:40' for the moved controls ('the take as it is' for none)."""
    parts = []
    for name, amount in amounts.items():
        if amount == neutral(stats, name):
            continue
        unit = control(name).unit
        if unit == "s":
            parts.append(f"length {mmss(amount)}")
        else:
            parts.append(f"{name} {amount:+.0f}%" if unit == "%" else f"{name} {amount:+.1f} dB")
    return ", ".join(parts) if parts else "the take as it is"
