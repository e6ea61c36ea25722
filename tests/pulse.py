"""A private PulseAudio server with a null sink: a real-time virtual microphone for capture tests,
and a virtual speaker for playback tests.

Whatever is played into the sink ``virt`` comes back, in real time, from its monitor source, which
``$HOME/.asoundrc`` makes ALSA's (and so PortAudio's) ``default`` input. No sound card is needed.
``virtual_speaker`` makes the sink ALSA's default *output* instead: what a program plays can be
recorded from the monitor (``record_monitor``), and the server says in which format each stream
reaches it (``stream_specs``).

PortAudio lists devices once per process (``sounddevice`` initialises it at import), so the
in-process fixture restarts PortAudio after the server is up, and again after it is gone.
Subprocesses get the environment from ``VirtualMic.env`` and need nothing else.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pytest
import soundfile as sf

SINK = "virt"
_TOOLS = ("pulseaudio", "pactl", "paplay")
_PULSE_ENV = (
    "PULSE_SERVER",
    "PULSE_SINK",
    "PULSE_SOURCE",
    "PULSE_RUNTIME_PATH",
    "PULSE_CLIENTCONFIG",
    "ALSA_CONFIG_PATH",
)


def missing_reason() -> str | None:
    """Why the virtual microphone cannot run here, or None."""
    absent = [t for t in _TOOLS if shutil.which(t) is None]
    if absent:
        return f"needs PulseAudio ({', '.join(absent)} not installed: apt-get install pulseaudio pulseaudio-utils)"
    try:
        import sounddevice  # noqa: F401
    except OSError:
        return "needs the PortAudio library (apt-get install libportaudio2)"
    if not Path("/usr/share/alsa/alsa.conf.d").is_dir() or not any(
        "pulse" in p.name for p in Path("/usr/share/alsa/alsa.conf.d").iterdir()
    ):
        return "needs ALSA's PulseAudio plugin (apt-get install libasound2-plugins)"
    return None


@dataclass
class VirtualMic:
    root: Path
    home: Path
    runtime: Path
    env: dict[str, str]
    players: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def play(self, path: Path) -> subprocess.Popen[bytes]:
        """Starts playing ``path`` into the sink (what a microphone in front of a speaker would hear)."""
        proc = subprocess.Popen(
            ["paplay", "-d", SINK, str(path)], env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        self.players.append(proc)
        return proc

    def stop_playing(self) -> None:
        for proc in self.players:
            stop_process(proc)
        self.players.clear()


def _pulse_env(home: Path, runtime: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _PULSE_ENV}
    env["HOME"] = str(home)
    env["XDG_RUNTIME_DIR"] = str(runtime)
    return env


@contextlib.contextmanager
def virtual_mic(root: Path) -> Iterator[VirtualMic]:
    """Runs the server for the duration of the block (environment for subprocesses in ``.env``)."""
    home = root / "home"
    runtime = root / "run"
    home.mkdir(parents=True, exist_ok=True)
    runtime.mkdir(parents=True, exist_ok=True)
    runtime.chmod(0o700)
    env = _pulse_env(home, runtime)
    started = subprocess.run(
        [
            "pulseaudio",
            "-D",
            "--exit-idle-time=-1",
            "-n",
            "--load=module-native-protocol-unix",
            f"--load=module-null-sink sink_name={SINK}",
        ],
        env=env,
        capture_output=True,
        timeout=30,
    )
    if started.returncode != 0:
        pytest.skip(f"pulseaudio would not start: {started.stderr.decode(errors='replace').strip()[-300:]}")
    try:
        deadline = time.monotonic() + 15
        while subprocess.run(["pactl", "info"], env=env, capture_output=True).returncode != 0:
            if time.monotonic() > deadline:
                pytest.fail("pulseaudio started but does not answer 'pactl info'")
            time.sleep(0.1)
        (home / ".asoundrc").write_text(
            f'pcm.!default {{ type pulse; device "{SINK}.monitor" }}\nctl.!default {{ type pulse }}\n',
            encoding="utf-8",
        )
        mic = VirtualMic(root, home, runtime, env)
        try:
            yield mic
        finally:
            mic.stop_playing()
    finally:
        subprocess.run(["pulseaudio", "--kill"], env=env, capture_output=True, timeout=15)
        deadline = time.monotonic() + 10
        while subprocess.run(["pulseaudio", "--check"], env=env, capture_output=True).returncode == 0:
            if time.monotonic() > deadline:
                break
            time.sleep(0.1)


@contextlib.contextmanager
def in_process(mic: VirtualMic) -> Iterator[None]:
    """Points this process at the server (HOME, XDG_RUNTIME_DIR) and restarts PortAudio to see it."""
    try:
        with pytest.MonkeyPatch.context() as mp:
            for key in _PULSE_ENV:
                mp.delenv(key, raising=False)
            mp.setenv("HOME", str(mic.home))
            mp.setenv("XDG_RUNTIME_DIR", str(mic.runtime))
            _restart_portaudio()
            yield
    finally:
        _restart_portaudio()  # back in the original environment: forget the virtual devices


def _restart_portaudio() -> None:
    import sounddevice as sd

    sd._terminate()
    sd._initialize()


@contextlib.contextmanager
def virtual_speaker(root: Path) -> Iterator[VirtualMic]:
    """The server with the null sink as ALSA's (and PortAudio's) default output device."""
    with virtual_mic(root) as server:
        (server.home / ".asoundrc").write_text(
            f'pcm.!default {{ type pulse; device "{SINK}" }}\nctl.!default {{ type pulse }}\n', encoding="utf-8"
        )
        yield server


@dataclass(frozen=True)
class SampleSpec:
    format: str  # "float32le", "s16le", ...
    channels: int
    rate: int


def _spec(text: str) -> SampleSpec:
    fmt, channels, rate = text.split()[:3]
    return SampleSpec(fmt, int(channels.removesuffix("ch")), int(rate.removesuffix("Hz")))


def _c_locale(server: VirtualMic) -> dict[str, str]:
    return {**server.env, "LC_ALL": "C"}  # pactl's words are parsed: not in the user's language


def sink_spec(server: VirtualMic) -> SampleSpec:
    """The format the null sink runs at now (PulseAudio may switch its rate for a stream)."""
    cmd = ["pactl", "list", "sinks", "short"]
    out = subprocess.run(cmd, env=_c_locale(server), capture_output=True, text=True).stdout
    line = next(ln for ln in out.splitlines() if f"\t{SINK}\t" in f"\t{ln}")
    return _spec(line.split("\t")[3])


def stream_specs(server: VirtualMic) -> list[SampleSpec]:
    """The format of each stream playing into the server, as it arrives there (not what the sink makes of it)."""
    out = subprocess.run(["pactl", "list", "sink-inputs"], env=_c_locale(server), capture_output=True, text=True).stdout
    prefix = "Sample Specification:"
    return [_spec(ln.strip()[len(prefix) :]) for ln in out.splitlines() if ln.strip().startswith(prefix)]


def record_monitor(server: VirtualMic, out: BinaryIO, rate: int, channels: int) -> subprocess.Popen[bytes]:
    """Records what the sink plays, as float32 frames of ``channels`` at ``rate``, into ``out``."""
    cmd = ["parec", "-d", f"{SINK}.monitor", "--raw", "--format=float32le", f"--rate={rate}", f"--channels={channels}"]
    return subprocess.Popen(cmd, env=server.env, stdout=out, stderr=subprocess.PIPE)


def write_source_wav(src: Path, dst: Path, repeats: int = 1) -> tuple[np.ndarray, int]:
    """Decodes ``src`` to a 16-bit WAV for paplay, repeated; returns the mono float signal and its rate."""
    data, rate = sf.read(str(src), dtype="float32", always_2d=True)
    data = np.concatenate([data] * repeats)
    sf.write(str(dst), data, rate, subtype="PCM_16")
    written, _ = sf.read(str(dst), dtype="float32", always_2d=True)
    return written.mean(axis=1), rate


def stop_process(proc: subprocess.Popen[bytes]) -> None:
    """Ends a player or recorder, killing it if it does not stop within 5 s."""
    if proc.poll() is None:
        proc.terminate()
    try:
        proc.communicate(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()


def hitdesk_env(mic: VirtualMic, data: Path) -> dict[str, str]:
    """The environment for a ``python -m hitdesk`` child recording from ``mic`` into ``data``."""
    env = dict(mic.env)
    env["HITDESK_DATA_DIR"] = str(data)
    env["HITDESK_CACHE_DIR"] = str(data / "cache")
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[1]) + os.pathsep + env.get("PYTHONPATH", "")
    return env
