"""The default model: one MLP member per cross-validation fold, calibrated together.

Member k is trained on the four folds other than k, so its predictions on fold k are honest
out-of-fold numbers and the shipped ensemble is exactly the set of models that were evaluated.
Each member is a bag of a few nets (different seeds and early-stopping splits), and its score is
normalised by its spread on its own training songs, so that one calibration map fits all members.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from hitdesk.training import calibration
from hitdesk.training.augment import WindowShift
from hitdesk.training.export import HeadWeights, NetWeights
from hitdesk.training.mlp import TORCH_THREADS, HeadNet, MLPConfig, predict_score, score_output, train_member
from hitdesk.training.zalo import ChartData, cv_folds

log = logging.getLogger(__name__)


def default_mlp_config() -> MLPConfig:
    return MLPConfig(hidden=(64,), dropout=0.5, target="bce", refit_full=True)


@dataclass(frozen=True)
class EnsembleConfig:
    mlp: MLPConfig = field(default_factory=default_mlp_config)
    nets_per_member: int = 3
    seed: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"mlp": self.mlp.to_dict(), "nets_per_member": self.nets_per_member, "seed": self.seed}


@dataclass
class Member:
    """Bag of nets trained on all folds but ``fold``; ``score`` = (mean net score - center) / scale."""

    nets: list[HeadNet]
    center: float
    scale: float
    fold: int
    train_info: list[dict[str, Any]]

    def raw_score(self, x: np.ndarray, config: MLPConfig) -> np.ndarray:
        return np.asarray(np.mean([predict_score(net, x, config) for net in self.nets], axis=0))

    def score(self, x: np.ndarray, config: MLPConfig) -> np.ndarray:
        return (self.raw_score(x, config) - self.center) / self.scale


@dataclass
class TrainedEnsemble:
    members: list[Member]
    config: EnsembleConfig
    calibrator: calibration.Calibrator
    oof_score: np.ndarray  # member k's normalised score on fold k
    oof_prob: np.ndarray  # cross-fitted calibrated P(hit) of the same
    fold: np.ndarray
    calibration_summary: dict[str, Any]
    seconds: float
    window_shift: WindowShift | None

    def member_probs(self, stats: np.ndarray) -> np.ndarray:
        """[n, members] calibrated P(hit) per member, computed with torch (the reference for the ONNX graph)."""
        return np.stack([self.calibrator(m.score(stats, self.config.mlp)) for m in self.members], axis=1)

    def predict(self, stats: np.ndarray) -> dict[str, np.ndarray]:
        p = self.member_probs(stats)
        return {"p_hit": p.mean(axis=1), "p_hit_low": p.min(axis=1), "p_hit_high": p.max(axis=1), "members": p}


def fit_ensemble(data: ChartData, config: EnsembleConfig, window_shift: WindowShift | None = None) -> TrainedEnsemble:
    """Cross-validate and train in one go: the fold models are the members that ship."""
    assert data.groups is not None
    torch.set_num_threads(TORCH_THREADS)
    start = time.perf_counter()
    folds = cv_folds(data.groups)
    fold = np.full(data.n, -1, dtype=np.int64)
    oof = np.empty(data.n)
    members: list[Member] = []
    for k, (train, test) in enumerate(folds):
        fold[test] = k
        nets, infos = [], []
        for b in range(config.nets_per_member):
            seed = config.seed * 1000 + k * 10 + b
            net, info = train_member(
                data.stats[train], data.rank[train], data.groups[train], config.mlp, seed, window_shift, split=b
            )
            nets.append(net)
            infos.append({"seed": seed, **info})
        member = Member(nets=nets, center=0.0, scale=1.0, fold=k, train_info=infos)
        train_score = member.raw_score(data.stats[train], config.mlp)
        member.center = float(train_score.mean())
        member.scale = float(train_score.std()) or 1.0
        oof[test] = member.score(data.stats[test], config.mlp)
        members.append(member)
        log.info("member %d: %d nets, epochs %s", k, len(nets), [i.get("refit_epochs", i["best_epoch"]) for i in infos])
    calibrator, oof_prob, summary = calibration.select(oof, data.hit, fold)
    seconds = time.perf_counter() - start
    log.info("ensemble (%s augmentation) trained in %.1f s", "with" if window_shift else "without", seconds)
    return TrainedEnsemble(members, config, calibrator, oof, oof_prob, fold, summary, seconds, window_shift)


def head_weights(ensemble: TrainedEnsemble) -> HeadWeights:
    """The arrays the ONNX head needs; each member's score normalisation is folded into its last layer."""
    out_index = score_output(ensemble.config.mlp)
    nets: list[NetWeights] = []
    for member in ensemble.members:
        for net in member.nets:
            linear = net.linear_layers()
            layers = [(lin.weight.detach().double().numpy().T, lin.bias.detach().double().numpy()) for lin in linear]
            w_last, b_last = layers[-1]
            layers[-1] = (
                w_last[:, [out_index]] / member.scale,
                (b_last[[out_index]] - member.center) / member.scale,
            )
            nets.append(
                NetWeights(
                    mean=net.mean.double().numpy(),
                    std=net.std.double().numpy(),
                    clip=net.clip,
                    layers=layers,
                )
            )
    return HeadWeights(nets=nets, n_members=len(ensemble.members), calibrator=ensemble.calibrator)


def simulated_window_oof(
    ens: TrainedEnsemble, data: ChartData, shift: WindowShift, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Out-of-fold score and P(hit) of held-out songs moved by one draw of the window shift each.

    The chart data has no audio, so window-level skill cannot be measured directly; this asks how
    the model would do if each held-out song were heard through a 30 s window that differs from the
    whole track the way measured windows do. Every model gets the same draws.
    """
    shifted = shift.shifted_copy(data.stats, np.random.default_rng(seed))
    score = np.empty(data.n)
    for member in ens.members:
        held = ens.fold == member.fold
        score[held] = member.score(shifted[held], ens.config.mlp)
    prob = calibration.cross_applied(ens.oof_score, data.hit, ens.fold, type(ens.calibrator), score)
    return score, prob
