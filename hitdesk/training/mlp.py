"""The default head: a small MLP on the 42 standardised statistics, trained with early stopping.

Why an MLP and not the gradient-boosted trees that score about the same: the network is a few
matrix products, so it exports to a compact ONNX graph written by hand (``export.py``) that the
runtime can trust bit for bit, and an ensemble of them gives a spread to show as uncertainty.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from hitdesk.training.augment import WindowShift
from hitdesk.training.zalo import HIT_MAX_RANK, cv_folds

log = logging.getLogger(__name__)

# One thread: these nets are tiny, so a second thread only adds synchronisation, and on a busy
# machine spinning OpenMP workers slow training down by 10x. Results do not depend on the count.
TORCH_THREADS = 1
TARGETS = ("bce", "rank", "both")


@dataclass(frozen=True)
class MLPConfig:
    """Hyper-parameters of one ensemble member (recorded in the model card)."""

    hidden: tuple[int, ...] = (32,)
    dropout: float = 0.3
    clip: float = 5.0  # standardised inputs are clipped to +-clip: unusual tracks cannot push the net far
    lr: float = 3e-4
    weight_decay: float = 1e-2
    batch_size: int = 256
    max_epochs: int = 400
    patience: int = 30
    # "bce": hit logit only; "rank": regression on -rank; "both": two heads, the score is the hit logit.
    target: str = "bce"
    rank_weight: float = 0.5
    inner_folds: int = 5  # the early-stopping split holds out one of this many artist-disjoint parts
    # After early stopping, train a fresh net on all rows (inner split included) for the chosen number
    # of epochs, so no fifth of the fold is spent on validation only.
    refit_full: bool = False

    def __post_init__(self) -> None:
        if self.target not in TARGETS:
            raise ValueError(f"target must be one of {TARGETS}, not {self.target!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class HeadNet(nn.Module):
    """Standardise, clip, MLP -> [hit logit, rank score]; ``score_output`` picks the one calibrated."""

    mean: torch.Tensor
    std: torch.Tensor

    def __init__(self, mean: np.ndarray, std: np.ndarray, config: MLPConfig) -> None:
        super().__init__()
        self.register_buffer("mean", torch.as_tensor(mean, dtype=torch.float32))
        self.register_buffer("std", torch.as_tensor(std, dtype=torch.float32))
        self.clip = float(config.clip)
        layers: list[nn.Module] = []
        width = int(mean.shape[0])
        for h in config.hidden:
            layers += [nn.Linear(width, h), nn.ReLU(), nn.Dropout(config.dropout)]
            width = h
        self.body = nn.Sequential(*layers)
        self.out = nn.Linear(width, 2)

    def forward(self, stats: torch.Tensor) -> torch.Tensor:
        z = torch.clamp((stats - self.mean) / self.std, -self.clip, self.clip)
        return self.out(self.body(z))  # type: ignore[no-any-return]

    def linear_layers(self) -> list[nn.Linear]:
        return [m for m in self.body if isinstance(m, nn.Linear)] + [self.out]


def score_output(config: MLPConfig) -> int:
    """Which network output is the member's score (higher = more likely a hit)."""
    return 1 if config.target == "rank" else 0


