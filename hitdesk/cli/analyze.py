"""``hitdesk analyze``: score audio files, in parallel processes when asked, through the result cache."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from hitdesk import present
from hitdesk.cli.args import add_model, add_window_seconds, curve_hop, positive_whole_number
from hitdesk.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_TERMINATED,
    EXIT_USAGE,
    OutputClosedError,
    emit,
    error,
)
from hitdesk.cli.pool import Terminated, available_cpus, raise_terminated, run_parallel
from hitdesk.config import DEFAULT_CURVE_HOP_S, window_seconds_for
from hitdesk.errors import HitdeskError
from hitdesk.results import TrackResult

if TYPE_CHECKING:
    from hitdesk.model import HitModel
    from hitdesk.platforms import Platform
    from hitdesk.qc import Profile


# The app's menus spell it "Analyse"; either spelling runs this command.
ALIASES = ("analyse",)


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    an = sub.add_parser(
        "analyze",
        aliases=list(ALIASES),
        help="score audio files (beginning, middle, end and overall)",
        description="Score audio files: P(hit) for the beginning, middle and end windows and the whole track.",
    )
    an.add_argument("files", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    fmt = an.add_mutually_exclusive_group()
    fmt.add_argument("--json", action="store_true", help="print a JSON list, one object per file")
    fmt.add_argument("--csv", action="store_true", help="print CSV, one row per file")
    add_analysis_options(an)
    an.add_argument(
        "--curve-hop",
        type=curve_hop,
        default=DEFAULT_CURVE_HOP_S,
        metavar="S",
        help=f"seconds between the hit curve's windows (default {DEFAULT_CURVE_HOP_S:g}; full mode only)",
    )
    an.add_argument("--no-curve", action="store_true", help='skip the hit curve (JSON "curve": null)')
    an.add_argument(
        "--style",
        action="store_true",
        help='what each file sounds like: the music tagger\'s top tags (JSON "style"; null without this switch)',
    )
    an.add_argument(
        "--qc",
        metavar="PROFILE",
        help="check each file against a QC profile: a platform's lowercase name (spotify, apple-music, ...), "
        "one of your own in the settings folder's qc/, or a .toml file",
    )
    an.add_argument(
        "--tonal-target",
        metavar="NAME",
        help='add one of your own tonal targets (made in the app) to the JSON\'s "tonal_balance" as "target"',
    )
    an.set_defaults(handler=run)


def add_analysis_options(parser: argparse.ArgumentParser) -> None:
    """The options of the analysis every command on analyze's machinery offers (analyze, compare)."""
    parser.add_argument("--fast", action="store_true", help="overall score from excerpts instead of the whole track")
    add_model(parser)
    add_window_seconds(parser)
    parser.add_argument(
        "--jobs", type=positive_whole_number, default=1, metavar="N", help="files analysed in parallel (default 1)"
    )
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")


_worker_model: Any = None


def _init_worker(model_spec: str | None, style: bool = False) -> None:
    global _worker_model
    from hitdesk.model import HitModel

    _worker_model = HitModel.load(model_spec)
    if style:
        from hitdesk.model.tagger import shared_tagger

        shared_tagger()  # a missing or damaged tagger is reported before any work


# path, window, fast, cache, threads, curve, curve hop, style
Job = tuple[str, float, bool, bool, int, bool, float, bool]


def _analyze_one(job: Job) -> dict[str, Any]:
    from hitdesk.analysis import AnalysisOptions
    from hitdesk.cache import analyze_cached

    path, window_s, fast, use_cache, threads, curve, hop, style = job
    opts = AnalysisOptions(
        window_seconds=window_s, fast=fast, decode_threads=threads, curve=curve, curve_hop_s=hop, style=style
    )
    return analyze_cached(path, _worker_model, opts, use_cache=use_cache).to_dict()


def run(args: argparse.Namespace) -> int:
    return run_guarded(_analyze, args)


