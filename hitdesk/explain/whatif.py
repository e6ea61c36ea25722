"""What the model would say if one group of a take's inputs were different: edits of its 42 statistics.

Each control edits the statistics the way its group is defined (hitdesk.explain.groups): tempo in
percent; length in seconds; density in dB of the average level (MFCC-0 mean); a band in dB of the
envelope's shape in that band (MFCC means 1-19, the average left to density); movement in percent of
the 20 MFCC standard deviations. An edit whose result lies outside the 1st-99th percentile of the
training songs (for that group's descriptor) is refused with a sentence: the model has hardly seen
such songs, so what it would say there means little. This is the model's arithmetic on edited
statistics, never advice: the audio edits that would move one group move others too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.stats import dct_matrix
from hitdesk.explain.background import Background
from hitdesk.explain.groups import BANDS, DURATION, N_MFCC, TEMPO, band_masks, describe
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


def check(stats: npt.ArrayLike, name: str, background: Background) -> None:
    """Raises WhatIfError when the group's descriptor lies outside the training songs' 1st-99th percentile."""
    lo, hi = background.training_range[name]
    value = describe(stats)[name]
    if not lo <= value <= hi:
        raise WhatIfError(
            f"The model cannot say what {_value_text(name, value)} would do for the {name}: 98% of its training "
            f"songs lie between {_value_text(name, lo)} and {_value_text(name, hi)}."
        )


def what_if(score: ScoreRows, stats: npt.ArrayLike, name: str, amount: float, background: Background) -> float:
    """What the model would say with one control moved; WhatIfError outside the training range."""
    new = edited(stats, name, amount)
    check(new, name, background)
    return float(np.asarray(score(new[None, :]), dtype=np.float64)[0])


@dataclass(frozen=True)
class Response:
    """The model's score along one control, and where the edits stay inside the training range."""

    amounts: npt.NDArray[np.float64]
    p_hit: npt.NDArray[np.float64]
    allowed: npt.NDArray[np.bool_]


def control_range(stats: npt.ArrayLike, name: str, background: Background) -> tuple[float, float]:
    c = control(name)
    if name == "length":
        return background.training_range["length"]
    return c.low, c.high


def response(score: ScoreRows, stats: npt.ArrayLike, name: str, background: Background, n: int = 41) -> Response:
    """The score at ``n`` amounts across the control's range, scored in one batch."""
    lo, hi = control_range(stats, name, background)
    amounts = np.linspace(lo, hi, n)
    rows = np.array([edited(stats, name, a) for a in amounts])
    p = np.asarray(score(rows), dtype=np.float64)
    t_lo, t_hi = background.training_range[name]
    values = np.array([describe(r)[name] for r in rows])
    return Response(amounts, p, (values >= t_lo) & (values <= t_hi))
