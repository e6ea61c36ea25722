"""One training loop for every log-mel network: regression, binary and multi-class tasks.

The recipes differ in their net, loss and schedule, not in how mini-batches are drawn, how early
stopping keeps the best weights or how time is measured; one loop keeps those identical, so a
difference in results between recipes comes from the recipe. Runs are deterministic for a fixed
seed on one thread: initialisation, batch order, dropout and the validation split all come from it.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F  # noqa: N812 (the usual torch spelling)

from hitdesk.training.nets import MelNet

log = logging.getLogger(__name__)

TASKS = ("regression", "binary", "classification")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of one training run (recorded in the model card)."""

    epochs: int = 30
    batch_size: int = 32
    lr: float = 1e-3  # the peak rate when ``one_cycle`` is set
    patience: int = 7  # epochs without a better validation loss before stopping (Falah et al. use 7)
    one_cycle: bool = False
    seed: int = 0
    threads: int = 1
    weight_decay: float = 1e-4
    # Share of the rows held out for early stopping when no validation set is given; 0 trains for
    # all epochs and keeps the last weights.
    valid_fraction: float = 0.15
    # Re-initialise the weights from ``seed`` first, so the result depends on the seed alone and not
    # on whatever the global random state was when the net was built.
    reinit: bool = True

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1 or self.threads < 1:
            raise ValueError("epochs, batch_size and threads must be positive")
        if not 0.0 <= self.valid_fraction < 1.0:
            raise ValueError("valid_fraction must be in [0, 1)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainResult:
    net: MelNet
    history: dict[str, list[float]] = field(default_factory=dict)  # per epoch: train_loss, valid_loss, lr, ...
    best_epoch: int = 0  # 1-based epoch whose weights were kept
    seconds: float = 0.0  # wall time of the whole call
    examples_per_s: float = 0.0  # training examples through forward + backward per second of optimisation


@dataclass(frozen=True)
class _Data:
    x: torch.Tensor
    y: torch.Tensor
    meta: torch.Tensor | None

    def take(self, idx: torch.Tensor) -> _Data:
        return _Data(self.x[idx], self.y[idx], None if self.meta is None else self.meta[idx])

    def __len__(self) -> int:
        return int(self.x.shape[0])


def _tensors(x: np.ndarray, y: np.ndarray, meta: np.ndarray | None, task: str) -> _Data:
    if x.ndim != 3:
        raise ValueError(f"x must be (examples, mels, frames), not {x.shape}")
    if len(y) != len(x) or (meta is not None and len(meta) != len(x)):
        raise ValueError("x, y and meta must have one row per example")
    y_dtype = np.int64 if task == "classification" else np.float32
    return _Data(
        torch.as_tensor(np.ascontiguousarray(x, dtype=np.float32)),
        torch.as_tensor(np.asarray(y, dtype=y_dtype)),
        None if meta is None else torch.as_tensor(np.asarray(meta, dtype=np.float32)),
    )


def _forward(net: MelNet, d: _Data) -> torch.Tensor:
    out: torch.Tensor = net(d.x) if d.meta is None else net(d.x, d.meta)
    return out


def _loss(net: MelNet, out: torch.Tensor, y: torch.Tensor, task: str) -> torch.Tensor:
    if task == "regression":
        return F.mse_loss(net.standardised(out), net.standardised(y))
    if task == "binary":
        return F.binary_cross_entropy_with_logits(out, y)
    return F.cross_entropy(out, y)


def _correct(out: torch.Tensor, y: torch.Tensor, task: str) -> float:
    if task == "binary":
        return float(((out > 0).float() == y).sum())
    return float((out.argmax(dim=1) == y).sum())


def _evaluate(net: MelNet, d: _Data, task: str, batch_size: int) -> tuple[float, float]:
    """Mean loss and accuracy (NaN for regression) over ``d`` in eval mode."""
    net.eval()
    total, correct = 0.0, 0.0
    with torch.no_grad():
        for a in range(0, len(d), batch_size):
            part = d.take(torch.arange(a, min(a + batch_size, len(d))))
            out = _forward(net, part)
            total += float(_loss(net, out, part.y, task)) * len(part)
            if task != "regression":
                correct += _correct(out, part.y, task)
    n = max(len(d), 1)
    return total / n, (correct / n if task != "regression" else math.nan)


def _reinitialise(net: MelNet) -> None:
    for module in net.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()
        if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
            module.reset_running_stats()


def _split(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    order = np.random.default_rng(seed).permutation(n)
    n_valid = round(n * fraction)
    return np.sort(order[n_valid:]), np.sort(order[:n_valid])


def train(
    net: MelNet,
    x: np.ndarray,
    y: np.ndarray,
    task: str,
    cfg: TrainConfig,
    meta: np.ndarray | None = None,
    valid: tuple[np.ndarray, np.ndarray] | tuple[np.ndarray, np.ndarray, np.ndarray | None] | None = None,
) -> TrainResult:
    """Trains ``net`` in place on log-mel windows ``x`` (N, 128, T) and targets ``y``.

    ``task``: "regression" (MSE on the standardised target; ``y`` float), "binary" (BCE on one logit;
    ``y`` 0/1) or "classification" (cross-entropy; ``y`` class indices). ``valid`` is (x, y) or
    (x, y, meta) for early stopping; without it a random ``cfg.valid_fraction`` of the rows is held
    out (pass a grouped split yourself when rows of one artist must stay together). The weights of
    the epoch with the lowest validation loss are kept.
    """
    if task not in TASKS:
        raise ValueError(f"task must be one of {TASKS}, not {task!r}")
    if (task == "classification") != (net.n_outputs > 1):
        raise ValueError(f"a net with {net.n_outputs} output(s) cannot be trained for {task}")
    net.task = task
    started = time.perf_counter()
    torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    if cfg.reinit:
        _reinitialise(net)
    data = _tensors(x, y, meta, task)
    if valid is not None:
        v_meta = valid[2] if len(valid) == 3 else None
        val: _Data | None = _tensors(valid[0], valid[1], v_meta, task)
    elif cfg.valid_fraction > 0 and len(data) >= 10:
        tr, va = _split(len(data), cfg.valid_fraction, cfg.seed)
        data, val = data.take(torch.as_tensor(tr)), data.take(torch.as_tensor(va))
    else:
        val = None
    if task == "regression":
        net.set_target_scale(float(data.y.mean()), float(data.y.std()))
    else:
        net.set_target_scale(0.0, 1.0)  # logits are used as they come out

    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    steps_per_epoch = math.ceil(len(data) / cfg.batch_size)
    sched = (
        torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=cfg.lr, epochs=cfg.epochs, steps_per_epoch=steps_per_epoch)
        if cfg.one_cycle
        else None
    )
    gen = torch.Generator().manual_seed(cfg.seed)
    history: dict[str, list[float]] = {"train_loss": [], "lr": []}
    if task != "regression":
        history["train_accuracy"] = []
    if val is not None:
        history["valid_loss"] = []
        if task != "regression":
            history["valid_accuracy"] = []
    best_loss, best_epoch = math.inf, 0
    best_state = {k: v.clone() for k, v in net.state_dict().items()}
    optimise_seconds, seen = 0.0, 0
    for epoch in range(1, cfg.epochs + 1):
        net.train()
        t0 = time.perf_counter()
        history["lr"].append(float(opt.param_groups[0]["lr"]))  # the rate the epoch starts with
        order = torch.randperm(len(data), generator=gen)
        total, correct = 0.0, 0.0
        for a in range(0, len(order), cfg.batch_size):
            idx = order[a : a + cfg.batch_size]
            if len(idx) < 2 and len(order) > 1:
                continue  # batch norm cannot train on a single example
            batch = data.take(idx)
            opt.zero_grad()
            out = _forward(net, batch)
            loss = _loss(net, out, batch.y, task)
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
            if sched is not None:
                sched.step()
            total += float(loss.detach()) * len(idx)
            seen += len(idx)
            if task != "regression":
                correct += _correct(out.detach(), batch.y, task)
        optimise_seconds += time.perf_counter() - t0
        history["train_loss"].append(total / len(data))
        if task != "regression":
            history["train_accuracy"].append(correct / len(data))
        if val is None:
            best_epoch = epoch
            continue
        v_loss, v_acc = _evaluate(net, val, task, cfg.batch_size)
        history["valid_loss"].append(v_loss)
        if task != "regression":
            history["valid_accuracy"].append(v_acc)
        if v_loss < best_loss - 1e-6:
            best_loss, best_epoch = v_loss, epoch
            best_state = {k: v.clone() for k, v in net.state_dict().items()}
        elif epoch - best_epoch >= cfg.patience:
            log.debug("early stop at epoch %d (best %d)", epoch, best_epoch)
            break
    if val is not None:
        net.load_state_dict(best_state)
    net.eval()
    return TrainResult(
        net=net,
        history=history,
        best_epoch=best_epoch,
        seconds=time.perf_counter() - started,
        examples_per_s=seen / optimise_seconds if optimise_seconds > 0 else 0.0,
    )


def predict(net: MelNet, x: np.ndarray, meta: np.ndarray | None = None, batch_size: int = 64) -> np.ndarray:
    """Regression values, P(class 1) for a one-logit binary net, or (N, classes) probabilities.

    A one-output net trained for regression and one trained for a binary task look the same, so
    ``net.task`` (set by ``train``) tells them apart.
    """
    net.eval()
    outs = []
    with torch.no_grad():
        for a in range(0, len(x), batch_size):
            xb = torch.as_tensor(np.ascontiguousarray(x[a : a + batch_size], dtype=np.float32))
            mb = None if meta is None else torch.as_tensor(np.asarray(meta[a : a + batch_size], dtype=np.float32))
            out = net(xb) if mb is None else net(xb, mb)
            if net.n_outputs > 1:
                out = torch.softmax(out, dim=1)
            elif net.task == "binary":
                out = torch.sigmoid(out)
            outs.append(out.double().numpy())
    if not outs:
        shape = (0, net.n_outputs) if net.n_outputs > 1 else (0,)
        return np.zeros(shape)
    return np.concatenate(outs)
