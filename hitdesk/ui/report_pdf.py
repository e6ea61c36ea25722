"""The PDF report, drawn with Qt's own PDF writer (``QPdfWriter`` + ``QPainter``): no browser, no network.

One A4 page per take (its scores and meters, the hit curve, the spectrogram strip, tonal balance, what
drives it and a summary of the model card) and, for two or more scored takes, a page comparing them.
The words are ``hitdesk.report``'s; this module only lays them out beside the charts. Works headless:
``ensure_gui`` makes an offscreen ``QGuiApplication`` when there is none and no display.

``hitdesk report`` imports this module only when it runs, as the app's File ▸ Export Report does.
"""

from __future__ import annotations

import contextlib
import os
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QPointF, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPainterPath,
    QPdfWriter,
    QPen,
    QPolygonF,
)

from hitdesk.analysis import AnalysisDetail
from hitdesk.explain.shapley import ScoreRows
from hitdesk.insights import HitCurve, TonalBalance
from hitdesk.model.card import ModelCard
from hitdesk.present import mmss, pct
from hitdesk.report import MODEL_VIEW, card_summary, comparison_text, driver_rows, failed_line, name_of, take_text
from hitdesk.results import TrackResult
from hitdesk.ui.compare_pictures import StripSource, render_strip, strip_source
from hitdesk.ui.takes import Take
from hitdesk.ui.track_picture import TrackPicture

DPI = 150
MARGIN = 80  # pixels at DPI
INK = QColor("#1b1b1b")
DIM = QColor("#5f6368")
GRID = QColor("#c9ccd1")
TAKE = QColor("#d9822b")  # the take (the app's probability orange, darker for paper)
HITS = QColor("#2f7fc1")
OTHERS = QColor("#7b7f86")
UP = QColor("#3e9a45")
DOWN = QColor("#c94343")
CURVE_COLOURS = ("#d9822b", "#2f7fc1", "#3e9a45", "#8e5bb5", "#c94343", "#6b6b6b")
COLOUR_MAP = "inferno"
CURVE_KEY = "Each window's P(hit) at its centre; dashed: the base rate."
DB_FLOOR = -80.0


class ReportError(Exception):
    """The report could not be written; the message is one sentence."""


@dataclass(frozen=True)
class ReportTake:
    """One take of a report: its result and, where the analysis was at hand, its log-mel picture."""

    result: TrackResult
    strip: StripSource | None = None
    stats: npt.NDArray[np.float32] | None = None  # its 42 track statistics, for what separates two takes


def ensure_gui() -> None:
    """A ``QGuiApplication`` for fonts; offscreen when there is no display (a server, CI, ssh)."""
    if QGuiApplication.instance() is not None:
        return
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    QGuiApplication([sys.argv[0] if sys.argv else "hitdesk"])


def render_report(takes: Sequence[ReportTake], card: ModelCard, score: ScoreRows | None = None) -> bytes:
    """The whole report as PDF bytes; ``score`` (the model's head) explains what separates two takes."""
    ensure_gui()
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setResolution(DPI)
    writer.setPageLayout(
        QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait, QMarginsF(0, 0, 0, 0))
    )
    writer.setTitle("HitDesk report")
    writer.setCreator("HitDesk")
    painter = QPainter()
    if not painter.begin(writer):
        raise ReportError("Qt's PDF writer could not start.")
    page = _Page(painter, writer.width(), writer.height(), writer)
    try:
        first = True
        for take in takes:
            if not first:
                page.new_page()
            first = False
            if take.result.ok:
                _take_page(page, take, card)
            else:
                page.text(name_of(take.result), page.title)
                page.text(failed_line(take.result))
        scored = [t for t in takes if t.result.ok and t.result.overall is not None]
        if len(scored) >= 2:
            page.new_page()
            _comparison_page(page, scored, [t.result for t in takes if not t.result.ok], card, score)
    finally:
        painter.end()
        buffer.close()
    return bytes(data.data())


def write_report(path: Path, takes: Sequence[ReportTake], card: ModelCard, score: ScoreRows | None = None) -> None:
    """Writes the report to ``path`` whole or not at all (a temporary file beside it, then renamed)."""
    pdf = render_report(takes, card, score)
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=".hitdesk-report-", suffix=".pdf", dir=os.path.realpath(path.parent))
        with os.fdopen(fd, "wb") as f:
            f.write(pdf)
        os.replace(tmp, path)
        tmp = None
    except OSError as exc:
        raise ReportError(f"Cannot write the report '{path}': {exc.strerror or exc}.") from exc
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


