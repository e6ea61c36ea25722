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
from hitdesk.config import DEFAULT_WINDOW_SECONDS, MIN_TRACK_SECONDS
from hitdesk.present import plural
from hitdesk.ui import theme
from hitdesk.ui.workers import available_cores, default_workers

ORGANISATION = "HitDesk"
APPLICATION = "HitDesk"
MAX_RECENT = 10
FOLDER_KINDS = ("export", "session", "png")  # file dialogs that remember their own folder


def open_settings() -> QSettings:
    """The app's settings file: Qt's usual place, or ``config/`` under ``HITDESK_HOME`` when that is set."""
    if paths.home() is not None:
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(paths.settings_dir()))
    return QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope, ORGANISATION, APPLICATION)


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def _bool(value: Any, default: bool) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        return value.lower() in ("1", "true", "yes")
    return default


def _list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value] if value else []
    return [str(v) for v in value]


@dataclass
class Preferences:
    model: str = ""  # "" = the default model; else a name in models/ or a stem path
    window_seconds: float | None = None  # None = the model card's, or the default
    fast: bool = False
    workers: int = field(default_factory=default_workers)
    colour_map: str = theme.DEFAULT_COLOUR_MAP
    db_range: int = 80
    hidden_strips: list[str] = field(default_factory=list)  # strips under the spectrogram the user hid
    last_folder: str = ""
    recent_files: list[str] = field(default_factory=list)
    record_device: str = ""  # the input's label, "name (host API)"; "" = the system default
    record_channels: str = ""  # "1+2", "1", ...; "" = 1+2, or 1 on a mono input
    prune_days: int = 0  # recordings older than this are deleted at start-up; 0 = kept until deleted
    folders: dict[str, str] = field(default_factory=dict)  # the folder last used for each kind of file saved

    def folder_for(self, kind: str) -> str:
        """Where a file dialog for ``kind`` ("export", "session", "png") starts: the folder last used for
        that kind, else the audio folder last opened."""
        return self.folders.get(kind) or self.last_folder

    def remember_folder(self, kind: str, folder: str | Path) -> None:
        self.folders[kind] = str(folder)

    @classmethod
    def load(cls, s: QSettings) -> Preferences:
        d = cls()
        window = s.value("analysis/windowSeconds")
        cmap = str(s.value("view/colourMap", d.colour_map))
        return cls(
            model=str(s.value("model/spec", d.model) or ""),
            window_seconds=None if window in (None, "") else _float(window, DEFAULT_WINDOW_SECONDS),
            fast=_bool(s.value("analysis/fast"), d.fast),
            workers=max(1, _int(s.value("analysis/workers"), d.workers)),
            colour_map=cmap if cmap in dict(theme.COLOUR_MAPS) else d.colour_map,
            db_range=min(120, max(20, _int(s.value("view/dbRange"), d.db_range))),
            hidden_strips=_list(s.value("view/hiddenStrips")),
            last_folder=str(s.value("files/lastFolder", "") or ""),
            recent_files=_list(s.value("files/recent"))[:MAX_RECENT],
            record_device=str(s.value("record/device", "") or ""),
            record_channels=str(s.value("record/channels", "") or ""),
            prune_days=max(0, _int(s.value("record/pruneDays"), d.prune_days)),
            folders={k: str(s.value(f"files/folder/{k}")) for k in FOLDER_KINDS if s.value(f"files/folder/{k}")},
        )

    def save(self, s: QSettings) -> None:
        s.setValue("model/spec", self.model)
        s.setValue("analysis/windowSeconds", "" if self.window_seconds is None else self.window_seconds)
        s.setValue("analysis/fast", self.fast)
        s.setValue("analysis/workers", self.workers)
        s.setValue("view/colourMap", self.colour_map)
        s.setValue("view/dbRange", self.db_range)
        s.setValue("view/hiddenStrips", list(self.hidden_strips))
        s.setValue("files/lastFolder", self.last_folder)
        s.setValue("files/recent", list(self.recent_files))
        s.setValue("record/device", self.record_device)
        s.setValue("record/channels", self.record_channels)
        s.setValue("record/pruneDays", self.prune_days)
        for kind in FOLDER_KINDS:
            s.setValue(f"files/folder/{kind}", self.folders.get(kind, ""))

    def add_recent(self, paths: list[str]) -> None:
        for p in reversed(paths):
            if p in self.recent_files:
                self.recent_files.remove(p)
            self.recent_files.insert(0, p)
        del self.recent_files[MAX_RECENT:]


def save_geometry(s: QSettings, geometry: QByteArray, state: QByteArray, splitter: QByteArray) -> None:
    s.setValue("window/geometry", geometry)
    s.setValue("window/state", state)
    s.setValue("window/splitter", splitter)


def load_bytes(s: QSettings, key: str) -> QByteArray | None:
    value = s.value(key)
    return value if isinstance(value, QByteArray) and not value.isEmpty() else None


class PreferencesDialog(QDialog):
    def __init__(self, prefs: Preferences, card_window: float | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        form = QFormLayout(self)
        self.window_length = QDoubleSpinBox()
        self.window_length.setRange(MIN_TRACK_SECONDS, 600.0)
        self.window_length.setDecimals(1)
        self.window_length.setSuffix(" s")
        default = card_window or DEFAULT_WINDOW_SECONDS
        self.window_length.setValue(prefs.window_seconds or default)
        self.window_length.setToolTip(
            f"Length of the beginning, middle and end windows (the model's card: {default:g} s)"
        )
        self.fast = QCheckBox("Fast: overall score from excerpts, not the whole track")
        self.fast.setChecked(prefs.fast)
        cores = available_cores()
        self.workers = QSpinBox()
        self.workers.setRange(1, max(cores, prefs.workers))
        self.workers.setValue(prefs.workers)
        self.workers.setToolTip("How many takes are analysed in parallel")
        self.window_help = _explain(
            f"How much of the take each of the three scored windows (beginning, middle, end) covers. The model "
            f"was trained on {default:g} s windows: another length changes what it hears, so its numbers are "
            "less reliable."
        )
        self.workers_help = _explain(
            f"How many takes are analysed at the same time. This computer lets HitDesk use {plural(cores, 'core')}; "
            "fewer leave room for recording and other programs while a long list is analysed."
        )
        form.addRow("Window length", self.window_length)
        form.addRow("", self.window_help)
        form.addRow("", self.fast)
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
        prefs.workers = int(self.workers.value())


def _explain(text: str) -> QLabel:
    """A line under a setting saying what it does, in the dim colour of help text."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setMaximumWidth(420)
    label.setStyleSheet(f"color: {theme.DIM_TEXT.name()};")
    return label
