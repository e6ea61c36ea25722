"""A/B of the shown take against a reference, and playing a take as a platform would. No widgets.

Takes marked as references (``PlaySettings.reference``, saved in sessions) are what the shown take
(A) is switched against (B). While A/B is on:

- B is played at A's integrated loudness (``hitdesk.playgain.level_match_db``), so neither wins by
  being louder; the bar says by how much ("B is played 3.2 dB quieter to match").
- B stands where its music lines up with A's: the offset ``hitdesk.align`` finds from the two
  analyses' onset envelopes (when it takes them for one song), plus the user's nudge. Switching goes
  through ``Player``'s offsets, so it lands on the same musical moment, without a gap (the player
  installs the other take's prefilled feed in one assignment).
- A's loop is B's too, moved by that offset, so a looped region stays the same music across a switch.

"Hear as" a platform replaces loudness matching with the platform's normalisation gain and holds the
samples under its true-peak ceiling where it has one (``hitdesk.playgain.platform_playback``), for
whichever take plays. ``Transport.update_gains`` asks ``adjust`` how each take is played.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace

from PySide6.QtCore import QObject, Signal

from hitdesk.align import Alignment, AlignmentError, align
from hitdesk.errors import HitdeskError
from hitdesk.platforms import BUILT_IN, Platform, load_platforms
from hitdesk.playgain import Played, db_to_gain, level_match_db, match_sentence, platform_playback
from hitdesk.ui.playback import Player
from hitdesk.ui.takes import Take

log = logging.getLogger(__name__)

NUDGE_RANGE_MS = (-5_000.0, 5_000.0)


def take_lufs(take: Take) -> float | None:
    return take.loudness.integrated_lufs if take.loudness is not None else None


def take_envelope(take: Take) -> object:
    return None if take.detail is None else take.detail.onset_envelope


class ABCompare(QObject):
    changed = Signal()  # what the A/B bar shows changed
    message = Signal(str)  # one sentence for the status bar

    def __init__(
        self,
        player: Player,
        shown_take: Callable[[], Take | None],
        all_takes: Callable[[], Sequence[Take]],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.player = player
        self._shown_take = shown_take
        self._all_takes = all_takes
        self.refresh: Callable[[], None] = lambda: None  # the transport's update_gains, set by it
        self.ensure_detail: Callable[[int], None] = lambda _take_id: None  # the controller's, set by the window
        self.active = False  # on from the first A/B until another take is shown
        self._active_a: int | None = None
        self.chosen_reference: int | None = None
        self.platform: Platform | None = None
        self._nudge_ms: dict[tuple[int, int], float] = {}
        self._alignments: dict[tuple[int, int, int, int], Alignment | str] = {}
        try:
            self.platforms = load_platforms()
        except HitdeskError as exc:  # the user's presets file is broken: the built-in ones, and why
            log.warning("%s", exc)
            self.platforms = BUILT_IN

    # ------------------------------------------------------------------------------------ which takes
    def references(self) -> list[Take]:
        return [t for t in self._all_takes() if t.playback.reference]

    def pair(self) -> tuple[Take, Take] | None:
        """(A, B): the shown take and the reference it is played against (the chosen one, else the
        first that is not A); None when there is no such pair."""
        a = self._shown_take()
        if a is None:
            return None
        refs = [t for t in self.references() if t.id != a.id]
        chosen = next((t for t in refs if t.id == self.chosen_reference), None)
        b = chosen if chosen is not None else (refs[0] if refs else None)
        return None if b is None else (a, b)

    def choose_reference(self, take_id: int | None) -> None:
        self.chosen_reference = take_id
        self._changed()

    def set_platform(self, name: str | None) -> None:
        self.platform = next((p for p in self.platforms if p.name == name), None)
        self._changed()

    # ------------------------------------------------------------------------------------ lining up
    def alignment(self, a: Take, b: Take) -> Alignment | str | None:
        """Where B's music stands against A's; a sentence when it cannot be worked out; None while an
        analysis is missing (it is asked for)."""
        env_a, env_b = take_envelope(a), take_envelope(b)
        for take, env in ((a, env_a), (b, env_b)):
            if env is None and take.detail is not None:  # analysed from excerpts: no whole-track envelope
                return f"'{take.name}' has no whole-track onsets (fast mode, or the hit curve off): not lined up"
            if env is None:
                self.ensure_detail(take.id)
        if env_a is None or env_b is None:
            return None
        key = (a.id, b.id, id(env_a), id(env_b))
        if key not in self._alignments:
            try:
                self._alignments = {k: v for k, v in self._alignments.items() if k[:2] != key[:2]}
                self._alignments[key] = align(env_a, env_b)  # type: ignore[arg-type]
            except AlignmentError as exc:
                self._alignments[key] = str(exc)
        return self._alignments[key]

    def nudge_ms(self, a: Take, b: Take) -> float:
        return self._nudge_ms.get((a.id, b.id), 0.0)

    def set_nudge_ms(self, value: float) -> None:
        pair = self.pair()
        if pair is not None:
            low, high = NUDGE_RANGE_MS
            self._nudge_ms[(pair[0].id, pair[1].id)] = min(max(float(value), low), high)
            self._changed()

    def shift_s(self, a: Take, b: Take) -> float:
        """How much later B's music is than A's: the alignment when it finds one song, plus the nudge."""
        found = self.alignment(a, b)
        lined = found.offset_s if isinstance(found, Alignment) and found.same_song else 0.0
        return lined + self.nudge_ms(a, b) / 1000.0

    # ------------------------------------------------------------------------------------ switching
    def toggle(self) -> None:
        """Switches between A and B at the same musical moment (starting A/B when it is off)."""
        pair = self.pair()
        if pair is None:
            self.message.emit("Mark another take as a reference (the Reference box under the spectrogram) to A/B.")
            return
        a, b = pair
        self.active, self._active_a = True, a.id
        self.refresh()
        target = b if self.player.take_id == a.id else a
        if target.path.is_file():
            self.player.select(target.id, target.path)
        self.changed.emit()

    def stop(self) -> None:
        self.active = False
        self._changed()

    def update(self) -> None:
        """Something the pair depends on changed (the shown take, an analysis, a reference box). Showing
        another take ends A/B: B's own offset and loop apply again until A/B is pressed for the new take."""
        shown = self._shown_take()
        if self.active and (shown is None or shown.id != self._active_a):
            self.active = False
        self._changed()

    def _changed(self) -> None:
        self.refresh()
        self.changed.emit()

    # ------------------------------------------------------------------------------------ how a take is played
    def adjust(self, take: Take, played: Played, match_gain: Callable[[Take], float]) -> Played:
        """How ``take`` is played once the platform preview and A/B are taken into account.

        ``played`` is the transport's (loudness matching times the take's gain); ``match_gain`` gives a
        take's loudness-matching factor alone.
        """
        if self.platform is not None:
            heard = platform_playback(self.platform, take_lufs(take), getattr(take.loudness, "true_peak_dbtp", None))
            if heard is not None:
                played = replace(played, gain=db_to_gain(heard.gain_db) * take.playback.gain, ceiling=heard.ceiling)
        pair = self.pair() if self.active else None
        if pair is None or take.id != pair[1].id:
            return played
        a, b = pair
        shift = self.shift_s(a, b)
        loop = None if a.playback.loop is None else (a.playback.loop[0] + shift, a.playback.loop[1] + shift)
        if loop is not None and loop[1] <= 0:
            loop = None  # A's loop lies before B's music starts
        elif loop is not None:
            loop = (max(0.0, loop[0]), loop[1])
        played = replace(played, offset_s=a.playback.offset_s + shift, loop=loop)
        db = level_match_db(take_lufs(a), take_lufs(b))
        if self.platform is None and db is not None:
            played = replace(played, gain=match_gain(a) * db_to_gain(db) * b.playback.gain)
        return played

    def shown_time(self, shown: Take, playing_id: int | None, seconds: float) -> float | None:
        """Where the playing take's ``seconds`` fall on the shown take (A while B plays), or None."""
        pair = self.pair() if self.active else None
        if pair is None or shown.id != pair[0].id or playing_id != pair[1].id:
            return None
        return seconds - self.shift_s(pair[0], pair[1])

    def playing_time(self, shown: Take, playing_id: int | None, seconds: float) -> float | None:
        """A time on the shown take (A) in the playing take's file (B), when B plays against it; or None."""
        if self.shown_time(shown, playing_id, 0.0) is None:
            return None
        pair = self.pair()
        assert pair is not None
        return max(0.0, seconds + self.shift_s(pair[0], pair[1]))

    # ------------------------------------------------------------------------------------ what the bar says
    def status(self) -> str:
        pair = self.pair()
        if pair is None:
            if self.references():
                return "The shown take is the only reference: select another take to A/B against it."
            return "No reference: tick Reference on a take to A/B others against it."
        a, b = pair
        playing = "A" if self.player.take_id == a.id else "B" if self.player.take_id == b.id else None
        parts = [f"Playing {playing}" if playing and self.active else f"A: '{a.name}', B: '{b.name}'"]
        if self.platform is None:
            parts.append(match_sentence(level_match_db(take_lufs(a), take_lufs(b))))
        found = self.alignment(a, b)
        if found is None:
            parts.append("lining up waits for both analyses")
        elif isinstance(found, str):
            parts.append(found)
        elif found.same_song:
            parts.append(f"lined up: B's music is {found.offset_s:+.2f} s from A's (confidence {found.confidence:.1f})")
        else:
            parts.append(
                f"these takes do not look like the same song (confidence {found.confidence:.1f} < 1), so they are "
                "not lined up"
            )
        return "; ".join(parts) + "."

    def platform_status(self, take: Take | None) -> str:
        if self.platform is None or take is None:
            return ""
        heard = platform_playback(self.platform, take_lufs(take), getattr(take.loudness, "true_peak_dbtp", None))
        return heard.sentence if heard is not None else f"As {self.platform.name} plays it: loudness not measured yet"
