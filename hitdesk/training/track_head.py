"""The track head: the overall score's model, chosen among candidates on the same artist-disjoint folds.

Candidates are the network ensemble trained on the chart statistics as they are, the LightGBM fold
models, and a blend of the two. All three are made of five fold members (member k never saw fold
k), so each has honest out-of-fold scores; a blend member is ``w * network member + (1 - w) * trees
member`` (both normalised scores). The blend weight is picked on out-of-fold scores; the blend's
reported metrics use a cross-fitted weight (fold k's from the other folds' scores), so the weight is
never judged on the scores it was picked on. One calibration map, fit on the out-of-fold scores,
turns every member's score into P(hit) inside the graph; ``p_hit`` is the members' mean.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnx
from onnx import helper

from hitdesk.config import N_STATS
from hitdesk.training import calibration
from hitdesk.training.ensemble import TrainedEnsemble, head_weights
from hitdesk.training.export import member_outputs, mlp_member_scores, outputs
from hitdesk.training.graph import OPSET, STATS, GraphBuilder, finish, value_info
from hitdesk.training.lgbm_members import ML_DOMAIN, ML_OPSET, LgbmMembers, tree_node
from hitdesk.training.metrics import fold_summary, spearman_vs_rank

log = logging.getLogger(__name__)

WEIGHT_GRID = tuple(round(w, 2) for w in np.linspace(0.0, 1.0, 21))
NETWORK, TREES, BLEND = "network ensemble", "LightGBM fold members", "blend"


@dataclass
class Candidate:
    """One track-head candidate: its members' out-of-fold scores, cross-fitted P(hit) and map."""

    name: str
    weight_network: float  # 1 for the network ensemble, 0 for the trees
    oof_score: np.ndarray
    oof_prob: np.ndarray
    calibrator: calibration.Calibrator
    calibration_summary: dict[str, Any]
    weight_by_fold: list[float]

    def summary(self, rank: np.ndarray, fold: np.ndarray) -> dict[str, dict[str, Any]]:
        return fold_summary(self.oof_score, self.oof_prob, rank, fold)


def _objective(score: np.ndarray, hit: np.ndarray, rank: np.ndarray) -> float:
    """What the blend weight maximises: Spearman against -rank plus ROC-AUC, pooled."""
    from sklearn.metrics import roc_auc_score

    return spearman_vs_rank(score, rank) + float(roc_auc_score(hit, score))


def pick_weight(net: np.ndarray, trees: np.ndarray, hit: np.ndarray, rank: np.ndarray) -> float:
    values = [_objective(w * net + (1.0 - w) * trees, hit, rank) for w in WEIGHT_GRID]
    return float(WEIGHT_GRID[int(np.argmax(values))])


def _candidate(
    name: str, weight: float, score: np.ndarray, hit: np.ndarray, fold: np.ndarray, by_fold: list[float]
) -> Candidate:
    cal, prob, summary = calibration.select(score, hit, fold)
    return Candidate(name, weight, score, prob, cal, summary, by_fold)


def candidates(net: TrainedEnsemble, trees: LgbmMembers, hit: np.ndarray, rank: np.ndarray) -> list[Candidate]:
    """The three candidates on the shared folds (the blend with its cross-fitted weight)."""
    fold = net.fold
    if not np.array_equal(fold, trees.fold):
        raise ValueError("the network and tree members were trained on different folds")
    a, b = net.oof_score, trees.oof_score
    n_folds = int(fold.max()) + 1
    by_fold = [pick_weight(a[fold != k], b[fold != k], hit[fold != k], rank[fold != k]) for k in range(n_folds)]
    crossed = np.empty_like(a)
    for k, w in enumerate(by_fold):
        crossed[fold == k] = w * a[fold == k] + (1.0 - w) * b[fold == k]
    weight = pick_weight(a, b, hit, rank)
    blend = _candidate(BLEND, weight, crossed, hit, fold, by_fold)
    # The shipped blend's map is fit on the blend at the shipped weight, not the cross-fitted one.
    blend.calibrator = calibration.select(weight * a + (1.0 - weight) * b, hit, fold)[0]
    return [
        _candidate(NETWORK, 1.0, a, hit, fold, [1.0] * n_folds),
        _candidate(TREES, 0.0, b, hit, fold, [0.0] * n_folds),
        blend,
    ]


