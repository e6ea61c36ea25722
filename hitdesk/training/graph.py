"""The one ONNX graph builder of ``hitdesk-train``: every hand-written graph is made with it.

Writing graphs node by node (rather than tracing torch) keeps them small, opset-17, float32 and
free of exporter quirks, and puts every constant the runtime needs inside them. ``GraphBuilder``
accumulates nodes and float32 initialisers and turns them into a checked model; around it are the
pieces several models share: calibration (Platt or isotonic), the statistics front end (log-mel to
the 42 MFCC/tempo/duration statistics, as ``hitdesk.dsp`` computes them), the three outputs the
runtime reads, merging two graphs, and saving. Nets exported from torch (``mel_export``) use the
same opset and IR version, so they merge with these graphs.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import scipy.fft
from onnx import TensorProto, helper, numpy_helper

from hitdesk.config import FEATURES, N_STATS
from hitdesk.training.calibration import Calibrator, Isotonic, Platt

log = logging.getLogger(__name__)

OPSET = 17
IR_VERSION = 8  # readable by onnxruntime >= 1.17, the oldest the project allows
PRODUCER = "hitdesk-train"
# What every exported model outputs, each (batch,): the runtime's contract.
PROB_OUTPUTS = ("p_hit", "p_hit_low", "p_hit_high")
STATS = "stats"


def value_info(name: str, shape: list[Any]) -> onnx.ValueInfoProto:
    """A float32 graph input or output of the given shape (names for dynamic axes)."""
    return helper.make_tensor_value_info(name, TensorProto.FLOAT, shape)


def logmel_input() -> onnx.ValueInfoProto:
    return value_info("logmel", ["batch", FEATURES.n_mels, "time"])


def front_end_inputs() -> list[onnx.ValueInfoProto]:
    """The inputs of a graph that starts with the statistics front end."""
    return [logmel_input(), value_info("tempo_duration", ["batch", 2])]


def dct_matrix() -> np.ndarray:
    """[n_mfcc, n_mels] orthonormal DCT-II rows: ``D @ log_S`` is ``librosa.feature.mfcc(S=log_S)``."""
    return np.asarray(scipy.fft.dct(np.eye(FEATURES.n_mels), type=2, norm="ortho", axis=0)[: FEATURES.n_mfcc])


def finish(model: onnx.ModelProto, check: bool = True) -> onnx.ModelProto:
    """Stamps the project's IR version on ``model`` and runs the full ONNX checker on it."""
    model.ir_version = IR_VERSION
    if check:
        onnx.checker.check_model(model, full_check=True)
    return model


def merge(
    first: onnx.ModelProto, second: onnx.ModelProto, io_map: list[tuple[str, str]], name: str | None = None
) -> onnx.ModelProto:
    """``second`` fed by ``first`` (``io_map`` pairs first's outputs with second's inputs), checked."""
    merged = onnx.compose.merge_models(first, second, io_map=io_map, doc_string=first.doc_string)
    if name is not None:
        merged.graph.name = name
    return finish(merged)


