"""The app's picture of a long track stays decimated: a 4-hour file's log-mel, streamed in as the
analysis computes it, is pooled to a few thousand columns, whether its length was known or not."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
import pytest
from PySide6.QtWidgets import QApplication

from hitdesk.analysis import PROGRESS_FLOOR_DB, Progress
from hitdesk.config import FEATURES
from hitdesk.ui.spectrogram import SpectrogramView
from hitdesk.ui.track_picture import MAX_COLUMNS, TrackPicture

HOP_S = FEATURES.hop_length / FEATURES.sample_rate
FOUR_HOURS = 4 * 3600.0
LOUD_AT_S = 3 * 3600.0 + 17.0  # one loud moment, which the pooled picture must keep (loudest wins)


def _stream(
    picture: TrackPicture, duration_s: float, piece_s: float = 60.0, announced: float = 0.0, start_s: float = 0.0
) -> None:
    """Feeds columns at -60 dB up to ``duration_s`` as the analysis would, ``piece_s`` at a time."""
    n = round(piece_s / HOP_S)
    quiet = np.full((FEATURES.n_mels, n), -60.0, dtype=np.float32)
    start = round(start_s / HOP_S)
    while start * HOP_S < duration_s:
        columns = quiet
        loud = round(LOUD_AT_S / HOP_S) - start
        if 0 <= loud < n:
            columns = quiet.copy()
            columns[40, loud] = -3.0
        picture.add(Progress(start * HOP_S, columns, min(1.0, start * HOP_S / duration_s), announced))
        start += n


@pytest.mark.parametrize("announced", [FOUR_HOURS, 0.0, 3600.0])
def test_four_hours_stay_a_few_thousand_columns(announced: float) -> None:
    """Known length, unknown length (0), and a stream four times longer than probed."""
    picture = TrackPicture(announced)
    _stream(picture, FOUR_HOURS, announced=announced)
    frames = round(FOUR_HOURS / HOP_S)
    assert picture.image.shape[1] <= 2 * MAX_COLUMNS < frames // 100
    assert picture.span_s == pytest.approx(FOUR_HOURS, abs=61.0)
    visible = picture.visible()
    assert visible.shape[1] * picture.column_s == pytest.approx(picture.span_s, abs=picture.column_s)
    # Pooled, not thinned: the one loud column is still there, where it was.
    row = visible[40]
    assert row.max() == -3.0 and int(np.argmax(row)) == int(LOUD_AT_S / picture.column_s)
    assert float(np.median(visible)) == -60.0 and visible.min() >= PROGRESS_FLOOR_DB


def test_coarsening_keeps_what_was_drawn() -> None:
    """A stream of unknown length first drawn finely, then pooled coarser as it goes on: each coarse
    column is the loudest of the fine columns it replaces."""
    picture = TrackPicture(0.0)
    first = np.random.default_rng(0).uniform(-90.0, -10.0, (FEATURES.n_mels, round(600.0 / HOP_S)))
    picture.add(Progress(0.0, first.astype(np.float32), 0.0, 0.0))
    factor, before = picture.factor, picture.visible().copy()
    _stream(picture, FOUR_HOURS, start_s=first.shape[1] * HOP_S)
    ratio = picture.factor // factor
    assert ratio >= 4 and picture.factor == ratio * factor
    whole = first.shape[1] // picture.factor  # coarse columns made of the first ten minutes only
    expected = np.maximum.reduceat(before, np.arange(0, before.shape[1], ratio), axis=1)[:, :whole]
    assert np.array_equal(picture.visible()[:, :whole], expected)


def test_view_draws_the_decimated_picture(qtbot: object) -> None:
    view = SpectrogramView()
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.resize(900, 300)
    view.show()
    picture = TrackPicture(0.0)
    _stream(picture, FOUR_HOURS)
    view.set_picture(picture)
    QApplication.processEvents()
    assert view._picture is not None
    drawn = view._picture.image
    assert drawn.shape[0] == FEATURES.n_mels and drawn.shape[1] <= 2 * MAX_COLUMNS
    assert view._picture.boundingRect().width() * view._picture.transform().m11() == pytest.approx(
        drawn.shape[1] * picture.column_s
    )
