"""Capture through real PortAudio in real time, from a virtual microphone (see ``pulse.py``).

A clip played into a PulseAudio null sink is recorded from its monitor through ALSA's ``default``
device. The command line runs as a real process (``hitdesk.cli.main``, as the ``hitdesk`` script runs it).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from conftest import RESULT_KEYS
from pulse import VirtualMic, hitdesk_env, in_process, missing_reason, virtual_mic, write_source_wav

SHIM = "import sys; from hitdesk.cli import main; sys.exit(main(sys.argv[1:]))"
LIVE_KEYS = {"event", "segment", "t_s", "start_s", "end_s", "p_hit", "p_hit_low", "p_hit_high", "head", "members"}

_MISSING = missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    with virtual_mic(tmp_path_factory.mktemp("pulse")) as m:
        yield m


@pytest.fixture(scope="module")
def source(mic: VirtualMic, data_dir: Path) -> tuple[Path, np.ndarray, int]:
    """The 12 s clip three times over as a WAV for paplay, and its mono samples."""
    path = mic.root / "clip.wav"
    mono, rate = write_source_wav(data_dir / "chipdisko-12s.ogg", path, repeats=3)
    return path, mono, rate


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-c", SHIM, *args]


def _alignment(recorded: np.ndarray, source: np.ndarray) -> tuple[int, float]:
    """Offset of ``recorded`` in ``source`` (cross-correlation peak) and their correlation there."""
    xc = scipy.signal.correlate(source, recorded, mode="valid", method="fft")
    lag = int(np.argmax(np.abs(xc)))
    seg = source[lag : lag + recorded.size]
    r = float(np.corrcoef(seg, recorded)[0, 1])
    return lag, r


def test_records_the_played_clip_in_real_time(
    mic: VirtualMic, source: tuple[Path, np.ndarray, int], tmp_path: Path
) -> None:
    from hitdesk.capture.devices import default_input_device
    from hitdesk.capture.recorder import Recorder, RecorderSettings

    clip, mono, rate = source
    out = tmp_path / "take.wav"
    with in_process(mic):
        device = default_input_device()
        assert device is not None and device.name == "default"
        mic.play(clip)
        rec = Recorder(RecorderSettings(path=out, max_seconds=4.0, sample_rate=rate))
        t0 = time.monotonic()
        rec.start()
        assert rec.wait(30)
        elapsed = time.monotonic() - t0
    mic.stop_playing()
    status = rec.final_status
    assert status is not None and status.problem is None, status
    assert status.input_overflows == 0 and status.dropped_frames == 0
    assert 4.0 <= elapsed < 12.0  # real time: 4 s of audio take at least 4 s
    y, got_rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert got_rate == rate and y.shape[0] == 4 * rate == status.frames
    lag, r = _alignment(y.mean(axis=1), mono)
    assert r > 0.95, (lag, r)
    assert lag < 6 * rate  # the clip was playing before the stream opened; the offset is that latency


def test_a_callback_held_up_loses_nothing(
    mic: VirtualMic, source: tuple[Path, np.ndarray, int], tmp_path: Path
) -> None:
    """A computer too busy to serve the audio callback for half a second: the blocks held back come
    in a burst afterwards, and the take has no gap. (PulseAudio buffers them in the server, so its
    ALSA plugin reports no overflow; overflow counting is tested with fakes, test_capture_fakes.)"""
    from hitdesk.capture.recorder import Recorder, RecorderSettings
    from hitdesk.capture.stream import portaudio_stream

    clip, mono, rate = source
    out = tmp_path / "held.wav"
    calls = [0]

    def factory(device: Any, channels: int, rate: int, callback: Any, finished: Any) -> Any:
        def held_up(indata: Any, frames: int, time_info: Any, status: Any) -> None:
            calls[0] += 1
            if calls[0] == 40:  # about 1 s in
                time.sleep(0.5)
            callback(indata, frames, time_info, status)

        return portaudio_stream(device, channels, rate, held_up, finished)

    with in_process(mic):
        mic.play(clip)
        rec = Recorder(RecorderSettings(path=out, max_seconds=4.0, sample_rate=rate), stream_factory=factory)
        rec.start()
        assert rec.wait(30)
    mic.stop_playing()
    status = rec.final_status
    assert status is not None and status.problem is None and calls[0] > 40, status
    assert status.dropped_frames == 0
    y, _ = sf.read(str(out), dtype="float32", always_2d=True)
    assert y.shape[0] == 4 * rate
    lag, r = _alignment(y.mean(axis=1), mono)
    assert r > 0.95, (lag, r)  # one stretch of the source, no gap where the callback was held up


def test_devices_command_lists_the_default_input(mic: VirtualMic, tmp_path: Path) -> None:
    proc = subprocess.run(_cli("devices"), env=hitdesk_env(mic, tmp_path), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines() if "ALSA" in line]
    assert any(line.startswith("*") and " default " in line for line in rows), proc.stdout
    assert any(" pulse " in line for line in rows), proc.stdout
    as_json = subprocess.run(_cli("devices", "--json"), env=hitdesk_env(mic, tmp_path), capture_output=True, timeout=60)
    listed = json.loads(as_json.stdout)
    assert [d["name"] for d in listed if d["is_default"]] == ["default"]


def test_capture_json_live_scores_and_final_result(
    needs_model: None, mic: VirtualMic, source: tuple[Path, np.ndarray, int], tmp_path: Path
) -> None:
    clip, mono, _rate = source
    out = tmp_path / "take.wav"
    mic.play(clip)
    proc = subprocess.run(
        _cli("capture", "--json", "--seconds", "8", "--window-seconds", "3", "--out", str(out)),
        env=hitdesk_env(mic, tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=90,
        cwd=tmp_path,
    )
    mic.stop_playing()
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]  # stdout is JSON lines and nothing else
    live, final = lines[:-1], lines[-1]
    assert [(e["segment"], e["t_s"]) for e in live] == [("beginning", 3.0), ("now", 5.0)]
    for e in live:
        assert set(e) == LIVE_KEYS and e["event"] == "live" and e["head"] == "window"  # windows: the window head
        assert 0.0 <= e["p_hit_low"] <= e["p_hit"] <= e["p_hit_high"] <= 1.0
    assert set(final) == RESULT_KEYS and final["error"] is None
    assert final["file"] == str(out) and final["duration_s"] == pytest.approx(8.0, abs=1e-3)
    assert [s["name"] for s in final["segments"]] == ["beginning", "middle", "end"]
    assert 0.0 <= final["overall"]["p_hit"] <= 1.0
    assert not any("overflow" in n for n in final["notes"])
    y, got_rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert y.shape[0] == 8 * got_rate
    _, r = _alignment(y.mean(axis=1), mono)
    assert r > 0.95


@pytest.mark.parametrize("stdout", ["closed", "full"])
def test_capture_whose_output_cannot_be_written_keeps_the_whole_take(
    needs_model: None, mic: VirtualMic, source: tuple[Path, np.ndarray, int], tmp_path: Path, stdout: str
) -> None:
    """``>&-``: the take's file must not become descriptor 1, where a live score would be written into
    it or the null device put in its place; ``>/dev/full``: the live scores fail, the take goes on."""
    clip, _mono, _rate = source
    out = tmp_path / "take.wav"
    mic.play(clip)
    args = _cli("capture", "--seconds", "6", "--window-seconds", "3", "--out", str(out))
    env = hitdesk_env(mic, tmp_path / "data")
    if stdout == "full":
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(args, env=env, stdout=full, stderr=subprocess.PIPE, text=True, timeout=90)
    else:
        proc = subprocess.run(
            args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, timeout=90,
            preexec_fn=lambda: os.close(1),
        )  # fmt: skip
    mic.stop_playing()
    reason = "No space left on device" if stdout == "full" else "standard output is closed"
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 1 and lines[0].startswith("Recording"), proc.stderr
    assert lines[1:] == [f"hitdesk: cannot write the output: {reason}; the take is saved in {out} (0:06)."]
    y, rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert y.shape[0] == 6 * rate and float(np.abs(y).max()) > 0.01  # whole, and sound, not printed text


def _start_capture(mic: VirtualMic, data: Path, *args: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        _cli("capture", *args),
        env=hitdesk_env(mic, data),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    first = proc.stderr.readline()  # "Recording 'default (ALSA)' input 1+2 at 44100 Hz to ..."
    assert first.startswith("Recording"), first + proc.stderr.read()
    return proc


def test_killed_capture_is_recovered(
    needs_model: None,
    mic: VirtualMic,
    source: tuple[Path, np.ndarray, int],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from hitdesk.capture.recovery import recover_unfinished
    from hitdesk.capture.repair import needs_repair

    clip, mono, _rate = source
    out = tmp_path / "killed.wav"
    data = tmp_path / "data"
    mic.play(clip)
    proc = _start_capture(mic, data, "--seconds", "60", "--out", str(out))
    try:
        time.sleep(4.5)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    finally:
        mic.stop_playing()
        proc.communicate()
    assert proc.returncode == -signal.SIGKILL
    monkeypatch.setenv("HITDESK_DATA_DIR", str(data))
    # Usually audio reached the file after the last header update; on a loaded machine the kill can
    # land right after a flush, and then the take needs no repair but is still offered back.
    cut_off = needs_repair(out)
    recovered = recover_unfinished()
    assert [r.path for r in recovered] == [out.resolve()]
    assert recovered[0].repaired == cut_off and recovered[0].problem is None
    y, got_rate = sf.read(str(out), dtype="float32", always_2d=True)
    assert y.shape[0] >= 2 * got_rate
    assert recovered[0].duration_s == pytest.approx(y.shape[0] / got_rate)
    _, r = _alignment(y.mean(axis=1)[: 2 * got_rate], mono)
    assert r > 0.95
    assert recover_unfinished() == []


def test_ctrl_c_stops_and_finishes_the_take(
    needs_model: None, mic: VirtualMic, source: tuple[Path, np.ndarray, int], tmp_path: Path
) -> None:
    from hitdesk.capture.repair import needs_repair

    clip, _, _ = source
    out = tmp_path / "stopped.flac"
    mic.play(clip)
    proc = _start_capture(
        mic, tmp_path / "data", "--json", "--seconds", "60", "--window-seconds", "3", "--out", str(out)
    )
    try:
        assert proc.stdout is not None
        first = json.loads(proc.stdout.readline())  # the beginning window, after 3 s of audio
        assert first["segment"] == "beginning"
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        mic.stop_playing()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, stderr
    final = json.loads(stdout.splitlines()[-1])
    assert set(final) == RESULT_KEYS and final["error"] is None
    assert 3.0 <= final["duration_s"] < 20.0
    assert sf.info(str(out)).duration == pytest.approx(final["duration_s"], abs=1e-3)
    assert not needs_repair(out)
    assert list((tmp_path / "data" / "recordings" / ".unfinished").glob("*")) == []


def test_losing_the_device_mid_take_keeps_the_take(
    source: tuple[Path, np.ndarray, int], tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The PulseAudio server goes away while recording, as a USB interface does when unplugged.

    A server of its own, so the other tests keep theirs.
    """
    from hitdesk.capture.recorder import Recorder, RecorderSettings
    from hitdesk.capture.repair import needs_repair

    clip, mono, rate = source
    out = tmp_path_factory.mktemp("lost") / "lost.wav"
    with virtual_mic(tmp_path_factory.mktemp("pulse-lost")) as own, in_process(own):
        own.play(clip)
        rec = Recorder(RecorderSettings(path=out, max_seconds=30.0, sample_rate=rate))
        rec.start()
        deadline = time.monotonic() + 15
        while rec.status().frames < 2 * rate and time.monotonic() < deadline:
            time.sleep(0.05)
        subprocess.run(["pulseaudio", "--kill"], env=own.env, capture_output=True, timeout=15)
        assert rec.wait(15), "the recorder did not notice the device had gone"
    status = rec.final_status
    assert status is not None and status.device_lost and status.problem and "kept" in status.problem
    assert 2 * rate <= status.frames < 10 * rate
    assert not needs_repair(out)
    y, _ = sf.read(str(out), dtype="float32", always_2d=True)
    assert y.shape[0] == status.frames
    _, r = _alignment(y.mean(axis=1)[: 2 * rate], mono)
    assert r > 0.95
