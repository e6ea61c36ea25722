"""The probability meters name the head that gave their number (track head overall, window head per window)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QImage

from hitdesk.results import HEAD_TRACK, HEAD_WINDOW, Score
from hitdesk.ui.meters import ProbabilityMeter, head_tag


def test_meters_name_the_head_in_their_text(qtbot: object) -> None:
    overall = ProbabilityMeter("Overall", large=True)
    window = ProbabilityMeter("Beginning", compact=True)
    qtbot.addWidget(overall)  # type: ignore[attr-defined]
    qtbot.addWidget(window)  # type: ignore[attr-defined]
    overall.set_score(Score(0.41, 0.35, 0.47, HEAD_TRACK), 0.3)
    window.set_score(Score(0.22, 0.2, 0.3, HEAD_WINDOW), 0.3)
    assert overall.accessibleDescription().endswith("track head")
    assert window.accessibleDescription().endswith("window head")
    assert head_tag(Score(0.5, 0.5, 0.5, HEAD_TRACK)) == " · track head"
    for meter in (overall, window):  # the label is drawn too: painting must not fail at a narrow width
        meter.resize(220, meter.sizeHint().height() or 60)
        image = QImage(meter.size(), QImage.Format.Format_ARGB32)
        meter.render(image)
        assert not image.isNull()
