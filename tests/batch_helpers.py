"""Running ``hitdesk batch`` and ``hitdesk analyze --json`` in subprocesses, and comparing what they give."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]


def env() -> dict[str, str]:
    out = dict(os.environ)  # HITDESK_HOME, HOME and XDG_* are the test's own (conftest's app_folders)
    out["PYTHONPATH"] = str(REPO) + os.pathsep + out.get("PYTHONPATH", "")
    return out


def hitdesk(*args: str, timeout: float = 300, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hitdesk", *args],
        env=env(),
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def start_batch(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "hitdesk", "batch", *args],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def analyze_json(files: list[str], *options: str) -> list[dict[str, Any]]:
    """``hitdesk analyze --json``'s objects, without the platforms' columns batch does not keep."""
    proc = hitdesk("analyze", "--json", "--no-cache", *options, *files)
    assert proc.returncode in (0, 1), proc.stderr
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    for row in rows:
        row.pop("platforms", None)
    return rows


def batch_rows(out: Path) -> list[dict[str, Any]]:
    """Every row of a RESULTS folder as read by pyarrow itself (the folder as one dataset)."""
    import pyarrow.parquet as pq

    return list(pq.read_table(out).to_pylist())


def assert_same_as_analyze(out: Path, files: list[str], *options: str) -> None:
    """One row per file, and each row gives back the very object ``analyze --json`` prints."""
    from hitdesk.batch.schema import from_row

    rows = batch_rows(out)
    counts = Counter(r["key"] for r in rows)
    assert max(counts.values()) == 1, "a key was written twice"
    by_path = {r["path"]: r for r in rows}
    assert sorted(by_path) == sorted(files)
    for expected in analyze_json(files, *options):
        row = by_path[expected["file"]]
        assert from_row(row) == expected, expected["file"]
        overall = expected["overall"] or {}
        assert row["overall_p_hit"] == overall.get("p_hit")
        assert row["lufs"] == (expected["loudness"] or {}).get("lufs")
        assert row["error"] == expected["error"]
