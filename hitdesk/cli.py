"""Headless commands. No Qt import at module level: ``hitdesk analyze`` must start fast."""

from __future__ import annotations

import argparse
import csv
import io
import json
import logging
import math
import os
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from hitdesk.capture_cli import add_parsers as add_capture_parsers
from hitdesk.capture_cli import add_window_seconds_argument, window_seconds_for
from hitdesk.errors import HitdeskError
from hitdesk.results import TrackResult

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.command is None:
        # Plain `hitdesk` is the app, as a musician starts it from a menu or a terminal.
        args = parser.parse_args(["gui"])
    handler = args.handler
    try:
        return int(handler(args))
    except KeyboardInterrupt:
        print("hitdesk: interrupted", file=sys.stderr)
        return 130


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


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


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="hitdesk",
        description="Offline hit-probability analysis of mixes and takes.",
    )
    parser.add_argument(
        "--version", action=_VersionAction, help="show the versions of HitDesk, its default model and Python"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

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
    an.add_argument("--model", metavar="PATH", help="model name, or path to its .onnx/.json (default: bundled)")
    add_window_seconds_argument(an)
    an.add_argument("--jobs", type=_jobs, default=1, metavar="N", help="files analysed in parallel (default 1)")
    an.add_argument("--no-cache", action="store_true", help="neither read nor write the result cache")
    an.set_defaults(handler=_cmd_analyze)

    gui = sub.add_parser(
        "gui",
        help="open the app (the default command)",
        description="Open the HitDesk window; files given are added as takes.",
    )
    gui.add_argument("files", nargs="*", metavar="FILE", help="audio files or folders to add as takes")
    gui.add_argument("--model", metavar="PATH", help="model name, or path to its .onnx/.json")
    gui.add_argument(
        "--screenshot",
        metavar="PATH",
        help="analyse FILEs, save a PNG of the whole window to PATH and exit (works offscreen)",
    )
    gui.add_argument("--compare", action="store_true", help="with --screenshot: show the compare view of all files")
    gui.set_defaults(handler=_cmd_gui)

    add_capture_parsers(sub)
    return parser


def _cmd_gui(args: argparse.Namespace) -> int:
    if args.compare and not args.screenshot:
        print("hitdesk gui: --compare goes with --screenshot", file=sys.stderr)
        return EXIT_USAGE
    try:
        from hitdesk.ui.app import run_gui
    except ImportError as exc:  # Qt libraries missing on this system
        print(f"hitdesk: cannot start the app: {exc}", file=sys.stderr)
        return EXIT_FAILED
    return run_gui(list(args.files), screenshot=args.screenshot, compare=args.compare, model=args.model)


# ---------------------------------------------------------------------------------------------- analyze

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


def _cmd_analyze(args: argparse.Namespace) -> int:
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
    window_s = window_seconds_for(args.window_seconds, _worker_model)
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
    out = sys.stdout
    if args.json:
        json.dump(results, out, indent=2, ensure_ascii=False)
        out.write("\n")
    elif args.csv:
        out.write(results_to_csv(results))
    else:
        out.write(format_human(results, _worker_model.card))
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


# ---------------------------------------------------------------------------------------------- output

CSV_SEGMENTS = ("beginning", "middle", "end")


def results_to_csv(results: Sequence[dict[str, Any]]) -> str:
    """One row per file with the same fields as the JSON output, flattened."""
    fields = ["file", "duration_s", "title", "artist", "album", "mode", "model", "model_version"]
    fields += ["p_hit", "p_hit_low", "p_hit_high"]
    for seg in CSV_SEGMENTS:
        fields += [f"{seg}_start_s", f"{seg}_end_s", f"{seg}_p_hit", f"{seg}_p_hit_low", f"{seg}_p_hit_high"]
    fields += ["typicality", "unlike_training_data", "notes", "error"]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    for r in results:
        tags = r.get("tags") or {}
        overall = r.get("overall") or {}
        fam = r.get("familiarity") or {}
        row: dict[str, Any] = {
            "file": r["file"],
            "duration_s": r.get("duration_s"),
            "title": tags.get("title"),
            "artist": tags.get("artist"),
            "album": tags.get("album"),
            "mode": r.get("mode"),
            "model": (r.get("model") or {}).get("name"),
            "model_version": (r.get("model") or {}).get("version"),
            "p_hit": overall.get("p_hit"),
            "p_hit_low": overall.get("p_hit_low"),
            "p_hit_high": overall.get("p_hit_high"),
            "typicality": fam.get("typicality"),
            "unlike_training_data": fam.get("unlike_training_data"),
            "notes": " | ".join(r.get("notes") or []),
            "error": r.get("error"),
        }
        for seg in r.get("segments") or []:
            for key in ("start_s", "end_s", "p_hit", "p_hit_low", "p_hit_high"):
                row[f"{seg['name']}_{key}"] = seg[key]
        writer.writerow(row)
    return buf.getvalue()


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        x = float(value)
    except OverflowError:  # an integer beyond any float
        return None
    return x if math.isfinite(x) else None


def _mmss(seconds: object) -> str:
    x = _number(seconds)
    if x is None or x < 0:
        return "?"
    s = round(x)
    return f"{s // 60}:{s % 60:02d}"


def _pct(p: object) -> str:
    x = _number(p)
    return "   ?" if x is None else f"{100 * x:4.0f}%"


def _score_text(d: dict[str, Any]) -> str:
    """P(hit) and its range, right-aligned; a value that is missing or not a number shows as '?'."""
    return f"{_pct(d.get('p_hit')):>8}   {_pct(d.get('p_hit_low')).strip()}-{_pct(d.get('p_hit_high')).strip()}"


def format_human(results: Sequence[dict[str, Any]], card: Any) -> str:
    """The terminal listing. Rows come from analysis or a validated cache entry; still, a missing or odd
    field prints as '?' or is left out rather than stopping the listing of the other files."""
    lines: list[str] = []
    for r in results:
        file = str(r.get("file") or "?")
        name = os.path.basename(file) or file
        if r.get("error"):
            lines += [f"{name}", f"  error: {r['error']}", ""]
            continue
        tags: dict[str, Any] = r["tags"] if isinstance(r.get("tags"), dict) else {}
        who = " - ".join(str(t) for t in (tags.get("artist"), tags.get("title")) if t)
        lines.append(f"{name}  ({_mmss(r.get('duration_s'))}{', ' + who if who else ''})")
        lines.append(f"  {'segment':<22}{'from':>6}{'to':>7}{'P(hit)':>8}   range")
        for seg in r.get("segments") or []:
            if isinstance(seg, dict):
                where = f"{_mmss(seg.get('start_s')):>6}{_mmss(seg.get('end_s')):>7}"
                lines.append(f"  {seg.get('name')!s:<22}{where}{_score_text(seg)}")
        o = r.get("overall")
        label = "overall (whole track)" if r.get("mode") == "full" else "overall (excerpts)"
        if isinstance(o, dict):
            lines.append(f"  {label:<35}{_score_text(o)}")
        else:
            lines.append(f"  {label:<35}     no score")
        fam = r.get("familiarity")
        typicality = _number(fam.get("typicality")) if isinstance(fam, dict) else None
        if typicality is not None:
            lines.append(f"  typicality: {typicality:.2f} (share of training songs at least this unusual)")
        for note in r.get("notes") or []:
            lines.append(f"  note: {note}")
        lines.append("")
    lines.append(
        f"model {card.name} {card.version}: {card.label_definition}; base rate {100 * card.base_rate:.0f}%. "
        "Range = spread of the model's cross-validation ensemble."
    )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
