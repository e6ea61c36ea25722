"""ONNX graphs of the default model, built node by node with ``onnx.helper``.

Writing the graph by hand (rather than tracing torch) keeps it small, opset-17, float32 and free
of exporter quirks, and puts every constant the runtime needs inside it: standardisation, the
member nets, score normalisation, calibration and, in the combined graph, the MFCC front end.
Two graphs share one head: ``<name>.head.onnx`` takes the 42 raw statistics, ``<name>.onnx``
takes a log-mel spectrogram plus tempo and duration.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
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
OUTPUT_NAMES = ("p_hit", "p_hit_low", "p_hit_high", "p_members")


@dataclass(frozen=True)
class NetWeights:
    """One MLP as arrays: standardisation, then ReLU layers, then one linear score output."""

    mean: np.ndarray  # [42]
    std: np.ndarray  # [42]
    clip: float
    layers: list[tuple[np.ndarray, np.ndarray]]  # (W [in, out], b [out]); the last one has out = 1


@dataclass(frozen=True)
class HeadWeights:
    """All nets of all members (member-major), and the shared calibration."""

    nets: list[NetWeights]
    n_members: int
    calibrator: Calibrator

    @property
    def nets_per_member(self) -> int:
        return len(self.nets) // self.n_members


def dct_matrix() -> np.ndarray:
    """[n_mfcc, n_mels] orthonormal DCT-II rows: ``D @ log_S`` is ``librosa.feature.mfcc(S=log_S)``."""
    return np.asarray(scipy.fft.dct(np.eye(FEATURES.n_mels), type=2, norm="ortho", axis=0)[: FEATURES.n_mfcc])


class _Graph:
    """Accumulates nodes and float32 initialisers with unique names."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self._count = 0

    def const(self, name: str, value: Any, dtype: type = np.float32) -> str:
        self.inits.append(numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def op(self, op_type: str, inputs: list[str], output: str | None = None, **attrs: Any) -> str:
        self._count += 1
        out = output or f"{op_type.lower()}_{self._count}"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=f"{op_type}_{self._count}", **attrs))
        return out


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    return np.stack(arrays).astype(np.float32)


def _add_calibration(g: _Graph, score: str, calibrator: Calibrator) -> str:
    """[M, N] scores -> [M, N] probabilities."""
    if isinstance(calibrator, Platt):
        z = g.op("Add", [g.op("Mul", [score, g.const("platt_a", calibrator.a)]), g.const("platt_b", calibrator.b)])
        return g.op("Sigmoid", [z])
    assert isinstance(calibrator, Isotonic)
    # Piecewise-linear through the knots, as a sum of clipped ramps: y0 + sum_i dy_i * clip((s - x_i) / dx_i, 0, 1).
    x = np.asarray(calibrator.x, dtype=np.float64)
    y = np.asarray(calibrator.y, dtype=np.float64)
    if len(x) < 2:
        return g.op("Add", [g.op("Mul", [score, g.const("iso_zero", 0.0)]), g.const("iso_y0", y[0] if len(y) else 0.5)])
    dx = np.maximum(np.diff(x), 1e-9)
    s3 = g.op("Unsqueeze", [score, g.const("iso_axis", [2], np.int64)])  # [M, N, 1]
    ramp = g.op("Mul", [g.op("Sub", [s3, g.const("iso_x", x[:-1])]), g.const("iso_inv_dx", 1.0 / dx)])
    ramp = g.op("Clip", [ramp, g.const("iso_lo", 0.0), g.const("iso_hi", 1.0)])
    total = g.op("MatMul", [ramp, g.const("iso_dy", np.diff(y)[:, None])])  # [M, N, 1]
    total = g.op("Squeeze", [total, g.const("iso_axis2", [2], np.int64)])
    return g.op("Add", [total, g.const("iso_y0", y[0])])


def _add_head(g: _Graph, stats: str, head: HeadWeights) -> None:
    """[N, 42] raw statistics -> the four outputs. All nets run as one batched MatMul chain over [T, N, ...]."""
    nets = head.nets
    clip = nets[0].clip
    if any(n.clip != clip or len(n.layers) != len(nets[0].layers) for n in nets):
        raise ValueError("all nets must share clip and depth")
    z = g.op("Sub", [stats, g.const("std_mean", _stack([n.mean[None, :] for n in nets]))])  # [T, N, 42]
    z = g.op("Div", [z, g.const("std_scale", _stack([n.std[None, :] for n in nets]))])
    h = g.op("Clip", [z, g.const("clip_lo", -clip), g.const("clip_hi", clip)])
    n_layers = len(nets[0].layers)
    for i in range(n_layers):
        w = g.const(f"layer{i}_w", _stack([n.layers[i][0] for n in nets]))  # [T, in, out]
        b = g.const(f"layer{i}_b", _stack([n.layers[i][1][None, :] for n in nets]))  # [T, 1, out]
        h = g.op("Add", [g.op("MatMul", [h, w]), b])
        if i < n_layers - 1:
            h = g.op("Relu", [h])
    # [T, N, 1] -> [M, B, N] -> mean over a member's nets -> [M, N]
    shape = g.const("member_shape", [head.n_members, head.nets_per_member, -1], np.int64)
    score = g.op("ReduceMean", [g.op("Reshape", [h, shape])], axes=[1], keepdims=0)
    prob = _add_calibration(g, score, head.calibrator)
    members = g.op("Transpose", [prob], "p_members", perm=[1, 0])  # [N, M]
    g.op("ReduceMean", [members], "p_hit", axes=[1], keepdims=0)
    g.op("ReduceMin", [members], "p_hit_low", axes=[1], keepdims=0)
    g.op("ReduceMax", [members], "p_hit_high", axes=[1], keepdims=0)


