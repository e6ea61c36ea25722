"""The screenshot views of ``hitdesk gui --screenshot --view`` and File ▸ Export Report in the real window."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

import pytest
from pypdf import PdfReader
from PySide6.QtGui import QImage
from ui_helpers import clips, require_model, wait_idle

from hitdesk.cli import main
from hitdesk.present import pct, pct_range
from hitdesk.ui.app import run_gui
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.report_export import export_report
from hitdesk.ui.report_pdf import ReportError


def _colours(image: QImage, x0: int, x1: int) -> set[int]:
    return {image.pixel(x, y) for x in range(x0, x1, 5) for y in range(0, image.height(), 5)}


def test_take_and_explain_views_are_the_whole_window(qapp: object, tmp_path: Path) -> None:
    require_model()
    files = [str(p) for p in clips()[:1]]
    shots = {}
    for view in ("take", "explain"):
        out = tmp_path / f"{view}.png"
        assert run_gui(files, screenshot=str(out), view=view) == 0
        image = QImage(str(out))
        assert image.width() >= 900 and image.height() >= 560
        assert len(_colours(image, 0, image.width())) > 200  # not a blank window
        shots[view] = image
    # The explain view scrolls the meters' column (left) to What drives it; the log-mel (right) is the same take.
    left = slice(0, 400)
    take_left = [shots["take"].pixel(x, y) for x in range(left.start, left.stop, 4) for y in range(300, 640, 4)]
    explain_left = [shots["explain"].pixel(x, y) for x in range(left.start, left.stop, 4) for y in range(300, 640, 4)]
    changed = sum(a != b for a, b in zip(take_left, explain_left, strict=True))
    assert changed > len(take_left) // 5


@pytest.mark.parametrize("args", [["--view", "explain"], ["--compare", "--view", "take", "--screenshot", "x.png"]])
def test_view_needs_a_screenshot_and_one_view(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["gui", *args]) == 2
    assert capsys.readouterr().err.count("\n") == 1


def test_export_report_from_the_window(qtbot: object, window: MainWindow, tmp_path: Path) -> None:
    clip = clips()[0]
    (take,) = window.add_paths([clip])
    wait_idle(qtbot, window)
    model = window.controller.model
    assert model is not None and take.result is not None and take.result.overall is not None
    out = tmp_path / "takes.pdf"
    said = export_report(window.controller.takes, out, model)
    assert said == f"Saved a report of 1 take as {out}."
    text = "".join("".join(page.extract_text().split()) for page in PdfReader(out).pages)
    score = take.result.overall
    assert clip.name in text and f"P(hit){pct(score.p_hit)}overall(wholetrack),range{pct_range(score)}" in text
    assert "Comparison" not in text  # one take: no comparison page
    with pytest.raises(ReportError, match="one of the takes"):
        export_report(window.controller.takes, clip, model)
