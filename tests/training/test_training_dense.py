"""The dense-descriptors network: it learns a planted rule, keeps its curves and exports to ONNX exactly."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest
from training_data import synthetic_stats

from hitdesk.training.calibration import Isotonic, Platt
from hitdesk.training.dense import fit_dense
from hitdesk.training.metrics import binary_metrics


def _data(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = synthetic_stats(n, rng)
    z = (x[:, 20] - 89.0) / 20.0 - (x[:, 3] - 18.0) / 8.0
    return x, (z + 0.3 * rng.standard_normal(n) > 0.5).astype(int)


def test_learns_and_keeps_curves() -> None:
    x, hit = _data(1200, 0)
    xv, hv = _data(400, 1)
    model = fit_dense(x, hit, seed=0, epochs=8, valid=(xv, hv))
    assert set(model.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert all(len(v) == 8 for v in model.history.values())
    assert model.history["loss"][-1] < model.history["loss"][0]
    m = binary_metrics(hv, model.predict(xv))
    assert m["roc_auc"] > 0.9 and m["accuracy"] > m["majority_rate"]
    # Shuffled labels: nothing to learn on held-out rows.
    shuffled = fit_dense(x, np.random.default_rng(2).permutation(hit), seed=0, epochs=8)
    assert binary_metrics(hv, shuffled.predict(xv))["roc_auc"] < 0.65
    again = fit_dense(x, hit, seed=0, epochs=8, valid=(xv, hv))
    assert np.array_equal(again.predict(xv), model.predict(xv))  # deterministic for a seed


@pytest.mark.parametrize("calibrated", [None, "platt", "isotonic"])
def test_onnx_export_matches_torch(tmp_path: Path, calibrated: str | None) -> None:
    x, hit = _data(600, 3)
    model = fit_dense(x, hit, seed=1, epochs=3)
    cal = None
    expected = model.predict(x)
    if calibrated == "platt":
        cal = Platt.fit(model.logit(x), hit)
    elif calibrated == "isotonic":
        cal = Isotonic.fit(model.logit(x), hit)
    if cal is not None:
        expected = cal(model.logit(x))
    path = tmp_path / "dense.head.onnx"
    model.export(path, "dense", cal)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert [i.name for i in session.get_inputs()] == ["stats"]
    p, lo, hi = session.run(["p_hit", "p_hit_low", "p_hit_high"], {"stats": x.astype(np.float32)})
    assert p.shape == (600,)
    assert np.allclose(p, expected, atol=1e-4)
    assert np.array_equal(p, lo) and np.array_equal(p, hi)
