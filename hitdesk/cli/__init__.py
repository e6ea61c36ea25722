"""The ``hitdesk`` command: one ``main``, one module per subcommand.

No Qt, PortAudio or onnxruntime is imported at module level anywhere in this package, so
``hitdesk --help`` and ``hitdesk analyze`` start fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import difflib
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from hitdesk.cli import analyze, batch, capture, compare, devices, gui, report
from hitdesk.cli.common import (
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    OutputClosedError,
    drop_stdout,
    emit,
    error,
    finish_output,
    guard_standard_fds,
    reset_output,
)

if TYPE_CHECKING:
    from _typeshed import SupportsWrite

log = logging.getLogger(__name__)


class _Parser(argparse.ArgumentParser):
    """argparse's parser with ``--help`` written through ``emit``: argparse itself drops a write error
    (``--help >/dev/full`` would exit 0 having printed nothing) and writes help to stderr when stdout is
    closed. Subcommands' parsers are of this class too (argparse makes them of the parent's class)."""

    def print_help(self, file: SupportsWrite[str] | None = None) -> None:
        if file is None:
            emit(self.format_help())
        else:
            super().print_help(file)

    def print_usage(self, file: SupportsWrite[str] | None = None) -> None:
        if file is None:
            emit(self.format_usage())
        else:
            super().print_usage(file)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if status == 0:
            finish_output()  # raises when what was printed cannot be written
        super().exit(status, message)


class _VersionAction(argparse.Action):
    """``--version``: composed only when asked for, since it reads the default model's card."""

    def __init__(self, option_strings: Sequence[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest=dest, default=argparse.SUPPRESS, nargs=0, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        from hitdesk.versions import version_text

        emit(version_text() + "\n")  # stdout, as argparse's own version action does
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="hitdesk",
        description="Offline hit-probability analysis of mixes and takes.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the versions of HitDesk, its default model and Python"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (analyze, compare, report, batch, gui, capture, devices):
        command.add_parser(sub)
    return parser


COMMANDS = ("analyze", "compare", "report", "batch", "gui", "capture", "devices", *analyze.ALIASES)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Plain ``hitdesk`` and ``hitdesk FILE...`` (as a file manager's "Open with" runs it) open the app.

    A first word that is no file or folder but close to a command's name is a mistyped command, not
    a file for the app: a usage error names the command meant (exit status 2).
    """
    words = list(argv)
    parser = build_parser()
    if words and not words[0].startswith("-") and words[0] not in COMMANDS and not os.path.lexists(words[0]):
        close = difflib.get_close_matches(words[0], COMMANDS, n=1, cutoff=0.7)
        if close:
            parser.error(f"unknown command '{words[0]}'; did you mean '{close[0]}'?")
    if not words or (not words[0].startswith("-") and words[0] not in COMMANDS):
        words = ["gui", *words]
    return parser.parse_args(words)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs a command. Whatever it prints goes through ``emit`` and is flushed here, so a closed or
    full stdout ends every command with one sentence and status 1, a reader gone away with 141."""
    guard_standard_fds()
    reset_output()
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        status = int(args.handler(args))
        finish_output()
        return status
    except OutputClosedError as closed:
        return closed.status
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `hitdesk devices | head -1`, `hitdesk --version | head -1`
        drop_stdout()
        return EXIT_BROKEN_PIPE
