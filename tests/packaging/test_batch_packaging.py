"""Ray is for ``hitdesk batch --engine ray`` alone: the app, ``hitdesk analyze`` and the packaged app
never import it (nor pyarrow, which only the batch command needs)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

_PROBE = """
import sys
from hitdesk.cli import main
status = main(["analyze", "--json", "--jobs", "2", *sys.argv[1:]])
print("status", status)
print("loaded", sorted(m for m in ("ray", "pyarrow", "hitdesk.batch") if m in sys.modules))
"""


def test_analyze_imports_neither_ray_nor_pyarrow(data_dir: Path, needs_model: None) -> None:
    clips = sorted(str(p) for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, *clips], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    lines = proc.stdout.splitlines()
    assert "status 0" in lines, proc.stderr
    assert lines[-1] == "loaded []"


def test_the_packaged_app_leaves_batch_ray_and_arrow_out() -> None:
    """The frozen entry point is ``hitdesk.cli.main``; the spec drops what only batch imports."""
    assert "from hitdesk.cli import main" in (REPO / "packaging" / "hitdesk_main.py").read_text(encoding="utf-8")
    spec = (REPO / "packaging" / "hitdesk.spec").read_text(encoding="utf-8")
    for name in ('"ray"', '"pyarrow"', '"hitdesk.batch"'):
        assert name in spec.split("EXCLUDES = [", 1)[1].split("]", 1)[0], name
