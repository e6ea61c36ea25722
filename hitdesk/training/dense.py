"""The ``dense-descriptors`` network: the cAInvas hit-song tutorial's Sequential model on tabular features.

The tutorial standardises each feature column (``sklearn.preprocessing.scale``), stacks a few dense
ReLU layers under a sigmoid output, trains with Adam on binary cross-entropy for 20 epochs and
watches accuracy and loss on a validation split. This is that recipe in torch (the tutorial's exact
layer widths live in an external gist that is not available offline, so the widths here are ours),
with its curves kept for the report and an ONNX export written with ``graph.GraphBuilder``.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from hitdesk.training.calibration import Calibrator
from hitdesk.training.graph import PROB_OUTPUTS, STATS, GraphBuilder, save, value_info

log = logging.getLogger(__name__)

HIDDEN = (64, 32)
EPOCHS = 20  # the tutorial's
BATCH_SIZE = 32  # Keras's default, which the tutorial keeps
LEARNING_RATE = 1e-3  # Keras's Adam default


class _Sequential(nn.Module):
    def __init__(self, n_in: int, hidden: tuple[int, ...]) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        width = n_in
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU()]
            width = h
        layers.append(nn.Linear(width, 1))
        self.body = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.body(z).squeeze(-1)  # type: ignore[no-any-return]  # the logit; sigmoid gives P(hit)


@dataclass
class DenseModel:
    """A fitted network with its scaling; ``predict`` gives P(hit) for raw feature rows."""

    mean: np.ndarray
    std: np.ndarray
    net: _Sequential
    history: dict[str, list[float]] = field(default_factory=dict)  # loss, accuracy (+ val_loss, val_accuracy)

    def _scaled(self, x: np.ndarray) -> torch.Tensor:
        return torch.as_tensor((np.asarray(x, dtype=np.float64) - self.mean) / self.std, dtype=torch.float32)

    def logit(self, x: np.ndarray) -> np.ndarray:
        self.net.eval()
        with torch.no_grad():
            return np.asarray(self.net(self._scaled(x)).double().numpy())

    def predict(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(1.0 / (1.0 + np.exp(-self.logit(x))))

    def onnx_model(self, name: str, calibrator: Calibrator | None = None) -> onnx.ModelProto:
        """Graph ``stats`` (batch, n_features) -> ``p_hit`` (batch); ``calibrator`` maps the logit when given.

        The network has no uncertainty estimate of its own, so ``p_hit_low`` and ``p_hit_high``
        equal ``p_hit``: the runtime contract asks for the three outputs, and a zero-width range
        claims nothing it does not know.
        """
        g = GraphBuilder()
        h = g.op("Div", [g.op("Sub", [STATS, g.const("scale_mean", self.mean)]), g.const("scale_std", self.std)])
        linear = [m for m in self.net.body if isinstance(m, nn.Linear)]
        for i, layer in enumerate(linear):
            w = layer.weight.detach().double().numpy().T
            b = layer.bias.detach().double().numpy()
            h = g.op("Add", [g.op("MatMul", [h, g.const(f"dense{i}_w", w)]), g.const(f"dense{i}_b", b)])
            if i < len(linear) - 1:
                h = g.op("Relu", [h])
        score = g.op("Squeeze", [h, g.const("dense_out_axis", [1], np.int64)])  # [N, 1] -> [N]
        g.probability_outputs(score, calibrator)
        inputs = [value_info(STATS, ["batch", len(self.mean)])]
        return g.model(name, inputs, [value_info(o, ["batch"]) for o in PROB_OUTPUTS], __doc__ or "")

    def export(self, path: Path, name: str, calibrator: Calibrator | None = None) -> None:
        save(self.onnx_model(name, calibrator), Path(path))


def _epoch_stats(net: _Sequential, z: torch.Tensor, y: torch.Tensor) -> tuple[float, float]:
    net.eval()
    with torch.no_grad():
        logit = net(z)
        loss = float(nn.functional.binary_cross_entropy_with_logits(logit, y))
        acc = float(((logit >= 0).float() == y).float().mean())
    return loss, acc


def fit_dense(
    x: np.ndarray,
    hit: np.ndarray,
    seed: int = 0,
    epochs: int = EPOCHS,
    hidden: tuple[int, ...] = HIDDEN,
    batch_size: int = BATCH_SIZE,
    valid: tuple[np.ndarray, np.ndarray] | None = None,
    threads: int = 1,
) -> DenseModel:
    """Standardise with the training rows' mean and std, then Adam on binary cross-entropy.

    The history holds the per-epoch training loss and accuracy (measured after the epoch, on all
    training rows) and, with ``valid``, the same on the validation rows.
    """
    torch.set_num_threads(threads)
    x = np.asarray(x, dtype=np.float64)
    y = np.asarray(hit, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(x) == 0:
        raise ValueError(f"expected x of shape (n, features) and n labels, got {x.shape} and {y.shape}")
    mean = x.mean(axis=0)
    std = x.std(axis=0)
    std = np.where(std > 1e-12, std, 1.0)
    torch.manual_seed(seed)
    model = DenseModel(mean, std, _Sequential(x.shape[1], tuple(hidden)))
    z, target = model._scaled(x), torch.as_tensor(y, dtype=torch.float32)
    val = None if valid is None else (model._scaled(valid[0]), torch.as_tensor(valid[1], dtype=torch.float32))
    opt = torch.optim.Adam(model.net.parameters(), lr=LEARNING_RATE)
    gen = torch.Generator().manual_seed(seed)
    history: dict[str, list[float]] = {"loss": [], "accuracy": []}
    if val is not None:
        history |= {"val_loss": [], "val_accuracy": []}
    for _ in range(epochs):
        model.net.train()
        order = torch.randperm(len(z), generator=gen)
        for start in range(0, len(order), batch_size):
            idx = order[start : start + batch_size]
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(model.net(z[idx]), target[idx])
            loss.backward()  # type: ignore[no-untyped-call]
            opt.step()
        tr_loss, tr_acc = _epoch_stats(model.net, z, target)
        history["loss"].append(tr_loss)
        history["accuracy"].append(tr_acc)
        if val is not None:
            v_loss, v_acc = _epoch_stats(model.net, *val)
            history["val_loss"].append(v_loss)
            history["val_accuracy"].append(v_acc)
    model.net.eval()
    model.history = history
    if history["loss"] and not math.isfinite(history["loss"][-1]):
        raise ValueError("dense network training diverged (non-finite loss)")
    log.debug("dense network: final loss %.4f, accuracy %.3f", history["loss"][-1], history["accuracy"][-1])
    return model