class _Page:
    """A cursor down the page: text wraps to the width, and a block that does not fit starts a new page."""

    def __init__(self, painter: QPainter, width: int, height: int, writer: QPdfWriter) -> None:
        self.p, self.writer = painter, writer
        self.left, self.right = MARGIN, width - MARGIN
        self.top, self.bottom = MARGIN, height - MARGIN
        self.y = float(self.top)
        self.body = QFont("DejaVu Sans", 8)
        self.small = QFont("DejaVu Sans", 7)
        self.bold = QFont("DejaVu Sans", 9, QFont.Weight.Bold)
        self.title = QFont("DejaVu Sans", 13, QFont.Weight.Bold)

    @property
    def width(self) -> float:
        return float(self.right - self.left)

    def new_page(self) -> None:
        self.writer.newPage()
        self.y = float(self.top)

    def need(self, height: float) -> None:
        if self.y + height > self.bottom and self.y > self.top:
            self.new_page()

    def text(self, text: str, font: QFont | None = None, colour: QColor = INK, x: float | None = None) -> None:
        self.p.setFont(font or self.body)
        self.p.setPen(colour)
        left = self.left if x is None else x
        box = QRectF(left, self.y, self.right - left, 10_000)
        flags = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignTop) | int(Qt.TextFlag.TextWordWrap)
        need = self.p.boundingRect(box, flags, text).height()
        self.need(need)
        box.moveTop(self.y)
        self.p.drawText(box, flags, text)
        self.y += need + 3

    def heading(self, text: str) -> None:
        self.need(80)
        self.y += 6
        self.text(text, self.bold)

    def gap(self, px: float = 10) -> None:
        self.y += px


def _take_page(page: _Page, take: ReportTake, card: ModelCard) -> None:
    r = take.result
    t = take_text(r, card)
    page.text(t.heading, page.title)
    page.text(t.score, page.bold)
    if t.reading:
        page.text(t.reading)
    for line in t.warnings:
        page.text(line, page.small, DOWN)
    page.heading("Segments")
    for line in t.segments:
        page.text(line)
    page.heading("Meters")
    for line in t.meters:
        page.text(line)
    page.heading("Hit curve and spectrogram")
    page.text(t.curve, page.small, DIM)
    page.text(CURVE_KEY, page.small, DIM)
    page.gap(14)
    span = max(r.duration_s or 0.0, take.strip.span_s if take.strip else 0.0, 1.0)
    if r.curve is not None and r.curve.points:
        page.need(190)
        _curve_chart(page, QRectF(page.left + 40, page.y, page.width - 40, 150), [(r.curve, TAKE)], span, card)
        page.y += 190
    if take.strip is not None:
        page.need(130)
        image = render_strip(take.strip, int(page.width - 40), 110, _lut(), DB_FLOOR)
        page.p.drawImage(QPointF(page.left + 40, page.y), image)
        page.p.setFont(page.small)
        page.p.setPen(DIM)
        page.p.drawText(QRectF(page.left, page.y, 38, 110), int(Qt.AlignmentFlag.AlignCenter), "log-\nmel")
        page.y += 114
        _time_axis(page, page.left + 40, page.width - 40, span)
        page.text(
            "Log-mel as the model hears it: the scored windows bright, the rest of the track dimmed.", page.small, DIM
        )
    page.heading("Tonal balance and what drives it (the model's view)")
    rows = driver_rows(r)
    block = max(230.0, 24.0 * len(rows) + 40)
    page.need(block + 14)
    page.gap(14)
    half = page.width / 2 - 20
    if r.tonal_balance is not None:
        _tonal_chart(page, QRectF(page.left + 40, page.y, half - 40, 170), r.tonal_balance)
    else:
        page.p.drawText(QRectF(page.left, page.y, half, 40), 0, "No tonal balance for this model.")
    _driver_bars(page, QRectF(page.left + half + 40, page.y, half, 24.0 * len(rows)), rows)
    page.y += block
    for _name, _points, sentence in rows:
        page.text(sentence, page.small)
    if not rows:
        page.text("No explanation: this model has no head or no background to explain it against.", page.small)
    page.heading("The model")
    for line in card_summary(card):
        page.text(line, page.small, DIM)