def run_guarded(body: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Ctrl-C and SIGTERM stop every worker at once (exit 130 / 143) and print nothing on stdout."""
    old_term = signal.signal(signal.SIGTERM, raise_terminated) if _main_thread() else None
    try:
        return body(args)
    except KeyboardInterrupt:
        error("interrupted")
        return EXIT_INTERRUPTED
    except Terminated:
        error("terminated")
        return EXIT_TERMINATED
    finally:
        if old_term is not None:
            signal.signal(signal.SIGTERM, old_term)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


def _analyze(args: argparse.Namespace) -> int:
    try:
        platforms, profile = prepare(args)
    except HitdeskError as exc:
        error(str(exc))
        return EXIT_USAGE
    results = analyzed(args, platforms, profile)
    try:
        if args.json:
            emit(present.results_json(results), utf8=True)
        elif args.csv:
            emit(present.results_csv(results), utf8=True)
        else:
            emit(present.format_human(results, _worker_model.card))
    except OutputClosedError as closed:
        return closed.status
    return EXIT_FAILED if any(r.get("error") for r in results) else EXIT_OK


def prepare(args: argparse.Namespace) -> tuple[tuple[Platform, ...], Profile | None]:
    """Loads the model (once here too: a bad model is reported before any work; the tagger too with
    ``--style``), the platform presets, the QC profile and the tonal target asked for (kept as
    ``args.tonal``); raises the HitdeskError of the first that cannot be used."""
    cpus = available_cpus()
    if args.jobs > cpus:
        error(f"--jobs {args.jobs} is more than the {cpus} CPUs this process may use; using {cpus}.")
        args.jobs = cpus
    _init_worker(args.model, args.style)
    targets = _targets(args.qc)
    args.tonal = _tonal_target(args.tonal_target)
    return targets


def loaded_model() -> HitModel:
    """The model ``prepare`` loaded."""
    return _worker_model  # type: ignore[no-any-return]


def analyzed(
    args: argparse.Namespace, platforms: tuple[Platform, ...], profile: Profile | None
) -> list[dict[str, Any]]:
    """Every input's ``analyze --json`` object, in the order given (folders expanded), failures included."""
    from hitdesk.audio import InputProblem, expand_inputs

    inputs = expand_inputs(args.files)
    rows: list[dict[str, Any] | None] = [None] * len(inputs)
    jobs: list[tuple[int, Job]] = []
    threads = decode_threads(min(args.jobs, max(1, len(inputs))))
    window_s = window_seconds_for(args.window_seconds, _worker_model.card.window_seconds)
    for i, item in enumerate(inputs):
        if isinstance(item, InputProblem):
            rows[i] = TrackResult(
                file=str(item.path), mode="fast" if args.fast else "full", error=item.message
            ).to_dict()
        else:
            job = (
                str(item),
                window_s,
                args.fast,
                not args.no_cache,
                threads,
                not args.no_curve,
                args.curve_hop,
                args.style,
            )
            jobs.append((i, job))
    model_info = _worker_model.info.to_dict()
    for row in rows:
        if row is not None:
            row["model"] = model_info

    for i, row in zip([i for i, _ in jobs], _run_jobs([j for _, j in jobs], args), strict=True):
        rows[i] = row

    from hitdesk.platforms import platform_rows
    from hitdesk.qc import check

    results = []
    for r in rows:
        if r is not None:
            qc = None if profile is None else check(r, profile)
            gains = platform_rows(r.get("loudness"), platforms)
            if args.tonal is not None and r.get("tonal_balance") is not None:
                r["tonal_balance"]["target"] = args.tonal
            results.append(present.with_outputs(r, gains, qc, profile is not None))
    return results


def _tonal_target(name: str | None) -> dict[str, Any] | None:
    """The user's target of that name as the JSON shows it; HitdeskError (one sentence) when there is none."""
    if name is None:
        return None
    from hitdesk.explain.targets import TargetError, find_target

    try:
        return find_target(name).to_dict()
    except TargetError as exc:
        raise HitdeskError(str(exc)) from exc


def _targets(qc: str | None) -> tuple[tuple[Platform, ...], Profile | None]:
    """The platform presets and the QC profile asked for (None without ``--qc``); a file of the user's
    that cannot be used raises its one sentence before any file is analysed."""
    from hitdesk.platforms import load_platforms
    from hitdesk.qc import load_profile

    platforms = load_platforms()
    return platforms, None if qc is None else load_profile(qc, platforms)


def decode_threads(parallel_files: int) -> int:
    """Cores left over by the files analysed in parallel go to decoding each file (at most two help)."""
    return max(1, min(2, available_cpus() // max(1, parallel_files)))


def _run_jobs(jobs: list[Job], args: argparse.Namespace) -> Iterator[dict[str, Any]]:
    n_workers = min(args.jobs, len(jobs))
    bar = _progress_bar(len(jobs))
    try:
        if n_workers <= 1:
            rows: Iterator[dict[str, Any]] = map(_analyze_one, jobs)
        else:
            rows = run_parallel(_analyze_one, jobs, n_workers, _init_worker, (args.model, args.style), _mp_context())
        for row in rows:
            if bar is not None:
                bar.update()
            yield row
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(files: int) -> Any:
    """A progress bar on stderr (shown on a terminal) for two files or more. One file has none, and
    skips tqdm's import and the multiprocessing lock and monitor thread it makes (40-100 ms of every
    such command's start-up, measured on this project's machine)."""
    if files < 2 or sys.stderr is None:  # None: stderr was closed (`2>&-`)
        return None
    from tqdm import tqdm

    return tqdm(total=files, unit="file", file=sys.stderr, disable=None, leave=False)


def _mp_context() -> Any:
    import multiprocessing

    # fork is quick and safe here: the parent has started no threads of its own yet when the pool starts.
    method = "fork" if sys.platform.startswith("linux") else "spawn"
    return multiprocessing.get_context(method)
