"""The Markdown training report: the cross-validation table a reviewer reads before shipping a model."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitdesk.training.metrics import METRIC_NAMES

log = logging.getLogger(__name__)

HEADERS = {"spearman": "Spearman", "roc_auc": "ROC-AUC", "pr_auc": "PR-AUC", "brier": "Brier", "ece": "ECE"}


@dataclass(frozen=True)
class Row:
    name: str
    summary: dict[str, dict[str, Any]] | None  # None: not run (the note says why)
    note: str = ""


def _table(rows: list[Row], key: str) -> list[str]:
    lines = [
        "| model | " + " | ".join(HEADERS[m] for m in METRIC_NAMES) + " |",
        "|---|" + "---|" * len(METRIC_NAMES),
    ]
    for row in rows:
        if row.summary is None:
            cells = [row.note or "not run"] + [""] * (len(METRIC_NAMES) - 1)
        elif key == "mean":
            cells = [f"{row.summary[m]['mean']:.3f} ± {row.summary[m]['std']:.3f}" for m in METRIC_NAMES]
        else:
            cells = [f"{row.summary[m][key]:.3f}" for m in METRIC_NAMES]
        lines.append(f"| {row.name} | " + " | ".join(cells) + " |")
    return lines


def render(
    *,
    title: str,
    rows: list[Row],
    window_rows: list[Row],
    reference_rows: list[Row],
    facts: list[str],
    notes: list[str],
) -> str:
    lines = [f"# {title}", ""]
    lines += [f"- {fact}" for fact in facts]
    lines += [
        "",
        "## Cross-validation (artist-disjoint, mean ± std over the 5 held-out folds)",
        "",
        "Each row is scored on songs whose artists the model never saw. Ranking metrics (Spearman vs -rank, "
        "ROC-AUC, PR-AUC for hit = rank <= 3) use the model's score; Brier and ECE (10 equal-width bins) use "
        "its probability. For the MLP ensemble each member is scored on the fold it did not train on.",
        "",
        *_table(rows, "mean"),
        "",
        "## Pooled out-of-fold predictions (all songs at once)",
        "",
        "Per-fold ECE also counts the gap between folds' hit rates (one fold holds a large, hit-rich artist "
        "cluster); the pooled numbers show calibration across the whole data set.",
        "",
        *_table(rows, "pooled"),
    ]
    if window_rows:
        lines += [
            "",
            "## Simulated 30 s windows (held-out songs + one draw of the measured window shift each)",
            "",
            "The chart data has no audio, so window-level skill cannot be measured; this moves every held-out "
            "song's statistics by a draw of the (window - track) differences measured on real music and scores "
            "the same folds again (calibration maps fit on un-shifted held-out scores, as shipped).",
            "",
            *_table(window_rows, "mean"),
            "",
            "Pooled:",
            "",
            *_table(window_rows, "pooled"),
        ]
    if reference_rows:
        lines += [
            "",
            "## Check against the data README (folds grouped on the raw artist_id string)",
            "",
            "The README's reference numbers group on the raw `artist_id`, so a song by '455.306' and one by "
            "'455' can sit on both sides of a split. Same models, those folds:",
            "",
            *_table(reference_rows, "mean"),
        ]
    if notes:
        lines += ["", "## Notes", ""] + [f"- {note}" for note in notes]
    return "\n".join(lines) + "\n"


def write(text: str, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    log.info("wrote %s", path)