def _lut() -> np.ndarray:
    import pyqtgraph as pg

    lut = pg.colormap.get(COLOUR_MAP).getLookupTable(0.0, 1.0, 256, alpha=False)
    return np.ascontiguousarray(np.asarray(lut, dtype=np.uint8)[:, :3])


def _frame(page: _Page, box: QRectF) -> None:
    page.p.setPen(QPen(GRID, 1))
    page.p.setBrush(Qt.BrushStyle.NoBrush)
    page.p.drawRect(box)


def _time_axis(page: _Page, x0: float, width: float, span: float) -> None:
    page.p.setFont(page.small)
    page.p.setPen(DIM)
    step = next(s for s in (10, 15, 30, 60, 120, 300, 600, 1800) if span / s <= 10)
    t = 0.0
    while t <= span + 1e-6:
        x = x0 + width * t / span
        page.p.drawText(QRectF(x - 40, page.y, 80, 22), int(Qt.AlignmentFlag.AlignHCenter), mmss(t))
        t += step
    page.y += 24


def _curve_chart(
    page: _Page, box: QRectF, curves: Sequence[tuple[HitCurve, QColor]], span: float, card: ModelCard
) -> None:
    """P(hit) of each curve's windows at their centres, the base rate dashed, the strongest window shaded."""
    top = max([card.base_rate, *(pt.p_hit for c, _ in curves for pt in c.points)])
    y_max = min(1.0, np.ceil(top * 10 + 0.5) / 10)
    p = page.p

    def at(t: float, v: float) -> QPointF:
        return QPointF(box.left() + box.width() * t / span, box.bottom() - box.height() * v / y_max)

    _frame(page, box)
    p.setFont(page.small)
    for v in np.linspace(0.0, y_max, 3):
        p.setPen(DIM)
        y = at(0, float(v)).y()
        p.drawText(QRectF(box.left() - 44, y - 10, 40, 20), int(Qt.AlignmentFlag.AlignRight), pct(float(v)))
    p.setPen(QPen(DIM, 1, Qt.PenStyle.DashLine))
    p.drawLine(at(0, card.base_rate), at(span, card.base_rate))
    for curve, colour in curves:
        if len(curves) == 1:
            best = curve.strongest()
            shade = QColor(colour)
            shade.setAlpha(45)
            p.fillRect(QRectF(at(best.start_s, y_max), at(best.end_s, 0.0)), shade)
        line = QPolygonF([at(0.5 * (pt.start_s + pt.end_s), pt.p_hit) for pt in curve.points])
        p.setPen(QPen(colour, 3))
        p.drawPolyline(line)
    page.y = box.bottom() + 4
    _time_axis(page, box.left(), box.width(), span)
    page.y = box.top()


def _tonal_chart(page: _Page, box: QRectF, balance: TonalBalance) -> None:
    """The take's envelope over the chart hits' 10th-90th percentiles and median and the other songs' median."""
    hz = np.log10(np.maximum(np.asarray(balance.bands_hz), 20.0))
    series = {
        k: np.asarray(getattr(balance, k)) for k in ("take_db", "hits_db", "hits_p10_db", "hits_p90_db", "others_db")
    }
    lo = min(float(v.min()) for v in series.values())
    hi = max(float(v.max()) for v in series.values())
    lo, hi = np.floor(lo / 10) * 10, np.ceil((hi + 3) / 10) * 10  # a line at the top stays visible
    p = page.p

    def at(x: float, db: float) -> QPointF:
        return QPointF(
            box.left() + box.width() * (x - hz[0]) / (hz[-1] - hz[0]),
            box.bottom() - box.height() * (db - lo) / (hi - lo),
        )

    _frame(page, box)
    band = QPainterPath()
    band.addPolygon(
        QPolygonF(
            [at(x, v) for x, v in zip(hz, series["hits_p90_db"], strict=True)]
            + [at(x, v) for x, v in zip(hz[::-1], series["hits_p10_db"][::-1], strict=True)]
        )
    )
    fill = QColor(HITS)
    fill.setAlpha(50)
    p.fillPath(band, fill)
    for key, colour, width in (("others_db", OTHERS, 1), ("hits_db", HITS, 2), ("take_db", TAKE, 3)):
        p.setPen(QPen(colour, width))
        p.drawPolyline(QPolygonF([at(x, v) for x, v in zip(hz, series[key], strict=True)]))
    p.setFont(page.small)
    p.setPen(DIM)
    for f in (100, 1000, 10000):
        x = at(np.log10(f), lo).x()
        if box.left() <= x <= box.right():
            p.drawText(QRectF(x - 40, box.bottom() + 2, 80, 20), int(Qt.AlignmentFlag.AlignHCenter), f"{f:g} Hz")
    for db in (lo, hi):
        p.drawText(
            QRectF(box.left() - 44, at(hz[0], db).y() - 10, 40, 20), int(Qt.AlignmentFlag.AlignRight), f"{db:.0f}"
        )
    p.drawText(
        QRectF(box.left(), box.bottom() + 22, box.width() + 40, 36),
        int(Qt.TextFlag.TextWordWrap),
        "dB: this take (orange), chart hits' median and middle 80% (blue), other songs' median (grey)",
    )


