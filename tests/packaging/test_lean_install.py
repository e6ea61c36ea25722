"""The app and ``hitdesk analyze`` run on the core dependencies alone: ``pip install .`` without the
training extra is a working install.

Checked by running them as if only the core were installed: in a fresh interpreter, an import hook
refuses every module whose distribution is neither a core dependency of ``pyproject.toml`` nor
required by one (librosa, torch, scikit-learn, pandas... are then "not installed"), and the command
line and the app must still do their whole job. An optional import that a library tries and goes
without (numpy.f2py's charset_normalizer) fails there as it would in a lean install.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

_HOOK = """
import importlib.abc, json, sys
from importlib import metadata

ALLOWED = set(json.loads(sys.argv[1]))
PROVIDERS = metadata.packages_distributions()
REFUSED = []


class CoreOnly(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        top = name.split(".")[0]
        dists = PROVIDERS.get(top)
        if dists and not any(d.lower().replace("_", "-") in ALLOWED for d in dists):
            REFUSED.append(top)
            raise ModuleNotFoundError(f"No module named {top!r} (not a core dependency)", name=top)
        return None


sys.meta_path.insert(0, CoreOnly())
from hitdesk.cli import main
status = main(sys.argv[3:])
json.dump({"status": status, "refused": sorted(set(REFUSED)), "loaded": sorted({m.split('.')[0] for m in sys.modules})},
          open(sys.argv[2], "w"))
"""


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~;\\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def core_closure() -> set[str]:
    """The core dependencies and everything they require (without extras), as installed here."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    todo = [_name(r) for r in project["dependencies"]]
    seen: set[str] = set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.requires(name) or []
        except metadata.PackageNotFoundError:
            continue
        todo += [_name(r) for r in requires if "extra ==" not in r]
    return seen | {"hitdesk", "setuptools", "pip"}  # ourselves, and the virtual environment's own hooks


@pytest.mark.parametrize(
    "args",
    [["analyze", "--json", "--no-cache", "--jobs", "2"], ["gui", "--screenshot", "shot.png"]],
    ids=["analyze", "app"],
)
def test_runs_on_the_core_dependencies(tmp_path: Path, data_dir: Path, needs_model: None, args: list[str]) -> None:
    out = tmp_path / "report.json"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", _HOOK, json.dumps(sorted(core_closure())), str(out), *args, str(data_dir)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(out.read_text())
    assert report["status"] == 0, proc.stderr
    assert "librosa" not in report["loaded"] and "torch" not in report["loaded"]
    if args[0] == "analyze":
        assert len(json.loads(proc.stdout)) == 3 and all(r["error"] is None for r in json.loads(proc.stdout))
    else:
        assert (tmp_path / "shot.png").stat().st_size > 10_000


def test_librosa_and_torch_are_extras() -> None:
    assert not {"librosa", "torch", "scikit-learn", "pandas"} & core_closure()
