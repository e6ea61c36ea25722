"""Inputs an attacker or an odd file system hands ``hitdesk analyze``: names that are not UTF-8, trees
thousands of folders deep, folders that cannot be entered. Every other file is still analysed, each
problem is one per-file error, and the output stays valid.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


def _run(args: list[str], home: Path, **kw: object) -> subprocess.CompletedProcess[bytes]:
    env = dict(os.environ)
    env["HITDESK_HOME"] = str(home)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    return subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--no-cache", *args],
        env=env,
        capture_output=True,
        timeout=300,
        check=False,
        **kw,  # type: ignore[arg-type]
    )


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux")
@pytest.mark.parametrize("lang", ["C.UTF-8", "C", "POSIX"])
def test_name_that_is_not_utf8(tmp_path: Path, data_dir: Path, needs_model: None, lang: str) -> None:
    raw = os.fsencode(tmp_path) + b"/caf\xe9 take.ogg"
    shutil.copy(data_dir / "chipdisko-12s.ogg", os.fsdecode(raw))
    env = dict(os.environ, LANG=lang, LC_ALL=lang, HITDESK_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    for fmt in ("--json", "--csv", None):
        args = [sys.executable, "-m", "hitdesk", "analyze", "--no-cache", *([fmt] if fmt else []), str(tmp_path)]
        proc = subprocess.run(args, env=env, capture_output=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr.decode(errors="replace")
        text = proc.stdout.decode("utf-8")  # valid UTF-8, whatever the locale
        assert "caf\ufffd take.ogg" in text
        if fmt == "--json":
            (result,) = json.loads(text)
            assert result["error"] is None
            assert bytes.fromhex(result["file_raw"]) == raw
            assert result["file"] == os.fsencode(raw).decode("utf-8", "replace")


def test_plain_names_have_no_raw_field(tmp_path: Path, data_dir: Path, needs_model: None) -> None:
    proc = _run(["--json", str(data_dir / "chipdisko-12s.ogg")], tmp_path / "home")
    assert "file_raw" not in json.loads(proc.stdout)[0]


def _deep(root: Path, depth: int, clip: Path) -> None:
    """A file ``depth`` folders down, made through folder handles (the path outgrows PATH_MAX)."""
    fd = os.open(root, os.O_RDONLY)
    try:
        for _ in range(depth):
            os.mkdir("d", dir_fd=fd)
            nfd = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = nfd
        out = os.open("a.ogg", os.O_WRONLY | os.O_CREAT, 0o644, dir_fd=fd)
        os.write(out, clip.read_bytes())
        os.close(out)
    finally:
        os.close(fd)


@pytest.mark.parametrize("depth", [1000, 2100])
def test_very_deep_folders(tmp_path: Path, data_dir: Path, needs_model: None, depth: int) -> None:
    deep = tmp_path / "deep"
    deep.mkdir()
    _deep(deep, depth, data_dir / "chipdisko-12s.ogg")
    other = data_dir / "chipdisko-12s.ogg"
    proc = _run(["--json", str(deep), str(other)], tmp_path / "home")
    assert b"Traceback" not in proc.stderr
    results = json.loads(proc.stdout)
    assert results[-1]["error"] is None  # the other argument is analysed
    assert len(results) == 2
    if depth == 1000:
        assert proc.returncode == 0 and results[0]["error"] is None
    else:
        assert proc.returncode == 1 and "Cannot read folder" in results[0]["error"]


def _library(root: Path, clip: Path) -> Path:
    library = root / "library"
    (library / "locked").mkdir(parents=True)
    shutil.copy(clip, library / "ok.ogg")
    shutil.copy(clip, library / "locked" / "hidden.ogg")
    return library


def _check_locked(run: Callable[[list[str]], tuple[int, bytes, bytes]], library: Path) -> None:
    # the folder holding an unreadable sub-folder: the readable file is analysed, the folder is an error
    status, out, err = run(["analyze", "--json", str(library)])
    assert b"Traceback" not in err, err.decode()
    results = {Path(r["file"]).name: r for r in json.loads(out)}
    assert status == 1
    assert results["ok.ogg"]["error"] is None
    assert "Cannot read folder 'locked'" in results["locked"]["error"]
    # a file named inside a folder that cannot be entered (cache on): one per-file error, exit 1
    status, out, err = run(["analyze", "--json", str(library / "locked" / "hidden.ogg"), str(library / "ok.ogg")])
    assert b"Traceback" not in err, err.decode()
    first, second = json.loads(out)
    assert status == 1
    assert "permission denied" in first["error"]
    assert second["error"] is None


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root enters every folder")
def test_folders_that_cannot_be_entered(tmp_path: Path, data_dir: Path, needs_model: None) -> None:
    library = _library(tmp_path, data_dir / "chipdisko-12s.ogg")
    (library / "locked").chmod(0)
    env = dict(os.environ, HITDESK_HOME=str(tmp_path / "home"))
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")

    def run(args: list[str]) -> tuple[int, bytes, bytes]:
        proc = subprocess.run([sys.executable, "-m", "hitdesk", *args], env=env, capture_output=True, check=False)
        return proc.returncode, proc.stdout, proc.stderr

    try:
        _check_locked(run, library)
    finally:
        (library / "locked").chmod(0o755)


def test_folders_that_cannot_be_entered_as_the_system_reports_it(
    tmp_path: Path, data_dir: Path, needs_model: None, monkeypatch: pytest.MonkeyPatch, capfdbinary: Any
) -> None:
    """The same, in-process, with the operating system's answers for a folder without search
    permission put in its place (the suite runs as root in CI, and root enters every folder)."""
    from hitdesk.cli import main

    library = _library(tmp_path, data_dir / "chipdisko-12s.ogg")
    locked = str(library / "locked")
    real_scandir, real_stat, real_open = os.scandir, os.stat, os.open

    def denied(path: Any) -> PermissionError:
        return PermissionError(13, "Permission denied", os.fspath(path))

    def scandir(path: Any = ".") -> Any:
        if os.fspath(path) == locked:
            raise denied(path)
        return real_scandir(path)

    def stat_(path: Any, *args: Any, **kw: Any) -> Any:
        if isinstance(path, str | Path) and os.fspath(path).startswith(locked + os.sep):
            raise denied(path)
        return real_stat(path, *args, **kw)

    def open_(path: Any, *args: Any, **kw: Any) -> int:
        if isinstance(path, str | Path) and os.fspath(path).startswith(locked + os.sep):
            raise denied(path)
        return real_open(path, *args, **kw)

    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "stat", stat_)
    monkeypatch.setattr(os, "open", open_)

    def run(args: list[str]) -> tuple[int, bytes, bytes]:
        status = main(args)
        captured = capfdbinary.readouterr()
        return status, captured.out, captured.err

    _check_locked(run, library)
