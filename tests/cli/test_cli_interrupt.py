"""``hitdesk analyze`` under hostile conditions: interrupts, a reader that goes away, too many jobs.

Each case runs the real command in its own process. Interrupt cases send the signal while several
files are queued for two workers; the command must end within two seconds with 130 (SIGINT) or 143
(SIGTERM), print nothing on stdout, leave no process behind and no partial cache entry.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]


def _ctrl_c_as_in_a_terminal() -> None:
    """A suite started in the background (``make test &``, a CI runner without job control) runs with
    SIGINT ignored, which its children inherit: Python then installs no Ctrl-C handler at all. The
    command is tested as a terminal starts it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _env(home: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["HITDESK_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _copies(data_dir: Path, folder: Path, n: int) -> list[str]:
    folder.mkdir()
    out = []
    for i in range(n):
        target = folder / f"take{i:02d}.ogg"
        shutil.copy(data_dir / "chipdisko-12s.ogg", target)
        out.append(str(target))
    return out


def _distinct(folder: Path, n: int, seconds: float = 40.0, suffix: str = ".wav") -> list[str]:
    """Takes that differ in content, so none is served from another's cache entry (Ogg Vorbis takes
    longer per block to decode, as real music does)."""
    folder.mkdir()
    sr = 22050
    t = np.arange(int(sr * seconds)) / sr
    out = []
    for i in range(n):
        rng = np.random.default_rng(i)
        x = 0.3 * np.sin(2 * np.pi * (110 + 7 * i) * t) + 0.05 * rng.standard_normal(len(t))
        target = folder / f"take{i:02d}{suffix}"
        sf.write(target, x.astype(np.float32), sr)
        out.append(str(target))
    return out


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(
    ("signum", "status", "group"),
    [
        (signal.SIGINT, 130, False),
        (signal.SIGTERM, 143, False),
        (signal.SIGINT, 130, True),
        (signal.SIGTERM, 143, True),
    ],
)
def test_interrupt_stops_every_worker_promptly(
    tmp_path: Path, data_dir: Path, needs_model: None, signum: int, status: int, group: bool
) -> None:
    """``group``: the signal goes to the whole process group, workers too (as Ctrl-C in a terminal or
    ``kill -TERM -PGID`` sends it); still only the one sentence on stderr."""
    home = tmp_path / "home"
    files = _distinct(tmp_path / "in", 24, suffix=".ogg" if group else ".wav")
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", "--jobs", "2", *files],
        env=_env(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_ctrl_c_as_in_a_terminal,
        start_new_session=group,
    )
    cache = home / "cache" / "results"
    deadline = time.monotonic() + 60
    while not (cache.is_dir() and any(cache.glob("*.json"))):  # workers are busy: some results are in
        assert proc.poll() is None and time.monotonic() < deadline, "analysis ended before it could be interrupted"
        time.sleep(0.02)
    workers = _children(proc.pid)
    assert workers, "no worker processes seen"
    sent = time.monotonic()
    if group:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)
    out, err = proc.communicate(timeout=20)
    took = time.monotonic() - sent
    assert proc.returncode == status, err.decode()
    assert took < 2.0, f"took {took:.1f} s to stop"
    assert out == b""
    assert err.decode().strip() == ("hitdesk: interrupted" if signum == signal.SIGINT else "hitdesk: terminated")
    time.sleep(0.5)
    assert [w for w in workers if _alive(w)] == []
    assert sorted(p.name for p in cache.iterdir() if not p.name.endswith(".json")) == []
    for entry in cache.glob("*.json"):
        json.loads(entry.read_text(encoding="utf-8"))  # whole entries only


def test_reader_gone_exits_quietly(tmp_path: Path, data_dir: Path, needs_model: None) -> None:
    files = _copies(data_dir, tmp_path / "in", 3)
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `| head -c 20` that has already exited
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "hitdesk", "analyze", "--json", *files],
            env=_env(tmp_path / "home"),
            stdout=write_end,
            stderr=subprocess.PIPE,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    assert proc.returncode == 141
    assert proc.stderr.strip() == b""


