"""``hitdesk analyze``: score audio files, in parallel processes when asked, through the result cache."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hitdesk.cli.args import add_model, add_window_seconds, positive_whole_number
from hitdesk.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from hitdesk.config import window_seconds_for
from hitdesk.errors import HitdeskError
from hitdesk.results import TrackResult


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    an = sub.add_parser(
        "analyze",
        help="score audio files (beginning, middle, end and overall)",
        description="Score audio files: P(hit) for the beginning, middle and end windows and the whole track.",
    )
    an.add_argument("files", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    fmt = an.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    fmt.add_argument("--csv", action="store_true", help="print CSV, one row per file")
    an.add_argument("--fast", action="store_true", help="overall score from excerpts instead of the whole track")
    add_model(an)
    add_window_seconds(an)
    an.add_argument(
        "--jobs", type=positive_whole_number, default=1, metavar="N", help="files analysed in parallel (default 1)"
    )
    an.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    an.set_defaults(handler=run)


_worker_model: Any = None


def _init_worker(model_spec: str | None) -> None:
    global _worker_model
    from hitdesk.model import HitModel

    _worker_model = HitModel.load(model_spec)


def _analyze_one(job: tuple[str, float, bool, bool, int]) -> dict[str, Any]:
    from hitdesk.analysis import AnalysisOptions
    from hitdesk.cache import analyze_cached

    path, window_s, fast, use_cache, threads = job
    opts = AnalysisOptions(window_seconds=window_s, fast=fast, decode_threads=threads)
    return analyze_cached(path, _worker_model, opts, use_cache=use_cache).to_dict()


def run(args: argparse.Namespace) -> int:
    from hitdesk.audio import InputProblem, expand_inputs

    inputs = expand_inputs(args.files)
    rows: list[dict[str, Any] | None] = [None] * len(inputs)
    jobs: list[tuple[int, tuple[str, float, bool, bool, int]]] = []
    threads = decode_threads(min(args.jobs, max(1, len(inputs))))
    try:
        _init_worker(args.model)  # load once here too: a bad model is reported before any work
    except HitdeskError as exc:
        print(f"hitdesk: {exc}", file=sys.stderr)
        return EXIT_USAGE
    window_s = window_seconds_for(args.window_seconds, _worker_model.card.window_seconds)
    for i, item in enumerate(inputs):
        if isinstance(item, InputProblem):
            rows[i] = TrackResult(
                file=str(item.path), mode="fast" if args.fast else "full", error=item.message
            ).to_dict()
        else:
            jobs.append((i, (str(item), window_s, args.fast, not args.no_cache, threads)))
    model_info = _worker_model.info.to_dict()
    for row in rows:
        if row is not None:
            row["model"] = model_info

    for i, row in zip([i for i, _ in jobs], _run_jobs([j for _, j in jobs], args), strict=True):
        rows[i] = row

    results = [r for r in rows if r is not None]
    from hitdesk import present

    out = sys.stdout
    if args.json:
        out.write(present.results_json(results))
    elif args.csv:
        out.write(present.results_csv(results))
    else:
        out.write(present.format_human(results, _worker_model.card))
    out.flush()
    return EXIT_FAILED if any(r.get("error") for r in results) else EXIT_OK


def decode_threads(parallel_files: int) -> int:
    """Cores left over by the files analysed in parallel go to decoding each file (at most two help)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on every platform
        cores = os.cpu_count() or 1
    return max(1, min(2, cores // max(1, parallel_files)))


def _run_jobs(jobs: list[tuple[str, float, bool, bool, int]], args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    from tqdm import tqdm

    n_workers = min(args.jobs, len(jobs))
    bar = tqdm(total=len(jobs), unit="file", file=sys.stderr, disable=len(jobs) < 2 or None, leave=False)
    try:
        if n_workers <= 1:
            for job in jobs:
                row = _analyze_one(job)
                bar.update()
                yield row
            return
        ctx = _mp_context()
        with ProcessPoolExecutor(
            max_workers=n_workers, mp_context=ctx, initializer=_init_worker, initargs=(args.model,)
        ) as pool:
            for row in pool.map(_analyze_one, jobs):
                bar.update()
                yield row
    finally:
        bar.close()


def _mp_context() -> Any:
    import multiprocessing

    # fork is quick and safe here: the parent has started no threads of its own yet when the pool starts.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)