def _outputs(n_members: int) -> list[onnx.ValueInfoProto]:
    f = TensorProto.FLOAT
    return [
        helper.make_tensor_value_info("p_hit", f, ["batch"]),
        helper.make_tensor_value_info("p_hit_low", f, ["batch"]),
        helper.make_tensor_value_info("p_hit_high", f, ["batch"]),
        helper.make_tensor_value_info("p_members", f, ["batch", n_members]),
    ]


def _model(g: _Graph, name: str, inputs: list[onnx.ValueInfoProto], n_members: int, doc: str) -> onnx.ModelProto:
    graph = helper.make_graph(g.nodes, name, inputs, _outputs(n_members), initializer=g.inits)
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="hitdesk-train", doc_string=doc
    )
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def head_model(head: HeadWeights, name: str) -> onnx.ModelProto:
    g = _Graph()
    _add_head(g, "stats", head)
    stats = helper.make_tensor_value_info("stats", TensorProto.FLOAT, ["batch", N_STATS])
    return _model(g, f"{name}-head", [stats], head.n_members, "P(hit) from 42 raw MFCC/tempo/duration statistics")


def combined_model(head: HeadWeights, name: str) -> onnx.ModelProto:
    """Log-mel (dB, max 0, floor -80) + [tempo, duration] -> MFCC statistics -> head."""
    g = _Graph()
    stats = add_stats_front_end(g)
    _add_head(g, stats, head)
    return _model(g, name, front_end_inputs(), head.n_members, "P(hit) from a log-mel spectrogram, tempo and duration")


def add_stats_front_end(g: _Graph, output: str = "stats") -> str:
    """``logmel`` [N, 128, time] + ``tempo_duration`` [N, 2] -> the 42 statistics [N, 42] in STAT_COLUMNS order.

    Shared by every model whose head eats track statistics, so all of them see windows the same way.
    """
    mfcc = g.op("MatMul", [g.const("dct", dct_matrix()), "logmel"])  # [N, 20, time]
    mean3 = g.op("ReduceMean", [mfcc], axes=[2], keepdims=1)
    centred = g.op("Sub", [mfcc, mean3])
    var = g.op("ReduceMean", [g.op("Mul", [centred, centred])], axes=[2], keepdims=0)  # population variance
    std = g.op("Sqrt", [var])
    mean = g.op("Squeeze", [mean3, g.const("time_axis", [2], np.int64)])
    return g.op("Concat", [mean, std, "tempo_duration"], output, axis=1)


def front_end_inputs() -> list[onnx.ValueInfoProto]:
    return [
        helper.make_tensor_value_info("logmel", TensorProto.FLOAT, ["batch", FEATURES.n_mels, "time"]),
        helper.make_tensor_value_info("tempo_duration", TensorProto.FLOAT, ["batch", 2]),
    ]


def io_description(n_members: int) -> dict[str, Any]:
    """Inputs and outputs of both graphs, for the model card."""
    outputs = [
        {"name": "p_hit", "shape": ["batch"], "dtype": "float32"},
        {"name": "p_hit_low", "shape": ["batch"], "dtype": "float32"},
        {"name": "p_hit_high", "shape": ["batch"], "dtype": "float32"},
        {"name": "p_members", "shape": ["batch", n_members], "dtype": "float32"},
    ]
    return {
        "head": {
            "inputs": [
                {"name": "stats", "shape": ["batch", N_STATS], "dtype": "float32", "layout": "stat_columns order, raw"}
            ],
            "outputs": outputs,
        },
        "combined": {
            "inputs": [
                {
                    "name": "logmel",
                    "shape": ["batch", FEATURES.n_mels, "time"],
                    "dtype": "float32",
                    "layout": "librosa.power_to_db(mel power, ref=np.max): dB, max 0, floor -80",
                },
                {"name": "tempo_duration", "shape": ["batch", 2], "dtype": "float32", "layout": "[tempo BPM, seconds]"},
            ],
            "outputs": outputs,
        },
    }


def save(model: onnx.ModelProto, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    log.info("wrote %s (%d bytes)", path, path.stat().st_size)
