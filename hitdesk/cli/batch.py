"""``hitdesk batch``: score a catalogue into a Parquet dataset, resumably, on processes or on Ray."""

from __future__ import annotations

import argparse
import signal
import threading
from pathlib import Path

from hitdesk.cli.args import add_model, add_window_seconds, positive_whole_number
from hitdesk.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, EXIT_TERMINATED, EXIT_USAGE, error
from hitdesk.cli.pool import Terminated, raise_terminated
from hitdesk.errors import HitdeskError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    b = sub.add_parser(
        "batch",
        help="score a catalogue into a Parquet dataset (resumable; processes or Ray)",
        description="Score many files into a Parquet dataset, one row per file. A re-run with the same "
        "RESULTS skips the files already there (failed ones too, unless --retry-failed).",
    )
    b.add_argument(
        "sources",
        nargs="+",
        metavar="SOURCE",
        help="audio files, folders (searched recursively), or lists of paths (.txt: one a line; .csv: a path column)",
    )
    b.add_argument("--out", required=True, type=Path, metavar="RESULTS", help="the Parquet dataset's folder")
    b.add_argument("--engine", choices=("local", "ray"), default="local", help="processes here (default) or Ray")
    b.add_argument(
        "--address",
        metavar="ADDR",
        help="join this Ray cluster (host:port of `ray start --head`); implies --engine ray",
    )
    b.add_argument("--fast", action="store_true", help="overall score from excerpts instead of the whole track")
    b.add_argument(
        "--jobs",
        type=positive_whole_number,
        default=None,
        metavar="N",
        help="workers (default: one per CPU here, or per CPU of the cluster with --address)",
    )
    b.add_argument("--retry-failed", action="store_true", help="analyse again the files whose row is an error")
    add_model(b)
    add_window_seconds(b)
    b.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Ctrl-C and SIGTERM stop the workers; the finished rows are written first (exit 130 / 143)."""
    main_thread = threading.current_thread() is threading.main_thread()
    old_term = signal.signal(signal.SIGTERM, raise_terminated) if main_thread else None
    try:
        return _batch(args)
    except KeyboardInterrupt:
        error("interrupted; run the same command again to finish")
        return EXIT_INTERRUPTED
    except Terminated:
        error("terminated; run the same command again to finish")
        return EXIT_TERMINATED
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _batch(args: argparse.Namespace) -> int:
    try:
        from hitdesk.batch.run import BatchRequest, run_batch
    except ImportError as exc:  # the packaged app leaves batch out; a trimmed install may lack pyarrow
        if (exc.name or "").startswith("hitdesk"):
            error("This build of HitDesk has no batch command; install HitDesk with pip ('hitdesk[scale]') for it.")
        else:
            error(f"hitdesk batch needs {exc.name}: install it with pip install 'hitdesk[scale]'.")
        return EXIT_USAGE
    request = BatchRequest(
        sources=args.sources,
        out=args.out,
        engine="ray" if args.address else args.engine,
        address=args.address,
        fast=args.fast,
        jobs=args.jobs,
        retry_failed=args.retry_failed,
        model=args.model,
        window_seconds=args.window_seconds,
    )
    try:
        outcome = run_batch(request)
    except HitdeskError as exc:
        error(str(exc))
        return EXIT_USAGE
    return EXIT_FAILED if outcome.failed else EXIT_OK