def choose(cands: list[Candidate], floor: dict[str, dict[str, Any]], rank: np.ndarray, fold: np.ndarray) -> Candidate:
    """The candidate with the highest fold-mean Spearman among those beating ``floor`` (a fold summary)
    on Spearman, ROC-AUC and PR-AUC together; without one, the highest Spearman overall."""

    def beats(c: Candidate) -> bool:
        s = c.summary(rank, fold)
        return all(s[m]["mean"] > floor[m]["mean"] for m in ("spearman", "roc_auc", "pr_auc"))

    pool = [c for c in cands if beats(c)] or cands
    return max(pool, key=lambda c: c.summary(rank, fold)["spearman"]["mean"])


@dataclass
class TrackHead:
    """The chosen candidate's members, ready to export or to score in Python (the graph's reference)."""

    candidate: Candidate
    net: TrainedEnsemble
    trees: LgbmMembers

    @property
    def n_members(self) -> int:
        return len(self.net.members)

    def member_scores(self, stats: np.ndarray) -> np.ndarray:
        w = self.candidate.weight_network
        x = np.asarray(stats, dtype=np.float32).astype(np.float64)
        out = np.zeros((self.n_members, len(x)))
        if w > 0:
            out += w * np.stack([m.score(x, self.net.config.mlp) for m in self.net.members])
        if w < 1:
            out += (1.0 - w) * self.trees.member_scores(x)
        return out

    def predict(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        p = self.candidate.calibrator(self.member_scores(stats)).T  # [n, members]
        return {"p_hit": p.mean(axis=1), "p_hit_low": p.min(axis=1), "p_hit_high": p.max(axis=1), "members": p}

    def onnx_model(self, name: str) -> onnx.ModelProto:
        """[N, 42] raw statistics -> p_hit, p_hit_low, p_hit_high, members (opset 17 + ai.onnx.ml)."""
        g = GraphBuilder()
        w = self.candidate.weight_network
        parts: list[str] = []
        if w > 0:
            net = mlp_member_scores(g, STATS, head_weights(self.net))
            parts.append(g.op("Mul", [net, g.const("w_network", w)]) if w < 1 else net)
        if w < 1:
            columns = []
            for m in self.trees.members:
                raw = f"trees_raw_{m.fold}"
                g.nodes.append(tree_node(m, STATS, raw, str(m.fold)))
                norm = g.op("Sub", [raw, g.const(f"trees_center_{m.fold}", m.center)])
                columns.append(g.op("Div", [norm, g.const(f"trees_scale_{m.fold}", m.scale)]))
            trees = g.op("Transpose", [g.op("Concat", columns, axis=1)], perm=[1, 0])  # [M, N]
            parts.append(g.op("Mul", [trees, g.const("w_trees", 1.0 - w)]) if w > 0 else trees)
        score = parts[0] if len(parts) == 1 else g.op("Add", parts)
        member_outputs(g, score, self.candidate.calibrator)
        graph = helper.make_graph(
            g.nodes,
            f"{name}-head",
            [value_info(STATS, ["batch", N_STATS])],
            outputs(self.n_members),
            initializer=g.inits,
        )
        opsets = [helper.make_opsetid("", OPSET), helper.make_opsetid(ML_DOMAIN, ML_OPSET)]
        model = helper.make_model(graph, opset_imports=opsets, producer_name="hitdesk-train")
        model.doc_string = f"track head ({self.candidate.name}): P(hit) from 42 raw MFCC/tempo/duration statistics"
        return finish(model)

    def describe(self) -> dict[str, Any]:
        c = self.candidate
        kinds = {
            NETWORK: "the network ensemble trained on the chart statistics as they are (no window shift)",
            TREES: "the LightGBM fold models",
            BLEND: f"a blend: each member is {c.weight_network:g} x network member + {1 - c.weight_network:g} x "
            "LightGBM member (normalised scores), the weight picked on out-of-fold scores",
        }
        return {
            "candidate": c.name,
            "what": kinds[c.name],
            "weight_network": c.weight_network,
            "members": self.n_members,
            "member": "fold k's model(s), trained without fold k's artists; its normalised score goes through the "
            "one calibration map inside the graph",
            "p_hit": "mean of the members' calibrated P(hit) (the `members` output), so mean(members) == p_hit",
        }
