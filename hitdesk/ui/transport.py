"""The window's side of playback: which take plays, the playhead, seeking, each take's gain, offset and loop.

``Player`` knows nothing of takes or widgets; this glue maps the shown take and the spectrogram's
clicks onto it. It knows no window either: it is given callbacks for what it reads (the shown take,
all takes, whether loudness matching is on) and says what to draw by signals (the playhead, the
position text), so the window wires it and nothing here reaches into the window's widgets. A/B
against a reference and the platform preview (``ab_compare``) change how each take is played.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from hitdesk.playgain import Played
from hitdesk.present import clock, mmss
from hitdesk.ui.ab_bar import ABBar
from hitdesk.ui.ab_compare import ABCompare
from hitdesk.ui.play_controls import PlayControls
from hitdesk.ui.playback import MATCH_TARGET_LUFS, Player
from hitdesk.ui.takes import Take
from hitdesk.ui.workers import is_warm

if TYPE_CHECKING:  # a type only: the controller is the window's
    from hitdesk.ui.controller import TakesController

log = logging.getLogger(__name__)

_SILENT_LUFS = -70.0  # BS.1770's absolute gate: below it there is nothing to match


class Transport(QObject):
    playhead_moved = Signal(object)  # seconds on the shown take's spectrogram, or None when another take plays
    position_text = Signal(str)  # "0:05 / 0:12" for the toolbar

    def __init__(
        self,
        player: Player,
        shown_take: Callable[[], Take | None],
        all_takes: Callable[[], Sequence[Take]],
        matching: Callable[[], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self._shown_take = shown_take
        self._all_takes = all_takes
        self._matching = matching
        self._pending_seek: float | None = None
        self.ab = ABCompare(player, shown_take, all_takes, self)
        self.ab.refresh = self.update_gains
        player.position_changed.connect(self._on_position)
        player.loaded.connect(self._on_loaded)

    def connect_views(
        self, bar: ABBar, controls: PlayControls, controller: TakesController, say: Callable[[str], None]
    ) -> None:
        """The A/B row and the output's description under the spectrogram, and what updates them: a
        take's reference box, its loudness, and its analysis (whose onset envelope lines takes up)."""
        self.player.output_changed.connect(controls.set_output_text)
        bar.attach(self.ab)
        self.ab.ensure_detail = controller.ensure_detail
        self.ab.message.connect(say)
        controller.take_finished.connect(lambda *_args: self.ab.update())
        for signal in (controller.take_playback, controller.take_loudness, controller.takes_removed):
            signal.connect(lambda *_args: bar.refresh())
        self.player.loaded.connect(lambda _id: bar.refresh())

    def toggle_play(self) -> None:
        take = self._shown_take()
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
        self.ab.update()  # the pair is the shown take and its reference

    def update_gains(self) -> None:
        """Every take's gain, offset and loop to the player; with loudness matching on, the gains
        bring every take to the same integrated loudness before the take's own gain is applied."""
        for take in self._all_takes():
            p = take.playback
            played = self.ab.adjust(take, Played(self.match_gain(take) * p.gain, p.offset_s, p.loop), self.match_gain)
            self.player.set_gain(take.id, played.gain)
            self.player.set_ceiling(take.id, played.ceiling)
            self.player.set_offset(take.id, played.offset_s)
            self.player.set_loop(take.id, played.loop)

    def match_gain(self, take: Take) -> float:
        """The factor that brings the take to the matching target (1 with matching off or nothing measured)."""
        lufs = take.loudness.integrated_lufs if take.loudness is not None else None
        if self._matching() and lufs is not None and lufs > _SILENT_LUFS:
            return float(10.0 ** ((MATCH_TARGET_LUFS - lufs) / 20.0))
        return 1.0

    def seek_to(self, seconds: float) -> None:
        """A click on the shown take's spectrogram: play from there (loading that take if needed)."""
        take = self._shown_take()
        if take is None:
            return
        mapped = self.ab.playing_time(take, self.player.take_id, seconds)  # B plays against the shown A
        if self.player.take_id == take.id or mapped is not None:
            self.player.seek(seconds if mapped is None else mapped)
        else:
            self._pending_seek = seconds
            self.player.select(take.id, take.path, play=False)

    def forget(self, ids: Sequence[int]) -> None:
        """Takes leaving the list: their decoded audio goes, and playback stops if one of them plays."""
        for take_id in ids:
            self.player.forget(take_id)

    def _on_loaded(self, _take_id: int) -> None:
        self.update_gains()
        if self._pending_seek is not None:
            self.player.seek(self._pending_seek)
            self._pending_seek = None

    def _on_position(self, seconds: float) -> None:
        take = self._shown_take()
        on_panel = take is not None and take.id == self.player.take_id
        mapped = None if take is None or on_panel else self.ab.shown_time(take, self.player.take_id, seconds)
        self.playhead_moved.emit(seconds if on_panel else mapped)
        self.position_text.emit(f"{clock(seconds)} / {mmss(self.player.duration_s)}")
