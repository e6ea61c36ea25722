"""The window's status bar: one sentence, the batch's progress bar, and the loaded model.

It reads the controller when the controller says something changed, so the window only places it.
Everything stays on one line: a long sentence ends in "…" (whole in its tooltip) instead of
squeezing the progress bar, which is always wide enough for "120 of 120 analysed".
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QProgressBar, QStatusBar

from hitdesk.ui import theme
from hitdesk.ui.controller import TakesController
from hitdesk.ui.elided import ElidedLabel
from hitdesk.ui.takes import State

log = logging.getLogger(__name__)


PROGRESS_SAMPLE = "9999 of 9999 analysed"  # the widest text the progress bar shows


class StatusLine:
    """Fills a ``QStatusBar`` from a ``TakesController``'s signals."""

    def __init__(self, bar: QStatusBar, controller: TakesController) -> None:
        self.controller = controller
        self.progress = QProgressBar()
        self.progress.setTextVisible(True)
        wide = self.progress.fontMetrics().horizontalAdvance(PROGRESS_SAMPLE) + 24  # the bar's own margins
        self.progress.setMinimumWidth(wide)
        self.progress.setMaximumWidth(max(220, wide))
        self.progress.hide()
        self.text = ElidedLabel("")
        bar.addWidget(self.text, 1)
        bar.addPermanentWidget(self.progress)
        self.model_label = ElidedLabel("")
        self.model_label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        bar.addPermanentWidget(self.model_label)
        controller.progress.connect(self.update)
        controller.message.connect(self.say)
        controller.model_changed.connect(self._model_changed)

    def say(self, text: str) -> None:
        """A sentence from the controller; painted at once, as the warm-up that may follow blocks the loop."""
        self.text.setText(text)
        self.text.repaint()

    def update(self, done: int, total: int) -> None:
        """While a batch is analysed, its progress; afterwards, what the list holds."""
        c = self.controller
        if total:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.progress.setFormat(f"{done} of {total} analysed")
            self.progress.show()
            self.text.setText(f"Analysing on {c.workers} core{'s' if c.workers > 1 else ''}…")
            return
        self.progress.hide()
        takes = c.takes
        if c.model is None:
            self.text.setText(c.model_error or "No model is loaded.")
        elif takes:
            analysed = sum(t.state == State.DONE for t in takes)
            errors = sum(t.state == State.ERROR for t in takes)
            text = f"{len(takes)} take{'s' if len(takes) != 1 else ''}: {analysed} analysed"
            if errors:
                text += f", {errors} could not be analysed"
            self.text.setText(text + ".")
        else:
            self.text.setText("Ready.")

    def _model_changed(self) -> None:
        model = self.controller.model
        if model is not None:
            card = model.card
            self.model_label.setText(f"{card.name} {card.version} · base rate {100 * card.base_rate:.0f}%")
