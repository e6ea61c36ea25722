"""Starting the app: QApplication, palette, logging (Qt's messages included), and the headless check.

``run_gui(files, screenshot=PATH)`` opens the real main window at its default size, analyses the
files, waits until everything is done, saves a PNG of the whole window and returns; it works with
``QT_QPA_PLATFORM=offscreen`` and under Xvfb.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PySide6.QtCore import QMessageLogContext, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QMessageBox

from hitdesk import __version__, paths

log = logging.getLogger(__name__)
qt_log = logging.getLogger("hitdesk.qt")

SCREENSHOT_TIMEOUT_MS = 15 * 60 * 1000
VIEWS = ("take", "compare", "explain")  # what ``run_gui(screenshot=...)`` can show

_QT_LEVELS = {
    QtMsgType.QtDebugMsg: logging.DEBUG,
    QtMsgType.QtInfoMsg: logging.INFO,
    QtMsgType.QtWarningMsg: logging.WARNING,
    QtMsgType.QtCriticalMsg: logging.ERROR,
    QtMsgType.QtFatalMsg: logging.CRITICAL,
}


def qt_message_handler(mode: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's own warnings (fonts, platform plugin, layouts) go to the same log as ours."""
    where = f" ({context.file}:{context.line})" if context.file else ""
    qt_log.log(_QT_LEVELS.get(mode, logging.WARNING), "%s%s", message, where)


def log_file_path() -> Path:
    return paths.log_file()


def setup_logging() -> logging.Handler | None:
    """Adds a rotating log file in the platform's log folder to the root logger (None if impossible)."""
    path = log_file_path()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1_000_000, backupCount=3, encoding="utf-8")
    except OSError as exc:
        log.warning("no log file: %s", exc)
        return None
    handler.setLevel(logging.INFO)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    return handler


def make_excepthook(
    log_path: Path | None, interactive: bool
) -> Callable[[type[BaseException], BaseException, TracebackType | None], None]:
    shown = False

    def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
        nonlocal shown
        log.critical("unexpected error:\n%s", "".join(traceback.format_exception(kind, value, tb)))
        if interactive and not shown and QApplication.instance() is not None:
            shown = True  # one dialog, not a cascade
            where = f"\n\nDetails are in the log file:\n{log_path}" if log_path else ""
            QMessageBox.critical(None, "HitDesk", f"Something went wrong: {value}{where}")

    return hook


def _application(argv: list[str]) -> tuple[QApplication, bool]:
    existing = QApplication.instance()
    if isinstance(existing, QApplication):
        return existing, False
    app = QApplication(argv)
    app.setOrganizationName("HitDesk")
    app.setApplicationName("HitDesk")
    app.setApplicationVersion(__version__)
    app.setDesktopFileName("hitdesk")
    return app, True


def run_gui(
    files: list[str],
    screenshot: str | None = None,
    compare: bool = False,
    model: str | None = None,
    view: str = "take",
) -> int:
    """Runs the app; with ``screenshot`` it analyses ``files``, saves the PNG and returns instead.

    ``view`` is what the screenshot shows (``VIEWS``): the selected take, the compare view (also
    ``compare=True``), or the take with its meters' column scrolled to what drives the score.

    Returns 0 on success; 1 when the window could not be shown or the screenshot not written, or
    (screenshot mode) when no model could be loaded.
    """
    handler = setup_logging()
    log_path = Path(handler.baseFilename) if isinstance(handler, logging.FileHandler) else None
    root = logging.getLogger()
    previous_level = root.level
    if root.getEffectiveLevel() > logging.INFO:
        root.setLevel(logging.INFO)
    headless = screenshot is not None
    previous_handler = qInstallMessageHandler(qt_message_handler)
    previous_hook = sys.excepthook
    sys.excepthook = make_excepthook(log_path, interactive=not headless)
    try:
        app, created = _application([sys.argv[0] if sys.argv else "hitdesk"])
        import pyqtgraph as pg

        from hitdesk.ui.main_window import MainWindow
        from hitdesk.ui.theme import apply_dark_palette, window_icon

        pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
        apply_dark_palette(app)
        app.setWindowIcon(window_icon())
        window = MainWindow(restore=not headless, persist=not headless, model_spec=model, ask_to_save=not headless)
        window.show()
        if not window.isVisible():
            log.error("the main window could not be shown")
            return 1
        if files:
            open_inputs(window, files)
        if not headless:
            code = app.exec() if created else 0
            return int(code)
        shown = "compare" if compare else view
        return _screenshot(app, window, Path(screenshot), shown)  # type: ignore[arg-type]
    finally:
        sys.excepthook = previous_hook
        qInstallMessageHandler(previous_handler)
        root.setLevel(previous_level)
        if handler is not None:
            root.removeHandler(handler)
            handler.close()


