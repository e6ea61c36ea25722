"""The player without a sound card: a fake output device records the stream it is asked for, and the
test pulls buffers from the real callback, as PortAudio would.

Test files carry their position in their samples: the left channel of a "ramp" take is frame / 2**20
(exact in float32), the right channel a constant naming the take, so every buffer says which take
and which frame it came from.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import struct
import time
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
import soundfile as sf
from badinput import encode, pcm_matroska
from fake_streams import FakeOutput, pull
from PySide6.QtCore import Qt
from ui_helpers import DATA
from view_drags import DragEnd

from hitdesk.ui.play_source import AvSource, downmix_matrix, open_play_source
from hitdesk.ui.playback import Player

SCALE = 2.0**20


def ramp(path: Path, rate: int = 44_100, seconds: float = 10.0, right: float = 0.25) -> Path:
    n = round(rate * seconds)
    data = np.stack([np.arange(n) / SCALE, np.full(n, right)], axis=1).astype(np.float32)
    sf.write(path, data, rate, subtype="FLOAT")
    return path


def frames_of(block: npt.NDArray[np.float32]) -> npt.NDArray[np.int64]:
    return np.round(block[:, 0] * SCALE).astype(np.int64)


def load(qtbot: Any, player: Player, take_id: int, path: Path, play: bool | None = True) -> None:
    with qtbot.waitSignal(player.loaded, timeout=20_000):
        player.select(take_id, path, play=play)


@pytest.fixture
def output() -> FakeOutput:
    return FakeOutput()


@pytest.fixture
def player(qtbot: Any, output: FakeOutput) -> Any:
    p = Player(output=output)
    yield p
    p.close()


# --- the stream's format ------------------------------------------------------------------------------


@pytest.mark.parametrize(("channels", "rate"), [(1, 44_100), (2, 48_000), (6, 48_000), (2, 96_000)])
def test_the_stream_has_the_files_rate_and_two_channels(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path, channels: int, rate: int
) -> None:
    levels = np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6][:channels], dtype=np.float32)
    data = np.tile(levels, (rate, 1))  # a second of a constant level per channel
    path = tmp_path / f"c{channels}.wav"
    sf.write(path, data, rate, subtype="FLOAT")
    load(qtbot, player, 1, path)
    assert output.opened == [(rate, 2)]
    heard = pull(player, output, rate // 2)
    left, right = heard[100, 0], heard[100, 1]
    if channels == 1:
        assert left == right == pytest.approx(0.1)
    elif channels == 2:
        assert (left, right) == (pytest.approx(0.1), pytest.approx(0.2))
    else:  # 5.1 in WAV order: L R C LFE Ls Rs; centre and surrounds at -3 dB, no LFE, scaled not to clip
        k = np.sqrt(0.5)
        assert left == pytest.approx((0.1 + k * 0.3 + k * 0.5) / (1 + 2 * k), rel=1e-5)
        assert right == pytest.approx((0.2 + k * 0.3 + k * 0.6) / (1 + 2 * k), rel=1e-5)
    assert player.position_s == pytest.approx(0.5, abs=1e-3)


def test_a_rate_the_device_refuses_is_resampled_and_said(qtbot: Any, tmp_path: Path) -> None:
    rate = 96_000
    t = np.arange(rate * 2) / rate
    data = np.stack([0.5 * np.sin(2 * np.pi * 15_000 * t), 0.5 * np.sin(2 * np.pi * 1_000 * t)], axis=1)
    path = tmp_path / "hi.wav"
    sf.write(path, data.astype(np.float32), rate, subtype="FLOAT")
    output = FakeOutput(rates={44_100, 48_000}, default=48_000)
    player = Player(output=output)
    said: list[str] = []
    player.output_changed.connect(lambda short, full: said.extend([short, full]))
    try:
        load(qtbot, player, 1, path)
        assert output.opened == [(48_000, 2)]
        assert said[0] == "Out 48 kHz stereo, resampled"
        assert "48 kHz" in said[1] and "(96 kHz) is resampled" in said[1]
        heard = pull(player, output, 48_000)
        freqs = np.fft.rfftfreq(len(heard), 1 / 48_000)
        for ch, tone in ((0, 15_000), (1, 1_000)):
            assert freqs[np.argmax(np.abs(np.fft.rfft(heard[:, ch])))] == pytest.approx(tone, abs=2)
        assert player.position_s == pytest.approx(1.0, abs=2e-3)  # seconds of the file, not of the stream
    finally:
        player.close()


def test_a_rate_that_fails_to_open_falls_back_to_one_that_opens(qtbot: Any, tmp_path: Path) -> None:
    output = FakeOutput(default=44_100, fail_open={96_000})
    player = Player(output=output)
    try:
        load(qtbot, player, 1, ramp(tmp_path / "r.wav", rate=96_000, seconds=2.0))
        assert output.opened == [(44_100, 2)] and player.is_playing
        pull(player, output, 44_100)
        assert player.position_s == pytest.approx(1.0, abs=2e-3)
    finally:
        player.close()


def test_a_mono_device_gets_the_mix_of_both_channels(qtbot: Any, tmp_path: Path) -> None:
    output = FakeOutput(channels=1)
    player = Player(output=output)
    try:
        load(qtbot, player, 1, ramp(tmp_path / "r.wav", seconds=1.0, right=0.5))
        assert output.opened == [(44_100, 1)]
        heard = pull(player, output, 1000)
        assert heard[10, 0] == pytest.approx((10 / SCALE + 0.5) / 2)
    finally:
        player.close()


def test_downmix_matrices() -> None:
    assert downmix_matrix(("FL", "FR"), 2) is None and downmix_matrix(("FC",), 1) is None
    assert downmix_matrix(("FC",), 2).tolist() == [[1.0, 1.0]]  # type: ignore[union-attr]
    assert np.allclose(downmix_matrix(("FL", "FR"), 1), [[0.5], [0.5]])  # type: ignore[arg-type]
    twelve = downmix_matrix(("",) * 12, 2)
    assert twelve is not None and np.allclose(twelve.sum(axis=0), 1.0)  # unnamed: alternate sides, no clipping
    assert np.allclose(twelve[0::2, 1], 0.0) and np.allclose(twelve[1::2, 0], 0.0)


# --- gain, A/B, offset, loop ------------------------------------------------------------------------------


def test_gain_scales_what_is_played_and_clips_at_full_scale(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    load(qtbot, player, 1, ramp(tmp_path / "a.wav", right=0.4))
    player.set_gain(1, 0.5)
    heard = pull(player, output, 1000)
    assert heard[:, 1] == pytest.approx(0.2)
    player.set_gain(1, 4.0)  # takes effect at the next buffer, without refilling
    assert pull(player, output, 1000)[:, 1] == pytest.approx(1.0)  # 1.6 clipped


def test_switching_takes_keeps_the_place_and_is_immediate(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    a, b = ramp(tmp_path / "a.wav", right=0.25), ramp(tmp_path / "b.wav", right=0.75)
    load(qtbot, player, 1, a)
    load(qtbot, player, 2, b)  # opened once; from now on switching is a seek
    player.seek(3.0)
    heard = pull(player, output, 4410)
    assert frames_of(heard)[0] == 3 * 44_100 and heard[0, 1] == 0.75
    for take, tag in ((1, 0.25), (2, 0.75), (1, 0.25)):
        at = round(player.position_s * 44_100)
        started = time.perf_counter()
        player.select(take, a if take == 1 else b)
        assert time.perf_counter() - started < 0.1, "an A/B switch took 100 ms or more"
        assert player.take_id == take and player.is_playing
        heard = pull(player, output, 2048)
        assert heard[0, 1] == tag
        assert frames_of(heard)[0] == at  # the next frame of the other take: no jump, no repeat
        assert np.all(np.diff(frames_of(heard)) == 1)


def test_a_time_offset_lines_the_takes_up(qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path) -> None:
    a, b = ramp(tmp_path / "a.wav", right=0.25), ramp(tmp_path / "b.wav", right=0.75)
    load(qtbot, player, 1, a)
    load(qtbot, player, 2, b)
    player.set_offset(1, 0.100)  # A's music starts 100 ms into its file, B's 350 ms into its own
    player.set_offset(2, 0.350)
    player.select(1, a)
    player.seek(2.0)
    pull(player, output, 441)
    player.select(2, b)
    heard = pull(player, output, 441)
    assert frames_of(heard)[0] == round((2.010 - 0.100 + 0.350) * 44_100)
    player.set_offset(1, 1.0)  # A placed after B's start: switching early gives silence before A begins
    player.seek(0.2)
    player.select(1, a)
    assert player.position_s == pytest.approx(0.2 - 0.350 + 1.0)
    player.set_offset(1, -0.5)
    player.select(2, b)
    player.seek(0.1)
    player.select(1, a)  # 0.1 - 0.35 - 0.5: 0.75 s before A's first frame
    assert player.position_s == pytest.approx(-0.75, abs=1e-4)
    heard = pull(player, output, 44_100)
    silent = round(0.75 * 44_100)
    assert np.all(heard[:silent] == 0.0)
    assert frames_of(heard[silent:])[0] == 0 and heard[silent, 1] == 0.25


def test_a_loop_repeats_its_region(qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path) -> None:
    load(qtbot, player, 1, ramp(tmp_path / "a.wav"))
    player.set_loop(1, (1.0, 1.25))
    player.seek(0.9)  # before the loop: plays into it, then repeats it
    heard = frames_of(pull(player, output, round(0.7 * 44_100)))
    start, end = 44_100, round(1.25 * 44_100)
    assert heard[0] == round(0.9 * 44_100)
    jumps = np.flatnonzero(np.diff(heard) != 1)
    assert len(jumps) == 2
    for j in jumps:
        assert (heard[j], heard[j + 1]) == (end - 1, start)
    assert start / 44_100 <= player.position_s <= 1.25
    player.set_loop(1, None)  # from where it is, on to the end
    heard = frames_of(pull(player, output, round(0.5 * 44_100)))
    assert np.all(np.diff(heard) == 1) and heard[-1] > end


def test_a_loop_holds_when_the_take_is_resampled(qtbot: Any, tmp_path: Path) -> None:
    output = FakeOutput(rates={48_000})
    player = Player(output=output)
    try:
        load(qtbot, player, 1, ramp(tmp_path / "r.wav", rate=96_000, seconds=3.0))
        player.set_loop(1, (0.5, 0.75))
        player.seek(0.5)
        positions = []
        for _ in range(40):
            pull(player, output, 1200)  # 25 ms
            positions.append(player.position_s)
        assert min(positions) >= 0.5 and max(positions) <= 0.75 + 1e-3
        assert len(set(np.round(positions, 3))) > 5  # it moves, within the loop
    finally:
        player.close()


def test_the_end_stops_and_play_starts_again(qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path) -> None:
    load(qtbot, player, 1, ramp(tmp_path / "a.wav", seconds=0.5))
    heard = pull(player, output, 44_100)
    assert len(heard) >= 22_050 and not player.is_playing
    player._tick()
    player.play()
    assert player.is_playing and frames_of(pull(player, output, 100))[0] == 0


# --- what the callback and the feeder cost ---------------------------------------------------------------


def test_the_callback_only_copies(qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path) -> None:
    load(qtbot, player, 1, ramp(tmp_path / "a.wav"))
    player.set_gain(1, 0.5)
    player.engine.stop()  # the feeder thread would allocate while we measure
    feed = player.engine.feed
    assert feed is not None and output.callback is not None
    while player.engine.top_up():
        pass
    block = np.zeros((2048, 2), dtype=np.float32)  # any array the callback made would be 16 kB or more
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base, _ = tracemalloc.get_traced_memory()
        for _ in range(feed.ahead // 2048):
            output.callback(block, 2048, None, None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - base < 8_000
    assert frames_of(block * 2)[-1] == feed.read - 1


def _sparse_wav(path: Path, seconds: float, rate: int = 44_100) -> Path:
    """A 16-bit stereo WAV of silence whose data is a hole in the file: an hour costs no disk."""
    data_bytes = round(seconds * rate) * 4
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 2, rate, rate * 4, 4, 16) + b"data" + struct.pack("<I", data_bytes)
    with path.open("wb") as f:
        f.write(header)
        f.truncate(len(header) + data_bytes)
    return path


def test_an_hour_long_take_is_read_as_it_plays_not_held(
    qtbot: Any, player: Player, output: FakeOutput, tmp_path: Path
) -> None:
    path = _sparse_wav(tmp_path / "hour.wav", 3600.0)  # 635 MB as float32 stereo
    tracemalloc.start()
    try:
        load(qtbot, player, 1, path)
        pull(player, output, 44_100)
        player.seek(3000.0)
        pull(player, output, 44_100)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert player.duration_s == pytest.approx(3600.0)
    assert player.position_s == pytest.approx(3001.0, abs=0.01)
    assert peak < 10_000_000


# --- files FFmpeg reads ----------------------------------------------------------------------------------


def _lag(got: npt.NDArray[np.float32], whole: npt.NDArray[np.float32], start: int, reach: int) -> int | None:
    """How far from ``start`` in ``whole`` the frames ``got`` are (None: not within ``reach``)."""
    for lag in sorted(range(-reach, reach + 1), key=abs):
        if start + lag >= 0 and np.array_equal(got[:256], whole[start + lag : start + lag + 256]):
            return lag
    return None


def test_ffmpeg_sources_seek_to_the_frame_or_as_close_as_the_container_says(tmp_path: Path) -> None:
    """ALAC in M4A has sample-exact timestamps; Matroska stores milliseconds, so within one."""
    rate = 44_100
    data = (0.2 * np.random.default_rng(1).standard_normal((rate * 8, 2))).astype(np.float32)
    for path, reach in (
        (encode(tmp_path / "alac.m4a", "alac", data, rate), 0),
        (pcm_matroska(tmp_path / "pcm.mka", data, rate), rate // 1000),
    ):
        source = open_play_source(path)
        try:
            assert isinstance(source, AvSource) and (source.rate, source.channels) == (rate, 2)
            whole = source.read(rate * 10)
            assert len(whole) == len(data)
            for start in (1000, 9000, rate * 3 + 17, rate * 7):
                source.seek(start)
                assert _lag(source.read(4096), whole, start, reach) is not None, (path.name, start)
        finally:
            source.close()


def test_an_m4a_take_plays_from_where_it_is_asked(qtbot: Any, player: Player, output: FakeOutput) -> None:
    clip = DATA / "forest-sprint-6s.m4a"
    if not clip.exists():
        pytest.skip("needs tests/data/forest-sprint-6s.m4a")
    source = open_play_source(clip)
    whole = source.read(10**7)
    source.close()
    load(qtbot, player, 1, clip, play=True)
    player.seek(3.0)
    heard = pull(player, output, 4096)
    want = whole[3 * 44_100 : 3 * 44_100 + 4096]
    assert np.corrcoef(heard[:, 0], want[:, 0])[0, 1] > 0.99  # the same place, not a frame off
    assert np.max(np.abs(heard - want)) < 0.05  # the decoder warms up before the frame


# --- settings kept with the take and in sessions ----------------------------------------------------------


def test_session_round_trip_of_gain_offset_and_loop(tmp_path: Path) -> None:
    from hitdesk.ui.play_settings import PlaySettings
    from hitdesk.ui.session import SessionError, SessionTake, load_session, save_session

    song = ramp(tmp_path / "a.wav", seconds=1.0)
    playback = PlaySettings(gain_db=-3.5, offset_ms=120.25, loop=(1.5, 4.0))
    session = tmp_path / "s.hitdesk.json"
    save_session(session, [SessionTake(song, None, None, "n", playback)], {})
    raw = json.loads(session.read_text(encoding="utf-8"))
    assert raw["version"] == 2 and raw["takes"][0]["playback"] == {
        "gain_db": -3.5,
        "offset_ms": 120.25,
        "loop": [1.5, 4.0],
    }
    takes, _ = load_session(session)
    assert takes[0].playback == playback
    # A version 1 session (before playback settings) opens with the defaults.
    del raw["takes"][0]["playback"]
    raw["version"] = 1
    session.write_text(json.dumps(raw), encoding="utf-8")
    assert load_session(session)[0][0].playback == PlaySettings()
    for bad in ({"gain_db": "loud"}, {"loop": [1.0]}, {"offset_ms": float("nan")}, [1, 2]):
        raw["takes"][0]["playback"] = bad
        session.write_text(json.dumps(raw), encoding="utf-8")
        with pytest.raises(SessionError, match="damaged"):
            load_session(session)
    raw["version"] = 3
    session.write_text(json.dumps(raw), encoding="utf-8")
    with pytest.raises(SessionError, match="newer"):
        load_session(session)


def test_settings_are_kept_in_range() -> None:
    from hitdesk.ui.play_settings import PlaySettings

    s = PlaySettings(gain_db=99.0, offset_ms=-1e9, loop=(5.0, 2.0))
    assert (s.gain_db, s.offset_ms, s.loop) == (24.0, -60_000.0, (2.0, 5.0))
    assert PlaySettings(loop=(-1.0, 0.0)).loop == (0.0, 0.05)
    assert PlaySettings(gain_db=-6.0).gain == pytest.approx(0.501, abs=1e-3)


def test_the_controller_keeps_a_takes_playback_settings(qtbot: Any, tmp_path: Path) -> None:
    from hitdesk.ui.controller import TakesController
    from hitdesk.ui.play_settings import PlaySettings

    controller = TakesController()
    try:
        take = controller.add_paths([ramp(tmp_path / "a.wav", seconds=1.0)])[0]  # no model: it waits
        seen: list[int] = []
        controller.take_playback.connect(seen.append)
        controller.set_playback(take.id, PlaySettings(gain_db=2.0, loop=(0.2, 0.4)))
        assert take.playback == PlaySettings(gain_db=2.0, loop=(0.2, 0.4)) and seen == [take.id]
        assert controller.dirty
        controller.set_playback(take.id, PlaySettings(gain_db=2.0, loop=(0.2, 0.4)))  # the same: no news
        assert seen == [take.id]
        assert controller._list.session_takes()[0].playback == take.playback
    finally:
        controller.shutdown()


def test_the_player_gets_each_takes_gain_on_top_of_matching_its_offset_and_loop(player: Player) -> None:
    from hitdesk.ui.loudness import Loudness
    from hitdesk.ui.play_settings import PlaySettings
    from hitdesk.ui.takes import Take
    from hitdesk.ui.transport import Transport

    a = Take(1, Path("a.wav"), "a", loudness=Loudness(-12.0, -1.0))
    a.playback = PlaySettings(gain_db=-6.0, offset_ms=50.0, loop=(1.0, 2.0))
    b = Take(2, Path("b.wav"), "b", loudness=Loudness(-24.0, -1.0))
    matching = [True]
    transport = Transport(player, lambda: a, lambda: [a, b], lambda: matching[0])
    transport.update_gains()
    assert player._gain_by_take[1] == pytest.approx(10 ** ((-18 + 12) / 20) * 10 ** (-6 / 20))
    assert player._gain_by_take[2] == pytest.approx(10 ** ((-18 + 24) / 20))
    assert player._offset_by_take == {1: 0.05, 2: 0.0}
    assert player._loop_by_take == {1: (1.0, 2.0)}
    matching[0] = False
    transport.update_gains()
    assert player._gain_by_take == {1: pytest.approx(10 ** (-6 / 20)), 2: 1.0}


# --- the window: the fields, the spectrogram's selection, the controller, the player, sessions -----------


def test_gain_offset_and_loop_from_the_window_reach_the_player_and_the_session(
    qtbot: Any, window: Any, settings: Any, tmp_path: Path
) -> None:
    from ui_helpers import WAIT_MS, clips

    from hitdesk.ui.main_window import MainWindow

    window.player.output = FakeOutput()
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
        window.add_paths(clips()[:2])
    first = window.takes.takes[0]
    window.select_ids([first.id])
    panel, controls, player = window.panel, window.panel.play_controls, window.player
    qtbot.waitUntil(lambda: bool(panel.spectrogram.window_names), timeout=WAIT_MS)
    controls.gain.setValue(-6.0)
    controls.offset.setValue(120.0)
    view_box = panel.spectrogram.getPlotItem().vb
    view_box.mouseDragEvent(DragEnd(view_box, 2.0, 4.5, Qt.KeyboardModifier.ShiftModifier, y=10.0))
    assert first.playback.gain_db == -6.0 and first.playback.offset_ms == 120.0
    assert first.playback.loop == pytest.approx((2.0, 4.5), abs=0.05)
    assert controls.loop.isChecked() and controls.loop_start.value() == pytest.approx(2.0, abs=0.05)
    assert panel.spectrogram.loop_band.region == pytest.approx(first.playback.loop)
    assert player._gain_by_take[first.id] == pytest.approx(10 ** (-6 / 20))
    assert player._offset_by_take[first.id] == pytest.approx(0.12)
    assert player._loop_by_take[first.id] == first.playback.loop
    assert window.controller.dirty
    controls.loop.setChecked(False)
    assert first.playback.loop is None and panel.spectrogram.loop_band.region is None
    assert first.id not in player._loop_by_take
    controls.loop_end.setValue(3.0)
    controls.loop.setChecked(True)
    loop = first.playback.loop
    session = tmp_path / "s.hitdesk.json"
    window.controller.save_session(session)
    other = MainWindow(settings=settings, restore=False, persist=False)
    qtbot.addWidget(other)
    try:
        other.player.output = FakeOutput()
        other.controller.open_session(session)
        restored = other.takes.takes[0]
        assert restored.playback == first.playback and restored.playback.loop == loop
        other.select_ids([restored.id])
        assert other.panel.play_controls.gain.value() == -6.0
        assert other.panel.spectrogram.loop_band.region == pytest.approx(loop)
    finally:
        other.close()
