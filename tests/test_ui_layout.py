"""The window's layout at a small size with the record panel open, at scale factors 1 and 2."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import subprocess
import sys

import pytest
from ui_helpers import REPO, require_model

from hitdesk.capture import devices as devices_module
from hitdesk.ui.main_window import MainWindow

SIZE = (1280, 720)


def squeezed(window: MainWindow) -> list[str]:
    """What the layout squeezes below the height it needs, at the window's current size."""
    from PySide6.QtWidgets import QApplication

    QApplication.processEvents()
    problems = []
    table = window.table
    rows = table.viewport().height() / table.verticalHeader().defaultSectionSize()
    if rows < 4:
        problems.append(f"the takes list shows {rows:.1f} rows")
    meters = [window.panel.overall, *window.panel.segment_meters.values()]
    meters += [window.record_panel.scores.beginning_meter, window.record_panel.scores.now_meter]
    for meter in meters:
        if meter.height() < meter.sizeHint().height():
            problems.append(f"meter '{meter.title}' is {meter.height()} px high, needs {meter.sizeHint().height()}")
    level = window.record_panel.controls.level
    if level.height() < level.sizeHint().height():
        problems.append(f"the level meter is {level.height()} px high, needs {level.sizeHint().height()}")
    return problems


def _record_panel_open(window: MainWindow) -> None:
    from PySide6.QtWidgets import QApplication

    window.resize(*SIZE)
    window.record_dock.show()
    for _ in range(5):
        QApplication.processEvents()
    assert window.record_dock.isVisible() and (window.width(), window.height()) == SIZE


def test_nothing_is_squeezed_at_1280x720_with_the_record_panel_open(
    qtbot: object, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(devices_module, "list_input_devices", lambda: [])  # no PortAudio in this test
    _record_panel_open(window)
    assert squeezed(window) == []


_AT_SCALE_2 = """
import os, sys
os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ["QT_SCALE_FACTOR"] = "2"
sys.path.insert(0, "tests")
from PySide6.QtWidgets import QApplication
app = QApplication(["hitdesk"])
from hitdesk.capture import devices
devices.list_input_devices = lambda: []
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.settings import open_settings
from test_ui_layout import _record_panel_open, squeezed
window = MainWindow(settings=open_settings(), restore=False, persist=False)
window.show()
assert window.devicePixelRatioF() == 2.0
_record_panel_open(window)
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
