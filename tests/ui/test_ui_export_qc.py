"""The app's exports carry the "qc" fields `hitdesk analyze --qc PROFILE` prints, for the profile chosen
in the take panel's QC picker (remembered in the preferences); a profile that cannot be read stops the
export with one sentence and writes nothing."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import csv
import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from ui_helpers import WAIT_MS, wait_idle

from hitdesk.ui import file_dialogs
from hitdesk.ui.command_context import CommandContext

RATE = 44_100


def _take(path: Path) -> Path:
    """20 s of stereo noise at about -20 LUFS with a clipped spot at 8 s: the spotify profile warns."""
    rng = np.random.default_rng(5)
    x = 0.1 * rng.standard_normal((20 * RATE, 2))
    x[8 * RATE : 8 * RATE + 10] = 1.0
    sf.write(path, x.astype(np.float32), RATE, subtype="FLOAT")
    return path


def _cli(path: Path, *args: str) -> list[dict[str, Any]]:
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--no-cache", *args, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return list(json.loads(proc.stdout)) if "--json" in args else list(csv.DictReader(io.StringIO(proc.stdout)))


def _export(window: Any, path: Path, monkeypatch: Any) -> list[str]:
    """File ▸ Export through its dialog (the path chosen in advance); returns the warnings shown."""
    warnings: list[str] = []
    monkeypatch.setattr(file_dialogs.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    monkeypatch.setattr(file_dialogs.QMessageBox, "warning", lambda _parent, _title, text: warnings.append(text))
    context = CommandContext(window, window, window.controller, window.prefs, window.transport)
    file_dialogs.export_dialog(context)
    return warnings


def test_exports_carry_the_chosen_profiles_checks(qtbot: Any, window: Any, tmp_path: Path, monkeypatch: Any) -> None:
    take = _take(tmp_path / "take.wav")
    with qtbot.waitSignal(window.all_done, timeout=WAIT_MS):
        window.add_paths([take])
    wait_idle(qtbot, window)
    seconds = str(window.controller.options.window_seconds)

    assert not _export(window, tmp_path / "none.json", monkeypatch)
    (plain,) = json.loads((tmp_path / "none.json").read_text(encoding="utf-8"))
    assert "qc" not in plain  # no profile chosen: as the command line without --qc

    window.panel.meters.set_profile("spotify")  # the take panel's QC picker
    assert window.prefs.qc_profile == "spotify"
    assert not _export(window, tmp_path / "out.json", monkeypatch)
    assert not _export(window, tmp_path / "out.csv", monkeypatch)
    (row,) = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    (cli_row,) = _cli(take, "--json", "--qc", "spotify", "--window-seconds", seconds)
    assert row["qc"] == cli_row["qc"]
    assert {q["rule"]: q["status"] for q in row["qc"]}["clipping"] == "warn"
    assert list(row).index("qc") == list(cli_row).index("qc")  # in the same place
    (csv_row,) = list(csv.DictReader(io.StringIO((tmp_path / "out.csv").read_text(encoding="utf-8"))))
    (cli_csv,) = _cli(take, "--csv", "--qc", "spotify", "--window-seconds", seconds)
    qc_columns = [k for k in cli_csv if k.startswith("qc_")]
    assert qc_columns and {k: csv_row[k] for k in qc_columns} == {k: cli_csv[k] for k in qc_columns}

    window.prefs.qc_profile = "no-such-profile"
    warnings = _export(window, tmp_path / "broken.json", monkeypatch)
    assert len(warnings) == 1 and "No QC profile 'no-such-profile'" in warnings[0]
    assert not (tmp_path / "broken.json").exists()


def test_the_chosen_profile_is_remembered_and_a_vanished_one_forgotten(qtbot: Any, settings: Any) -> None:
    from ui_helpers import make_window

    from hitdesk.paths import qc_profiles_dir

    qc_profiles_dir().mkdir(parents=True, exist_ok=True)
    mine = qc_profiles_dir() / "mine.toml"
    mine.write_text("[true_peak_dbtp]\nwarn_above = -2.0\n", encoding="utf-8")
    first = make_window(qtbot, settings, restore=True)
    window = next(first)
    window.panel.meters.set_profile("mine")
    next(first, None)  # closing saves the settings
    again = make_window(qtbot, settings, restore=True)
    second = next(again)
    assert second.panel.meters.profile() == "mine" and second.prefs.qc_profile == "mine"
    next(again, None)
    mine.unlink()
    third = make_window(qtbot, settings, restore=True)
    window = next(third)
    assert window.panel.meters.profile() == "" and window.prefs.qc_profile == ""
    next(third, None)
