"""``hitdesk compare``: takes ranked by overall P(hit), and every pair told apart or not.

The files go through ``hitdesk analyze``'s machinery (worker pool, result cache, one error sentence
per file that fails); the ranking and the "clear difference" rule are ``hitdesk.ranking``'s, the
rule picked by the model's card (``Ranking.for_model``), as in the app's compare view.
"""

from __future__ import annotations

import argparse
import json

from hitdesk.cli import analyze
from hitdesk.cli.common import EXIT_FAILED, EXIT_OK, EXIT_USAGE, OutputClosedError, emit, error
from hitdesk.config import DEFAULT_CURVE_HOP_S
from hitdesk.errors import HitdeskError


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    cp = sub.add_parser(
        "compare",
        help="rank takes by overall P(hit) and say which differences are clear",
        description="Rank takes by their overall P(hit) and compare every pair: the difference and whether "
        "the model tells the two apart.",
    )
    cp.add_argument("files", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    cp.add_argument("--json", action="store_true", help='print one JSON object: {"takes": [...], "pairs": [...]}')
    analyze.add_analysis_options(cp)
    # What analyze's machinery reads and compare does not offer: the analyze objects are its defaults'.
    cp.set_defaults(
        handler=run, qc=None, csv=False, no_curve=False, curve_hop=DEFAULT_CURVE_HOP_S, style=False, tonal_target=None
    )


def run(args: argparse.Namespace) -> int:
    return analyze.run_guarded(_compare, args)


def _compare(args: argparse.Namespace) -> int:
    from hitdesk.ranking import Ranking, compare_results

    try:
        platforms, profile = analyze.prepare(args)
    except HitdeskError as exc:
        error(str(exc))
        return EXIT_USAGE
    results = analyze.analyzed(args, platforms, profile)
    model = analyze.loaded_model()
    ranking = Ranking.for_model(model.card.raw, model.has_members, fast=args.fast)
    comparison = compare_results(results, ranking)
    try:
        if args.json:
            emit(json.dumps(comparison.to_dict(), indent=2, ensure_ascii=False) + "\n", utf8=True)
        else:
            from hitdesk import present

            emit(present.format_compare(comparison.takes, comparison.pairs, comparison.reasons, ranking.description))
    except OutputClosedError as closed:
        return closed.status
    return EXIT_FAILED if any(r.get("error") for r in results) else EXIT_OK
