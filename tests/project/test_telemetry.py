"""No run of HitDesk leaves onnxruntime's telemetry store behind.

onnxruntime writes a device id and a SQLite queue of usage events under the user's cache folder
(``Microsoft/DeveloperTools/.onnxruntime``) when it is imported, unless ``ORT_DISABLE_TELEMETRY`` is set
before that import. Each entry point runs here in a fresh process with its own empty HOME and
XDG_CACHE_HOME, and afterwards nothing named Microsoft or onnxruntime may exist under either.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
MODEL = REPO / "models" / "hitdesk-zalo-v2.onnx"
CI_VARIABLES = ("CI", "TF_BUILD", "GITHUB_ACTIONS", "GITLAB_CI", "BUILD_BUILDID", "JENKINS_URL", "TRAVIS")


def _home(tmp_path: Path) -> dict[str, str]:
    # onnxruntime also keeps no store when it sees a CI variable (CI runs the suite with CI=true), so
    # the runs here go without them, as on a user's machine.
    env = {k: v for k, v in os.environ.items() if k not in ("ORT_DISABLE_TELEMETRY", *CI_VARIABLES)}
    home = tmp_path / "home"
    for sub in ("", ".cache", ".config", ".local/share"):
        (home / sub).mkdir(parents=True, exist_ok=True)
    env.update(
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        HITDESK_CACHE_DIR=str(tmp_path / "results"),
        HITDESK_DATA_DIR=str(tmp_path / "data"),
        PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""),
        QT_QPA_PLATFORM="offscreen",
    )
    return env


def _telemetry_files(home: Path) -> list[Path]:
    return [p for p in home.rglob("*") if "microsoft" in p.name.lower() or "onnxruntime" in p.name.lower()]


def _run(tmp_path: Path, args: list[str], timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, env=_home(tmp_path), cwd=tmp_path, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_the_check_sees_the_store_when_telemetry_is_left_on(tmp_path: Path) -> None:
    """Without the variable, importing onnxruntime does write the store: the other tests can fail."""
    proc = _run(tmp_path, [sys.executable, "-c", "import onnxruntime"])
    assert proc.returncode == 0, proc.stderr
    assert _telemetry_files(tmp_path / "home"), "onnxruntime no longer writes its store: this test proves nothing"


def test_analyze_with_workers_writes_no_telemetry(tmp_path: Path, data_dir: Path) -> None:
    clips = sorted(str(p) for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})
    proc = _run(tmp_path, [sys.executable, "-m", "hitdesk", "analyze", "--json", "--jobs", "2", *clips])
    assert proc.returncode == 0, proc.stderr
    assert _telemetry_files(tmp_path / "home") == []


def test_style_analysis_writes_no_telemetry(tmp_path: Path, data_dir: Path) -> None:
    """--style loads a second onnxruntime session, the music tagger's."""
    clip = str(data_dir / "chipdisko-12s.ogg")
    proc = _run(tmp_path, [sys.executable, "-m", "hitdesk", "analyze", "--json", "--style", clip])
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)[0]["style"]) >= 5
    assert _telemetry_files(tmp_path / "home") == []


def test_sentence_encoder_writes_no_telemetry(tmp_path: Path) -> None:
    """The lyrics encoder is a third onnxruntime session, loaded by analysis for models that take lyrics."""
    code = "from hitdesk.model.encoder import load_encoder; print(load_encoder().embed(['la la la']).shape)"
    proc = _run(tmp_path, [sys.executable, "-c", code])
    assert proc.returncode == 0 and "(1, 384)" in proc.stdout, proc.stderr
    assert _telemetry_files(tmp_path / "home") == []


def test_app_writes_no_telemetry(tmp_path: Path, data_dir: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = _run(tmp_path, [sys.executable, "-m", "hitdesk", "gui", "--screenshot", str(shot), str(data_dir)])
    assert proc.returncode == 0, proc.stderr
    assert shot.is_file()
    assert _telemetry_files(tmp_path / "home") == []


def test_capture_writes_no_telemetry(tmp_path: Path) -> None:
    """With or without an input device (CI has none), the capture command loads the model first."""
    _run(tmp_path, [sys.executable, "-m", "hitdesk", "capture", "--seconds", "1", "--out", str(tmp_path / "t.wav")])
    assert _telemetry_files(tmp_path / "home") == []


@pytest.mark.parametrize("module", ["hitdesk.training.evaluate", "hitdesk.training.cli"])
def test_training_writes_no_telemetry(tmp_path: Path, module: str) -> None:
    code = f"import {module}, onnxruntime as ort; ort.InferenceSession({str(MODEL)!r})"
    proc = _run(tmp_path, [sys.executable, "-c", code])
    assert proc.returncode == 0, proc.stderr
    assert _telemetry_files(tmp_path / "home") == []


@pytest.mark.parametrize("engine", ["local", "ray"])
def test_batch_writes_no_telemetry(tmp_path: Path, data_dir: Path, engine: str) -> None:
    """Ray's workers load the model too; Ray itself keeps its usage statistics off and writes no
    token into HOME (``~/.ray``)."""
    if engine == "ray":
        pytest.importorskip("ray", reason="needs the scale extra")
    clips = sorted(str(p) for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})
    out = tmp_path / "results"
    trace = tmp_path / "connect.log"
    # Every process's connections are logged where strace works: Ray's head process probed the cloud
    # metadata services (HTTP to 169.254.169.254 and metadata.google.internal) before HitDesk stopped it.
    strace = ["strace", "-f", "-qq", "-e", "trace=connect", "-o", str(trace)]
    if shutil.which("strace") is None or subprocess.run([*strace, "true"], check=False).returncode != 0:
        strace = []
    cmd = [*strace, sys.executable, "-m", "hitdesk", "batch", "--engine", engine, *clips, "--out", str(out)]
    proc = _run(tmp_path, cmd)
    assert proc.returncode == 0, proc.stderr
    assert f"{len(clips)}/{len(clips)} done" in proc.stderr
    home = tmp_path / "home"
    assert _telemetry_files(home) == []
    assert not (home / ".ray").exists()
    if strace:
        log = trace.read_text(errors="replace")
        assert "169.254.169.254" not in log
        assert "htons(80)" not in log and "htons(443)" not in log
