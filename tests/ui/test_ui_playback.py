"""Playback through a real PortAudio stream into a private PulseAudio null sink (no sound card needed).

What the app plays is recorded from the sink's monitor with ``parec``, so the test hears it, and the
sound server says in which format the app's stream reaches it.
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
import soundfile as sf
from pulse import (
    SampleSpec,
    VirtualMic,
    in_process,
    missing_reason,
    record_monitor,
    sink_spec,
    stop_process,
    stream_specs,
    virtual_speaker,
)
from PySide6.QtCore import QSettings
from ui_helpers import clips

from hitdesk.ui.playback import Player

_MISSING = missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")
_RECORD_RATE = 44_100


@pytest.fixture(scope="module")
def speaker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    """The null sink as ALSA's default output (the capture tests use its monitor as the input)."""
    with virtual_speaker(tmp_path_factory.mktemp("pulse-out")) as server:
        yield server


def _record(server: VirtualMic, out: BinaryIO) -> subprocess.Popen[bytes]:
    return record_monitor(server, out, _RECORD_RATE, 1)


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
    assert heard.size > _RECORD_RATE // 2  # audio went through the sink
    assert float(np.sqrt(np.mean(heard**2))) > 1e-3  # and it was not silence


def test_window_plays_the_selected_take_and_switches_at_the_same_place(
    qtbot: object, speaker: VirtualMic, tmp_path: Path, settings: QSettings
) -> None:
    from ui_helpers import WAIT_MS, make_window

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


def _band_share(x: np.ndarray, rate: int, low: float, high: float) -> float:
    """The share of the signal's energy between ``low`` and ``high`` Hz."""
    power = np.abs(np.fft.rfft(x * np.hanning(len(x)))) ** 2
    freqs = np.fft.rfftfreq(len(x), 1.0 / rate)
    return float(power[(freqs >= low) & (freqs < high)].sum() / max(power.sum(), 1e-30))


def test_the_sound_card_gets_the_files_channels_and_rate_not_the_models_signal(
    qtbot: object, speaker: VirtualMic, tmp_path: Path
) -> None:
    """A 48 kHz stereo file, 15 kHz on the left and 1 kHz on the right, played by the app's player.

    The model's signal (mono, 22,050 Hz) has nothing above 11 kHz and the same on both sides, so the
    player that played it fails here; the sound server also reports the stream's own format.
    """
    rate, seconds = 48_000, 3.0
    t = np.arange(int(rate * seconds)) / rate
    stereo = np.stack([0.3 * np.sin(2 * np.pi * 15_000 * t), 0.3 * np.sin(2 * np.pi * 1_000 * t)], axis=1)
    song = tmp_path / "wide.wav"
    sf.write(song, stereo.astype(np.float32), rate, subtype="PCM_24")
    recording = tmp_path / "heard.f32"
    specs: list[SampleSpec] = []
    with in_process(speaker):
        sink = sink_spec(speaker)
        player = Player()
        out = recording.open("wb")
        rec = record_monitor(speaker, out, sink.rate, 2)
        try:
            with qtbot.waitSignal(player.loaded, timeout=20_000):  # type: ignore[attr-defined]
                player.select(1, song, play=True)
            assert player.is_playing, "no audio output"
            qtbot.waitUntil(lambda: player.position_s > 1.5, timeout=15_000)  # type: ignore[attr-defined]
            specs = stream_specs(speaker)
            qtbot.waitUntil(lambda: not player.is_playing, timeout=15_000)  # type: ignore[attr-defined]
        finally:
            player.stop()
            time.sleep(0.3)
            stop_process(rec)
            out.close()
    heard = np.fromfile(recording, dtype="<f4").reshape(-1, 2)
    sounding = heard[np.abs(heard).max(axis=1) > 0.05]
    assert len(sounding) > sink.rate, "the take was not heard for a second"
    middle = sounding[len(sounding) // 4 : len(sounding) // 4 + sink.rate]  # a second away from the edges
    left, right = middle[:, 0], middle[:, 1]
    assert _band_share(left, sink.rate, 11_025, 20_000) > 0.9, "no 15 kHz on the left: the high band is lost"
    assert _band_share(right, sink.rate, 900, 1_100) > 0.9, "no 1 kHz on the right"
    assert _band_share(right, sink.rate, 11_025, 20_000) < 0.01
    assert float(np.sqrt(np.mean((left - right) ** 2))) > 0.1, "left and right are the same"
    # How the stream reached the server: the file's two channels at the file's rate.
    assert any(s.channels == 2 and s.rate == rate for s in specs), specs