@pytest.mark.parametrize("target", ["closed", "full"])
def test_stdout_closed_or_full_is_one_sentence(tmp_path: Path, data_dir: Path, needs_model: None, target: str) -> None:
    clip = str(data_dir / "chipdisko-12s.ogg")
    args = [sys.executable, "-m", "hitdesk", "analyze", "--json", clip]
    if target == "full":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full here")
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(args, env=_env(tmp_path / "h"), stdout=full, stderr=subprocess.PIPE, check=False)
    else:
        proc = subprocess.run(
            args, env=_env(tmp_path / "h"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
            preexec_fn=lambda: os.close(1),
        )  # fmt: skip
    assert proc.returncode == 1
    lines = proc.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("hitdesk: cannot write the output"), lines


def test_jobs_are_capped_at_the_cpus_available(tmp_path: Path, data_dir: Path, needs_model: None) -> None:
    files = _copies(data_dir, tmp_path / "in", 6)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", "--jobs", "9999", *files],
        env=_env(tmp_path / "home"),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"using {cpus}" in proc.stderr
    assert len(json.loads(proc.stdout)) == 6


@pytest.mark.parametrize("target", ["closed", "full"])
@pytest.mark.parametrize("args", [["--help"], ["--version"], ["analyze", "--help"]])
def test_help_and_version_to_a_closed_or_full_stdout_are_one_sentence(
    tmp_path: Path, needs_model: None, args: list[str], target: str
) -> None:
    command = [sys.executable, "-m", "hitdesk", *args]
    if target == "full":
        if not Path("/dev/full").exists():
            pytest.skip("no /dev/full here")
        with open("/dev/full", "wb") as full:
            proc = subprocess.run(command, env=_env(tmp_path / "h"), stdout=full, stderr=subprocess.PIPE, check=False)
    else:
        proc = subprocess.run(
            command, env=_env(tmp_path / "h"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False,
            preexec_fn=lambda: os.close(1),
        )  # fmt: skip
    reason = "No space left on device" if target == "full" else "standard output is closed"
    assert (proc.returncode, proc.stderr.decode().strip()) == (1, f"hitdesk: cannot write the output: {reason}.")


_WORKER_UNDER_TERM = """
import os, signal, sys, time
from hitdesk.cli.pool import _exit_on_term

signal.signal(signal.SIGTERM, _exit_on_term)


def blocks():
    try:
        while True:
            yield 1
    finally:
        time.sleep(1.0)  # as prefetched() joins its decoding thread


try:
    for _ in blocks():  # only the loop holds the generator: unwinding closes it as a finalizer
        print("busy", flush=True)
        time.sleep(30)
except SystemExit as stop:
    sys.stderr.flush()
    os._exit(stop.code)
"""


def test_a_second_sigterm_during_a_workers_cleanup_prints_nothing(tmp_path: Path) -> None:
    """SIGTERM to the process group reaches a worker twice (the sender, then the parent stopping its
    pool); the second must not interrupt the first's cleanup ("Exception ignored in: <generator ...>")."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _WORKER_UNDER_TERM], env=_env(tmp_path), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert proc.stdout is not None and proc.stdout.readline() == b"busy\n"
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.3)  # within the generator's cleanup
    proc.send_signal(signal.SIGTERM)
    _out, err = proc.communicate(timeout=20)
    assert (proc.returncode, err.decode()) == (143, "")


def test_a_closed_stderr_does_not_stop_the_output(tmp_path: Path, data_dir: Path, needs_model: None) -> None:
    files = _copies(data_dir, tmp_path / "in", 2)  # two files: the progress bar would be drawn on stderr
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", *files],
        env=_env(tmp_path / "home"), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, check=False, timeout=300,
        preexec_fn=lambda: os.close(2),
    )  # fmt: skip
    assert proc.returncode == 0
    assert [Path(r["file"]).name for r in json.loads(proc.stdout)] == ["take00.ogg", "take01.ogg"]
