"""The takes list as a document: its name in the window title, and asking to save it before closing.

The list is "changed" when it differs from the session file last saved or opened (the controller's
``dirty`` flag); a changed list is shown with a ``*`` after its name, and closing the window (Quit,
the window's close button) asks whether to save it, discard the changes or stay. Headless runs
(screenshots, benchmarks, tests) never ask.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QMessageBox, QWidget

from hitdesk.ui.controller import TakesController
from hitdesk.ui.session import session_name

APP_NAME = "HitDesk"
Button = QMessageBox.StandardButton


def window_title(path: Path | None, dirty: bool, has_takes: bool) -> str:
    """ "mix-notes* – HitDesk" for a changed session; just the app's name for an empty, unsaved list."""
    if path is None and not has_takes:
        return APP_NAME
    return f"{session_name(path)}{'*' if dirty else ''} – {APP_NAME}"


class SessionDocument:
    """Keeps a window's title in step with the controller and guards closing a changed list.

    ``save`` saves the session to the path given (None: asks where) and says whether it was saved.
    """

    def __init__(
        self, window: QWidget, controller: TakesController, save: Callable[[Path | None], bool], *, ask: bool
    ) -> None:
        self.window = window
        self.controller = controller
        self.save = save
        self.ask = ask
        controller.dirty_changed.connect(lambda _dirty: self.update_title())
        controller.session_changed.connect(self.update_title)
        controller.takes_added.connect(lambda _ids: self.update_title())
        controller.takes_removed.connect(lambda _ids: self.update_title())
        self.update_title()

    @property
    def title(self) -> str:
        c = self.controller
        return window_title(c.session_path, c.dirty, bool(c.takes))

    def update_title(self) -> None:
        self.window.setWindowTitle(self.title)

    def may_close(self) -> bool:
        """True when the window may close: nothing unsaved, the user saved it, or chose to discard it."""
        c = self.controller
        if not self.ask or not c.dirty or not c.takes:
            return True
        box = QMessageBox(
            QMessageBox.Icon.Question,
            APP_NAME,
            f"Save the changes to “{session_name(c.session_path)}” before closing?",
            Button.Save | Button.Discard | Button.Cancel,
            self.window,
        )
        box.setInformativeText("Your notes and the takes' results are lost if you don't save them.")
        box.setDefaultButton(Button.Save)
        box.setEscapeButton(Button.Cancel)
        answer = box.exec()
        if answer == Button.Save:
            return self.save(c.session_path)
        return answer == Button.Discard
