"""The headless check: ``run_gui(files, screenshot=PATH)`` opens the real window, analyses, saves a PNG."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication
from shared_folder import CORPUS
from ui_helpers import clips, require_model

from hitdesk import paths
from hitdesk.ui.app import run_gui
from hitdesk.ui.main_window import DEFAULT_SIZE

if TYPE_CHECKING:
    from conftest import AppFolders


def _check_png(path: Path) -> QImage:
    assert path.stat().st_size > 10_000
    image = QImage(str(path))
    assert not image.isNull()
    app = QApplication.instance()
    ratio = app.primaryScreen().devicePixelRatio() if isinstance(app, QApplication) else 1.0
    assert (image.width(), image.height()) == (round(DEFAULT_SIZE[0] * ratio), round(DEFAULT_SIZE[1] * ratio))
    # Not a blank window: many distinct colours (meters, spectrogram).
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 200
    return image


def test_screenshot_of_the_main_window(qapp: object, tmp_path: Path, app_folders: AppFolders) -> None:
    require_model()
    out = tmp_path / "shots" / "main.png"
    assert run_gui([str(p) for p in clips()], screenshot=str(out), compare=False, model=None) == 0
    _check_png(out)
    assert paths.log_file().exists() and paths.log_file().is_relative_to(app_folders.home)


def test_screenshot_of_the_compare_view(qapp: object, tmp_path: Path) -> None:
    require_model()
    out = tmp_path / "compare.png"
    assert run_gui([str(p) for p in clips()], screenshot=str(out), compare=True, model=None) == 0
    _check_png(out)


def test_screenshot_with_a_missing_model_fails_but_still_shows_the_window(qapp: object, tmp_path: Path) -> None:
    out = tmp_path / "nomodel.png"
    assert run_gui([], screenshot=str(out), compare=False, model=str(tmp_path / "nothing")) == 1
    assert out.exists()


@pytest.mark.corpus
def test_screenshot_of_corpus_takes(qapp: object, tmp_path: Path) -> None:
    files = [CORPUS / "chaos_god-mix.ogg", CORPUS / "chaos_god-guitar.ogg"]
    if not all(f.exists() for f in files):
        pytest.skip("needs ../shared/corpus")
    require_model()
    out = tmp_path / "compare.png"
    assert run_gui([str(f) for f in files], screenshot=str(out), compare=True, model=None) == 0
    _check_png(out)
