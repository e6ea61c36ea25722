"""The dialogs the commands open to ask for a path: audio files and folders, sessions, exports, pictures.

Each asks only for the path; what follows is a controller call (``add_paths``, ``export_results``,
``save_session``, ``open_session``) that tests make directly. Kept apart from ``commands.py``, which
lists the actions and builds the menus and toolbar.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox

from hitdesk.errors import HitdeskError
from hitdesk.ui.command_context import CommandContext
from hitdesk.ui.session import SESSION_SUFFIX, SessionError, session_file

AUDIO_FILTER = (
    "Audio files (*.wav *.wave *.aif *.aiff *.aifc *.flac *.ogg *.oga *.opus *.mp3 *.m4a *.mp4 *.aac *.wma "
    "*.webm *.mka *.caf *.w64);;All files (*)"
)


def open_files_dialog(c: CommandContext) -> None:
    files, _ = QFileDialog.getOpenFileNames(c.window, "Open audio files", c.prefs.last_folder, AUDIO_FILTER)
    if files:
        c.view.add_paths(files)


def open_folder_dialog(c: CommandContext) -> None:
    folder = QFileDialog.getExistingDirectory(c.window, "Open folder", c.prefs.last_folder)
    if folder:
        c.view.add_paths([folder])


def _start(c: CommandContext, kind: str, name: str) -> str:
    """Where a save dialog starts: the folder last used for this kind of file (else the audio folder)."""
    return str(Path(c.prefs.folder_for(kind) or Path.home()) / name)


def export_dialog(c: CommandContext) -> None:
    path, chosen = QFileDialog.getSaveFileName(
        c.window, "Export results", _start(c, "export", "hitdesk-results.csv"), "CSV (*.csv);;JSON (*.json)"
    )
    if not path:
        return
    p = Path(path)
    if p.suffix.lower() not in (".csv", ".json"):
        p = p.with_suffix(".json" if "json" in chosen.lower() else ".csv")
    try:
        c.controller.export_results(p, c.prefs.qc_profile)  # the take panel's QC picker
    except OSError as exc:
        QMessageBox.warning(c.window, "Export failed", f"Cannot write '{p.name}': {exc.strerror or exc}.")
        return
    except HitdeskError as exc:  # the chosen QC profile cannot be read: nothing written
        QMessageBox.warning(c.window, "Export failed", f"{exc} Choose another QC profile in the take panel.")
        return
    c.prefs.remember_folder("export", p.parent)


def export_png_dialog(c: CommandContext, *, compare: bool) -> None:
    """The whole window, or the compare view alone, as a PNG; the status bar says where it went."""
    name = "hitdesk-compare.png" if compare else "hitdesk.png"
    path, _ = QFileDialog.getSaveFileName(c.window, "Export PNG", _start(c, "png", name), "PNG image (*.png)")
    if not path:
        return
    p = Path(path).with_suffix(".png")
    saved = c.view.grab_compare_png(p) if compare else c.view.grab_png(p)
    if saved:
        c.prefs.remember_folder("png", p.parent)
        c.view.say(f"Saved {'the compare view' if compare else 'the window'} as {p}.")
    else:
        QMessageBox.warning(c.window, "Export failed", f"Cannot write '{p.name}'.")


def save_session_dialog(c: CommandContext) -> bool:
    """Asks where to save the session (starting at the current session file); True once it is saved."""
    current = c.controller.session_path
    start = str(current) if current is not None else _start(c, "session", f"takes{SESSION_SUFFIX}")
    path, _ = QFileDialog.getSaveFileName(
        c.window, "Save session", start, f"HitDesk sessions (*{SESSION_SUFFIX} *.json)"
    )
    if not path:
        return False
    return save_session(c, session_file(Path(path)))


def save_session(c: CommandContext, path: Path | None) -> bool:
    """Saves the session to ``path`` (None: asks where); a failure is said in a dialog. True once saved."""
    if path is None:
        return save_session_dialog(c)
    try:
        c.controller.save_session(path)
    except OSError as exc:
        QMessageBox.warning(c.window, "Session not saved", f"Cannot write '{path.name}': {exc.strerror or exc}.")
        return False
    c.prefs.remember_folder("session", path.parent)
    return True


def open_session_dialog(c: CommandContext) -> None:
    path, _ = QFileDialog.getOpenFileName(
        c.window,
        "Open session",
        c.prefs.folder_for("session"),
        f"HitDesk sessions (*{SESSION_SUFFIX} *.json);;All files (*)",
    )
    if not path:
        return
    try:
        c.controller.open_session(Path(path))
    except SessionError as exc:
        QMessageBox.warning(c.window, "Session not opened", str(exc))
        return
    c.prefs.remember_folder("session", Path(path).parent)


def locate_dialog(c: CommandContext) -> None:
    """The shown take's file is missing: asks where it is now; the take keeps its scores."""
    take = c.view.shown_take()
    if take is None or not take.missing:
        return
    start = take.path if take.path.parent.is_dir() else Path(c.prefs.last_folder or Path.home()) / take.path.name
    path, _ = QFileDialog.getOpenFileName(c.window, f"Locate {take.name}", str(start), AUDIO_FILTER)
    if path:
        c.controller.locate(take.id, Path(path))
