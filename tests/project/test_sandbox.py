"""The suite's sandbox: every test runs with a HOME, XDG folders and HITDESK_HOME of its own, and the
check that nothing is written outside them sees a write where it would matter."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import REAL_HOME, SANDBOX, listing


def test_home_and_xdg_folders_are_the_sandbox() -> None:
    for var in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "NUMBA_CACHE_DIR"):
        assert Path(os.environ[var]).is_relative_to(SANDBOX), var
    assert not SANDBOX.is_relative_to(REAL_HOME)


def test_the_listing_sees_a_new_file(tmp_path: Path) -> None:
    before = listing((tmp_path,))
    (tmp_path / "cache-entry.json").write_text("{}")
    after = listing((tmp_path,))
    assert set(after) - set(before) == {str(tmp_path / "cache-entry.json")}
