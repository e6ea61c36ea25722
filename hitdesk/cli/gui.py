"""``hitdesk gui``: open the app (the default command)."""

from __future__ import annotations

import argparse
import sys

from hitdesk.cli.args import add_model
from hitdesk.cli.common import EXIT_FAILED, EXIT_USAGE

VIEWS = ("take", "compare", "explain")  # hitdesk.ui.app.VIEWS (not imported: that would import Qt)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    gui = sub.add_parser(
        "gui",
        help="open the app (the default command)",
        description="Open the HitDesk window; audio files and folders given are added as takes, and a session "
        "file (.hitdesk.json) given is opened with its results.",
    )
    gui.add_argument(
        "files", nargs="*", metavar="FILE", help="audio files or folders to add as takes, or session files to open"
    )
    add_model(gui)
    gui.add_argument(
        "--screenshot",
        metavar="PATH",
        help="analyse FILEs, save a PNG of the whole window to PATH and exit (works offscreen)",
    )
    gui.add_argument("--compare", action="store_true", help="with --screenshot: show the compare view of all files")
    gui.add_argument(
        "--view",
        choices=VIEWS,
        help="with --screenshot: the selected take (default), the compare view of all files (as --compare), or "
        "the take with its meters' column scrolled to what drives the score",
    )
    gui.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    for given, name in ((args.compare, "--compare"), (args.view, "--view")):
        if given and not args.screenshot:
            print(f"hitdesk gui: {name} goes with --screenshot", file=sys.stderr)
            return EXIT_USAGE
    if args.compare and args.view not in (None, "compare"):
        print(f"hitdesk gui: --compare and --view {args.view} ask for two views; give one", file=sys.stderr)
        return EXIT_USAGE
    try:
        from hitdesk.ui.app import run_gui
    except ImportError as exc:  # Qt libraries missing on this system
        print(f"hitdesk: cannot start the app: {exc}", file=sys.stderr)
        return EXIT_FAILED
    view = "compare" if args.compare else args.view or "take"
    return run_gui(list(args.files), screenshot=args.screenshot, model=args.model, view=view)
