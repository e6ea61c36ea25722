"""Persistent preferences (QSettings, organisation and application "HitDesk") and their dialog.

The INI format is used on every platform so a test can redirect it with ``QSettings.setPath``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QWidget,
)

from hitdesk import paths
from hitdesk.config import DEFAULT_WINDOW_SECONDS, MAX_WINDOW_SECONDS, MIN_TRACK_SECONDS
from hitdesk.present import plural
from hitdesk.settings_schema import FOLDER_KINDS, MAX_RECENT, folder_key, machine_cores, migrate, setting
from hitdesk.ui import theme

ORGANISATION = "HitDesk"
APPLICATION = "HitDesk"

# Each field of Preferences and the setting it is kept under (hitdesk.settings_schema declares them).
FIELDS = {
    "model": "model/spec",
    "window_seconds": "analysis/windowSeconds",
    "fast": "analysis/fast",
    "style": "analysis/style",
    "workers": "analysis/cores",
    "colour_map": "view/colourMap",
    "db_range": "view/dbRange",
    "hidden_strips": "view/hiddenStrips",
    "qc_profile": "view/qcProfile",
    "last_folder": "files/lastFolder",
    "recent_files": "files/recent",
    "record_device": "record/device",
    "record_channels": "record/channels",
    "prune_days": "record/pruneDays",
}
WINDOW_KEYS = ("window/geometry", "window/state", "window/splitter")


def open_settings() -> QSettings:
    """The app's settings file: Qt's usual place, or ``config/`` under ``HITDESK_HOME`` when that is set;
    a file from an older HitDesk is migrated to the current settings version as it is opened."""
    if paths.home() is not None:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(paths.settings_dir()))
    settings = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)
    migrate(settings)
    return settings


def _default(name: str) -> Any:
    return field(default_factory=setting(FIELDS[name]).default_value)


@dataclass
class Preferences:
    """The settings the app reads at start-up and writes on close, as typed fields (see ``FIELDS``)."""

    model: str = _default("model")  # "" = the default model; else a name in models/ or a stem path
    window_seconds: float | None = _default("window_seconds")  # None = the model card's, or the default
    fast: bool = _default("fast")
    style: bool = _default("style")  # the music tagger's tags ("sounds like")
    workers: int = _default("workers")  # the machine's cores unless the user chose another number
    colour_map: str = _default("colour_map")
    db_range: int = _default("db_range")
    hidden_strips: list[str] = _default("hidden_strips")  # noqa: RUF009  (strips under the spectrogram the user hid)
    qc_profile: str = _default("qc_profile")  # "" = none; a built-in profile's name or one of the user's
    last_folder: str = _default("last_folder")
    recent_files: list[str] = _default("recent_files")  # noqa: RUF009  (a field with a factory: no shared list)
    record_device: str = _default("record_device")  # the input's label, "name (host API)"; "" = system default
    record_channels: str = _default("record_channels")  # "1+2", "1", ...; "" = 1+2, or 1 on a mono input
    prune_days: int = _default("prune_days")  # recordings older than this are deleted at start-up; 0 = kept
    folders: dict[str, str] = field(default_factory=dict)  # the folder last used for each kind of file saved

    def folder_for(self, kind: str) -> str:
        """Where a file dialog for ``kind`` ("export", "session", "png") starts: the folder last used for
        that kind, else the audio folder last opened."""
        return self.folders.get(kind) or self.last_folder

    def remember_folder(self, kind: str, folder: str | Path) -> None:
        self.folders[kind] = str(folder)

    @classmethod
    def load(cls, s: QSettings) -> Preferences:
        values = {name: setting(key).read(s) for name, key in FIELDS.items()}
        folders = {k: setting(folder_key(k)).read(s) for k in FOLDER_KINDS}
        return cls(**values, folders={k: v for k, v in folders.items() if v})

    def save(self, s: QSettings) -> None:
        for name, key in FIELDS.items():
            setting(key).write(s, getattr(self, name))
        for kind in FOLDER_KINDS:
            setting(folder_key(kind)).write(s, self.folders.get(kind, ""))

    def add_recent(self, paths: list[str]) -> None:
        for p in reversed(paths):
            if p in self.recent_files:
                self.recent_files.remove(p)
            self.recent_files.insert(0, p)
        del self.recent_files[MAX_RECENT:]


def save_geometry(s: QSettings, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
    for key, value in zip(WINDOW_KEYS, (geometry, state, splitter), strict=True):
        setting(key).write(s, None if value.isEmpty() else value)


def load_bytes(s: QSettings, key: str) -> QByteArray | None:
    value = setting(key).read(s)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


class PreferencesDialog(QDialog):
    """Window length, fast mode and cores used, each with its one-line description from the settings
    table under it (and what this model and this computer make of it)."""

    def __init__(self, prefs: Preferences, card_window: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        window = setting(FIELDS["window_seconds"])
        self.window_length = QDoubleSpinBox()
        self.window_length.setRange(window.minimum or MIN_TRACK_SECONDS, window.maximum or MAX_WINDOW_SECONDS)
        self.window_length.setDecimals(1)
        self.window_length.setSuffix(" s")
        default = card_window or DEFAULT_WINDOW_SECONDS
        self.window_length.setValue(prefs.window_seconds or default)
        self.window_length.setToolTip(
            f"Length of the beginning, middle and end windows (the model's card: {default:g} s)"
        )
        self.fast = QCheckBox("Fast mode")
        self.fast.setChecked(prefs.fast)
        self.sounds_like = QCheckBox("Sounds like (music tagger)")
        self.sounds_like.setChecked(prefs.style)
        cores = machine_cores()
        self.workers = QSpinBox()
        self.workers.setRange(1, max(cores, prefs.workers))
        self.workers.setValue(prefs.workers)
        self.workers.setToolTip("How many takes are analysed in parallel")
        self.window_help = _explain(
            f"{window.description} The model was trained on {default:g} s windows: another length changes "
            "what it hears, so its numbers are less reliable."
        )
        self.fast_help = _explain(setting(FIELDS["fast"]).description)
        self.workers_help = _explain(
            f"{setting(FIELDS['workers']).description} This computer lets HitDesk use {plural(cores, 'core')}, "
            "the default."
        )
        form.addRow("Window length", self.window_length)
        form.addRow("", self.window_help)
        form.addRow("", self.fast)
        form.addRow("", self.fast_help)
        form.addRow("", self.sounds_like)
        form.addRow("", _explain(setting(FIELDS["style"]).description))
        form.addRow("Cores used", self.workers)
        form.addRow("", self.workers_help)
        note = QLabel("Changing the window length or mode analyses the takes again.")
        note.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
        form.addRow(note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._card_window = card_window

    def apply_to(self, prefs: Preferences) -> None:
        value = float(self.window_length.value())
        default = self._card_window or DEFAULT_WINDOW_SECONDS
        prefs.window_seconds = None if abs(value - default) < 1e-6 else value
        prefs.fast = self.fast.isChecked()
        prefs.style = self.sounds_like.isChecked()
        prefs.workers = int(self.workers.value())


def _explain(text: str) -> QLabel:
    """A line under a setting saying what it does, in the dim colour of help text."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setMaximumWidth(420)
    label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
    return label
