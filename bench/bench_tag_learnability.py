"""Full-size learnability runs of the tag recipes: generated drum-heavy against piano-like clips.

The tests (tests/training/test_training_tag_learnability.py) run a small version. This one shows
first how far the music tagger's tags separate the two kinds (the best single tag's ROC-AUC and
the tags that differ most), then fits ``tags-linear`` (and with ``--joint`` the two joint nets on
the clips' log-mel as well) on 60 % of the clips and prints the held-out ROC-AUC with true labels
and with shuffled training labels (mean of three seeds).

    nice -n 10 python bench/bench_tag_learnability.py [--clips 400] [--seconds 6.5] [--joint]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.metrics import roc_auc_score

from hitdesk.dsp import melspectrogram, power_to_db
from hitdesk.model.tagger import shared_tagger

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from tag_signals import build_tagset, clip_tags, held_out_auc, recipe_data

SHUFFLE_SEEDS = (0, 1, 2)
JOINT_EPOCHS = 8


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=400)
    parser.add_argument("--seconds", type=float, default=6.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--joint", action="store_true", help="also the joint nets (minutes each)")
    args = parser.parse_args()
    load = os.getloadavg()[0]
    t0 = time.perf_counter()
    tagset = build_tagset(args.clips, args.seconds, args.seed)
    tags = clip_tags(tagset.clips)
    t1 = time.perf_counter()
    names = shared_tagger().tags
    per_tag = np.array([roc_auc_score(tagset.label, tags[:, j]) for j in range(tags.shape[1])])
    order = np.argsort(-np.abs(per_tag - 0.5))
    print(f"{args.clips} clips of {args.seconds:g} s, seed {args.seed}; tagged in {t1 - t0:.1f} s, load {load:.1f}")
    print("tags that separate drum-heavy (1) from piano-like (0): tag, mean p for 1, for 0, single-tag ROC-AUC")
    for j in order[:5]:
        m1, m0 = tags[tagset.label == 1, j].mean(), tags[tagset.label == 0, j].mean()
        print(f"  {names[j]}: {m1:.3f} / {m0:.3f}, AUC {per_tag[j]:.3f}")
    split = np.random.default_rng(args.seed + 1).permutation(args.clips)
    n_test = round(0.4 * args.clips)
    train, test = np.sort(split[n_test:]), np.sort(split[:n_test])
    logmels = [power_to_db(melspectrogram(c)) for c in tagset.clips] if args.joint else None
    data = recipe_data(tags, tagset.label, logmels)
    recipes = ["tags-linear"] + (["tags-cnn-joint", "tags-inception-joint"] if args.joint else [])
    print()
    print("| recipe | held-out ROC-AUC | shuffled-label ROC-AUC, mean (runs) | seconds |")
    print("|---|---|---|---|")
    for recipe in recipes:
        epochs = JOINT_EPOCHS if recipe != "tags-linear" else None
        started = time.perf_counter()
        auc = held_out_auc(recipe, data, train, test, epochs=epochs)
        shuffled = [held_out_auc(recipe, data, train, test, shuffle_seed=s, epochs=epochs) for s in SHUFFLE_SEEDS]
        runs = ", ".join(f"{a:.2f}" for a in shuffled)
        seconds = time.perf_counter() - started
        print(f"| {recipe} | {auc:.3f} | {np.mean(shuffled):.3f} ({runs}) | {seconds:.0f} |", flush=True)
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
