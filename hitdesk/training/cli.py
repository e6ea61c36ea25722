"""``hitdesk-train``: fit a recipe and export its model (the default model is one of them), evaluate and compare.

``evaluate`` needs only onnxruntime; ``fit`` imports torch lazily, so the command stays usable
(and fast to start) without the training extras.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from hitdesk.errors import HitdeskError

log = logging.getLogger(__name__)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hitdesk-train", description=__doc__.splitlines()[0])
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    from hitdesk.cli.args import window_seconds as window_seconds_arg
    from hitdesk.config import DEFAULT_WINDOW_SECONDS
    from hitdesk.training.recipes import RECIPE_NAMES

    rf = sub.add_parser("fit", help="cross-validate a recipe, train it, calibrate and export the model")
    rf.add_argument("--recipe", required=True, choices=RECIPE_NAMES, help="which published system to train")
    rf.add_argument("--manifest", type=Path, default=None, help="CSV with path and popularity and/or label columns")
    rf.add_argument(
        "--data", type=Path, default=None, help="directory with the zalo2019 files (zalo-stats, the default model)"
    )
    rf.add_argument("--out", type=Path, default=Path("models"), help="where the .onnx and .json files go")
    rf.add_argument(
        "--name", default=None, help="model name (default: <manifest>-<recipe>; hitdesk-zalo-v2 for zalo-stats)"
    )
    rf.add_argument("--report", type=Path, default=None, help="Markdown report path (default: reports/<name>.md)")
    rf.add_argument("--folds", type=int, default=5, help="cross-validation folds, grouped by artist")
    rf.add_argument("--seed", type=int, default=0)
    rf.add_argument(
        "--window-seconds",
        type=window_seconds_arg,
        default=DEFAULT_WINDOW_SECONDS,
        help="window length the model learns on and the app then uses (from its card)",
    )
    rf.add_argument("--jobs", type=int, default=1, help="files decoded at once")
    rf.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder (default: the user cache)")
    rf.add_argument(
        "--tiers",
        choices=("tiers3", "deciles"),
        default=None,
        help="resnet-tiers, deephits-multimodal: 3 tiers of popularity percentile (0-25, 25-65, 65-100; default) "
        "or 10 deciles",
    )
    rf.add_argument("--no-augment", action="store_true", help="zalo-stats: do not train on window-shifted copies")
    rf.add_argument(
        "--window-shift", type=Path, default=None, help="zalo-stats: window shift JSON (default: hitdesk/training's)"
    )
    # For smoke tests: a short run that exercises every step but learns little.
    rf.add_argument("--epochs", type=int, default=None, help=argparse.SUPPRESS)
    rf.add_argument("--nets-per-member", type=int, default=None, help=argparse.SUPPRESS)
    rf.add_argument("--no-reference-check", action="store_true", help=argparse.SUPPRESS)

    ev = sub.add_parser(
        "evaluate",
        help="score a .head.onnx on a directory in the zalo format, or a model on a labelled manifest of audio files",
    )
    ev.add_argument("--head", type=Path, default=None, help="the model's .head.onnx file (with --data)")
    ev.add_argument("--data", type=Path, default=None, help="directory with features.csv and ranks.csv (with --head)")
    ev.add_argument("--model", default=None, help="model name or path, analysed like the app does (with --manifest)")
    ev.add_argument("--manifest", type=Path, default=None, help="CSV with path and popularity and/or label columns")
    ev.add_argument("--window-seconds", type=float, default=None, help="window length (default: the model card's)")
    ev.add_argument("--jobs", type=int, default=1, help="files analysed at once (with --manifest)")
    ev.add_argument("--json", action="store_true", help="print only a JSON object on stdout")

    bl = sub.add_parser(
        "baselines", help="score every per-song-statistics recipe on artist-disjoint folds of the chart data"
    )
    bl.add_argument("--data", type=Path, required=True, help="directory with the zalo2019 files")
    bl.add_argument("--report", type=Path, default=Path("reports/baselines.md"), help="Markdown report path")
    bl.add_argument("--seed", type=int, default=0)
    bl.add_argument(
        "--default-model",
        choices=("cv", "card"),
        default="cv",
        help="cross-validate the default model again (cv) or use the figures in its model card (card)",
    )
    bl.add_argument("--card", type=Path, default=None, help="the default model's card (default: the bundled one)")
    # For smoke tests: short runs that exercise every step but learn little.
    bl.add_argument("--dense-epochs", type=int, default=None, help=argparse.SUPPRESS)
    bl.add_argument("--max-epochs", type=int, default=None, help=argparse.SUPPRESS)
    bl.add_argument("--nets-per-member", type=int, default=None, help=argparse.SUPPRESS)

    ws = sub.add_parser(
        "measure-window-shift", help="measure how 30 s window statistics differ from whole-track ones on real music"
    )
    ws.add_argument("--corpus", type=Path, required=True, help="folder of real tracks (its .ogg and .opus files)")
    ws.add_argument("--out", type=Path, default=None, help="JSON path (default: hitdesk/training/window_shift.json)")
    ft = sub.add_parser(
        "features", help="fill the feature cache with a manifest's tracks (processes or Ray), so fit decodes none"
    )
    ft.add_argument("--manifest", type=Path, required=True, help="CSV with a path column")
    ft.add_argument("--engine", choices=("local", "ray"), default="local", help="processes here (default) or Ray")
    ft.add_argument("--address", default=None, help="join this Ray cluster (implies --engine ray)")
    ft.add_argument("--jobs", type=int, default=None, help="workers (default: one per CPU)")
    ft.add_argument("--cache-dir", type=Path, default=None, help="feature cache folder (default: the user cache)")
    ft.add_argument(
        "--window-seconds", type=window_seconds_arg, default=DEFAULT_WINDOW_SECONDS, help="as fit's --window-seconds"
    )
    bg = sub.add_parser(
        "background", help="summarise the training songs for explanations (written beside the model, card updated)"
    )
    bg.add_argument("--data", type=Path, required=True, help="directory with the zalo2019 files")
    bg.add_argument("--model", type=Path, required=True, help="the model's stem, e.g. models/hitdesk-zalo-v2")
    bg.add_argument("--clusters", type=int, default=8, help="weighted centroids to keep (default 8)")
    bg.add_argument("--seed", type=int, default=0, help="k-means seed (default 0)")
    sp = sub.add_parser(
        "split-artists", help="split a chart-data folder into train/ and held-out/ folders with no artist in both"
    )
    sp.add_argument("--data", type=Path, required=True, help="directory with the zalo2019 files")
    sp.add_argument("--out", type=Path, required=True, help="folder for train/ and held-out/")
    sp.add_argument("--share", type=float, default=0.2, help="share of the artist groups held out (default 0.2)")
    sp.add_argument("--seed", type=int, default=0, help="which artist groups are held out (default 0)")

    rl = sub.add_parser("recipes", help="list every recipe with one line on what it trains")
    rl.add_argument("--json", action="store_true", help='a JSON list of {"name", "description"}')
    return parser


def _split_artists(args: argparse.Namespace) -> int:
    from hitdesk.training.holdout import split_artists

    result = split_artists(args.data, args.out, args.share, args.seed)
    for part in ("train", "held-out"):
        print(f"{args.out / part}: {result[part]['songs']} songs, {result[part]['artist_groups']} artist groups")
    return 0


def _background(args: argparse.Namespace) -> int:
    from hitdesk.training.background import write_background

    section = write_background(args.data, args.model, args.clusters, args.seed)
    info = section["background"]
    print(
        f"{info['file']}: {info['centroids']} centroids of {info['n_songs']} songs; baseline P(hit) "
        f"{info['baseline_p_hit']:.3f} (mean over the songs {info['mean_p_hit_of_training_songs']:.3f})"
    )
    return 0


def _features(args: argparse.Namespace) -> int:
    from hitdesk.batch.features import fill_features
    from hitdesk.training.featcache import default_root
    from hitdesk.training.manifest import read_manifest

    tracks = read_manifest(args.manifest)
    root = args.cache_dir or default_root()
    engine = "ray" if args.address else args.engine
    outcome = fill_features(
        [t.path for t in tracks], root, args.window_seconds, engine, args.address, args.jobs, sys.stderr
    )
    for error in outcome.errors:
        print(f"hitdesk-train: {error}", file=sys.stderr)
    print(
        f"features of {outcome.tracks} tracks in {root}: {outcome.cached} already there, "
        f"{outcome.computed} computed, {len(outcome.errors)} failed"
    )
    return 1 if outcome.errors else 0


def _measure_window_shift(args: argparse.Namespace) -> int:
    from hitdesk.training.window_shift import SHIFT_FILE, write_measurement

    out = args.out or SHIFT_FILE
    result = write_measurement(args.corpus, out)
    print(f"{result['n']} windows from {result['n_tracks']} tracks written to {out}")
    return 0


def _fit(args: argparse.Namespace) -> int:
    from hitdesk.training.recipes.base import FitRequest
    from hitdesk.training.recipes.fit import fit

    req = FitRequest(
        recipe=args.recipe,
        manifest=args.manifest,
        data=args.data,
        out_dir=args.out,
        name=args.name,
        report=args.report,
        folds=args.folds,
        seed=args.seed,
        epochs=args.epochs,
        window_seconds=args.window_seconds,
        jobs=args.jobs,
        cache_dir=args.cache_dir,
        tiers=args.tiers,
        augment=not args.no_augment,
        window_shift=args.window_shift,
        nets_per_member=args.nets_per_member,
        reference_check=not args.no_reference_check,
    )
    outcome = fit(req)
    if args.recipe == "zalo-stats" and args.data is not None:  # the card was rewritten: its explanations too
        from hitdesk.training.background import write_background

        write_background(args.data, outcome.model_path.parent / outcome.model_path.name.removesuffix(".onnx"))
    cv = outcome.card["metrics"]["cv"]
    cv = cv.get("default", cv)  # zalo-stats keeps several conditions; "default" is the shipped one
    figures = ", ".join(
        f"{key} {cv[key]['mean']:.3f} ± {cv[key]['std']:.3f}" for key in ("roc_auc", "spearman") if key in cv
    )
    print(
        f"{outcome.card['name']} ({args.recipe}): CV {figures or 'n/a'}; "
        f"model {outcome.model_path}, report {outcome.report_path}"
    )
    return 0


def _baselines(args: argparse.Namespace) -> int:
    from hitdesk.model.runtime import DEFAULT_MODEL_NAME
    from hitdesk.paths import models_dir
    from hitdesk.training.baseline_table import BaselineOptions, run_baselines

    opts = BaselineOptions(
        data_dir=args.data,
        report_path=args.report,
        seed=args.seed,
        default_mode=args.default_model,
        card_path=args.card or models_dir() / f"{DEFAULT_MODEL_NAME}.json",
        dense_epochs=args.dense_epochs,
        ensemble_max_epochs=args.max_epochs,
        ensemble_nets_per_member=args.nets_per_member,
    )
    for report in run_baselines(opts):
        summary = report.summary()
        auc, rho = summary["roc_auc"], summary["spearman"]
        print(
            f"{report.recipe:>30}: ROC-AUC {auc['mean']:.3f} ± {auc['std']:.3f}, "
            f"Spearman {rho['mean']:.3f} ± {rho['std']:.3f}"
        )
    print(f"report: {args.report}")
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from hitdesk.training.evaluate import evaluate_head

    by_manifest = args.model is not None or args.manifest is not None
    by_head = args.head is not None or args.data is not None
    if by_manifest == by_head or (by_manifest and (args.model is None or args.manifest is None)):
        raise ValueError("evaluate needs either --head with --data, or --model with --manifest")
    if by_manifest:
        from hitdesk.training.evaluate_manifest import evaluate_manifest

        result = evaluate_manifest(args.model, args.manifest, args.window_seconds, args.jobs)
    else:
        if args.head is None or args.data is None:
            raise ValueError("evaluate needs either --head with --data, or --model with --manifest")
        result = evaluate_head(args.head, args.data)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>10}: {value:.4f}" if isinstance(value, float) else f"{key:>10}: {value}")
    return 0


def _recipes(args: argparse.Namespace) -> int:
    from hitdesk.training.recipes.listing import recipe_lines

    lines = recipe_lines()
    if args.json:
        print(json.dumps(lines, indent=2))
    else:
        width = max(len(r["name"]) for r in lines)
        for r in lines:
            print(f"{r['name']:<{width}}  {r['description']}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    # Logs go to stderr so that ``evaluate --json`` prints nothing but JSON on stdout.
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        if args.command == "fit":
            return _fit(args)
        if args.command == "measure-window-shift":
            return _measure_window_shift(args)
        if args.command == "features":
            return _features(args)
        if args.command == "background":
            return _background(args)
        if args.command == "baselines":
            return _baselines(args)
        if args.command == "split-artists":
            return _split_artists(args)
        if args.command == "recipes":
            return _recipes(args)
        return _evaluate(args)
    except (HitdeskError, FileNotFoundError, ValueError) as exc:
        print(f"hitdesk-train: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
