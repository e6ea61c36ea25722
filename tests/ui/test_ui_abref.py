"""References and A/B: level-matched, lined-up switching with the loop carried over, "Hear as" a
platform through the player's real callback (a fake output device, no PortAudio), and the window:
the Reference box, the A/B row, a loop dragged on a time strip, and Compare on takes of other songs.

Ramp takes carry their position in their samples: the left channel is frame / 2**20, the right one
a constant naming the take (times the gain it is played at).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fake_streams import FakeOutput, pull
from made_songs import envelope, song, with_intro, write
from PySide6.QtCore import Qt
from view_drags import DragEnd

from hitdesk.analysis import AnalysisDetail
from hitdesk.playgain import db_to_gain
from hitdesk.ui.loudness import Loudness
from hitdesk.ui.play_settings import PlaySettings
from hitdesk.ui.playback import Player
from hitdesk.ui.takes import Take
from hitdesk.ui.transport import Transport

SCALE = 2.0**20
RATE = 8_000
SHIFT_S = 5.0 - 1.7  # B's music is this much later than A's (another intro of 5 s, 1.7 s cut)


def ramp(path: Path, tag: float, seconds: float = 45.0) -> Path:
    n = round(RATE * seconds)
    sf.write(path, np.stack([np.arange(n) / SCALE, np.full(n, tag)], axis=1).astype(np.float32), RATE, subtype="FLOAT")
    return path


def frames_of(block: np.ndarray) -> np.ndarray:
    return np.round(block[:, 0] * SCALE).astype(np.int64)


@pytest.fixture
def output() -> FakeOutput:
    return FakeOutput()


@pytest.fixture
def player(qtbot: Any, output: FakeOutput) -> Any:
    p = Player(output=output)
    yield p
    p.close()


def load(qtbot: Any, player: Player, take: Take, play: bool = True) -> None:
    with qtbot.waitSignal(player.loaded, timeout=20_000):
        player.select(take.id, take.path, play=play)


def pair(tmp_path: Path) -> tuple[Take, Take]:
    """A take (A) at -14 LUFS and a reference (B) at -10.8 LUFS whose analyses line up 3.3 s apart."""
    music = song(1)
    a = Take(1, ramp(tmp_path / "a.wav", 0.25), "a", loudness=Loudness(-14.0, -3.0))
    b = Take(2, ramp(tmp_path / "b.wav", 0.5), "b", loudness=Loudness(-10.8, -1.0))
    a.detail = AnalysisDetail(onset_envelope=envelope(music))
    b.detail = AnalysisDetail(onset_envelope=envelope(with_intro(music, 9, 5.0, 1.7)))
    b.playback = PlaySettings(reference=True)
    return a, b


def test_ab_plays_the_reference_level_matched_at_the_same_musical_moment(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    a, b = pair(tmp_path)
    transport = Transport(player, lambda: a, lambda: [a, b], lambda: False)
    ab = transport.ab
    assert ab.pair() == (a, b)
    load(qtbot, player, b)  # opened once: switching to it is a seek
    load(qtbot, player, a)
    transport.update_gains()
    player.seek(10.0)
    pull(player, output, 800)
    at = player.position_s
    started = time.perf_counter()
    ab.toggle()
    assert time.perf_counter() - started < 0.1, "an A/B switch took 100 ms or more"
    assert player.take_id == b.id and player.is_playing  # playing at once: no gap
    heard = pull(player, output, 1600)
    assert heard[0, 1] == pytest.approx(0.5 * db_to_gain(-3.2), rel=1e-4)  # B at A's loudness
    heard /= db_to_gain(-3.2)  # the ramp too
    assert frames_of(heard)[0] == pytest.approx((at + SHIFT_S) * RATE, abs=0.015 * RATE)
    assert np.all(np.diff(frames_of(heard)) == 1)
    status = ab.status()
    assert "B is played 3.2 dB quieter to match" in status and "lined up" in status and "+3.30 s" in status
    moved: list[object] = []
    transport.playhead_moved.connect(moved.append)
    transport._on_position(player.position_s)
    assert moved[-1] == pytest.approx(player.position_s - SHIFT_S, abs=0.015)  # A's playhead while B plays
    at = player.position_s
    ab.toggle()  # and back to A, at the moment B was at
    assert player.take_id == a.id
    heard = pull(player, output, 800)
    assert frames_of(heard)[0] == pytest.approx((at - SHIFT_S) * RATE, abs=0.015 * RATE)
    assert heard[0, 1] == pytest.approx(0.25)
    ab.set_nudge_ms(120.0)  # by hand, on top of the alignment
    assert player._offset_by_take[b.id] == pytest.approx(SHIFT_S + 0.12, abs=0.015)
    b.detail = AnalysisDetail()  # analysed from excerpts (fast mode): nothing to line up with
    ab.update()
    assert "no whole-track onsets" in ab.status() and player._offset_by_take[b.id] == pytest.approx(0.12)


def test_the_loop_of_the_take_is_the_references_loop_during_ab(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    a, b = pair(tmp_path)
    a.playback = PlaySettings(loop=(12.0, 13.0))
    shown = [a]
    transport = Transport(player, lambda: shown[0], lambda: [a, b], lambda: False)
    load(qtbot, player, b)
    load(qtbot, player, a)
    transport.update_gains()
    player.seek(12.5)
    ab = transport.ab
    ab.toggle()
    loop = player._loop_by_take[b.id]
    assert loop == pytest.approx((12.0 + SHIFT_S, 13.0 + SHIFT_S), abs=0.015)
    heard = frames_of(pull(player, output, 2 * RATE) / db_to_gain(-3.2))  # the one-second loop comes round
    assert heard.min() >= round(loop[0] * RATE) - 1 and heard.max() < round(loop[1] * RATE) + 1
    assert np.any(np.diff(heard) < 0)  # it jumped back to the loop's start
    ab.stop()
    assert b.id not in player._loop_by_take  # B's own settings again (no loop)
    ab.toggle()
    assert ab.active and b.id in player._loop_by_take
    shown[0] = b  # another take shown: A/B ends
    ab.update()
    assert not ab.active and b.id not in player._loop_by_take


def test_hear_as_a_platform_applies_its_gain_and_ceiling_to_what_is_played(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    loud = Take(1, ramp(tmp_path / "loud.wav", 0.4), "loud", loudness=Loudness(-8.0, -0.3))
    quiet = Take(2, ramp(tmp_path / "quiet.wav", 0.6), "quiet", loudness=Loudness(-20.0, -6.0))
    shown = [loud]
    transport = Transport(player, lambda: shown[0], lambda: [loud, quiet], lambda: True)
    load(qtbot, player, loud)
    transport.update_gains()
    matched = pull(player, output, 500)[0, 1]
    assert matched == pytest.approx(0.4 * db_to_gain(-18.0 + 8.0), rel=1e-4)  # loudness matching, as before
    transport.ab.set_platform("Spotify")
    heard = pull(player, output, 500)
    assert heard[0, 1] == pytest.approx(0.4 * db_to_gain(-6.0), rel=1e-4)  # turned down to -14 LUFS
    assert transport.ab.platform_status(loud) == "As Spotify plays it: turned down 6.0 dB"
    shown[0] = quiet
    load(qtbot, player, quiet)
    heard = pull(player, output, 500)  # turned up 5 dB (to a -1 dBTP true peak), 0.6 -> 1.07: held at -1 dBFS
    assert heard[0, 1] == pytest.approx(db_to_gain(-1.0), rel=1e-4)
    transport.ab.set_platform("YouTube")  # only turns down: as it is
    assert pull(player, output, 500)[0, 1] == pytest.approx(0.6, rel=1e-4)
    transport.ab.set_platform(None)
    assert pull(player, output, 500)[0, 1] == pytest.approx(min(1.0, 0.6 * db_to_gain(-18.0 + 20.0)), rel=1e-4)


# --- the window -------------------------------------------------------------------------------------------


def test_references_ab_and_compare_in_the_window(qtbot: Any, window: Any, tmp_path: Path) -> None:
    from ui_helpers import WAIT_MS

    from hitdesk.ui.session import load_session
    from hitdesk.ui.takes_table import Column

    music = song(1)
    paths = [
        write(tmp_path / "take.wav", music),
        write(tmp_path / "reference.wav", with_intro(music, 9, 5.0, 1.7), level=0.5),  # about 6 dB quieter
        write(tmp_path / "other-song.wav", song(2)),
    ]
    window.player.output = FakeOutput()
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
        window.add_paths(paths)
    take, ref, other = window.takes.takes
    controls, bar = window.panel.play_controls, window.panel.ab_bar
    window.select_ids([take.id])
    assert bar.isHidden() and not bar.switch.isEnabled()  # no room taken without a reference
    window.select_ids([ref.id])
    controls.reference.setChecked(True)  # the Reference box
    assert ref.playback.reference and window.controller.dirty and not bar.isHidden()
    name = window.takes.index(window.takes.row_of(ref.id), Column.NAME)
    assert window.takes.data(name, Qt.ItemDataRole.FontRole).bold()
    session = tmp_path / "s.hitdesk.json"
    window.controller.save_session(session)
    saved = json.loads(session.read_text(encoding="utf-8"))["takes"]
    assert [e["playback"].get("reference", False) for e in saved] == [False, True, False]
    assert [t.playback.reference for t in load_session(session)[0]] == [False, True, False]

    window.select_ids([take.id])
    qtbot.waitUntil(lambda: take.detail is not None and ref.detail is not None, timeout=WAIT_MS)
    assert bar.switch.isEnabled() and bar.reference.currentText() == "reference.wav"
    qtbot.waitUntil(lambda: "lined up" in bar.status.text(), timeout=WAIT_MS)
    assert "louder to match" in bar.status.text() and "+3.30 s" in bar.status.text()
    with qtbot.waitSignal(window.player.loaded, timeout=WAIT_MS):
        window.action_map["ab"].trigger()  # nothing played yet: A is loaded
    assert window.player.take_id == take.id
    window.player.seek(12.0)
    with qtbot.waitSignal(window.player.loaded, timeout=WAIT_MS):
        window.action_map["ab"].trigger()
    assert window.player.take_id == ref.id
    assert window.player.position_s == pytest.approx(12.0 + SHIFT_S, abs=0.02)
    assert window.player._gain_by_take[ref.id] == pytest.approx(
        db_to_gain(take.loudness.integrated_lufs - ref.loudness.integrated_lufs), rel=1e-3
    )

    playback_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Playback")
    hear_as = next(a.menu() for a in playback_menu.actions() if a.text() == "&Hear As")
    next(a for a in hear_as.actions() if a.text() == "Spotify").trigger()
    assert window.transport.ab.platform is not None and bar.platform.currentText() == "Spotify"
    assert "As Spotify plays it" in bar.status.text()
    next(a for a in hear_as.actions() if a.text() == "As it is").trigger()
    assert window.transport.ab.platform is None and bar.platform.currentText() == "As it is"

    strip = window.panel.strip  # a plain drag on a time strip marks a loop
    view_box = strip.getPlotItem().vb
    view_box.mouseDragEvent(DragEnd(view_box, 3.0, 7.5))
    assert take.playback.loop == pytest.approx((3.0, 7.5), abs=0.1)
    assert window.panel.spectrogram.loop_band.region == pytest.approx(take.playback.loop)
    assert window.player._loop_by_take[ref.id] == pytest.approx(
        (take.playback.loop[0] + SHIFT_S, take.playback.loop[1] + SHIFT_S), abs=0.02
    )

    window.select_ids([take.id, ref.id])
    window.show_compare()
    compare = window.compare
    assert compare.not_one_song is None
    window.select_ids([take.id, other.id])
    window.show_compare()
    assert compare.not_one_song is not None and "do not look like the same song" in compare.hint.text()
    assert "'take.wav' and 'other-song.wav' do not line up" in compare.hint.toolTip()
    assert "“no clear difference” means" not in compare.hint.text()  # not told apart as takes of one song
    assert compare.model.summary in compare.summary.text()  # still ranked, as separate songs
    window.select_ids([take.id, ref.id])
    window.show_compare()
    assert compare.not_one_song is None and "“no clear difference” means" in compare.hint.text()
