"""The record panel in the real main window (offscreen): real PortAudio from a virtual microphone,
and fakes for what a virtual device cannot do (no device at all, a device unplugged mid-take).
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fake_streams import stream_factory
from pulse import VirtualMic, in_process, missing_reason, virtual_mic, write_source_wav
from PySide6.QtCore import QSettings, Qt
from ui_helpers import REPO, WAIT_MS, wait_idle

import hitdesk.capture.recorder as capture
from hitdesk.capture import devices as devices_module
from hitdesk.capture.devices import InputDevice
from hitdesk.capture.repair import needs_repair
from hitdesk.capture.writers import WavWriter
from hitdesk.paths import recordings_dir
from hitdesk.results import Score
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State

FAKE_DEVICES = [
    InputDevice(3, "Desk Interface", "FakeAPI", 4, 48000.0, True),
    InputDevice(5, "USB Mic", "FakeAPI", 1, 44100.0, False),
]


def _window(qtbot: Any, settings: QSettings, **kwargs: Any) -> MainWindow:
    window = MainWindow(settings=settings, **kwargs)
    qtbot.addWidget(window)
    window.show()
    return window


def _fake_inputs(monkeypatch: pytest.MonkeyPatch, devices: list[InputDevice]) -> None:
    monkeypatch.setattr(devices_module, "list_input_devices", lambda: list(devices))
    monkeypatch.setattr(
        capture, "find_input_device", lambda spec=None: next(d for d in devices if spec in (None, d.index))
    )
    monkeypatch.setattr(
        capture, "supported_rates", lambda device, channels, requested: [round(device.default_samplerate)]
    )


# ---------------------------------------------------------------------------------------------- real time

_MISSING = missing_reason()


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    if _MISSING is not None:
        pytest.skip(_MISSING)
    with virtual_mic(tmp_path_factory.mktemp("pulse")) as m:
        yield m


def test_records_a_played_clip_and_adds_the_take(
    qtbot: Any, settings: QSettings, mic: VirtualMic, data_dir: Path, tmp_path: Path
) -> None:
    clip = mic.root / "clip.wav"
    write_source_wav(data_dir / "chipdisko-12s.ogg", clip, repeats=2)
    with in_process(mic):
        window = _window(qtbot, settings, restore=False, persist=False)
        window.prefs.window_seconds = 3.0  # live scores after 3 s and at 5 s
        panel = window.record_panel
        window.action_map["record_panel"].trigger()
        assert window.record_dock.isVisible()
        device = panel.device
        assert device is not None and device.is_default and device.name == "default"
        assert "(ALSA)" in panel.inputs.device_combo.currentText()
        assert panel.channels is not None and panel.channels.label == "1+2"
        mic.play(clip)
        window.action_map["record"].trigger()
        assert panel.recording, panel.message_text
        levels: set[float] = set()
        columns: list[int] = []

        def sample() -> bool:
            levels.add(round(panel.controls.level.levels_db[0], 1))
            columns.append(panel.view.columns_painted)
            return panel.elapsed_s >= 6.5

        qtbot.waitUntil(sample, timeout=30_000)
        assert len(panel.live_scores) == 2
        assert [(s.segment, s.t_s) for s in panel.live_scores] == [("beginning", 3.0), ("now", 5.0)]
        assert panel.scores.beginning_meter.score is not None and panel.scores.now_meter.score is not None
        assert panel.scores.now_meter.score.p_hit == panel.live_scores[1].score.p_hit
        # Spectrogram columns arrived and were painted, in order, as the take went on.
        assert columns == sorted(columns) and columns[-1] > 0.8 * 6.5 * 22050 / 512
        assert panel.view.paints > 30
        assert panel.view.image.image is not None and float(np.max(panel.view.image.image)) > -40.0
        # The level meter moved with the music, which is well below clipping.
        assert len(levels) > 5 and panel.controls.level.loudest_db > -30.0 and not panel.controls.level.clipped
        assert panel.overflows == 0 and panel.dropped_frames == 0
        window.action_map["record"].trigger()  # stop
        qtbot.waitUntil(lambda: window.takes.rowCount() == 1, timeout=WAIT_MS)
        mic.stop_playing()
    assert not panel.busy
    take = window.takes.take_at(0)
    assert take is not None and take.result is not None
    wait_idle(qtbot, window)
    assert take.state == State.DONE
    assert take.path.parent == recordings_dir() and take.path.suffix == ".wav"
    assert window.panel.take is take  # selected
    assert "added to the takes" in panel.message_text
    # The same result as the command line gives for the written file.
    env = dict(os.environ, PYTHONPATH=str(REPO), HITDESK_CACHE_DIR=str(tmp_path / "cli-cache"))
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", "--window-seconds", "3", str(take.path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    [cli], app = json.loads(proc.stdout), take.result.to_dict()
    # The command line adds what the user's platform presets make of the result (never stored with it).
    assert {k for k in cli.keys() | app.keys() if cli.get(k) != app.get(k)} == {"platforms"}
    assert take.result.duration_s is not None and take.result.duration_s >= 6.5
    window.close()


# ---------------------------------------------------------------------------------------------- fakes


def test_no_input_device_is_a_message_not_a_crash(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _fake_inputs(monkeypatch, [])
    window = _window(qtbot, settings, restore=False, persist=False)
    panel = window.record_panel
    window.action_map["record"].trigger()  # the shortcut's action: shows the panel, tries to record
    assert window.record_dock.isVisible()
    assert not panel.recording and not panel.busy
    assert panel.message_text.startswith("No audio input device was found")
    assert not panel.inputs.device_combo.isEnabled() and panel.device is None
    assert window.isVisible()
    # Plugging one in and pressing ↻ makes it available.
    _fake_inputs(monkeypatch, FAKE_DEVICES)
    monkeypatch.setattr(devices_module, "rescan_devices", lambda: None)
    panel.inputs.rescan.click()
    assert panel.device is not None and panel.device.label == "Desk Interface (FakeAPI)"
    assert panel.message_text == ""
    window.close()


def test_device_lost_mid_take_keeps_and_scores_the_take(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    data, rate = sf.read(str(data_dir / "chipdisko-12s.ogg"), dtype="float32", always_2d=True)
    device = InputDevice(3, "Desk Interface", "FakeAPI", 2, float(rate), True)
    _fake_inputs(monkeypatch, [device])
    window = _window(qtbot, settings, restore=False, persist=False)
    window.prefs.window_seconds = 3.0
    panel = window.record_panel
    panel.stream_factory = stream_factory(data, speed=4.0, lose_after=5 * rate)
    assert panel.start_recording(), panel.message_text
    qtbot.waitUntil(lambda: not panel.recording, timeout=WAIT_MS)
    assert "unplugged" in panel.message_text and "kept" in panel.message_text
    assert panel.message_kind == "warning"
    qtbot.waitUntil(lambda: window.takes.rowCount() == 1, timeout=WAIT_MS)
    take = window.takes.take_at(0)
    assert take is not None and take.result is not None and take.state != State.ERROR
    assert any("unplugged" in n for n in take.result.notes)
    wait_idle(qtbot, window)  # its spectrogram and loudness are computed as for any file; the notes stay
    assert take.state == State.DONE and take.loudness is not None and take.result is not None
    assert any("unplugged" in n for n in take.result.notes)
    assert take.result.overall is not None
    frames = sf.info(str(take.path)).frames
    assert 5 * rate <= frames <= 5 * rate + 1024 and not needs_repair(take.path)  # whole blocks before the loss
    assert take.result.duration_s == pytest.approx(frames / rate, abs=1e-3)
    assert [(s.segment, s.t_s) for s in panel.live_scores] == [("beginning", 3.0), ("now", 5.0)]
    assert panel.controls.record_button.isEnabled() and "Record" in panel.controls.record_button.text()
    window.close()


def test_new_columns_are_drawn_as_they_come_not_on_the_tick(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    data, rate = sf.read(str(data_dir / "chipdisko-12s.ogg"), dtype="float32", always_2d=True)
    _fake_inputs(monkeypatch, [InputDevice(3, "Desk Interface", "FakeAPI", 2, float(rate), True)])
    window = _window(qtbot, settings, restore=False, persist=False)
    panel = window.record_panel
    panel.stream_factory = stream_factory(data, speed=1.0, block=rate // 50)
    window.record_dock.show()
    assert panel.start_recording(), panel.message_text
    panel.timer.stop()  # no ticks: only the session's notices can bring columns in
    painted: list[int] = []
    panel.view.on_paint = lambda frames, _t: painted.append(frames)
    qtbot.waitUntil(lambda: panel.view.frames > 40, timeout=10_000)
    qtbot.wait(200)
    assert painted and painted[-1] > 40 and painted == sorted(painted)
    panel.timer.start()
    panel.stop_recording()
    qtbot.waitUntil(lambda: window.takes.rowCount() == 1, timeout=WAIT_MS)
    window.close()


def test_busy_device_and_rate_fallback_are_one_line(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    sd = devices_module.sounddevice()
    _fake_inputs(monkeypatch, FAKE_DEVICES)
    window = _window(qtbot, settings, restore=False, persist=False)
    panel = window.record_panel

    def busy(*args: Any) -> Any:
        raise sd.PortAudioError("Error opening InputStream: Device unavailable", -9985)

    panel.stream_factory = busy
    assert not panel.start_recording()
    assert "busy or unavailable" in panel.message_text and panel.message_kind == "error"
    assert list(recordings_dir().glob("*.wav")) == []  # no empty file left behind
    # The device refuses its default rate: the next one is used, and said.
    monkeypatch.setattr(capture, "supported_rates", lambda device, channels, requested: [44100])
    data = np.zeros((48000, 4), dtype=np.float32)
    panel.stream_factory = stream_factory(data, speed=4.0)
    assert panel.start_recording()
    assert "recording at 44100 Hz instead" in panel.message_text
    panel.stop_recording()
    assert panel.wait_for_takes(60)
    window.close()


def test_input_choice_persists(qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch) -> None:
    _fake_inputs(monkeypatch, FAKE_DEVICES)
    first = _window(qtbot, settings, restore=True)
    first.action_map["record_panel"].trigger()
    panel = first.record_panel
    assert panel.device is not None and panel.device.is_default and panel.channels is not None
    assert [panel.inputs.channel_combo.itemText(i) for i in range(panel.inputs.channel_combo.count())][:3] == [
        "1+2 (mixed to mono)",
        "3+4 (mixed to mono)",
        "1",
    ]
    panel.inputs.device_combo.setCurrentIndex(0)
    panel.inputs.channel_combo.setCurrentIndex(panel.inputs.channel_combo.findText("4"))
    first.close()
    second = _window(qtbot, settings, restore=True)
    assert second.record_dock.isVisible()
    panel = second.record_panel
    assert panel.device is not None and panel.device.label == "Desk Interface (FakeAPI)"
    assert panel.channels is not None and panel.channels.channels == (3,)
    second.record_panel.inputs.device_combo.setCurrentIndex(1)  # the mono USB mic
    assert second.record_panel.channels is not None and second.record_panel.channels.label == "1"
    second.close()
    third = _window(qtbot, settings, restore=True)
    assert third.record_panel.device is not None and third.record_panel.device.name == "USB Mic"
    third.close()


def _wav(path: Path, seconds: float, cut: bool = False) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    audio = np.zeros((round(44100 * seconds), 2), dtype=np.float32)
    if not cut:
        sf.write(str(path), audio, 44100, subtype="PCM_16")
        return path
    # A take as a crash leaves it: written by the app (so it carries a take id), sizes never updated.
    writer = WavWriter(path, 44100, 2, subtype="PCM_16")
    writer.write(audio)
    assert writer._fh is not None
    writer._fh.close()
    writer._fh = None
    return path


def test_recordings_are_listed_pruned_and_recovered(qtbot: Any, settings: QSettings) -> None:
    folder = recordings_dir()
    old = _wav(folder / "take-2020-01-01_10-00-00.wav", 1.0)
    now = datetime.now()
    recent = _wav(folder / f"take-{now:%Y-%m-%d_%H-%M-%S}.wav", 2.0)
    cut = _wav(folder / f"take-{now - timedelta(hours=1):%Y-%m-%d_%H-%M-%S}.wav", 1.5, cut=True)
    assert needs_repair(cut)
    window = _window(qtbot, settings, restore=True)  # a real session: the folder is checked at start
    panel = window.record_panel
    qtbot.waitUntil(lambda: bool(panel.recovered), timeout=10_000)
    assert panel.recovered == [str(cut.resolve())]
    assert "recovered" in panel.message_text and not needs_repair(cut)
    assert sf.info(str(cut)).frames == round(1.5 * 44100)
    panel.message.linkActivated.emit("add-recovered")
    assert [t.path for t in window.takes.takes] == [cut.resolve()]
    dialog = window.record_dock.show_recordings()
    assert dialog.paths == [recent, cut, old]  # newest first
    assert dialog.table.item(0, 1).text() == "0:02"
    assert dialog.prune_now() == []  # "never" by default
    dialog.prune_days.setValue(30)
    assert window.prefs.prune_days == 30
    assert dialog.prune_now() == [old]
    assert dialog.paths == [recent, cut] and not old.exists()
    dialog.delete_paths([recent])
    assert dialog.paths == [cut] and not recent.exists()
    window.close()
    window.wait_until_idle(WAIT_MS)


# ---------------------------------------------------------------------------------------------- drawing


def test_live_view_ring_keeps_the_last_columns_in_order(qtbot: Any) -> None:
    from hitdesk.capture.live import MEL_FLOOR_DB, MelColumns
    from hitdesk.ui.live_view import FRAME_S, LiveSpectrogramView

    view = LiveSpectrogramView(span_s=10 * FRAME_S)  # 10 columns visible, a buffer of 20
    qtbot.addWidget(view)
    assert view.n_columns == 10 and view._buf.shape == (20, 128) and view._buf.dtype == np.float32
    view.reset()

    def cols(first: int, k: int) -> MelColumns:
        values = np.repeat(np.arange(first, first + k, dtype=np.float32)[None, :], 128, axis=0) - 100.0
        return MelColumns(first, values)

    for first, k in ((0, 3), (3, 4), (7, 6)):  # 13 columns in three bursts
        view.append(cols(first, k))
    shown = view.image.image
    assert shown is not None and shown.shape == (10, 128)
    assert shown.base is view._buf or shown.base is view._buf.base  # a view of the buffer, not a copy
    np.testing.assert_array_equal(shown[:, 0], np.arange(3, 13) - 100.0)  # oldest to newest
    np.testing.assert_array_equal(view._buf[:10], view._buf[10:])  # each column written twice
    view.append(cols(15, 2))  # columns 13 and 14 were never fetched: left empty
    np.testing.assert_array_equal(
        view.image.image[:, 0], [*range(7 - 100, 13 - 100), MEL_FLOOR_DB, MEL_FLOOR_DB, -85, -84]
    )
    assert view.frames == 17
    view.append(cols(17, 25))  # more than a screenful at once
    np.testing.assert_array_equal(view.image.image[:, 0], np.arange(32, 42) - 100.0)
    # The display clock never lags the newest column and runs at most LEAD_S ahead of it.
    from hitdesk.ui.live_view import LEAD_S

    view.advance(now=100.0)
    view.advance(now=101.0)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert rect.right() == pytest.approx(-LEAD_S, abs=1e-6)
    view.append(cols(42, 1000))
    view.advance(now=101.01)
    rect = view.image.mapRectToParent(view.image.boundingRect())
    assert rect.right() == pytest.approx(0.0, abs=1e-6)


def test_level_meter_holds_peaks_and_latches_clips(qtbot: Any) -> None:
    from hitdesk.ui.level_meter import FALL_DB_PER_S, HOLD_S, LevelMeter

    meter = LevelMeter()
    qtbot.addWidget(meter)
    meter.reset(2)
    meter.feed([0.5, 0.1], now=0.0)
    assert meter.levels_db == pytest.approx([-6.02, -20.0], abs=0.01)
    meter.feed([0.01, 0.01], now=0.5)  # the bar falls at its rate, the hold stays
    assert meter.levels_db[0] == pytest.approx(-6.02 - 0.5 * FALL_DB_PER_S, abs=0.01)
    assert meter.holds_db[0] == pytest.approx(-6.02, abs=0.01) and not meter.clipped
    meter.feed([0.01, 0.01], now=HOLD_S + 0.6)  # held long enough: the mark drops
    assert meter.holds_db[0] == pytest.approx(-40.0, abs=0.01)
    meter.feed([1.0, 0.2], now=HOLD_S + 0.7)
    meter.feed([0.001, 0.001], now=HOLD_S + 5.0)
    assert meter.clipped and meter.loudest_db == pytest.approx(0.0)
    qtbot.mouseClick(meter, Qt.MouseButton.LeftButton)
    assert not meter.clipped


def test_the_first_half_minute_shows_a_countdown_and_the_level(qtbot: Any) -> None:
    from hitdesk.capture.live import LiveScore
    from hitdesk.ui.record_scores import LiveScores

    scores = LiveScores()
    qtbot.addWidget(scores)
    scores.reset(30.0, 0.3)
    assert scores.beginning_meter.placeholder == "at 0:30"
    scores.show_waiting(7.2, -14.3)
    assert scores.beginning_meter.placeholder == "in 0:23"
    assert scores.beginning_span.text() == "First score at 0:30 · level -14 dBFS"
    scores.show_waiting(29.4, -60.0)
    assert scores.beginning_meter.placeholder == "in 0:01" and "silence" in scores.beginning_span.text()
    first = LiveScore("beginning", 30.0, 0.0, 30.0, Score(0.4, 0.3, 0.5))
    scores.show_score(first, 0.3)
    scores.show_waiting(31.0, -10.0)  # scored: the countdown is over
    assert scores.beginning_meter.score is not None and scores.beginning_span.text().startswith("Window 0:00")


def test_recording_counts_down_to_the_first_score(
    qtbot: Any, settings: QSettings, monkeypatch: pytest.MonkeyPatch, data_dir: Path
) -> None:
    data, rate = sf.read(str(data_dir / "chipdisko-12s.ogg"), dtype="float32", always_2d=True)
    device = InputDevice(3, "Desk Interface", "FakeAPI", 2, float(rate), True)
    _fake_inputs(monkeypatch, [device])
    window = _window(qtbot, settings, restore=False, persist=False)
    panel = window.record_panel
    panel.stream_factory = stream_factory(data, speed=2.0)
    seen: list[tuple[str, str]] = []
    panel.timer.timeout.connect(
        lambda: seen.append((panel.scores.beginning_meter.placeholder, panel.scores.beginning_span.text()))
    )
    assert panel.start_recording(), panel.message_text
    qtbot.waitUntil(lambda: panel.elapsed_s > 4.0, timeout=WAIT_MS)
    panel.stop_recording()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
    counting = [(p, t) for p, t in seen if p.startswith("in 0:")]
    assert counting, seen[-5:]
    assert {p for p, _ in counting} >= {"in 0:29", "in 0:27"}  # it counts down while the take grows
    assert all(t.startswith("First score at 0:30 · level ") and "dBFS" in t for _, t in counting[3:])
    window.close()
