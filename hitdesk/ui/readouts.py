"""What the toolbar says about playing the shown take: its position and length, and loudness matching.

The window tells ``PlaybackReadouts`` when something it shows may have changed (a take selected,
the player moved, a loudness measured, matching switched); it reads the shown take and the player
and sets the toolbar's texts. Lengths read as in the list (``present.mmss``), the running position
as a player counts (``present.clock``).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from hitdesk.present import clock, mmss
from hitdesk.ui.playback import MATCH_TARGET_LUFS, Player
from hitdesk.ui.takes import Take

NO_POSITION = "–:–– / –:––"
SILENT_LUFS = -70.0  # BS.1770's absolute gate: below it there is nothing to match (as transport.py)


def match_gain_db(take: Take | None) -> float | None:
    """The gain loudness matching applies to a take, in dB; None when its loudness is not known."""
    lufs = take.loudness.integrated_lufs if take is not None and take.loudness is not None else None
    if lufs is None or lufs <= SILENT_LUFS:
        return None
    return MATCH_TARGET_LUFS - lufs


class PlaybackReadouts:
    def __init__(self, player: Player, position: QLabel, match: QAction, shown_take: Callable[[], Take | None]) -> None:
        self.player = player
        self.position = position
        self.match = match
        self._shown_take = shown_take

    def update(self, *_args: object) -> None:
        self.position.setText(self.position_text())
        text, tip = self.match_texts()
        self.match.setIconText(text)
        self.match.setToolTip(tip)
        self.match.setStatusTip(tip)

    def match_texts(self) -> tuple[str, str]:
        """The Match loudness button's text (its state, and the gain it applies to the shown take) and tooltip."""
        target = f"{MATCH_TARGET_LUFS:g} LUFS"
        if not self.match.isChecked():
            return "Match loudness: off", (
                f"Off: every take plays as it is. On: each take plays at {target}, so the louder one does not "
                "simply sound better (Ctrl+L)"
            )
        take = self._shown_take()
        gain = match_gain_db(take)
        if gain is None:
            why = "no take selected" if take is None else "its loudness is not measured yet"
            return "Match loudness: on", f"On: every take plays at {target}; {why} (Ctrl+L turns it off)"
        return f"Match loudness: {gain:+.1f} dB", (
            f"On: '{take.name if take else ''}' plays {gain:+.1f} dB, at {target} like every take (Ctrl+L turns it off)"
        )

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
