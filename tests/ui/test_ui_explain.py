"""The hit curve strip and the "What drives it" panel in the real main window, with a real track."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from dataclasses import replace
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication, QLabel
from shared_folder import CORPUS
from ui_helpers import wait_idle

from hitdesk.explain.compare import difference, difference_sentence
from hitdesk.explain.whatif import refusal
from hitdesk.ui.main_window import MainWindow

TRACK = CORPUS / "forest-sprint.ogg"


@pytest.fixture
def track() -> Path:
    if not TRACK.exists():
        pytest.skip("needs ../shared/corpus")
    return TRACK


def test_curve_strip_and_drivers_panel_show_the_take(
    qtbot: object, window: MainWindow, track: Path, tmp_path: Path
) -> None:
    window.resize(1280, 800)
    (take,) = window.add_paths([track])
    wait_idle(qtbot, window)
    window.select_ids([take.id])
    QApplication.processEvents()
    panel = window.panel
    result = take.result
    assert result is not None and result.curve is not None and result.explanation is not None
    strip = panel.curve_strip
    assert strip.curve is result.curve and strip.isVisible()
    best = result.curve.strongest()
    assert strip.strongest.getRegion() == (best.start_s, best.end_s)
    assert "strongest part: " in strip.caption and "model's view" in strip.caption

    # One time axis: the strip's plot area lies exactly above the spectrogram's, and zooming one moves both.
    def aligned() -> bool:
        mine, theirs = strip.plotItem.vb.sceneBoundingRect(), panel.spectrogram.plotItem.vb.sceneBoundingRect()
        return abs(mine.left() - theirs.left()) < 1.5 and abs(mine.right() - theirs.right()) < 1.5

    qtbot.waitUntil(aligned, timeout=5000)  # type: ignore[attr-defined]
    panel.spectrogram.setXRange(40.0, 100.0, padding=0)
    QApplication.processEvents()
    assert strip.viewRange()[0] == pytest.approx([40.0, 100.0], abs=0.5)
    panel.spectrogram.reset_zoom()
    QApplication.processEvents()

    # A click on the strip seeks there; the strip follows the playhead.
    seeks: list[float] = []
    panel.spectrogram.seek_requested.connect(seeks.append)
    vb = strip.plotItem.vb
    at = strip.mapFromScene(vb.mapViewToScene(pg_point(100.0, 0.5)))
    qtbot.mouseClick(strip.viewport(), Qt.MouseButton.LeftButton, pos=QPoint(at.x(), at.y()))  # type: ignore[attr-defined]
    assert seeks and seeks[-1] == pytest.approx(100.0, abs=1.0)
    panel.spectrogram.set_playhead(12.0)
    assert strip.playhead.isVisible() and strip.playhead.value() == 12.0

    # What drives it: bars and the sentences of the overall score, then of the end window.
    drivers = panel.drivers
    assert drivers.bars.explanation is result.explanation and drivers.bars.height() > 100
    assert drivers.sentences.text().count("In the model's view") == len(result.explanation.contributions)
    drivers.which.setCurrentIndex(drivers.which.findData("end"))
    assert drivers.bars.explanation is result.segments[2].explanation

    drivers.which.setCurrentIndex(0)
    tonal = panel.tonal
    assert tonal.balance is result.tonal_balance and not tonal.isHidden()
    assert list(tonal.take.yData) == pytest.approx(result.tonal_balance.take_db)
    # What if: every control at once; the head re-scores, each control shows its response curve.
    whatif = panel.whatif
    assert whatif.stats is not None and whatif.rows["tempo"].slider.isEnabled()
    now = f"{result.overall.p_hit:.0%}"
    assert whatif.readout.text() == f"With the take as it is, the model would say {now} (now {now})."
    assert "what the model would say, not advice" in whatif.findChildren(QLabel)[0].text()
    tempo_before = list(whatif.rows["tempo"].line.yData)
    whatif.set_amount("tempo", 6.0)
    whatif.set_amount("high band", 6.0)
    text = whatif.readout.text()
    assert text.startswith("With tempo +6%, high band +6.0 dB, the model would say ") and text.endswith(f"(now {now}).")
    # The tempo curve moved with the high band held at +6 dB; each curve has its shaded training range.
    assert list(whatif.rows["tempo"].line.yData) != pytest.approx(tempo_before, abs=1e-5)
    for row in whatif.rows.values():
        assert len(row.line.yData) > 10 and row.allowed.isVisible() and not row.plot.isHidden()
    assert whatif.rows["tempo"].marker.value() == pytest.approx(6.0)
    # Settings the model cannot answer for are refused with the core's one sentence.
    whatif.set_amount("density", -6.0)
    whatif.set_amount("movement", 30.0)
    why = refusal(whatif.stats, whatif.amounts, whatif.background)  # type: ignore[arg-type]
    if why:
        assert whatif.readout.text() == why
    else:
        assert whatif.readout.text().startswith("With tempo +6%, density -6.0 dB, high band +6.0 dB, movement +30%")
    whatif.reset.click()
    assert whatif.readout.text() == f"With the take as it is, the model would say {now} (now {now})."
    # A background whose training songs barely vary in tempo: +10% is refused, and said so.
    bg = whatif.background
    assert bg is not None
    bpm = float(whatif.stats[-2])
    whatif.background = replace(bg, training_range={**bg.training_range, "tempo": (0.99 * bpm, 1.01 * bpm)})
    whatif.set_amount("tempo", 10.0)
    assert (
        whatif.readout.text().startswith("The model cannot say what ")
        and "would do for the tempo" in whatif.readout.text()
    )
    whatif.background = bg
    whatif.reset.click()
    whatif.set_amount("tempo", 6.0)  # as the screenshot shows it
    whatif.set_amount("high band", 3.0)
    if os.environ.get("HITDESK_SCREENSHOT_OUT"):
        panel.left_scroll.widget().grab().save(os.environ["HITDESK_SCREENSHOT_OUT"].replace(".png", "-left.png"))
    shot = tmp_path / "explain.png"
    assert window.grab_png(shot)
    image = QImage(str(shot))
    assert image.width() >= 900 and image.height() >= 560
    if os.environ.get("HITDESK_SCREENSHOT_OUT"):
        image.save(os.environ["HITDESK_SCREENSHOT_OUT"])


def pg_point(x: float, y: float) -> object:
    from PySide6.QtCore import QPointF

    return QPointF(x, y)


def test_the_numbers_page_says_what_the_explanations_are_and_are_not() -> None:
    from hitdesk.model import HitModel
    from hitdesk.ui.model_card import explain_page

    text = explain_page(HitModel.load().card)
    assert "Hit curve" in text and "Shapley" in text and "What these are not" in text
    assert "not causes of success" in text and "weighted centroids of 7675 songs" in text
    assert "every control at once" in text and "your own targets" in text and "against the second's" in text


def test_compare_view_says_why_the_first_take_leads_and_overlays_the_curves(
    qtbot: object, window: MainWindow, track: Path, tmp_path: Path
) -> None:
    window.resize(1280, 800)
    other = track.parent / "chaos_god-mix.ogg"
    window.add_paths([track, other])
    wait_idle(qtbot, window)
    takes = window.takes.takes
    window.select_ids([t.id for t in takes])
    window.show_compare()
    QApplication.processEvents()
    compare = window.compare
    first, second = (next(t for t in takes if t.id == r.key) for r in compare.ranked[:2])
    text = compare.drivers.text()
    assert text.startswith(f"In the model's view, {first.name} scores ") and f"higher than {second.name}" in text
    # Shapley values of the first take against the second as the baseline: they add up to the gap.
    assert first.detail is not None and second.detail is not None and compare.score is not None
    diff = difference(compare.score, first.detail.track_stats, second.detail.track_stats)
    assert text == difference_sentence(first.name, second.name, diff)
    gap = first.result.overall.p_hit - second.result.overall.p_hit  # type: ignore[union-attr]
    assert sum(v for _, v in diff.contributions) == pytest.approx(gap, abs=1e-4)
    # Without a take's statistics (a result from the cache) the sentence says so, and comes when they do.
    kept, first.detail = first.detail, None
    compare.update_take(first)
    assert compare.drivers.text() == "Why one take scores higher shows once both have been analysed in this session."
    first.detail = kept
    compare.update_take(first)
    assert compare.drivers.text() == text
    assert compare.curves.names == [first.name, second.name] and compare.curves.isVisible()
    if os.environ.get("HITDESK_SCREENSHOT_OUT"):
        window.grab().save(os.environ["HITDESK_SCREENSHOT_OUT"].replace(".png", "-compare.png"))
