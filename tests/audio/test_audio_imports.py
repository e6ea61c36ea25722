"""The audio package stays a core package: no Qt, no torch, no librosa at import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_importing_hitdesk_audio_pulls_in_no_gui_or_training_code() -> None:
    code = (
        "import sys, hitdesk.audio\n"
        "bad = sorted(m for m in ('PySide6', 'torch', 'librosa', 'pyqtgraph') if m in sys.modules)\n"
        "print(','.join(bad))\n"
    )
    repo = Path(__file__).resolve().parents[2]
    out = subprocess.run([sys.executable, "-c", code], cwd=repo, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
