"""The window's side of playback: which take plays, the playhead, seeking, loudness matching.

``Player`` knows nothing of takes or widgets; this glue maps the selection and the spectrogram's
clicks onto it and shows its position.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QStyle

from hitdesk.ui.playback import MATCH_TARGET_LUFS, Player
from hitdesk.ui.takes import Take
from hitdesk.ui.workers import is_warm

if TYPE_CHECKING:
    from hitdesk.ui.main_window import MainWindow

_SILENT_LUFS = -70.0  # BS.1770's absolute gate: below it there is nothing to match


class Transport(QObject):
    def __init__(self, win: MainWindow, player: Player) -> None:
        super().__init__(win)
        self.win = win
        self.player = player
        self._pending_seek: float | None = None
        player.position_changed.connect(self._on_position)
        player.playing_changed.connect(self._on_playing)
        player.message.connect(win.status_text.setText)
        player.loaded.connect(self._on_loaded)
        win.panel.spectrogram.seek_requested.connect(self._seek_requested)

    def toggle_play(self) -> None:
        take = self.win.panel.take
        if take is None or not take.path.is_file() or not is_warm():  # decoding imports: see warm_up
            return
        if self.player.take_id != take.id:
            self.player.select(take.id, take.path, play=True)
        else:
            self.player.toggle()

    def seek_by(self, seconds: float) -> None:
        if self.player.take_id is not None:
            self.player.seek(self.player.position_s + seconds)

    def selected(self, take: Take) -> None:
        """A/B: once something has been played, selecting another take switches at the same position."""
        if self.player.take_id is not None and take.path.is_file():
            self.player.select(take.id, take.path)
        self._on_position(self.player.position_s)

    def update_gains(self) -> None:
        """Loudness matching: every take's gain brings it to the same integrated loudness."""
        match = self.win.action_map["match"].isChecked()
        for take in self.win.takes.takes:
            lufs = take.loudness.integrated_lufs if take.loudness is not None else None
            gain = (
                10.0 ** ((MATCH_TARGET_LUFS - lufs) / 20.0)
                if match and lufs is not None and lufs > _SILENT_LUFS
                else 1.0
            )
            self.player.set_gain(take.id, gain)

    def _seek_requested(self, seconds: float) -> None:
        take = self.win.panel.take
        if take is None:
            return
        if self.player.take_id == take.id:
            self.player.seek(seconds)
        else:
            self._pending_seek = seconds
            self.player.select(take.id, take.path, play=False)

    def _on_loaded(self, _take_id: int) -> None:
        self.update_gains()
        if self._pending_seek is not None:
            self.player.seek(self._pending_seek)
            self._pending_seek = None

    def _on_position(self, seconds: float) -> None:
        take = self.win.panel.take
        on_panel = take is not None and take.id == self.player.take_id
        self.win.panel.spectrogram.set_playhead(seconds if on_panel else None)
        self.win.position_label.setText(f"{_mmss(seconds)} / {_mmss(self.player.duration_s)}")

    def _on_playing(self, playing: bool) -> None:
        action = self.win.action_map["play"]
        icon = QStyle.StandardPixmap.SP_MediaPause if playing else QStyle.StandardPixmap.SP_MediaPlay
        action.setIcon(self.win.style().standardIcon(icon))
        action.setIconText("Pause" if playing else "Play")


def _mmss(seconds: float) -> str:
    s = max(0, int(seconds))
    return f"{s // 60}:{s % 60:02d}"
