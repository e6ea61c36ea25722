"""Argument types shared by ``hitdesk`` and ``hitdesk-train``: each value is checked once, the same way.

argparse turns the ``ArgumentTypeError`` into "argument --x: <sentence>" and exit status 2.
"""

from __future__ import annotations

import argparse
import math

from hitdesk.config import DEFAULT_WINDOW_SECONDS, MAX_WINDOW_SECONDS, check_window_seconds

MAX_SECONDS = 24 * 3600.0
# A finer curve than one window a second shows nothing new and grows without bound on long tracks.
MIN_CURVE_HOP_S = 1.0


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from exc
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"not a finite number: {text!r}")
    return value


def whole_number(text: str) -> int:
    try:
        return int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc


def positive_whole_number(text: str) -> int:
    value = whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def duration_seconds(text: str) -> float:
    """A length of time to record or wait: more than 0 s and at most a day."""
    value = _number(text)
    if not 0 < value <= MAX_SECONDS:
        raise argparse.ArgumentTypeError("must be more than 0 and at most 24 hours")
    return value


def window_seconds(text: str) -> float:
    """``--window-seconds``: the range of ``config.check_window_seconds``, said in its words."""
    value = _number(text)
    try:
        return check_window_seconds(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def curve_hop(text: str) -> float:
    """``--curve-hop``: seconds between the hit curve's windows."""
    value = _number(text)
    if not MIN_CURVE_HOP_S <= value <= MAX_WINDOW_SECONDS:
        raise argparse.ArgumentTypeError(f"must be between {MIN_CURVE_HOP_S:g} and {MAX_WINDOW_SECONDS:g} seconds")
    return value


def sample_rate(text: str) -> int:
    value = whole_number(text)
    if not 8000 <= value <= 384000:
        raise argparse.ArgumentTypeError("must be between 8000 and 384000 Hz")
    return value


def add_window_seconds(parser: argparse.ArgumentParser, default: float | None = None, help: str | None = None) -> None:
    """``--window-seconds`` as every command that places windows takes it."""
    parser.add_argument(
        "--window-seconds",
        type=window_seconds,
        default=default,
        metavar="S",
        help=help
        or f"length of each window in seconds (default: the model's own; {DEFAULT_WINDOW_SECONDS:g} for the default)",
    )


def add_model(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", metavar="PATH", help="model name, or path to its .onnx/.json (default: bundled)")
