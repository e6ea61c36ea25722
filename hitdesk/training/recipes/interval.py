"""The range around a recipe's P(hit): how far its calibration holds at that score, measured.

The recipes give one score per song, with no ensemble spread to show. What can be measured is how
well a probability of p held up on songs the model had not seen: among the held-out songs whose
cross-validated P(hit) lay nearest to p, the share that were hits, with its 90% Wilson interval.
That interval becomes ``p_hit_low`` and ``p_hit_high``, interpolated between knots along the
range of probabilities inside the exported graph, and the card says exactly this.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from hitdesk.training.graph import GraphBuilder

Z_90 = 1.6448536269514722  # two-sided 90%
N_KNOTS = 21
MIN_NEIGHBOURS = 20
_PREFIX = "interval_"


@dataclass(frozen=True)
class MeasuredInterval:
    """Knots p -> (low, high) of the 90% interval of the hit rate among held-out songs near p."""

    p: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    neighbours: int

    def __call__(self, prob: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        q = np.asarray(prob, dtype=np.float64)
        return np.interp(q, self.p, self.low), np.interp(q, self.p, self.high)

    def to_card(self) -> dict[str, Any]:
        return {
            "p_hit_low_high": (
                "90% Wilson interval of the hit rate among the "
                f"{self.neighbours} held-out songs whose cross-validated P(hit) was nearest to this one "
                "(interpolated between knots): how far the calibrated probability held on songs the model "
                "had not seen. It is not a spread of several models."
            ),
            "knots": {"p": list(self.p), "low": list(self.low), "high": list(self.high)},
        }


def wilson(hits: float, n: int, z: float = Z_90) -> tuple[float, float]:
    if n <= 0:
        return 0.0, 1.0
    rate = hits / n
    denom = 1.0 + z * z / n
    centre = (rate + z * z / (2 * n)) / denom
    half = z * np.sqrt(rate * (1 - rate) / n + z * z / (4 * n * n)) / denom
    return float(max(0.0, centre - half)), float(min(1.0, centre + half))


def measure(prob: np.ndarray, hit: np.ndarray) -> MeasuredInterval:
    """The interval knots from out-of-fold probabilities and the true labels."""
    p = np.asarray(prob, dtype=np.float64)
    y = np.asarray(hit, dtype=np.float64)
    keep = np.isfinite(p)
    p, y = p[keep], y[keep]
    m = int(min(len(p), max(MIN_NEIGHBOURS, len(p) // 10)))
    knots = np.unique(np.quantile(p, np.linspace(0.0, 1.0, N_KNOTS))) if len(p) else np.array([0.5])
    lows, highs = [], []
    for q in knots:
        near = np.argsort(np.abs(p - q), kind="stable")[:m]
        lo, hi = wilson(float(y[near].sum()), len(near))
        lows.append(lo)
        highs.append(hi)
    return MeasuredInterval(tuple(map(float, knots)), tuple(lows), tuple(highs), m)


def _interp(g: GraphBuilder, x: str, xs: np.ndarray, ys: np.ndarray, tag: str) -> str:
    """[N] -> [N] piecewise-linear through (xs, ys), constant outside: a sum of clipped ramps.

    Every name carries the prefix, so the nodes join a finished graph without clashing with it.
    """
    name = f"{_PREFIX}{tag}_"

    def op(op_type: str, inputs: list[str], out: str) -> str:
        return g.op(op_type, inputs, name + out)

    if len(xs) < 2:
        return op("Add", [op("Mul", [x, g.const(name + "zero", 0.0)], "mul"), g.const(name + "y0", ys[0])], "out")
    dx = np.maximum(np.diff(xs), 1e-9)
    col = op("Unsqueeze", [x, g.const(name + "axis", [1], np.int64)], "col")  # [N, 1]
    shifted = op("Sub", [col, g.const(name + "x", xs[:-1])], "shifted")
    ramp = op("Mul", [shifted, g.const(name + "inv_dx", 1.0 / dx)], "ramp")
    ramp = op("Clip", [ramp, g.const(name + "lo", 0.0), g.const(name + "hi", 1.0)], "clipped")
    total = op("MatMul", [ramp, g.const(name + "dy", np.diff(ys))], "total")  # [N]
    return op("Add", [total, g.const(name + "y0", ys[0])], "out")


def with_interval(model: onnx.ModelProto, interval: MeasuredInterval) -> onnx.ModelProto:
    """The model with its empty range (p_hit_low = p_hit_high = p_hit) replaced by the measured one."""
    graph = model.graph
    empty = [n for n in graph.node if n.op_type == "Identity" and n.output[0] in ("p_hit_low", "p_hit_high")]
    if len(empty) != 2 or any(n.input[0] != "p_hit" for n in empty):
        raise ValueError("the model's range is not the empty one a recipe exports")
    for n in empty:
        graph.node.remove(n)
    g = GraphBuilder(prefix=_PREFIX)  # node names must be unique in the whole graph too
    xs = np.asarray(interval.p, dtype=np.float64)
    low = _interp(g, "p_hit", xs, np.asarray(interval.low), "low")
    high = _interp(g, "p_hit", xs, np.asarray(interval.high), "high")
    g.op("Min", [low, "p_hit"], "p_hit_low")
    g.op("Max", [high, "p_hit"], "p_hit_high")
    return g.append_to(model)
