"""``hitdesk report FILE... --pdf OUT.pdf``: a PDF with a page per take and one comparing them.

Each file is analysed afresh (the spectrogram strip needs its decode, which the result cache does not
keep), with its explanations; the PDF is drawn by ``hitdesk.ui.report_pdf``, imported only here and
only when the command runs, offscreen when there is no display. A file that cannot be analysed gets a
page saying why and the others are still reported; an output that cannot be written, or that names
one of the inputs, is one sentence and exit status 1 before any file is analysed.
"""

from __future__ import annotations

import argparse
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from hitdesk.cli.args import add_model, add_window_seconds
from hitdesk.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, emit, error
from hitdesk.errors import HitdeskError

if TYPE_CHECKING:
    from hitdesk.model import HitModel
    from hitdesk.ui.report_pdf import ReportTake


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rp = sub.add_parser(
        "report",
        help="write a PDF report: a page per take and one comparing them",
        description="Analyse audio files and write a PDF: for each take its scores, meters, hit curve, "
        "spectrogram strip, tonal balance, what drives its score and a summary of the model card; with two or "
        "more takes, a page comparing them.",
    )
    rp.add_argument("files", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    rp.add_argument("--pdf", required=True, metavar="OUT.pdf", help="the PDF to write (never one of the inputs)")
    add_model(rp)
    add_window_seconds(rp)
    rp.set_defaults(handler=run)


def output_problem(out: Path, inputs: list[Path]) -> str | None:
    """Why ``out`` cannot take the report, in one sentence (None when it can). Checked before any work."""
    if out.is_dir():
        return f"cannot write the report to '{out}': it is a folder; give the PDF's file name."
    for path in inputs:
        same = out.resolve() == path.resolve()
        if not same and out.exists() and path.exists():
            try:
                same = os.path.samefile(out, path)
            except OSError:
                same = False
        if same:
            return f"will not write the report over '{path}', one of the files to report on."
    try:
        os.stat(out.parent)  # the system's own reading of "folder/..": tempfile would read it as text
        fd, tmp = tempfile.mkstemp(prefix=".hitdesk-report-", dir=os.path.realpath(out.parent))
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return f"cannot write the report to '{out}': {exc.strerror or exc}."
    return None


def run(args: argparse.Namespace) -> int:
    from hitdesk.audio import InputProblem, expand_inputs
    from hitdesk.model import HitModel

    inputs = expand_inputs(args.files)
    out = Path(args.pdf)
    problem = output_problem(out, [p for p in inputs if isinstance(p, Path)])
    if problem is not None:
        error(problem)
        return EXIT_FAILED
    try:
        model = HitModel.load(args.model)
        from hitdesk.ui import report_pdf
    except HitdeskError as exc:
        error(str(exc))
        return EXIT_USAGE
    except ImportError as exc:  # Qt libraries missing on this system
        error(f"cannot draw the report: {exc}")
        return EXIT_FAILED
    takes = [
        _failed(item.path, item.message) if isinstance(item, InputProblem) else _analysed(item, model, args)
        for item in inputs
    ]
    try:
        from hitdesk.explain.drivers import head_scorer

        report_pdf.write_report(out, takes, model.card, head_scorer(model) if model.has_head else None)
    except report_pdf.ReportError as exc:
        error(str(exc))
        return EXIT_FAILED
    failed = [t.result for t in takes if not t.result.ok]
    for r in failed:
        error(r.error or f"'{r.file}' was not analysed.")
    emit(f"Wrote {out}: {len(takes) - len(failed)} of {len(takes)} files reported.\n")
    return EXIT_FAILED if failed else EXIT_OK


def _failed(path: Path, message: str) -> ReportTake:
    from hitdesk.results import TrackResult
    from hitdesk.ui.report_pdf import ReportTake

    return ReportTake(TrackResult(file=str(path), error=message))


def _analysed(path: Path, model: HitModel, args: argparse.Namespace) -> ReportTake:
    """The take's result with its explanations and the log-mel picture its decode drew (one pass)."""
    from hitdesk.analysis import AnalysisOptions, Progress
    from hitdesk.config import window_seconds_for
    from hitdesk.explain import analyze
    from hitdesk.ui.report_pdf import report_take
    from hitdesk.ui.track_picture import TrackPicture

    pictures: list[TrackPicture] = []

    def draw(progress: Progress) -> None:
        if not pictures:
            pictures.append(TrackPicture(progress.duration_s))
        pictures[0].add(progress)

    opts = AnalysisOptions(window_seconds=window_seconds_for(args.window_seconds, model.card.window_seconds))
    result, detail = analyze(path, model, opts, on_progress=draw)
    return report_take(result, detail, pictures[0] if pictures else None)
