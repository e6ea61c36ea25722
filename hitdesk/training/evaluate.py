"""Scoring an exported head on any directory in the zalo format, with onnxruntime only.

This is how a shipped model is checked without its training code: the same loader and metrics as
training, but the predictions come from the ``.head.onnx`` file the app will load.
"""

from __future__ import annotations

import logging
import math
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.config import N_STATS
from hitdesk.errors import ModelError
from hitdesk.training.metrics import score_metrics
from hitdesk.training.zalo import load_scored

log = logging.getLogger(__name__)

BATCH = 4096


def run_head(head_path: str | Path, stats: np.ndarray) -> dict[str, np.ndarray]:
    """All outputs of a head graph for raw statistics [n, 42]."""
    import onnxruntime as ort

    head_path = Path(head_path)
    if not head_path.is_file():
        raise ModelError(f"Model file '{head_path}' does not exist.")
    try:
        session = ort.InferenceSession(str(head_path), providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own, unexported exception types
        raise ModelError(f"Cannot load '{head_path}': the file is not a valid ONNX model ({exc}).") from exc
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].shape[-1] != N_STATS:
        raise ModelError(f"'{head_path}' is not a head model: it must take one [batch, {N_STATS}] input.")
    names = [o.name for o in session.get_outputs()]
    chunks: list[list[np.ndarray]] = []
    for start in range(0, len(stats), BATCH):
        batch = np.ascontiguousarray(stats[start : start + BATCH], dtype=np.float32)
        chunks.append(session.run(names, {inputs[0].name: batch}))
    return {name: np.concatenate([c[i] for c in chunks]) for i, name in enumerate(names)}


def evaluate_head(head_path: str | Path, data_dir: str | Path) -> dict[str, Any]:
    """n, n_dropped and the metrics of ``p_hit`` against the ranks in ``data_dir``."""
    data = load_scored(data_dir)
    if data.n == 0:
        raise ValueError(f"{data_dir}: no songs with both statistics and a rank")
    p_hit = run_head(head_path, data.stats)["p_hit"].astype(np.float64)
    metrics = score_metrics(p_hit, p_hit, data.rank)
    result: dict[str, Any] = {"n": data.n, "n_dropped": data.n_dropped}
    # NaN (one class only) is not valid JSON: report it as null.
    result.update({k: (None if math.isnan(v) else v) for k, v in metrics.items()})
    return result