def _driver_bars(page: _Page, box: QRectF, rows: Sequence[tuple[str, str, str]]) -> None:
    """One row per group: its name, a bar from the centre line (up green, down red), its points."""
    if not rows:
        return
    values = [float(points) for _n, points, _t in rows]
    scale = max(abs(v) for v in values) or 1.0
    name_w, value_w = 120.0, 60.0
    left, right = box.left() + name_w, box.right() - value_w
    centre, half = 0.5 * (left + right), 0.5 * (right - left) - 2
    p = page.p
    p.setFont(page.small)
    p.setPen(QPen(GRID, 1))
    p.drawLine(QPointF(centre, box.top()), QPointF(centre, box.bottom()))
    for i, ((name, points, _text), v) in enumerate(zip(rows, values, strict=True)):
        y = box.top() + 24.0 * i
        p.setPen(INK)
        p.drawText(QRectF(box.left(), y, name_w - 4, 24), int(Qt.AlignmentFlag.AlignVCenter), name)
        w = half * abs(v) / scale
        p.fillRect(QRectF(centre if v >= 0 else centre - w, y + 4, max(w, 1.0), 16), UP if v >= 0 else DOWN)
        p.drawText(
            QRectF(right, y, value_w, 24), int(Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignRight), points
        )
    p.setPen(DIM)
    p.drawText(QRectF(box.left(), box.bottom() + 4, box.width(), 20), 0, "points of P(hit) against the baseline")


def _comparison_page(
    page: _Page, takes: Sequence[ReportTake], failed: Sequence[TrackResult], card: ModelCard, score: ScoreRows | None
) -> None:
    scored = [t.result for t in takes]
    c = comparison_text(scored, [t.stats for t in takes], score)
    page.text("Comparison", page.title)
    page.text(c.headline, page.bold)
    if c.caution:
        page.text(c.caution, page.small, DOWN)
    page.heading("Ranked by the overall score")
    for line in c.rows:
        page.text(line)
    page.heading("What separates the first two (the model's view)")
    page.text(c.why)
    curves = [(r, QColor(CURVE_COLOURS[i % len(CURVE_COLOURS)])) for i, r in enumerate(scored) if r.curve is not None]
    if curves:
        page.heading("Hit curves on one time axis")
        span = max(max(r.duration_s or 0.0 for r, _ in curves), 1.0)
        page.need(40 + 24 * len(curves) + 190)
        for r, colour in curves:
            page.text(f"━━ {name_of(r)}", page.small, colour)
        page.text(CURVE_KEY, page.small, DIM)
        page.gap(14)
        box = QRectF(page.left + 40, page.y, page.width - 40, 150)
        _curve_chart(page, box, [(r.curve, colour) for r, colour in curves if r.curve is not None], span, card)
        page.y += 190
    for r in failed:
        page.text(failed_line(r), page.small, DOWN)
    page.text(MODEL_VIEW, page.small, DIM)


def report_take(result: TrackResult, detail: AnalysisDetail | None, picture: TrackPicture | None) -> ReportTake:
    """A take for the report from an analysis (the spectrogram strip as the compare view draws it)."""
    take = Take(0, Path(result.file), result.file, result=result, detail=detail, picture=picture)
    stats = detail.track_stats if detail is not None else None
    return ReportTake(result, strip_source(take) if result.ok else None, stats)
