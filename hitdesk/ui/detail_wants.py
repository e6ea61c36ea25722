"""Which takes' log-mel the views want, so a take answered from the cache or a session is analysed
again for its picture only while someone looks at it.

A take's log-mel is wanted while the take panel shows it or its compare row is in view. The compare
view asks when a row comes into view and withdraws the request when it scrolls away before the job
started; a take whose job ended (a result came without the log-mel, or the job was cancelled) is asked
for again if it is still wanted. A take whose file is missing is not asked for until it is located.
Apart from the main window so that the rule reads in one place. It also hands the compare view the
"clear difference" rule of each model loaded (``Ranking.for_model``), since it wires the two anyway.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject

from hitdesk.ranking import Ranking
from hitdesk.ui.compare_view import CompareView
from hitdesk.ui.controller import TakesController
from hitdesk.ui.takes import Take


class DetailWants(QObject):
    def __init__(
        self, controller: TakesController, shown: Callable[[], Take | None], compare: CompareView, parent: QObject
    ) -> None:
        super().__init__(parent)
        self.controller = controller
        self.shown = shown  # the take the panel shows
        self.compare = compare
        controller.take_ended.connect(self._take_ended)
        controller.ready.connect(compare.ask_details)  # requests made before the warm-up are made again
        compare.detail_needed.connect(controller.ensure_detail)
        compare.detail_unneeded.connect(self._unneeded)
        controller.take_file_changed.connect(compare.file_changed)  # missing: not asked for; found: asked again
        # The compare view tells takes apart by the rule the model's card allows (hitdesk.ranking).
        controller.model_changed.connect(self._follow_model)
        controller.takes_requeued.connect(self._follow_model)  # new options (fast or full mode) requeue the takes
        self._follow_model()

    def _follow_model(self, *_ids: object) -> None:
        model = self.controller.model
        if model is not None:
            fast = self.controller.options.fast
            self.compare.set_ranking(Ranking.for_model(model.card.raw, model.has_members, fast))

    def wanted(self, take_id: int) -> bool:
        shown = self.shown()
        return (shown is not None and shown.id == take_id) or self.compare.in_view(take_id)

    def _take_ended(self, take_id: int) -> None:
        if self.controller.by_id(take_id) is not None and self.wanted(take_id):
            self.controller.ensure_detail(take_id)

    def _unneeded(self, take_id: int) -> None:
        shown = self.shown()
        if shown is None or shown.id != take_id:
            self.controller.ensure_detail(take_id, wanted=False)
