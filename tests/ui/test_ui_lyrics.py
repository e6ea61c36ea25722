"""Pasted lyrics in the app: Analysis ▸ Lyrics… gives a take lyrics, which a lyrics model then uses."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import shutil
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from lyrics_model import write_lyrics_model
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QInputDialog
from ui_helpers import WAIT_MS

from hitdesk.take_lyrics import NO_LYRICS_NOTE
from hitdesk.ui import lyrics_dialog
from hitdesk.ui.controller import AnalysisSettings, TakesController
from hitdesk.ui.takes import State


@pytest.fixture
def controller(qtbot: Any, settings: QSettings, tmp_path: Path) -> Iterator[TakesController]:
    c = TakesController(AnalysisSettings(window_seconds=3.0))
    assert c.load_model(str(write_lyrics_model(tmp_path / "m").with_suffix(".onnx"))), c.model_error
    yield c
    c.shutdown()


def test_pasted_lyrics_are_used_and_cleared(
    qtbot: Any, controller: TakesController, data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = tmp_path / "take.ogg"
    shutil.copy(data_dir / "chipdisko-12s.ogg", clip)
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        (take,) = controller.add_paths([clip])
    assert take.state == State.DONE and take.result is not None
    assert NO_LYRICS_NOTE in take.result.notes
    without = take.result.overall.p_hit

    c = SimpleNamespace(controller=controller, view=SimpleNamespace(selected_takes=lambda: [take]), window=None)
    monkeypatch.setattr(
        QInputDialog, "getMultiLineText", lambda *a: ("Sailing on the ocean\nunder a silver moon", True)
    )
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        lyrics_dialog.lyrics_dialog(c)  # type: ignore[arg-type]
    assert take.result is not None and NO_LYRICS_NOTE not in take.result.notes
    assert take.result.overall.p_hit != pytest.approx(without, abs=1e-4)

    # The same text again changes nothing and analyses nothing; an empty text goes back to no lyrics.
    assert not lyrics_dialog.set_lyrics(c, take.id, "Sailing on the ocean\nunder a silver moon")  # type: ignore[arg-type]
    monkeypatch.setattr(QInputDialog, "getMultiLineText", lambda *a: ("  ", True))
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        lyrics_dialog.lyrics_dialog(c)  # type: ignore[arg-type]
    assert take.result is not None and NO_LYRICS_NOTE in take.result.notes
    assert take.result.overall.p_hit == pytest.approx(without, abs=1e-6)