def _standardisation(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    return mean, np.where(std > 1e-8, std, 1.0)


@dataclass(frozen=True)
class _Targets:
    hit: torch.Tensor  # float 0/1
    rank_z: torch.Tensor  # standardised -rank: higher = better

    @classmethod
    def of(cls, rank: np.ndarray, rank_mean: float, rank_std: float) -> _Targets:
        return cls(
            hit=torch.as_tensor((rank <= HIT_MAX_RANK).astype(np.float32)),
            rank_z=torch.as_tensor((-(rank - rank_mean) / rank_std).astype(np.float32)),
        )

    def take(self, idx: torch.Tensor) -> _Targets:
        return _Targets(self.hit[idx], self.rank_z[idx])


def _loss(out: torch.Tensor, y: _Targets, config: MLPConfig) -> torch.Tensor:
    bce = nn.functional.binary_cross_entropy_with_logits(out[:, 0], y.hit)
    mse = nn.functional.mse_loss(out[:, 1], y.rank_z)
    if config.target == "bce":
        return bce
    if config.target == "rank":
        return mse
    return bce + config.rank_weight * mse


def _train_loop(
    net: HeadNet,
    x: torch.Tensor,
    y: _Targets,
    config: MLPConfig,
    seed: int,
    epochs: int,
    val: tuple[torch.Tensor, _Targets] | None,
) -> tuple[int, float]:
    """Mini-batch AdamW; with ``val``, keeps the weights of the epoch with the lowest validation loss."""
    torch.manual_seed(seed)
    gen = torch.Generator().manual_seed(seed)
    opt = torch.optim.AdamW(net.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    best_loss, best_epoch = math.inf, 0
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(len(x), generator=gen)
        for start in range(0, len(order), config.batch_size):
            idx = order[start : start + config.batch_size]
            opt.zero_grad()
            loss = _loss(net(x[idx]), y.take(idx), config)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
        if val is None:
            continue
        net.eval()
        with torch.no_grad():
            val_loss = float(_loss(net(val[0]), val[1], config))
        if val_loss < best_loss - 1e-5:
            best_loss, best_epoch = val_loss, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= config.patience:
            break
    if val is not None:
        net.load_state_dict(best_state)
    net.eval()
    return best_epoch, best_loss


def _with_augmentation(
    x: np.ndarray, rank: np.ndarray, window_shift: WindowShift | None, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    if window_shift is None:
        return x, rank
    return np.concatenate([x, window_shift.shifted_copy(x, rng)]), np.concatenate([rank, rank])


def early_stopping_split(groups: np.ndarray, n_splits: int, split: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``split``-th artist-disjoint (train, validation) split whose validation part avoids the largest group.

    The chart data has one connected artist group of about 950 songs; when it forms most of a
    validation part, the validation loss tracks that one cluster and stops training after an epoch.
    """
    splits = cv_folds(groups, n_splits=n_splits)
    values, counts = np.unique(groups, return_counts=True)
    largest = values[np.argmax(counts)]
    usable = [s for s in splits if largest not in set(groups[s[1]].tolist())] or splits
    return usable[split % len(usable)]


def train_member(
    x: np.ndarray,
    rank: np.ndarray,
    groups: np.ndarray,
    config: MLPConfig,
    seed: int,
    window_shift: WindowShift | None = None,
    split: int = 0,
) -> tuple[HeadNet, dict[str, Any]]:
    """Fit one member on (x, rank); early stopping on an inner artist-disjoint split of these rows.

    Augmented copies are made only from the training rows, so the early-stopping split stays
    artist-disjoint and un-augmented, like the held-out fold it stands in for. Standardisation
    constants come from the un-augmented rows.
    """
    torch.set_num_threads(TORCH_THREADS)
    rng = np.random.default_rng(seed)
    inner_train, inner_val = early_stopping_split(groups, config.inner_folds, split)
    rank_mean, rank_std = float(rank.mean()), float(rank.std()) or 1.0

    def tensors(rows: np.ndarray, augment: bool) -> tuple[torch.Tensor, _Targets]:
        xa, ra = _with_augmentation(x[rows], rank[rows], window_shift if augment else None, rng)
        return torch.as_tensor(xa, dtype=torch.float32), _Targets.of(ra, rank_mean, rank_std)

    mean, std = _standardisation(x[inner_train])
    torch.manual_seed(seed)  # weight initialisation
    net = HeadNet(mean, std, config)
    x_tr, y_tr = tensors(inner_train, augment=True)
    best_epoch, best_loss = _train_loop(net, x_tr, y_tr, config, seed, config.max_epochs, tensors(inner_val, False))
    info: dict[str, Any] = {"best_epoch": best_epoch, "val_loss": best_loss, "n_train": len(x_tr)}
    if config.refit_full:
        rows = np.arange(len(x))
        mean, std = _standardisation(x)
        torch.manual_seed(seed + 1)
        net = HeadNet(mean, std, config)
        x_all, y_all = tensors(rows, augment=True)
        epochs = max(1, round(best_epoch * len(x) / len(inner_train)))
        _train_loop(net, x_all, y_all, config, seed + 1, epochs, None)
        info.update(refit_epochs=epochs, n_train=len(x_all))
    return net, info


def predict_score(net: HeadNet, x: np.ndarray, config: MLPConfig) -> np.ndarray:
    with torch.no_grad():
        out = net(torch.from_numpy(np.array(x, dtype=np.float32)))
    return np.asarray(out[:, score_output(config)].double().numpy())
