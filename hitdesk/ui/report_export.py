"""File ▸ Export Report: the selected takes (or all of them) as the PDF ``hitdesk report`` writes.

``export_report`` does the work and returns the sentence for the status bar, so tests call it directly;
``export_report_dialog`` only asks where to write.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from hitdesk.explain.drivers import head_scorer
from hitdesk.model.runtime import HitModel
from hitdesk.present import plural
from hitdesk.ui.command_context import CommandContext
from hitdesk.ui.report_pdf import ReportError, report_take, write_report
from hitdesk.ui.takes import Take


def reportable(takes: Sequence[Take]) -> list[Take]:
    """The takes that have a result (a failed analysis is reported with its reason)."""
    return [t for t in takes if t.result is not None]


def export_report(takes: Sequence[Take], path: Path, model: HitModel) -> str:
    """Writes the report; raises ``ReportError`` with one sentence when it cannot (never over a take's file)."""
    done = reportable(takes)
    if not done:
        raise ReportError("No take has been analysed yet, so there is nothing to report.")
    for t in takes:
        if t.path.exists() and path.exists() and t.path.samefile(path):
            raise ReportError(f"Will not write the report over '{t.name}', one of the takes.")
    pages = [report_take(t.result, t.detail, t.picture) for t in done if t.result is not None]
    write_report(path, pages, model.card, head_scorer(model) if model.has_head else None)
    return f"Saved a report of {plural(len(done), 'take')} as {path}."


def export_report_dialog(c: CommandContext) -> None:
    model = c.controller.model
    if model is None:
        QMessageBox.warning(c.window, "Export report", c.controller.model_error or "No model is loaded.")
        return
    takes = c.view.selected_takes() or c.controller.takes
    start = str(Path(c.prefs.folder_for("export") or Path.home()) / "hitdesk-report.pdf")
    path, _ = QFileDialog.getSaveFileName(c.window, "Export report", start, "PDF (*.pdf)")
    if not path:
        return
    p = Path(path) if path.lower().endswith(".pdf") else Path(path + ".pdf")
    try:
        said = export_report(takes, p, model)
    except ReportError as exc:
        QMessageBox.warning(c.window, "Export failed", str(exc))
        return
    c.prefs.remember_folder("export", p.parent)
    c.view.say(said)
