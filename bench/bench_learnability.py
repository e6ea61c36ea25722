"""Full-size learnability runs: every log-mel net on the generated set, true and shuffled labels.

The tests (tests/training/test_training_learnability.py) run a small version; this is the full one, with
longer clips, more of them and more epochs. Prints a Markdown table (held-out ROC-AUC with true and
with shuffled training labels, training seconds, examples/s) and the training throughput of
resnet-tiers on 30 s windows, the length the recipes train on.

    nice -n 10 python bench/bench_learnability.py [--clips 600] [--seconds 5] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch

from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES
from hitdesk.training.nets import ResNetTiers
from hitdesk.training.trainer import TrainConfig, train

# The learnability set is a test fixture, not part of the package: it lives beside the tests.
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from training_data import LearnsetConfig, build_learnset, logmel_array, run_net, shuffled_control

EPOCHS = {"mel-cnn": 30, "mel-inception": 30, "resnet-tiers": 20, "cnn-metadata": 20}
SHUFFLE_SEEDS = (0, 1, 2)


def window_throughput(n: int, seconds: float, batch_size: int = 16) -> float:
    """resnet-tiers training examples/s on ``seconds``-long log-mel windows (one epoch, no validation)."""
    frames = 1 + int(seconds * FEATURES.sample_rate) // FEATURES.hop_length
    rng = np.random.default_rng(0)
    x = np.clip(-40.0 + 15.0 * rng.standard_normal((n, FEATURES.n_mels, frames)), -80.0, 0.0).astype(np.float32)
    y = rng.integers(0, 3, n)
    cfg = TrainConfig(epochs=1, batch_size=batch_size, one_cycle=True, valid_fraction=0.0)
    return train(ResNetTiers(n_classes=3), x, y, "classification", cfg).examples_per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=600)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    torch.set_num_threads(1)

    t0 = time.perf_counter()
    data = build_learnset(LearnsetConfig(n_clips=args.clips, clip_seconds=args.seconds, seed=args.seed))
    t1 = time.perf_counter()
    x = logmel_array(data.clips)
    t2 = time.perf_counter()
    results = []
    controls: dict[str, float] = {}
    for name, epochs in EPOCHS.items():
        r = run_net(name, data, x, epochs=epochs, shuffle=False, seed=args.seed)
        print(f"{name}: AUC {r.roc_auc:.3f} in {r.seconds:.0f} s", flush=True)
        controls[name], runs = shuffled_control(name, data, x, epochs, seeds=SHUFFLE_SEEDS)
        print(f"{name} shuffled: " + ", ".join(f"{c.roc_auc:.3f}" for c in runs), flush=True)
        results += [r, *runs]
    throughput = window_throughput(96, DEFAULT_WINDOW_SECONDS)

    print()
    print(
        f"Learnability set: {args.clips} clips of {args.seconds:g} s ({len(data.train)} train, {len(data.test)} "
        f"test), seed {args.seed}; generated in {t1 - t0:.1f} s, log-mel in {t2 - t1:.1f} s; "
        f"{platform.processor() or platform.machine()}, torch {torch.__version__}, 1 thread."
    )
    print()
    print(
        "| net | task | epochs run (best) | held-out ROC-AUC | shuffled-label ROC-AUC, mean (runs) | train s "
        "| examples/s |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in EPOCHS:
        r = next(q for q in results if q.net == name and not q.shuffled)
        shuffled = ", ".join(f"{q.roc_auc:.2f}" for q in results if q.net == name and q.shuffled)
        print(
            f"| {name} | {r.task} | {r.epochs_run} ({r.best_epoch}) | {r.roc_auc:.3f} "
            f"| {controls[name]:.3f} ({shuffled}) "
            f"| {r.seconds:.0f} | {r.examples_per_s:.0f} |"
        )
    print()
    print(f"resnet-tiers training throughput on {DEFAULT_WINDOW_SECONDS:g} s windows: {throughput:.1f} examples/s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(
                {"runs": [asdict(r) for r in results], "resnet_tiers_30s_examples_per_s": throughput}, fh, indent=1
            )


if __name__ == "__main__":
    main()
