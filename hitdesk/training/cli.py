"""``hitdesk-train``: train and export the default model, or score a head on chart data.

``evaluate`` needs only onnxruntime; ``fit-default`` imports torch lazily, so the command stays
usable (and fast to start) without the training extras.
"""

from __future__ import annotations

import argparse
import dataclasses
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

    fit = sub.add_parser("fit-default", help="cross-validate, train and export the default model")
    fit.add_argument("--data", type=Path, required=True, help="directory with the zalo2019 files")
    fit.add_argument("--out", type=Path, default=Path("models"), help="where the .onnx and .json files go")
    fit.add_argument("--report", type=Path, default=Path("reports/zalo-default.md"), help="Markdown report path")
    fit.add_argument("--no-augment", action="store_true", help="do not train on window-shifted copies")
    fit.add_argument("--seed", type=int, default=0)
    fit.add_argument(
        "--window-shift", type=Path, default=None, help="window shift JSON (default: the one in hitdesk/training)"
    )
    fit.add_argument("--name", default=None, help="model name (default: hitdesk-zalo-v1)")
    # For smoke tests: a short run that exercises every step but learns little.
    fit.add_argument("--max-epochs", type=int, default=None, help=argparse.SUPPRESS)
    fit.add_argument("--nets-per-member", type=int, default=None, help=argparse.SUPPRESS)
    fit.add_argument("--no-reference-check", action="store_true", help=argparse.SUPPRESS)

    ev = sub.add_parser("evaluate", help="score a .head.onnx on a directory in the zalo format")
    ev.add_argument("--head", type=Path, required=True, help="the model's .head.onnx file")
    ev.add_argument("--data", type=Path, required=True, help="directory with features.csv and ranks.csv")
    ev.add_argument("--json", action="store_true", help="print only a JSON object on stdout")

    ws = sub.add_parser(
        "measure-window-shift", help="measure how 30 s window statistics differ from whole-track ones on real music"
    )
    ws.add_argument("--corpus", type=Path, required=True, help="folder of real tracks (its .ogg and .opus files)")
    ws.add_argument("--out", type=Path, default=None, help="JSON path (default: hitdesk/training/window_shift.json)")
    return parser


def _measure_window_shift(args: argparse.Namespace) -> int:
    from hitdesk.training.window_shift import SHIFT_FILE, write_measurement

    out = args.out or SHIFT_FILE
    result = write_measurement(args.corpus, out)
    print(f"{result['n']} windows from {result['n_tracks']} tracks written to {out}")
    return 0


def _fit_default(args: argparse.Namespace) -> int:
    from hitdesk.training.ensemble import EnsembleConfig
    from hitdesk.training.pipeline import FitOptions, fit_default

    ensemble = EnsembleConfig()
    if args.max_epochs is not None:
        ensemble = dataclasses.replace(
            ensemble, mlp=dataclasses.replace(ensemble.mlp, max_epochs=args.max_epochs, patience=args.max_epochs)
        )
    if args.nets_per_member is not None:
        ensemble = dataclasses.replace(ensemble, nets_per_member=args.nets_per_member)
    opts = FitOptions(
        data_dir=args.data,
        out_dir=args.out,
        report_path=args.report,
        augment=not args.no_augment,
        seed=args.seed,
        ensemble=ensemble,
        reference_check=not args.no_reference_check,
    )
    if args.window_shift is not None:
        opts = dataclasses.replace(opts, window_shift_path=args.window_shift)
    if args.name:
        opts = dataclasses.replace(opts, name=args.name)
    card = fit_default(opts)
    cv = card["metrics"]["cv"]["default"]
    print(
        f"{card['name']} {card['version']}: CV Spearman {cv['spearman']['mean']:.3f} ± {cv['spearman']['std']:.3f}, "
        f"ROC-AUC {cv['roc_auc']['mean']:.3f} ± {cv['roc_auc']['std']:.3f}; files in {args.out}, report {args.report}"
    )
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from hitdesk.training.evaluate import evaluate_head

    result = evaluate_head(args.head, args.data)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>10}: {value:.4f}" if isinstance(value, float) else f"{key:>10}: {value}")
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
        if args.command == "fit-default":
            return _fit_default(args)
        if args.command == "measure-window-shift":
            return _measure_window_shift(args)
        return _evaluate(args)
    except (HitdeskError, FileNotFoundError, ValueError) as exc:
        print(f"hitdesk-train: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
