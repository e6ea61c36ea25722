"""`hitdesk` as a user runs it in the tests: a fresh process from the repository's folder, with the
test's own environment (HITDESK_HOME, HOME and XDG_* are the test's, see conftest's app_folders)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def run_hitdesk(
    *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """``python -m hitdesk ARGS`` with its output captured as text; ``env`` replaces this process's."""
    return subprocess.run(
        [sys.executable, "-m", "hitdesk", *args],
        capture_output=True,
        text=True,
        env=env or dict(os.environ),
        cwd=REPO,
        timeout=timeout,
    )
