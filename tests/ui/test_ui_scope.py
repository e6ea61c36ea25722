"""The vectorscope in the real window: it draws what the output callback plays, from View ▸ Vectorscope.

The take's right channel is its left inverted: the model's mono signal of it is silence, so a scope
fed from the analysis would draw nothing; fed from playback it draws a horizontal line with
correlation -1. A mono take draws a vertical line and says "mono".
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from fake_streams import FakeOutput, stream_factory
from ui_helpers import WAIT_MS

RATE = 44_100


def _write(path: Path, channels: int, seconds: float = 6.0) -> Path:
    t = np.arange(int(RATE * seconds)) / RATE
    tone = 0.4 * np.sin(2 * np.pi * 330 * t) * (1 + 0.5 * np.sin(2 * np.pi * 2 * t)) / 1.5
    data = np.stack([tone, -tone], axis=1) if channels == 2 else tone[:, None]
    sf.write(path, data.astype(np.float32), RATE, subtype="PCM_24")
    return path


def _play_some(qtbot: Any, window: Any, output: FakeOutput, take: Any, frames: int = 8192) -> None:
    """Plays ``take`` and pulls ``frames`` frames from the callback, as the sound card would."""
    window.select_ids([take.id])
    with qtbot.waitSignal(window.player.loaded, timeout=20_000):
        window.action_map["play"].trigger()
    assert window.player.is_playing and output.callback is not None
    buf = np.zeros((1024, output.opened[-1][1]), dtype=np.float32)
    pulled = 0
    deadline = time.monotonic() + 20
    while pulled < frames and time.monotonic() < deadline:
        feed = window.player.engine.feed
        while feed.ahead < 1024 and not feed.ended:
            window.player.engine.top_up()
        output.callback(buf, 1024, None, None)
        pulled += 1024
    assert pulled >= frames


def test_the_scope_draws_what_playback_plays(qtbot: Any, window: Any, tmp_path: Path) -> None:
    output = FakeOutput()
    window.player.output = output
    wide = _write(tmp_path / "inverted.wav", 2)
    mono = _write(tmp_path / "mono.wav", 1)
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
        window.add_paths([wide, mono])
    inverted_take, mono_take = window.controller.takes
    dock = window.scope_dock
    assert not dock.isVisible()
    assert dock.action in window.panel.strips.view_menu.actions()
    dock.action.trigger()  # View ▸ Vectorscope
    assert dock.isVisible() and dock.view.timer.isActive()

    _play_some(qtbot, window, output, inverted_take)
    qtbot.waitUntil(lambda: dock.view.frames_drawn > 0 and dock.view.last.correlation is not None, timeout=5_000)
    frame = dock.view.last
    assert frame.correlation == pytest.approx(-1.0, abs=1e-3)
    assert np.abs(frame.y).max() < 1e-3 < 0.5 < np.abs(frame.x).max()  # a horizontal line
    assert dock.view.readout.text() == "correlation -1.00\nplayback"
    drawn = dock.view.frames_drawn
    x, _y = dock.view.trace.getData()
    assert x is not None and 0 < len(x) <= 1024

    window.action_map["play"].trigger()  # pause: nothing new, nothing drawn again
    qtbot.waitUntil(lambda: dock.view.readout.text().endswith("stopped"), timeout=5_000)
    qtbot.wait(150)
    assert dock.view.frames_drawn == drawn

    window.player.output = output
    _play_some(qtbot, window, output, mono_take)
    qtbot.waitUntil(lambda: dock.view.last is not None and dock.view.last.mono, timeout=5_000)
    frame = dock.view.last
    assert np.abs(frame.x).max() < 1e-3 < 0.5 < np.abs(frame.y).max()  # a vertical line
    assert dock.view.readout.text() == "mono\nplayback"

    dock.action.trigger()
    assert not dock.isVisible() and not dock.view.timer.isActive()


def test_the_scope_draws_the_input_while_recording(qtbot: Any, window: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import hitdesk.capture.recorder as capture
    from hitdesk.capture import devices as devices_module
    from hitdesk.capture.devices import InputDevice

    device = InputDevice(3, "Desk Interface", "FakeAPI", 2, float(RATE), True)
    monkeypatch.setattr(devices_module, "list_input_devices", lambda: [device])
    monkeypatch.setattr(capture, "find_input_device", lambda spec=None: device)
    monkeypatch.setattr(capture, "supported_rates", lambda device, channels, requested: [RATE])
    t = np.arange(RATE * 2) / RATE
    left = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    panel = window.record_panel
    panel.stream_factory = stream_factory(np.stack([left, -left], axis=1), speed=1.0)
    dock = window.scope_dock
    dock.action.trigger()
    assert panel.start_recording(), panel.message_text
    try:
        qtbot.waitUntil(lambda: dock.view.readout.text().endswith("\ninput"), timeout=10_000)
        assert dock.view.last is not None and dock.view.last.correlation == pytest.approx(-1.0, abs=1e-3)
    finally:
        panel.stop_recording()
    qtbot.waitUntil(lambda: not panel.busy, timeout=WAIT_MS)
