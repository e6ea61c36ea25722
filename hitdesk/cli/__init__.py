"""The ``hitdesk`` command: one ``main``, one module per subcommand.

No Qt, PortAudio or onnxruntime is imported at module level anywhere in this package, so
``hitdesk --help`` and ``hitdesk analyze`` start fast; each command imports what it needs when it runs.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import Any

from hitdesk.cli import analyze, capture, devices, gui
from hitdesk.cli.common import EXIT_BROKEN_PIPE, EXIT_INTERRUPTED, drop_stdout, error

log = logging.getLogger(__name__)


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

        print(version_text())  # stdout, as argparse's own version action does
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitdesk",
        description="Offline hit-probability analysis of mixes and takes.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the versions of HitDesk, its default model and Python"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in (analyze, gui, capture, devices):
        command.add_parser(sub)
    return parser


COMMANDS = ("analyze", "gui", "capture", "devices")


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Plain ``hitdesk`` and ``hitdesk FILE...`` (as a file manager's "Open with" runs it) open the app."""
    words = list(argv)
    if not words or (not words[0].startswith("-") and words[0] not in COMMANDS):
        words = ["gui", *words]
    return build_parser().parse_args(words)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
        return int(args.handler(args))
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `hitdesk devices | head -1`, `hitdesk --version | head -1`
        drop_stdout()
        return EXIT_BROKEN_PIPE
