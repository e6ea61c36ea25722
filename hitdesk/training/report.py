"""The one training report: Markdown tables of cross-validated metrics, reliability diagrams, confusion matrices.

Every command that cross-validates (``fit`` for any recipe, ``baselines``) writes its report here.
The report is what a label reads before trusting a model on its catalogue, so it does not let a
number stand alone: accuracy sits beside the majority-class rate, and a warning is written when a
result does not beat always answering the commonest class or the metadata-only baseline. Rows may
carry pooled values (all out-of-fold predictions at once) beside the per-fold mean and spread, and
further sections score the same models under other conditions (simulated windows, other folds).
"""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hitdesk.training.metrics import confusion as confusion_counts
from hitdesk.training.metrics import summarise

log = logging.getLogger(__name__)

MAJORITY = "majority"
# Baselines that see no audio: a model on audio must beat them to show it hears something.
METADATA_BASELINES = ("genre only", "metadata only")
N_BINS = 10

METRIC_LABELS = {
    "accuracy": "accuracy",
    "majority_rate": "majority rate",
    "roc_auc": "ROC-AUC",
    "pr_auc": "PR-AUC",
    "macro_f1": "macro-F1",
    "macro_precision": "macro precision",
    "macro_recall": "macro recall",
    "within_one_accuracy": "within-one accuracy",
    "tier_mae": "tier MAE",
    "mae": "MAE",
    "r2": "R²",
    "spearman": "Spearman",
    "kendall": "Kendall",
    "recall_at_k": "recall@10%",
    "ndcg_at_k": "nDCG@10%",
    "brier": "Brier",
    "ece": "ECE",
}
# The one metric a result is judged by, per task, when comparing it with a baseline (higher is better).
KEY_METRIC = {"binary": "roc_auc", "regression": "spearman", "tiers3": "macro_f1", "deciles": "macro_f1"}


@dataclass
class RecipeReport:
    recipe: str
    task: str  # "binary" | "regression" | "tiers3" | "deciles"
    fold_metrics: list[dict[str, float]]
    oof_hit: np.ndarray | None = None  # for the reliability diagram
    oof_prob: np.ndarray | None = None
    confusion: np.ndarray | None = None
    class_names: list[str] | None = None
    notes: list[str] = field(default_factory=list)
    pooled: dict[str, float] | None = None  # the metrics of all out-of-fold predictions at once

    def summary(self) -> dict[str, dict[str, float]]:
        return summarise(self.fold_metrics)


@dataclass(frozen=True)
class Section:
    """A further table after the recipes' own: the same kind of rows under another condition."""

    title: str
    text: str
    reports: list[RecipeReport]


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "recipe"


def _cell(stats: dict[str, float] | None) -> str:
    if stats is None or math.isnan(stats["mean"]):
        return "n/a"
    return f"{stats['mean']:.3f} ± {stats['std']:.3f}"


def _ordered_metrics(reports: list[RecipeReport]) -> list[str]:
    present: set[str] = set()
    for r in reports:
        for m in r.fold_metrics:
            present |= set(m)
    known = [m for m in METRIC_LABELS if m in present]
    return known + sorted(present - set(known))


