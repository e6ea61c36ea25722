"""ONNX export of a trained log-mel network, and the parity check against torch.

The graph has the input ``logmel`` (batch, 128, time), plus ``meta`` (batch, n_meta) for nets with
a metadata branch, and one output ``raw``: the regression value or binary logit (batch,), or the
class logits (batch, classes). Batch and time are dynamic axes, so one file scores windows of any
length. Calibration and the p_hit outputs the app reads are added around ``raw`` by the recipe
that owns the model, not here.

Exporter: torch's TorchScript-based exporter (``dynamo=False``). It needs nothing beyond torch and
onnx and works offline; the newer dynamo exporter would add onnxscript as a dependency for no
gain on these plain convolutional graphs. Opset and IR version are ``graph.py``'s, so the nets merge
with the hand-built graphs around them (readable by onnxruntime 1.17, the oldest the project allows).
"""

from __future__ import annotations

import logging
import tempfile
import warnings
from pathlib import Path

import numpy as np
import onnx
import torch

from hitdesk.config import FEATURES
from hitdesk.training.graph import OPSET, PRODUCER, finish
from hitdesk.training.nets import MelNet

log = logging.getLogger(__name__)

INPUT_LOGMEL = "logmel"
INPUT_META = "meta"
OUTPUT_RAW = "raw"
PARITY_ATOL = 1e-4


def onnx_model(net: MelNet, n_meta: int = 0, example_frames: int = 130) -> onnx.ModelProto:
    """The net (in eval mode) as an ONNX model with dynamic batch and time axes."""
    if n_meta != net.n_meta:
        raise ValueError(f"the net takes {net.n_meta} metadata columns, not {n_meta}")
    net.eval()
    logmel = torch.zeros(2, FEATURES.n_mels, example_frames) - 40.0
    args: tuple[torch.Tensor, ...] = (logmel,)
    names = [INPUT_LOGMEL]
    axes: dict[str, dict[int, str]] = {INPUT_LOGMEL: {0: "batch", 2: "time"}, OUTPUT_RAW: {0: "batch"}}
    if n_meta:
        args = (logmel, torch.zeros(2, n_meta))
        names.append(INPUT_META)
        axes[INPUT_META] = {0: "batch"}
    with tempfile.TemporaryDirectory(prefix="hitdesk-export-") as tmp, warnings.catch_warnings():
        out = Path(tmp) / "net.onnx"
        # The TorchScript exporter announces its own deprecation; the graphs it writes are checked below.
        warnings.simplefilter("ignore")
        torch.onnx.export(
            net,
            args,
            out,
            input_names=names,
            output_names=[OUTPUT_RAW],
            dynamic_axes=axes,
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
        model = onnx.load_model(str(out))
    model.producer_name = PRODUCER
    model.doc_string = f"{type(net).__name__} ({net.task}): log-mel dB (0 at window max, floor -80) -> raw"
    return finish(model)


def export_net(net: MelNet, path: Path, n_meta: int = 0) -> None:
    """Writes ``net`` to ``path`` as ONNX, after checking onnxruntime agrees with torch on two lengths."""
    model = onnx_model(net, n_meta)
    parity_error(net, model)  # raises when the graph does not reproduce the net
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(path))
    log.info("wrote %s (%d bytes)", path, path.stat().st_size)


def parity_error(
    net: MelNet, model: onnx.ModelProto, frames: tuple[int, ...] = (97, 263), seed: int = 0, batch: int = 3
) -> float:
    """Largest |onnxruntime - torch| over random log-mel inputs of the given lengths.

    Raises ``AssertionError`` when it exceeds ``PARITY_ATOL``: an exported model that does not do
    what the trained net does must not be written.
    """
    import onnxruntime as ort

    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(seed)
    worst = 0.0
    net.eval()
    for t in frames:
        logmel = np.maximum(-80.0, -40.0 + 15.0 * rng.standard_normal((batch, FEATURES.n_mels, t))).astype(np.float32)
        logmel -= logmel.max(axis=(1, 2), keepdims=True)
        feeds = {INPUT_LOGMEL: logmel}
        with torch.no_grad():
            if net.n_meta:
                meta = rng.standard_normal((batch, net.n_meta)).astype(np.float32)
                feeds[INPUT_META] = meta
                ref = net(torch.from_numpy(logmel), torch.from_numpy(meta)).numpy()
            else:
                ref = net(torch.from_numpy(logmel)).numpy()
        got = session.run([OUTPUT_RAW], feeds)[0]
        if got.shape != ref.shape:
            raise AssertionError(f"ONNX output shape {got.shape} differs from torch {ref.shape} at {t} frames")
        worst = max(worst, float(np.max(np.abs(got - ref))))
    if worst > PARITY_ATOL:
        raise AssertionError(f"ONNX and torch differ by {worst:.2e} (> {PARITY_ATOL:g})")
    return worst
