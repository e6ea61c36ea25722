"""Every app folder comes from hitdesk.paths, and HITDESK_HOME holds all of them."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from hitdesk import paths

if TYPE_CHECKING:
    from conftest import AppFolders


def test_home_holds_every_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("HITDESK_CACHE_DIR", "HITDESK_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HITDESK_HOME", str(tmp_path))
    folders = [
        paths.results_cache_dir(),
        paths.training_cache_dir(),
        paths.data_dir(),
        paths.recordings_dir(),
        paths.settings_dir(),
        paths.log_file(),
        paths.temp_dir(),
    ]
    for folder in folders:
        assert folder is not None and folder.is_relative_to(tmp_path), folder
    assert len({str(f) for f in folders}) == len(folders)


def test_without_home_the_platform_folders(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HITDESK_HOME")
    monkeypatch.delenv("HITDESK_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xc"))
    assert paths.results_cache_dir() == tmp_path / "xc" / "hitdesk" / "results"
    assert paths.temp_dir() is None


def test_single_folder_overrides_win(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITDESK_CACHE_DIR", str(tmp_path / "c"))
    monkeypatch.setenv("HITDESK_DATA_DIR", str(tmp_path / "d"))
    assert paths.results_cache_dir() == tmp_path / "c"
    assert paths.recordings_dir() == tmp_path / "d" / "recordings"


def test_the_suite_runs_under_its_own_home(app_folders: AppFolders) -> None:
    assert paths.home() == app_folders.home
