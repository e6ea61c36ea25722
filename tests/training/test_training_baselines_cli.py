"""``hitdesk-train baselines`` on synthetic chart data and ``evaluate --model --manifest`` on real clips."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from training_data import write_synthetic_zalo

from hitdesk.training.baseline_table import ROW_NAMES
from hitdesk.training.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_baselines_command_fills_one_row_per_recipe(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_synthetic_zalo(tmp_path / "zalo", n_songs=300, n_artists=40)
    report = tmp_path / "reports" / "baselines.md"
    args = ["baselines", "--data", str(data), "--report", str(report)]
    args += ["--dense-epochs", "3", "--max-epochs", "3", "--nets-per-member", "1"]
    assert main(args) == 0
    text = report.read_text(encoding="utf-8")
    summary = text.split("## Summary")[1].split("\n## ")[0]
    rows = re.findall(r"^\| ([^|]+?) \| [-0-9n]", summary, flags=re.M)
    assert tuple(rows) == ROW_NAMES
    header = summary.splitlines()[2]
    for metric in ("accuracy", "majority rate", "ROC-AUC", "PR-AUC", "macro-F1", "Brier", "ECE", "recall@10%"):
        assert f"| {metric} |" in header
    assert "| MAE |" in header and "| R² |" in header  # the regressors' rank error
    # The constant predictor ranks nothing: ROC-AUC exactly 0.5 in every fold.
    majority = next(line for line in summary.splitlines() if line.startswith("| majority |"))
    assert "0.500 ± 0.000" in majority
    for name in ("majority", "dense-network", "default-model"):
        assert (report.parent / f"baselines-{name}-reliability.png").is_file()
    assert "Default model: cross-validated in this run (check against `hitdesk-zalo-v2.json`: ROC-AUC" in text
    out = capsys.readouterr().out
    assert "gradient boosting (LightGBM): ROC-AUC" in out


def test_baselines_default_model_from_card(tmp_path: Path) -> None:
    data = write_synthetic_zalo(tmp_path / "zalo", n_songs=200, n_artists=30)
    card = REPO / "models" / "hitdesk-zalo-v2.json"
    report = tmp_path / "b.md"
    args = ["baselines", "--data", str(data), "--report", str(report), "--default-model", "card"]
    assert main([*args, "--card", str(card), "--dense-epochs", "2"]) == 0
    text = report.read_text(encoding="utf-8")
    measured = json.loads(card.read_text(encoding="utf-8"))["metrics"]["cv"]["default"]["roc_auc"]
    row = next(line for line in text.splitlines() if line.startswith("| default model |"))
    assert f"{measured['mean']:.3f} ±" in row and "n/a" in row
    assert "figures from its model card" in text
    assert not (tmp_path / "b-default-model-reliability.png").exists()


@pytest.fixture
def clip_manifest(tmp_path: Path, data_dir: Path) -> Path:
    for name in ("chipdisko-12s.ogg", "forest-sprint-6s.m4a"):
        shutil.copy(data_dir / name, tmp_path / name)
    (tmp_path / "broken.ogg").write_bytes(b"not audio at all" * 64)
    path = tmp_path / "manifest.csv"
    path.write_text(
        "path,popularity,label,artist\nchipdisko-12s.ogg,80,1,A\nforest-sprint-6s.m4a,20,0,B\nbroken.ogg,50,0,C\n",
        encoding="utf-8",
    )
    return path


def test_evaluate_model_on_manifest(clip_manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    model = str(REPO / "models" / "hitdesk-zalo-v2")
    args = ["evaluate", "--model", model, "--manifest", str(clip_manifest), "--json", "--window-seconds", "3"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["n"] == 2 and result["n_failed"] == 1
    assert len(result["errors"]) == 1 and "broken.ogg" in result["errors"][0]
    assert result["model"]["name"] == "hitdesk-zalo-v2"
    assert result["ranking_against"] == "popularity" and result["hit_rate"] == 0.5
    for key in ("accuracy", "majority_rate", "roc_auc", "brier", "ece", "spearman", "recall_at_k", "ndcg_at_k"):
        assert key in result
    assert result["roc_auc"] in (0.0, 1.0)  # two songs: ordered right or wrong
    assert 0.0 <= result["brier"] <= 1.0


def test_evaluate_needs_one_pairing(clip_manifest: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["evaluate", "--manifest", str(clip_manifest)]) == 2
    assert "either --head with --data, or --model with --manifest" in capsys.readouterr().err
    assert main(["evaluate", "--model", "x", "--manifest", str(clip_manifest), "--head", "y.onnx"]) == 2


def test_evaluation_modules_do_not_import_torch() -> None:
    import subprocess
    import sys

    modules = "manifest, featcache, metrics, report, evaluate_manifest"
    code = f"import sys; from hitdesk.training import {modules}; assert 'torch' not in sys.modules, 'torch imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=REPO)
