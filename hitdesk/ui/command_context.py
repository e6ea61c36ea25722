"""What a command acts on: the controller, the preferences, playback and a narrow view of the window.

Apart from ``commands.py`` (the actions, menus and toolbar) and ``file_dialogs.py`` (the dialogs that
ask for a path), which both take a ``CommandContext`` and neither sees the window itself.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6.QtWidgets import QMainWindow

from hitdesk.ui.controller import TakesController
from hitdesk.ui.settings import Preferences
from hitdesk.ui.takes import Take
from hitdesk.ui.transport import Transport


class CommandView(Protocol):
    """The view actions the commands need from the window, and nothing else of it."""

    def add_paths(self, inputs: Iterable[str | Path]) -> list[Take]: ...  # adds and remembers recent files

    def selected_takes(self) -> list[Take]: ...

    def shown_take(self) -> Take | None: ...  # the take the panel shows (and playback plays)

    def show_compare(self) -> None: ...

    def show_take_tab(self) -> None: ...

    def show_model_card(self, page: str = "model") -> object: ...

    def show_about(self) -> object: ...

    def grab_png(self, path: Path, *, compare: bool = False) -> bool: ...  # the whole window

    def grab_compare_png(self, path: Path) -> bool: ...  # the compare view alone

    def say(self, text: str) -> None: ...  # one sentence in the status bar


@dataclass(frozen=True)
class CommandContext:
    """What a command acts on: the controller for the takes, and the few view-side things."""

    window: QMainWindow  # parent of the actions, menus, toolbar and dialogs; Quit closes it
    view: CommandView
    controller: TakesController
    prefs: Preferences
    transport: Transport
