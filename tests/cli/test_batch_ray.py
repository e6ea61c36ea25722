"""``hitdesk batch --engine ray``: the same rows as ``analyze --json``, Ray started embedded and gone
afterwards, and a Ray worker killed mid-run still gives every row exactly once.

Each test starts Ray once on one or two CPUs (10-30 s on a busy 2-core machine); the two-node
cluster and the throughput figures are in bench/bench_batch.py.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from batch_helpers import assert_same_as_analyze, batch_rows, hitdesk, start_batch
from conftest import AudioFactory
from shared_folder import CORPUS

pytest.importorskip("ray", reason="needs the scale extra (pip install '.[scale]')")
pytestmark = pytest.mark.usefixtures("needs_model")


def _descendants(root: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(stat[1]), []).append(int(entry))
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            out.append(child)
            todo.append(child)
    return out


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def test_ray_rows_equal_analyze_json(tmp_path: Path, data_dir: Path) -> None:
    files = sorted(str(p) for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})
    if (CORPUS / "loyalists-8k-u8.wav").is_file():
        files.append(str(CORPUS / "loyalists-8k-u8.wav"))
    bad = tmp_path / "notes.ogg"
    bad.write_text("not audio\n", encoding="utf-8")
    files.append(str(bad))
    out = tmp_path / "results"
    proc = hitdesk("batch", "--engine", "ray", "--jobs", "2", *files, "--out", str(out))
    assert proc.returncode == 1, proc.stderr  # the text file failed
    assert f"batch: {len(files)}/{len(files)} done, 1 failed" in proc.stderr
    assert_same_as_analyze(out, files)
    # Ray's folder was under HitDesk's temporary folder and is gone; nothing in HOME (no ~/.ray).
    home_tmp = Path(os.environ["HITDESK_HOME"]) / "tmp"
    assert not [p for p in home_tmp.iterdir() if p.name.startswith("ray-")]
    assert not (Path(os.environ["HOME"]) / ".ray").exists()

    t0 = time.monotonic()
    again = hitdesk("batch", "--engine", "ray", *files, "--out", str(out))
    assert f"0 done, 0 failed, {len(files)} skipped" in again.stderr
    assert time.monotonic() - t0 < 20  # nothing to do: Ray is not even started


def test_a_killed_ray_worker_loses_no_row_and_writes_none_twice(tmp_path: Path, audio_factory: AudioFactory) -> None:
    files = [str(audio_factory.sndfile(f"take{i}.flac", seconds=40.0, fmt="FLAC")) for i in range(6)]
    out = tmp_path / "results"
    proc = start_batch("--engine", "ray", "--jobs", "2", *files, "--out", str(out))
    assert proc.stderr is not None
    line = proc.stderr.readline()
    while line and not line.startswith("batch: "):
        line = proc.stderr.readline()
    assert line.startswith("batch: 1/6 done"), line
    workers = [p for p in _descendants(proc.pid) if "MapWorker" in _cmdline(p)]
    assert workers, "no Ray worker found"
    os.kill(workers[0], signal.SIGKILL)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    rows = batch_rows(out)
    assert sorted(r["path"] for r in rows) == sorted(files)
    assert len({r["key"] for r in rows}) == len(rows)
    assert all(r["error"] is None for r in rows)
