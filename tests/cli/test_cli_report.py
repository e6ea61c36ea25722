"""``hitdesk report FILE... --pdf OUT``: the PDF's text read back, a broken file among good ones, bad outputs."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from hitdesk.analysis import AnalysisOptions
from hitdesk.explain import analyze
from hitdesk.explain.compare import difference, difference_sentence
from hitdesk.explain.drivers import head_scorer
from hitdesk.model import HitModel
from hitdesk.present import loudness_line, pct, pct_range
from hitdesk.report import card_summary

REPO = Path(__file__).resolve().parents[2]


def report(*args: str, display: bool = False) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if not display:  # no display at all: the command has to go offscreen by itself
        for var in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM"):
            env.pop(var, None)
    return subprocess.run(
        [sys.executable, "-m", "hitdesk", "report", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=300,
    )


def flat(text: str) -> str:
    """Text without its whitespace: the PDF wraps lines (and Qt may break after a hyphen) where it likes."""
    return "".join(text.split())


def test_report_pages_say_what_analyze_says(tmp_path: Path, data_dir: Path, model: HitModel) -> None:
    files = [data_dir / "chipdisko-12s.ogg", data_dir / "forest-sprint-6s.m4a"]
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    out = tmp_path / "report.pdf"
    proc = report(str(files[0]), str(broken), str(files[1]), "--pdf", str(out), "--window-seconds", "3")
    assert proc.returncode == 1, proc.stderr  # the broken file; the report is written all the same
    assert proc.stderr.count("\n") == 1 and "broken.wav" in proc.stderr
    assert proc.stdout.startswith(f"Wrote {out}: 2 of 3 files reported.")
    pages = [page.extract_text() for page in PdfReader(tmp_path / "report.pdf").pages]
    assert len(pages) == 4  # a page per file (the broken one says why) and the comparison

    analysed = [analyze(f, model, AnalysisOptions(window_seconds=3.0)) for f in files]
    results = [r for r, _ in analysed]
    stats = {r.file: d.track_stats for r, d in analysed}
    for page, r in zip((pages[0], pages[2]), results, strict=True):
        assert r.overall is not None and r.curve is not None and r.explanation is not None
        text = flat(page)
        assert flat(Path(r.file).name) in text
        assert flat(f"P(hit) {pct(r.overall.p_hit)} overall (whole track), range {pct_range(r.overall)}") in text
        for seg in r.segments:
            assert flat(f"{seg.name} ") + "0:" in text and flat(pct_range(seg.score)) in text
        assert flat(loudness_line(r.to_dict()["loudness"])) in text
        best = r.curve.strongest()
        assert flat(f"strongest part: {pct(best.p_hit)}") not in text  # the window's times come first
        assert flat(f"({pct(best.p_hit)})") in text
        top = r.explanation.contributions[0]
        assert flat(f"{top.name}{100 * top.value:+.1f}") in text and flat(top.text) in text
        unseen = next(line for line in card_summary(model.card) if line.startswith("On artists it has not seen"))
        assert "ROC AUC 0." in unseen and flat(unseen) in text  # the card's own cross-validated figures
        assert flat(model.card.label_definition) in text
    assert flat("broken.wav is not reported:") in flat(pages[1])

    comparison = flat(pages[3])
    assert comparison.startswith("Comparison")
    a, b = sorted(results, key=lambda r: -r.overall.p_hit if r.overall else 0)
    name_a, name_b = Path(a.file).name, Path(b.file).name
    assert flat(f"1. {name_a}: {pct(a.overall.p_hit) if a.overall else ''}") in comparison
    assert flat(f"2. {name_b}:") in comparison
    diff = difference(head_scorer(model), stats[a.file], stats[b.file])  # Shapley of A against B
    assert abs(diff.gap - (a.overall.p_hit - b.overall.p_hit)) < 1e-4 if a.overall and b.overall else False
    assert flat(difference_sentence(name_a, name_b, diff)) in comparison
    assert flat("broken.wav is not reported:") in comparison


def test_an_output_that_cannot_be_written_is_one_sentence_and_no_work(tmp_path: Path, data_dir: Path) -> None:
    clip = data_dir / "forest-sprint-6s.m4a"
    proc = report(str(clip), "--pdf", str(tmp_path / "no such folder" / "r.pdf"))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "No such file or directory" in proc.stderr

    proc = report(str(clip), "--pdf", str(tmp_path / "no such folder" / ".." / "r.pdf"))
    assert proc.returncode == 1 and "No such file or directory" in proc.stderr and proc.stderr.count("\n") == 1

    proc = report(str(clip), "--pdf", str(tmp_path))
    assert proc.returncode == 1 and "is a folder" in proc.stderr and proc.stderr.count("\n") == 1


@pytest.mark.parametrize("how", ["the same path", "a hard link"])
def test_the_report_is_never_written_over_an_input(tmp_path: Path, data_dir: Path, how: str) -> None:
    take = tmp_path / "take.m4a"
    take.write_bytes((data_dir / "forest-sprint-6s.m4a").read_bytes())
    before = hashlib.sha256(take.read_bytes()).hexdigest()
    out = take
    if how == "a hard link":
        out = tmp_path / "link.pdf"
        os.link(take, out)
    proc = report(str(tmp_path), "--pdf", str(out))
    assert proc.returncode == 1 and "one of the files to report on" in proc.stderr
    assert hashlib.sha256(take.read_bytes()).hexdigest() == before
