"""HitDesk works with the network gone: analysis, the app and capture run with every connection refused.

The guard (tests/netguard.py) refuses and logs every Internet connection and name lookup made from
Python; the command-line runs also happen, where the machine allows, in a network namespace with no
interfaces and under strace, so C libraries are covered too. Each test asserts the guard was never
hit, and a static test checks that no module outside ``hitdesk/training`` imports a network library.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import ast
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from netguard import guarded, inet_attempts, kernel_prefix, wrap
from pulse import VirtualMic, missing_reason, virtual_mic, write_source_wav
from PySide6.QtCore import QSettings
from ui_helpers import WAIT_MS, clips, drop_files, make_window, require_model

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "hitdesk"

# Imports that mean talking to a network: the standard library's clients and servers, and the usual
# third-party HTTP libraries.
NETWORK_MODULES = (
    "socket",
    "ssl",
    "socketserver",
    "asyncio",
    "selectors",
    "urllib.request",
    "urllib3",
    "http",
    "ftplib",
    "smtplib",
    "poplib",
    "imaplib",
    "telnetlib",
    "xmlrpc",
    "requests",
    "httpx",
    "aiohttp",
    "websocket",
    "websockets",
    "grpc",
    "paramiko",
    "PySide6.QtNetwork",
    "PySide6.QtWebEngineCore",
)


def _env(tmp_path: Path, base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base if base is not None else os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["HITDESK_CACHE_DIR"] = str(tmp_path / "cache")
    env["HITDESK_DATA_DIR"] = str(tmp_path / "data")
    # A proxy setting is the usual way a library is tempted to reach out; it must make no difference.
    env["http_proxy"] = env["https_proxy"] = "http://192.0.2.1:3128"
    return env


def _run_guarded(tmp_path: Path, args: list[str], env: dict[str, str], timeout: float) -> tuple[Any, Path, Path]:
    guard_log, strace_log = tmp_path / "guard.log", tmp_path / "strace.log"
    proc = subprocess.run(
        [*kernel_prefix(strace_log), *wrap(guard_log, *args)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return proc, guard_log, strace_log


def _assert_offline(guard_log: Path, strace_log: Path | None = None) -> None:
    assert guard_log.exists(), "the guard was not installed"
    assert guard_log.read_text(encoding="utf-8") == "", "network access was attempted:\n" + guard_log.read_text()
    if strace_log is not None:
        attempts = inet_attempts(strace_log)
        assert attempts == [], "Internet sockets were addressed from native code:\n" + "\n".join(attempts[:20])


def test_the_guard_refuses_and_records(tmp_path: Path) -> None:
    """The guard bites: a real attempt to reach a host fails and is logged (else the tests below prove nothing)."""
    guard_log = tmp_path / "guard.log"
    probe = (
        "import urllib.request\n"
        "try:\n    urllib.request.urlopen('http://example.com/', timeout=5)\n"
        "except OSError as e:\n    print('refused', e)\n"
        "import socket\ns = socket.socket(socket.AF_INET, socket.SOCK_STREAM)\n"
        "try:\n    s.connect_ex(('192.0.2.1', 80))\nexcept OSError as e:\n    print('refused', e)\n"
        "u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)\n"
        "try:\n    u.connect('/nonexistent/socket')\nexcept FileNotFoundError:\n    print('unix allowed')\n"
    )
    cmd = wrap(guard_log)
    cmd[2] = cmd[2].split("runpy.run_module")[0] + f"exec({probe!r})"
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60, env=_env(tmp_path))
    assert proc.returncode == 0, proc.stderr
    said = proc.stdout.splitlines()
    assert sum(line.startswith("refused") for line in said) == 2 and "unix allowed" in said, proc.stdout
    logged = guard_log.read_text(encoding="utf-8").splitlines()
    assert any(line.startswith(("getaddrinfo", "create_connection", "socket.connect ")) for line in logged), logged
    assert any(line.startswith("socket.connect_ex") for line in logged), logged


def test_batch_offline(tmp_path: Path) -> None:
    """``hitdesk batch`` with its default engine, worker processes and Parquet parts, under the same guard."""
    require_model()
    files = [str(p) for p in clips()]
    out = tmp_path / "results"
    proc, guard_log, strace_log = _run_guarded(
        tmp_path, ["batch", "--jobs", "2", *files, "--out", str(out)], _env(tmp_path), timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert f"{len(files)}/{len(files)} done, 0 failed" in proc.stderr
    assert list(out.glob("part-*.parquet"))
    _assert_offline(guard_log, strace_log)


def test_cli_analysis_offline(tmp_path: Path) -> None:
    require_model()
    files = [str(p) for p in clips()]
    proc, guard_log, strace_log = _run_guarded(
        tmp_path, ["analyze", "--json", "--jobs", "2", *files], _env(tmp_path), timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["file"] for r in rows] == files
    assert all(r["error"] is None and 0.0 <= r["overall"]["p_hit"] <= 1.0 for r in rows)
    _assert_offline(guard_log, strace_log)
    # The same again in fast mode and from the cache the first run wrote.
    proc, guard_log, strace_log = _run_guarded(tmp_path, ["analyze", "--fast", *files], _env(tmp_path), timeout=300)
    assert proc.returncode == 0, proc.stderr
    _assert_offline(guard_log, strace_log)


def test_cli_style_offline(tmp_path: Path) -> None:
    """The music tagger (--style) runs offline too, in worker processes and in fast mode."""
    require_model()
    files = [str(p) for p in clips()]
    for extra in (["--jobs", "2"], ["--fast"]):
        args = ["analyze", "--json", "--style", "--no-cache", *extra, *files]
        proc, guard_log, strace_log = _run_guarded(tmp_path, args, _env(tmp_path), timeout=300)
        assert proc.returncode == 0, proc.stderr
        rows = json.loads(proc.stdout)
        assert all(r["error"] is None and len(r["style"]) >= 5 for r in rows)
        _assert_offline(guard_log, strace_log)


def test_sentence_encoder_offline(tmp_path: Path) -> None:
    """The lyrics encoder loads and embeds with every connection refused: its tokenizer and weights ship."""
    guard_log, strace_log = tmp_path / "guard.log", tmp_path / "strace.log"
    probe = (
        "from hitdesk.model.encoder import load_encoder\n"
        "e = load_encoder().embed(['Sailing on the ocean', 'neon lights downtown'])\n"
        "print(e.shape, round(float((e * e).sum()), 3))\n"
    )
    cmd = wrap(guard_log)
    cmd[2] = cmd[2].split("runpy.run_module")[0] + f"exec({probe!r})"
    env = _env(tmp_path) | {"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0"}  # nothing may depend on these
    proc = subprocess.run(
        [*kernel_prefix(strace_log), *cmd], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    assert "(2, 384) 2.0" in proc.stdout, proc.stdout
    _assert_offline(guard_log, strace_log)


def test_app_analyses_dropped_files_offline(qtbot: Any, tmp_path: Path, settings: QSettings) -> None:
    from hitdesk.ui.takes import State

    files = clips()
    with guarded(tmp_path / "guard.log") as guard_log:
        windows = make_window(qtbot, settings, restore=False)
        window = next(windows)
        try:
            with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
                assert drop_files(window.table.viewport(), files)
            qtbot.waitUntil(lambda: all(t.loudness is not None for t in window.takes.takes), timeout=WAIT_MS)
            window.show_model_card("model").close()
            assert [t.state for t in window.takes.takes] == [State.DONE] * len(files)
            assert window.isVisible()
        finally:
            for _ in windows:
                pass
        _assert_offline(guard_log)


# ---------------------------------------------------------------------------------------------- capture

_MISSING = missing_reason()


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    if _MISSING:
        pytest.skip(_MISSING)
    with virtual_mic(tmp_path_factory.mktemp("pulse")) as m:
        yield m


def test_capture_offline(mic: VirtualMic, data_dir: Path, tmp_path: Path) -> None:
    require_model()
    clip = mic.root / "offline-clip.wav"
    write_source_wav(data_dir / "chipdisko-12s.ogg", clip)
    out = tmp_path / "take.wav"
    mic.play(clip)
    try:
        proc, guard_log, strace_log = _run_guarded(
            tmp_path,
            ["capture", "--json", "--seconds", "4", "--window-seconds", "3", "--out", str(out)],
            _env(tmp_path, mic.env),
            timeout=120,
        )
    finally:
        mic.stop_playing()
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert lines[0]["event"] == "live" and lines[0]["segment"] == "beginning"
    final = lines[-1]
    assert final["error"] is None and final["duration_s"] == pytest.approx(4.0, abs=1e-3)
    import soundfile as sf

    y, _ = sf.read(str(out), dtype="float32")
    assert float(np.abs(y).max()) > 0.01  # the played clip was recorded, not silence
    _assert_offline(guard_log, strace_log)
    if strace_log.exists():  # strace saw the connections that were made: PulseAudio's Unix socket
        assert "AF_UNIX" in strace_log.read_text(errors="replace")


# ---------------------------------------------------------------------------------------------- static


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id
            if name in ("import_module", "__import__") and node.args and isinstance(node.args[0], ast.Constant):
                found.append((node.lineno, str(node.args[0].value)))
    return found


def _is_network(module: str) -> bool:
    return any(module == n or module.startswith(n + ".") for n in NETWORK_MODULES)


def test_no_module_outside_training_imports_networking() -> None:
    modules = [p for p in PACKAGE.rglob("*.py") if "training" not in p.relative_to(PACKAGE).parts]
    assert len(modules) > 30  # the walk found the package
    offenders = [
        f"{p.relative_to(REPO)}:{line} imports {name}"
        for p in modules
        for line, name in _imports(p)
        if _is_network(name)
    ]
    assert offenders == []


def test_the_static_check_catches_network_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "import json\nfrom urllib.request import urlopen\nimport http.client as hc\n"
        "from PySide6 import QtNetwork\nimportlib.import_module('requests')\n",
        encoding="utf-8",
    )
    flagged = sorted({name for _, name in _imports(sample) if _is_network(name)})
    assert flagged == ["PySide6.QtNetwork", "http.client", "requests", "urllib.request", "urllib.request.urlopen"]
