"""ONNX graphs of the zalo-stats ensemble (the default model), written with ``graph.GraphBuilder``.

Every constant the runtime needs is inside the graph: standardisation, the member nets, score
normalisation, calibration and, in the combined graph, the MFCC front end. Two graphs share one
head: ``<name>.head.onnx`` takes the 42 raw statistics, ``<name>.onnx`` takes a log-mel
spectrogram plus tempo and duration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx

from hitdesk.config import FEATURES, N_STATS
from hitdesk.training.calibration import Calibrator
from hitdesk.training.graph import PROB_OUTPUTS, STATS, GraphBuilder, front_end_inputs, value_info

MEMBERS = "members"  # [batch, n_members]: each member's calibrated P(hit)
OUTPUT_NAMES = (*PROB_OUTPUTS, MEMBERS)


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


def _stack(arrays: list[np.ndarray]) -> np.ndarray:
    return np.stack(arrays).astype(np.float32)


def mlp_member_scores(g: GraphBuilder, stats: str, head: HeadWeights) -> str:
    """[N, 42] raw statistics -> [M, N] normalised member scores. All nets run as one batched MatMul chain."""
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
    return g.op("ReduceMean", [g.op("Reshape", [h, shape])], axes=[1], keepdims=0)


def member_outputs(g: GraphBuilder, score: str, calibrator: Calibrator) -> None:
    """[M, N] member scores -> the runtime's outputs: each member calibrated (``members`` [N, M]), their
    mean (``p_hit``), minimum and maximum (the range)."""
    prob = g.calibrate(score, calibrator)
    members = g.op("Transpose", [prob], MEMBERS, perm=[1, 0])  # [N, M]
    g.op("ReduceMean", [members], "p_hit", axes=[1], keepdims=0)
    g.op("ReduceMin", [members], "p_hit_low", axes=[1], keepdims=0)
    g.op("ReduceMax", [members], "p_hit_high", axes=[1], keepdims=0)


def _add_head(g: GraphBuilder, stats: str, head: HeadWeights) -> None:
    """[N, 42] raw statistics -> the four outputs."""
    member_outputs(g, mlp_member_scores(g, stats, head), head.calibrator)


def outputs(n_members: int) -> list[onnx.ValueInfoProto]:
    return [*(value_info(name, ["batch"]) for name in PROB_OUTPUTS), value_info(MEMBERS, ["batch", n_members])]


def head_model(head: HeadWeights, name: str) -> onnx.ModelProto:
    g = GraphBuilder()
    _add_head(g, STATS, head)
    doc = "P(hit) from 42 raw MFCC/tempo/duration statistics"
    return g.model(f"{name}-head", [value_info(STATS, ["batch", N_STATS])], outputs(head.n_members), doc)


def combined_model(head: HeadWeights, name: str) -> onnx.ModelProto:
    """Log-mel (dB, max 0, floor -80) + [tempo, duration] -> MFCC statistics -> head."""
    g = GraphBuilder()
    _add_head(g, g.stats_front_end(), head)
    doc = "P(hit) from a log-mel spectrogram, tempo and duration"
    return g.model(name, front_end_inputs(), outputs(head.n_members), doc)


def io_description(n_members: int) -> dict[str, Any]:
    """Inputs and outputs of both graphs, for the model card."""
    outputs = [
        {"name": "p_hit", "shape": ["batch"], "dtype": "float32"},
        {"name": "p_hit_low", "shape": ["batch"], "dtype": "float32"},
        {"name": "p_hit_high", "shape": ["batch"], "dtype": "float32"},
        {"name": MEMBERS, "shape": ["batch", n_members], "dtype": "float32"},
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
