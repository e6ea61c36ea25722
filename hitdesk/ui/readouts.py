"""What the toolbar says about playing the shown take: its position and length, and loudness matching.

The window tells ``PlaybackReadouts`` when something it shows may have changed (a take selected,
the player moved, a loudness measured, matching switched); it reads the shown take and the player
and sets the toolbar's texts. Lengths read as in the list (``present.mmss``), the running position
as a player counts (``present.clock``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QLabel

from hitdesk.present import clock, mmss
from hitdesk.ui.playback import Player
from hitdesk.ui.takes import Take

NO_POSITION = "–:–– / –:––"


class PlaybackReadouts:
    def __init__(self, player: Player, position: QLabel, shown_take: Callable[[], Take | None]) -> None:
        self.player = player
        self.position = position
        self._shown_take = shown_take

    def update(self, *_args: object) -> None:
        self.position.setText(self.position_text())

    def position_text(self) -> str:
        """ "0:00 / 3:04" for the shown take from the moment it is selected, before anything plays."""
        take = self._shown_take()
        if take is None:
            return NO_POSITION
        player = self.player
        length = take.result.duration_s if take.result is not None else None
        if length is None and player.take_id == take.id:
            length = player.duration_s
        position = player.position_s if player.take_id is not None else 0.0  # A/B: the same place
        return f"{clock(position)} / {mmss(length)}"
