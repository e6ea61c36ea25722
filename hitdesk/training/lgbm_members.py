"""Gradient-boosted trees for the track head: one LightGBM model per artist-disjoint fold.

Like the network ensemble, member k learns on the four folds other than k, so its scores on fold k
are honest out-of-fold numbers and the shipped members are exactly the models that were measured.
Each member regresses popularity (``-rank``) and its score is normalised by its mean and spread on
its own training songs, so one calibration map fits all members. Trees go into the ONNX graph as
``ai.onnx.ml`` ``TreeEnsembleRegressor`` nodes converted by onnxmltools; their thresholds are
float32 there, so a song whose statistic sits within float32 rounding of a split can take the other
branch (measured by the parity check, reported in the card).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx

from hitdesk.config import N_STATS
from hitdesk.training.zalo import ChartData, cv_folds

log = logging.getLogger(__name__)

ML_DOMAIN = "ai.onnx.ml"
ML_OPSET = 3
# onnxmltools' LightGBM converter writes at most this opset; the tree node is copied out of it.
CONVERTER_OPSET = 15


def default_params() -> dict[str, Any]:
    """Smaller steps, more trees and row/column subsampling than the data README's reference model."""
    return {
        "n_estimators": 600,
        "num_leaves": 15,
        "learning_rate": 0.015,
        "colsample_bytree": 0.7,
        "subsample": 0.8,
        "subsample_freq": 1,
        "min_child_samples": 40,
    }


@dataclass(frozen=True)
class LgbmConfig:
    params: dict[str, Any] = field(default_factory=default_params)
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"objective": "regression on -rank (L2)", "params": dict(self.params), "seed": self.seed}


@dataclass
class LgbmMember:
    model: Any  # lightgbm.LGBMRegressor
    center: float
    scale: float
    fold: int

    def score(self, x: np.ndarray) -> np.ndarray:
        return (np.asarray(self.model.predict(x), dtype=np.float64) - self.center) / self.scale


@dataclass
class LgbmMembers:
    members: list[LgbmMember]
    config: LgbmConfig
    oof_score: np.ndarray  # member k's normalised score on fold k
    fold: np.ndarray
    seconds: float

    def member_scores(self, stats: np.ndarray) -> np.ndarray:
        """[members, n] normalised scores; inputs are cast to float32 first, as the ONNX graph sees them."""
        x = np.asarray(stats, dtype=np.float32).astype(np.float64)
        return np.stack([m.score(x) for m in self.members])


def fit_members(data: ChartData, config: LgbmConfig) -> LgbmMembers:
    import lightgbm

    assert data.groups is not None
    start = time.perf_counter()
    fold = np.full(data.n, -1, dtype=np.int64)
    oof = np.empty(data.n)
    members: list[LgbmMember] = []
    target = -data.rank.astype(np.float64)
    for k, (train, test) in enumerate(cv_folds(data.groups)):
        fold[test] = k
        model = lightgbm.LGBMRegressor(random_state=config.seed + k, n_jobs=1, verbose=-1, **config.params)
        model.fit(data.stats[train], target[train])
        train_score = np.asarray(model.predict(data.stats[train]), dtype=np.float64)
        member = LgbmMember(model, float(train_score.mean()), float(train_score.std()) or 1.0, k)
        oof[test] = member.score(data.stats[test])
        members.append(member)
    seconds = time.perf_counter() - start
    log.info("LightGBM members trained in %.1f s", seconds)
    return LgbmMembers(members, config, oof, fold, seconds)


def tree_node(member: LgbmMember, stats: str, output: str, tag: str) -> onnx.NodeProto:
    """The member's trees as one ``TreeEnsembleRegressor`` node reading ``stats`` [N, 42] into ``output`` [N, 1]."""
    import onnxmltools
    from onnxmltools.convert.common.data_types import FloatTensorType

    converted = onnxmltools.convert_lightgbm(
        member.model, initial_types=[("x", FloatTensorType([None, N_STATS]))], target_opset=CONVERTER_OPSET
    )
    trees = [n for n in converted.graph.node if n.op_type == "TreeEnsembleRegressor"]
    others = {n.op_type for n in converted.graph.node if n.op_type != "TreeEnsembleRegressor"}
    if len(trees) != 1 or not others <= {"Identity"}:  # a single-tree-node graph, maybe with Identity outputs
        raise ValueError(f"unexpected LightGBM conversion: {[n.op_type for n in converted.graph.node]}")
    node = onnx.NodeProto()
    node.CopyFrom(trees[0])
    del node.input[:]
    del node.output[:]
    node.input.append(stats)
    node.output.append(output)
    node.name = f"trees_{tag}"
    return node
