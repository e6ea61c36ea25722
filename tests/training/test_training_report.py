"""The evaluation report: tables, figures and the warnings against trivial baselines."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hitdesk.training.metrics import binary_metrics
from hitdesk.training.report import RecipeReport, Section, write_report


def _binary(name: str, hit: np.ndarray, prob: np.ndarray, folds: int = 3) -> RecipeReport:
    parts = np.arange(len(hit)) % folds
    metrics = [binary_metrics(hit[parts == k], prob[parts == k]) for k in range(folds)]
    return RecipeReport(name, "binary", metrics, oof_hit=hit, oof_prob=prob)


def test_report_tables_figures_and_warnings(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    hit = (rng.uniform(size=600) < 0.3).astype(int)
    skilled = np.clip(0.3 + 0.3 * (hit - 0.3) + rng.normal(0, 0.1, 600), 0.01, 0.99)
    reports = [
        _binary("majority", hit, np.full(600, 0.3)),
        _binary("genre only", hit, np.clip(0.3 + 0.2 * (hit - 0.3) + rng.normal(0, 0.15, 600), 0.01, 0.99)),
        _binary("good model", hit, skilled),
        _binary("always no", hit, np.full(600, 0.1)),
        RecipeReport(
            "tiers",
            "tiers3",
            [{"accuracy": 0.5, "majority_rate": 0.4, "macro_f1": 0.45}] * 2,
            confusion=np.array([[3, 1, 0], [1, 4, 1], [0, 2, 5]]),
            class_names=["0-25", "25-65", "65-100"],
            notes=["a note"],
        ),
    ]
    path = tmp_path / "out" / "report.md"
    write_report(path, "Baselines", reports, ["fact one"])
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# Baselines\n") and "- fact one" in text and "- a note" in text
    assert "| good model | " in text and "| recipe | accuracy | majority rate | ROC-AUC |" in text
    warnings = text.split("## Warnings")[1].split("\n## ")[0]
    # Always "not a hit": as accurate as the majority at best, no better ranking than the genre.
    assert (
        "**always no**: accuracy" in warnings
        and '**always no**: ROC-AUC 0.500 does not beat the "genre only"' in warnings
    )
    assert "**good model**" not in warnings and "**majority**" not in warnings
    for name in ("majority", "good-model", "always-no"):
        for kind in ("reliability", "confusion"):
            png = path.parent / f"report-{name}-{kind}.png"
            assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
            assert f"({png.name})" in text
    assert (path.parent / "report-tiers-confusion.png").is_file()
    assert not (path.parent / "report-tiers-reliability.png").exists()


def test_pooled_values_further_sections_and_notes(tmp_path: Path) -> None:
    folds = [{"roc_auc": 0.6, "spearman": 0.2}, {"roc_auc": 0.7, "spearman": 0.3}]
    row = RecipeReport("ensemble", "binary", folds, pooled={"roc_auc": 0.66, "spearman": 0.24})
    plain = RecipeReport("ridge", "binary", folds)
    genre = RecipeReport("genre only", "binary", [{"roc_auc": 0.8, "spearman": 0.3}] * 2)
    shifted = RecipeReport("ensemble, shifted", "binary", folds, pooled={"roc_auc": 0.61, "spearman": 0.19})
    path = tmp_path / "r.md"
    write_report(path, "T", [genre, plain, row], ["f"], [Section("Windows", "Shifted inputs.", [shifted])], ["a note"])
    text = path.read_text(encoding="utf-8")
    summary = text.split("## Summary")[1].split("\n## ")[0]
    assert "| ensemble | 0.650 ± 0.071 | 0.250 ± 0.071 |" in summary
    pooled = summary.split("Pooled out-of-fold predictions")[1]
    assert "| ensemble | 0.660 | 0.240 |" in pooled and "| ridge |" not in pooled  # only rows with pooled values
    windows = text.split("## Windows\n")[1].split("\n## ")[0]
    assert "Shifted inputs." in windows and "| ensemble, shifted | 0.600 ± 0.141" not in windows
    assert "| ensemble, shifted | 0.650 ± 0.071 |" in windows and "| ensemble, shifted | 0.610 | 0.190 |" in windows
    assert '**ridge**: ROC-AUC 0.650 does not beat the "genre only" baseline (0.800).' in text.split("## Warnings")[1]
    assert text.rstrip().endswith("## Notes\n\n- a note")
    assert not list(tmp_path.glob("*.png"))  # no out-of-fold probabilities given: no figures