def summary_table(reports: list[RecipeReport]) -> list[str]:
    """One row per recipe, one column per metric (mean ± std across folds)."""
    metrics = _ordered_metrics(reports)
    lines = [
        "| recipe | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for r in reports:
        s = r.summary()
        lines.append(f"| {r.recipe} | " + " | ".join(_cell(s.get(m)) for m in metrics) + " |")
    return lines


def pooled_table(reports: list[RecipeReport]) -> list[str]:
    """The rows that carry pooled values, one column per metric; empty when none does."""
    rows = [r for r in reports if r.pooled is not None]
    if not rows:
        return []
    metrics = _ordered_metrics(rows)
    lines = [
        "| recipe | " + " | ".join(METRIC_LABELS.get(m, m) for m in metrics) + " |",
        "|---|" + "---|" * len(metrics),
    ]
    for r in rows:
        assert r.pooled is not None
        values = [r.pooled.get(m, math.nan) for m in metrics]
        lines.append(f"| {r.recipe} | " + " | ".join("n/a" if math.isnan(v) else f"{v:.3f}" for v in values) + " |")
    return lines


def _tables(reports: list[RecipeReport]) -> list[str]:
    lines = [*summary_table(reports), ""]
    pooled = pooled_table(reports)
    if pooled:
        lines += ["Pooled out-of-fold predictions (all songs at once):", "", *pooled, ""]
    return lines


def _recipe_table(report: RecipeReport) -> list[str]:
    s = report.summary()
    n = len(report.fold_metrics)
    lines = ["| metric | mean ± std | " + " | ".join(f"fold {i + 1}" for i in range(n)) + " |"]
    lines.append("|---|---|" + "---|" * n)
    for m in _ordered_metrics([report]):
        folds = " | ".join("n/a" if math.isnan(f.get(m, math.nan)) else f"{f[m]:.3f}" for f in report.fold_metrics)
        lines.append(f"| {METRIC_LABELS.get(m, m)} | {_cell(s.get(m))} | {folds} |")
    return lines


def warnings_for(reports: list[RecipeReport]) -> dict[str, list[str]]:
    """Per recipe, the baselines it does not beat (accuracy vs majority rate; key metric vs baselines)."""
    by_name = {r.recipe: r for r in reports}
    baselines = [by_name[n] for n in (MAJORITY, *METADATA_BASELINES) if n in by_name]
    out: dict[str, list[str]] = {}
    for r in reports:
        s = r.summary()
        notes: list[str] = []
        if r.recipe != MAJORITY and "accuracy" in s and "majority_rate" in s:
            acc, rate = s["accuracy"]["mean"], s["majority_rate"]["mean"]
            if not acc > rate:
                notes.append(
                    f"accuracy {acc:.3f} does not beat the majority-class rate {rate:.3f}: always answering the "
                    "commonest class is at least as accurate."
                )
        key = KEY_METRIC.get(r.task)
        for b in baselines:
            if b is r or (r.recipe in (MAJORITY, *METADATA_BASELINES) and b.recipe in METADATA_BASELINES):
                continue
            theirs = b.summary().get(key or "")
            ours = s.get(key or "")
            if theirs is None or ours is None or math.isnan(theirs["mean"]) or math.isnan(ours["mean"]):
                continue
            if not ours["mean"] > theirs["mean"]:
                label = METRIC_LABELS.get(key or "", key)
                notes.append(
                    f'{label} {ours["mean"]:.3f} does not beat the "{b.recipe}" baseline ({theirs["mean"]:.3f}).'
                )
        if notes:
            out[r.recipe] = notes
    return out


def _reliability_png(path: Path, title: str, hit: np.ndarray, prob: np.ndarray) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    hit = np.asarray(hit, dtype=np.float64)
    prob = np.clip(np.asarray(prob, dtype=np.float64), 0.0, 1.0)
    bins = np.minimum((prob * N_BINS).astype(np.int64), N_BINS - 1)
    counts = np.bincount(bins, minlength=N_BINS)
    used = counts > 0
    mean_p = np.bincount(bins, prob, N_BINS)[used] / counts[used]
    rate = np.bincount(bins, hit, N_BINS)[used] / counts[used]
    fig, (ax, axh) = plt.subplots(2, 1, figsize=(5, 6), height_ratios=[3, 1], sharex=True)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", label="perfect calibration")
    ax.plot(mean_p, rate, marker="o", label="observed")
    ax.set_ylabel("observed hit rate")
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left")
    axh.bar((np.arange(N_BINS) + 0.5) / N_BINS, counts, width=1 / N_BINS, color="0.5", edgecolor="white")
    axh.set_xlabel("predicted probability (10 bins)")
    axh.set_ylabel("songs")
    axh.set_xlim(0, 1)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _confusion_png(path: Path, title: str, counts: np.ndarray, names: list[str]) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    size = 2.5 + 0.45 * len(names)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(counts, cmap="Blues")
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title, fontsize=10)
    top = counts.max() if counts.size else 0
    for (i, j), v in np.ndenumerate(counts):
        ax.text(j, i, str(int(v)), ha="center", va="center", color="white" if v > 0.6 * top else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def _figures(path: Path, r: RecipeReport) -> list[str]:
    lines: list[str] = []
    stem = f"{path.stem}-{_slug(r.recipe)}"
    if r.oof_hit is not None and r.oof_prob is not None and len(r.oof_hit):
        png = path.parent / f"{stem}-reliability.png"
        _reliability_png(png, f"{r.recipe}: reliability", r.oof_hit, r.oof_prob)
        lines += [f"![reliability diagram of {r.recipe}]({png.name})", ""]
    matrix, names = r.confusion, r.class_names
    if matrix is None and r.task == "binary" and r.oof_hit is not None and r.oof_prob is not None:
        matrix = confusion_counts(r.oof_hit, np.asarray(r.oof_prob) >= 0.5, 2)
        names = ["not hit", "hit"]
    if matrix is not None:
        names = names or [str(i) for i in range(matrix.shape[0])]
        png = path.parent / f"{stem}-confusion.png"
        _confusion_png(png, f"{r.recipe}\nconfusion, out of fold", np.asarray(matrix), names)
        lines += [f"![confusion matrix of {r.recipe}]({png.name})", ""]
    return lines


def render(
    path: Path,
    title: str,
    reports: list[RecipeReport],
    facts: list[str],
    sections: Sequence[Section] = (),
    notes: Sequence[str] = (),
) -> str:
    """The Markdown text; writes the PNGs beside ``path`` as it goes."""
    lines = [f"# {title}", ""]
    lines += [f"- {fact}" for fact in facts]
    warnings = warnings_for(reports)
    lines += ["", "## Summary (mean ± std across folds)", "", *_tables(reports)]
    if warnings:
        lines += ["## Warnings", ""]
        for recipe, said in warnings.items():
            lines += [f"- **{recipe}**: {note}" for note in said]
        lines.append("")
    for r in reports:
        lines += [f"## {r.recipe}", "", f"Task: {r.task}; {len(r.fold_metrics)} folds.", ""]
        lines += _recipe_table(r)
        lines.append("")
        for note in warnings.get(r.recipe, []):
            lines += [f"> Warning: {note}", ""]
        lines += [f"- {note}" for note in r.notes]
        if r.notes:
            lines.append("")
        lines += _figures(path, r)
    for section in sections:
        lines += [f"## {section.title}", "", section.text, "", *_tables(section.reports)]
    if notes:
        lines += ["## Notes", "", *(f"- {note}" for note in notes)]
    return "\n".join(lines).rstrip() + "\n"


def write_report(
    path: Path,
    title: str,
    reports: list[RecipeReport],
    facts: list[str],
    sections: Sequence[Section] = (),
    notes: Sequence[str] = (),
) -> None:
    """Markdown at ``path``, PNGs beside it (``<stem>-<recipe>-reliability.png``, ``-confusion.png``)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(path, title, reports, facts, sections, notes)
    path.write_text(text, encoding="utf-8")
    log.info("wrote %s", path)
