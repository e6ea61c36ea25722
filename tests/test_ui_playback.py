"""Playback through a real PortAudio stream into a private PulseAudio null sink (no sound card needed).

What the app plays is recorded from the sink's monitor with ``parec``, so the test hears it.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import contextlib
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest
from pulse import SINK, VirtualMic, in_process, missing_reason, stop_process, virtual_mic
from ui_helpers import clips

from hitdesk.ui.playback import SAMPLE_RATE, Player

_MISSING = missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def speaker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    """The null sink as ALSA's default output (the capture tests use its monitor as the input)."""
    with virtual_mic(tmp_path_factory.mktemp("pulse-out")) as server:
        (server.home / ".asoundrc").write_text(
            f'pcm.!default {{ type pulse; device "{SINK}" }}\nctl.!default {{ type pulse }}\n', encoding="utf-8"
        )
        yield server


def _record(server: VirtualMic, out: BinaryIO) -> subprocess.Popen[bytes]:
    cmd = ["parec", "-d", f"{SINK}.monitor", "--raw", "--format=float32le", f"--rate={SAMPLE_RATE}", "--channels=1"]
    return subprocess.Popen(cmd, env=server.env, stdout=out, stderr=subprocess.PIPE)


def test_plays_pauses_seeks_and_switches_takes_at_the_same_place(
    qtbot: object, speaker: VirtualMic, tmp_path: Path
) -> None:
    first, second = clips()[:2]
    recording = tmp_path / "heard.f32"
    with in_process(speaker):
        player = Player()
        out = recording.open("wb")
        rec = _record(speaker, out)
        try:
            with qtbot.waitSignal(player.loaded, timeout=20_000):  # type: ignore[attr-defined]
                player.select(1, first, play=True)
            assert player.is_playing, "no audio output"
            start = time.monotonic()
            # The null sink consumes in real time once running; a busy machine may delay its start.
            qtbot.waitUntil(lambda: player.position_s > 0.5, timeout=15_000)  # type: ignore[attr-defined]
            assert player.position_s <= time.monotonic() - start + 0.6  # never ahead of the clock (+ buffer)
            player.pause()
            paused_at = player.position_s
            qtbot.wait(400)  # type: ignore[attr-defined]
            assert player.position_s == paused_at
            player.seek(4.0)
            assert player.position_s == pytest.approx(4.0, abs=1e-3)
            # A/B: another take continues from the same place, playing or not as before.
            player.play()
            with qtbot.waitSignal(player.loaded, timeout=20_000):  # type: ignore[attr-defined]
                player.select(2, second)
            assert player.take_id == 2 and player.is_playing
            assert 4.0 <= player.position_s < 5.5
            qtbot.waitUntil(lambda: player.position_s > 4.3, timeout=15_000)  # type: ignore[attr-defined]
            player.set_gain(2, 0.5)
            qtbot.wait(300)  # type: ignore[attr-defined]
        finally:
            player.stop()
            time.sleep(0.3)
            stop_process(rec)
            out.close()
    heard = np.fromfile(recording, dtype="<f4")
    assert heard.size > SAMPLE_RATE // 2  # audio went through the sink
    assert float(np.sqrt(np.mean(heard**2))) > 1e-3  # and it was not silence


def test_window_plays_the_selected_take_and_switches_at_the_same_place(
    qtbot: object, speaker: VirtualMic, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui_helpers import WAIT_MS, isolate, make_window, require_model

    require_model()
    settings = isolate(tmp_path, monkeypatch)
    open_window = contextlib.contextmanager(make_window)
    with in_process(speaker), open_window(qtbot, settings, restore=False) as window:
        with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):  # type: ignore[attr-defined]
            window.add_paths(clips()[:2])
        qtbot.waitUntil(lambda: all(t.loudness for t in window.takes.takes), timeout=WAIT_MS)  # type: ignore[attr-defined]
        first, second = window.takes.takes
        window.select_ids([first.id])
        window.action_map["play"].trigger()  # Space
        qtbot.waitUntil(lambda: window.player.position_s > 0.3, timeout=15_000)  # type: ignore[attr-defined]
        assert window.player.take_id == first.id
        assert window.panel.spectrogram._playhead.isVisible()
        window.action_map["forward"].trigger()  # Right arrow: 5 s on
        assert window.player.position_s > 5.0
        window.action_map["match"].trigger()  # loudness-matched
        gains = window.player._gain_by_take
        assert first.loudness is not None and second.loudness is not None
        expected = 10 ** ((second.loudness.integrated_lufs - first.loudness.integrated_lufs) / 20)  # type: ignore[operator]
        assert gains[first.id] / gains[second.id] == pytest.approx(expected, rel=1e-6)
        at = window.player.position_s
        with qtbot.waitSignal(window.player.loaded, timeout=20_000):  # type: ignore[attr-defined]
            window.select_ids([second.id])  # B
        assert window.player.take_id == second.id and window.player.is_playing
        assert at <= window.player.position_s < at + 1.5
        window.action_map["play"].trigger()
        assert not window.player.is_playing