def save(model: onnx.ModelProto, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    log.info("wrote %s (%d bytes)", path, path.stat().st_size)


class GraphBuilder:
    """Accumulates nodes and float32 initialisers with unique names, then builds a checked model.

    ``op`` names its output ``<op>_<n>`` unless given one; constants keep the names they are given,
    so callers that add nodes to an existing graph (``prefix``) cannot clash with its names.
    """

    def __init__(self, prefix: str = "") -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.prefix = prefix
        self._count = 0

    def const(self, name: str, value: Any, dtype: type = np.float32) -> str:
        """An initialiser named ``name`` holding ``value``; returns its name."""
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        """One node; returns the name of its (single) output."""
        self._count += 1
        out = output or f"{self.prefix}{op_type.lower()}_{self._count}"
        node = helper.make_node(op_type, inputs, [out], name=f"{self.prefix}{op_type}_{self._count}", **attrs)
        self.nodes.append(node)
        return out

    def calibrate(self, score: str, calibrator: Calibrator) -> str:
        """[M, N] scores (M members, or 1) -> [M, N] probabilities through the calibration map."""
        if isinstance(calibrator, Platt):
            z = self.op("Mul", [score, self.const("platt_a", calibrator.a)])
            return self.op("Sigmoid", [self.op("Add", [z, self.const("platt_b", calibrator.b)])])
        assert isinstance(calibrator, Isotonic)
        # Piecewise-linear through the knots, as a sum of clipped ramps: y0 + sum_i dy_i * clip((s - x_i) / dx_i, 0, 1).
        x = np.asarray(calibrator.x, dtype=np.float64)
        y = np.asarray(calibrator.y, dtype=np.float64)
        if len(x) < 2:
            zero = self.op("Mul", [score, self.const("iso_zero", 0.0)])
            return self.op("Add", [zero, self.const("iso_y0", y[0] if len(y) else 0.5)])
        dx = np.maximum(np.diff(x), 1e-9)
        s3 = self.op("Unsqueeze", [score, self.const("iso_axis", [2], np.int64)])  # [M, N, 1]
        ramp = self.op("Mul", [self.op("Sub", [s3, self.const("iso_x", x[:-1])]), self.const("iso_inv_dx", 1.0 / dx)])
        ramp = self.op("Clip", [ramp, self.const("iso_lo", 0.0), self.const("iso_hi", 1.0)])
        total = self.op("MatMul", [ramp, self.const("iso_dy", np.diff(y)[:, None])])  # [M, N, 1]
        total = self.op("Squeeze", [total, self.const("iso_axis2", [2], np.int64)])
        return self.op("Add", [total, self.const("iso_y0", y[0])])

    def probability_outputs(self, score: str, calibrator: Calibrator | None) -> None:
        """Score [N] -> ``p_hit`` [N] (the calibration map, or a sigmoid of a logit without one).

        A single model has no uncertainty estimate of its own, so ``p_hit_low`` and ``p_hit_high``
        are ``p_hit`` itself (Identity nodes): a zero-width range claims nothing it does not know,
        and ``recipes.interval.with_interval`` replaces exactly these two nodes with a measured one.
        """
        row = self.op("Unsqueeze", [score, self.const("cal_row_axis", [0], np.int64)])  # [1, N]
        prob = self.op("Sigmoid", [row]) if calibrator is None else self.calibrate(row, calibrator)
        self.op("Squeeze", [prob, self.const("cal_member_axis", [0], np.int64)], "p_hit")
        self.op("Identity", ["p_hit"], "p_hit_low")
        self.op("Identity", ["p_hit"], "p_hit_high")

    def stats_front_end(self, output: str = STATS) -> str:
        """``logmel`` [N, 128, time] + ``tempo_duration`` [N, 2] -> the 42 statistics [N, 42] in STAT_COLUMNS order.

        Shared by every model whose head eats track statistics, so all of them see windows the same way.
        """
        mfcc = self.op("MatMul", [self.const("dct", dct_matrix()), "logmel"])  # [N, 20, time]
        mean3 = self.op("ReduceMean", [mfcc], axes=[2], keepdims=1)
        centred = self.op("Sub", [mfcc, mean3])
        var = self.op("ReduceMean", [self.op("Mul", [centred, centred])], axes=[2], keepdims=0)  # population variance
        std = self.op("Sqrt", [var])
        mean = self.op("Squeeze", [mean3, self.const("time_axis", [2], np.int64)])
        return self.op("Concat", [mean, std, "tempo_duration"], output, axis=1)

    def model(
        self,
        name: str,
        inputs: list[onnx.ValueInfoProto],
        outputs: list[onnx.ValueInfoProto],
        doc: str = "",
        check: bool = True,
    ) -> onnx.ModelProto:
        """The nodes so far as an opset-17 model (checked unless ``check`` is false)."""
        graph = helper.make_graph(self.nodes, name, inputs, outputs, initializer=self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name=PRODUCER)
        model.doc_string = doc
        return finish(model, check)

    def append_to(self, model: onnx.ModelProto) -> onnx.ModelProto:
        """Adds the nodes and initialisers so far to ``model``'s graph and checks the result."""
        model.graph.node.extend(self.nodes)
        model.graph.initializer.extend(self.inits)
        onnx.checker.check_model(model, full_check=True)
        return model


def stats_front_end_model() -> onnx.ModelProto:
    """The front end alone (``logmel``, ``tempo_duration`` -> ``stats``), to merge before a statistics head."""
    g = GraphBuilder()
    g.stats_front_end(STATS)
    return g.model("stats-front-end", front_end_inputs(), [value_info(STATS, ["batch", N_STATS])], check=False)
