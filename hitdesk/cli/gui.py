"""``hitdesk gui``: open the app (the default command)."""

from __future__ import annotations

import argparse
import sys

from hitdesk.cli.args import add_model
from hitdesk.cli.common import EXIT_FAILED, EXIT_USAGE


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
    gui.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.compare and not args.screenshot:
        print("hitdesk gui: --compare goes with --screenshot", file=sys.stderr)
        return EXIT_USAGE
    try:
        from hitdesk.ui.app import run_gui
    except ImportError as exc:  # Qt libraries missing on this system
        print(f"hitdesk: cannot start the app: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return run_gui(list(args.files), screenshot=args.screenshot, compare=args.compare, model=args.model)
