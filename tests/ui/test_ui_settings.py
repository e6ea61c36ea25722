"""The app's settings file through QSettings: a file written before settings had a version is
migrated and keeps its values; Preferences and the panels explain each setting from the table."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QLabel

from hitdesk import paths
from hitdesk.settings_schema import COLOUR_MAPS, SETTINGS_VERSION, VERSION_KEY, machine_cores, setting
from hitdesk.ui import theme
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.settings import Preferences, PreferencesDialog, load_bytes, open_settings

# As HitDesk wrote it before settings had a version (Preferences.save and save_geometry of that
# release, on Linux); the cores used stand in as {workers}.
OLD_FILE = r"""[analysis]
fast=true
windowSeconds=
workers={workers}

[files]
folder\export=/music/exports
folder\png=
folder\session=
lastFolder=/music/mixes
recent=/music/mixes/a song.flac, /music/b.wav

[model]
spec=hitdesk-zalo-v2

[record]
channels=1
device=USB Mic (ALSA)
pruneDays=30

[view]
colourMap=magma
dbRange=60

[window]
geometry=@ByteArray(\x1\xd9\xd0\xcb\0\x3)
splitter=@ByteArray(\0\xff)
state=@ByteArray()
"""


def _write_old_file(workers: int) -> Path:
    path = paths.settings_dir() / "HitDesk" / "HitDesk.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(OLD_FILE.format(workers=workers), encoding="utf-8")
    return path


def test_a_settings_file_from_before_versions_keeps_its_values() -> None:
    chosen = machine_cores() + 2
    path = _write_old_file(chosen)
    settings = open_settings()
    assert Path(settings.fileName()) == path
    prefs = Preferences.load(settings)
    assert prefs == Preferences(
        model="hitdesk-zalo-v2",
        window_seconds=None,
        fast=True,
        workers=chosen,
        colour_map="magma",
        db_range=60,
        last_folder="/music/mixes",
        recent_files=["/music/mixes/a song.flac", "/music/b.wav"],
        record_device="USB Mic (ALSA)",
        record_channels="1",
        prune_days=30,
        folders={"export": "/music/exports"},
    )
    assert load_bytes(settings, "window/geometry") == QByteArray(b"\x01\xd9\xd0\xcb\x00\x03")
    assert load_bytes(settings, "window/splitter") == QByteArray(b"\x00\xff")
    assert load_bytes(settings, "window/state") is None
    settings.sync()
    text = path.read_text(encoding="utf-8")
    assert f"settingsVersion={SETTINGS_VERSION}" in text and f"cores={chosen}" in text and "workers" not in text
    # Saved and read again by this version: the same values.
    prefs.save(settings)
    settings.sync()
    assert Preferences.load(QSettings(str(path), QSettings.Format.IniFormat)) == prefs


def test_cores_saved_as_the_machines_count_now_follow_the_machine() -> None:
    path = _write_old_file(machine_cores())
    settings = open_settings()
    assert Preferences.load(settings).workers == machine_cores()
    settings.sync()
    assert "cores" not in path.read_text(encoding="utf-8").split("[files]")[0]


def test_a_new_file_stores_only_what_differs_from_the_defaults() -> None:
    settings = open_settings()
    assert settings.value(VERSION_KEY) is not None
    Preferences().save(settings)
    settings.sync()
    assert settings.allKeys() == [VERSION_KEY]
    assert Preferences.load(settings) == Preferences()
    assert Preferences().workers == len(os.sched_getaffinity(0))


def test_preferences_explain_each_setting_from_the_table(qtbot: object, window: MainWindow) -> None:
    dialog = PreferencesDialog(Preferences(), 30.0, window)
    helps = {
        "analysis/windowSeconds": dialog.window_help,
        "analysis/fast": dialog.fast_help,
        "analysis/cores": dialog.workers_help,
    }
    for key, label in helps.items():
        assert isinstance(label, QLabel) and label.text().startswith(setting(key).description), key
    window_setting = setting("analysis/windowSeconds")
    assert (dialog.window_length.minimum(), dialog.window_length.maximum()) == (
        window_setting.minimum,
        window_setting.maximum,
    )
    dialog.close()


def test_the_panels_take_ranges_and_descriptions_from_the_table(qtbot: object, window: MainWindow) -> None:
    db = setting("view/dbRange")
    assert (window.panel.db.minimum(), window.panel.db.maximum()) == (db.minimum, db.maximum)
    assert window.panel.db.toolTip() == db.description
    assert window.panel.cmap.toolTip() == setting("view/colourMap").description
    assert [key for key, _ in theme.COLOUR_MAPS] == list(COLOUR_MAPS)
    prune = setting("record/pruneDays")
    dialog = window.record_dock.show_recordings()
    box = dialog.prune_days
    assert (box.minimum(), box.maximum()) == (prune.minimum, prune.maximum)
    assert box.toolTip() == prune.description
    dialog.close()