def open_inputs(window: object, files: list[str]) -> None:
    """Paths given to the app (``hitdesk FILE...``, "Open with"), in order: a session file
    (``session.is_session_path``) is opened with its takes and results, anything else is added as a
    take. A session that cannot be opened is said in the status bar and the log."""
    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.session import SessionError, is_session_path

    assert isinstance(window, MainWindow)
    audio: list[str] = []
    for name in [*files, ""]:  # "" ends the last run of audio files
        if name and not is_session_path(Path(name)):
            audio.append(name)
            continue
        if audio:
            window.add_paths(audio)
            audio = []
        if name:
            try:
                window.controller.open_session(Path(name))
            except SessionError as exc:
                log.warning("session %s not opened: %s", name, exc)
                window.say(str(exc))


def _screenshot(app: QApplication, window: object, path: Path, view: str) -> int:
    from hitdesk.ui.main_window import MainWindow

    assert isinstance(window, MainWindow)
    compare = view == "compare"
    ok = window.controller.wait_until_idle(SCREENSHOT_TIMEOUT_MS)
    if not ok:
        log.error("analysis did not finish within %d s", SCREENSHOT_TIMEOUT_MS // 1000)
    takes = window.controller.takes
    if compare:
        window.select_ids([t.id for t in takes])
        window.show_compare()
        # The log-mel of cached takes in view, and their pictures.
        window.compare.settle(SCREENSHOT_TIMEOUT_MS, lambda: window.controller.is_busy)
    elif takes:
        window.select_ids([takes[0].id])
    window.controller.wait_until_idle(SCREENSHOT_TIMEOUT_MS)  # spectrograms of cached takes
    app.processEvents()
    if view == "explain":  # the meters' column scrolled to "What drives it" and what follows it
        panel = window.panel
        panel.left_scroll.verticalScrollBar().setValue(panel.drivers.y() - 6)
        app.processEvents()
    path.parent.mkdir(parents=True, exist_ok=True)
    saved = window.grab_png(path, compare=compare)
    window.close()
    if not saved:
        log.error("cannot write the screenshot %s", path)
        print(f"hitdesk: cannot write the screenshot {path}", file=sys.stderr)
        return 1
    if window.controller.model is None:
        print(f"hitdesk: {window.controller.model_error}", file=sys.stderr)
        return 1
    return 0 if ok else 1


def main() -> int:
    """``python -m hitdesk.ui.app [FILES…] [--screenshot PNG] [--view V] [--model M]`` for development."""
    import argparse

    parser = argparse.ArgumentParser(prog="hitdesk-gui")
    parser.add_argument("files", nargs="*")
    parser.add_argument("--screenshot", metavar="PNG")
    parser.add_argument("--compare", action="store_true")
    parser.add_argument("--view", choices=VIEWS, default="take")
    parser.add_argument("--model")
    args = parser.parse_args()
    if os.environ.get("HITDESK_DEBUG"):
        logging.basicConfig(level=logging.DEBUG)
    return run_gui(args.files, screenshot=args.screenshot, compare=args.compare, model=args.model, view=args.view)


if __name__ == "__main__":
    sys.exit(main())
