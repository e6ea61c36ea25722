"""The window's layout at a small size with the record panel open, at scale factors 1 and 2."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys

import pytest
from ui_helpers import REPO, open_record_panel, require_model, squeezed

from hitdesk.capture import devices as devices_module
from hitdesk.ui.main_window import MainWindow


def test_nothing_is_squeezed_at_1280x720_with_theopen_record_panel(
    qtbot: object, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices_module, "list_input_devices", lambda: [])  # no PortAudio in this test
    open_record_panel(window)
    assert squeezed(window) == []


_AT_SCALE_2 = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QT_SCALE_FACTOR"] = "2"
sys.path.insert(0, "tests")  # the helpers, as pytest has them
from PySide6.QtWidgets import QApplication
app = QApplication(["hitdesk"])
from hitdesk.capture import devices
devices.list_input_devices = lambda: []
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.settings import open_settings
from ui_helpers import open_record_panel, squeezed
window = MainWindow(settings=open_settings(), restore=False, persist=False)
window.show()
assert window.devicePixelRatioF() == 2.0
open_record_panel(window)
problems = squeezed(window)
window.close()
print(problems)
sys.exit(1 if problems else 0)
"""


def test_nothing_is_squeezed_at_scale_factor_2() -> None:
    require_model()
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", _AT_SCALE_2], cwd=REPO, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
