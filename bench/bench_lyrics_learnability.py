"""Full-size lyrics learnability: the shipped sentence encoder on generated texts labelled by topic.

The test (tests/training/test_training_lyrics_learnability.py) runs a small version. Here three
generated sets (data seeds 0, 1, 2) of 400 training and 400 held-out texts; for each, the held-out
ROC-AUC of a logistic regression on the embeddings with the true training labels and with the
training labels shuffled (three shuffle seeds). Prints a Markdown table, the encoder's speed and the
load average.

    nice -n 10 python bench/bench_lyrics_learnability.py [--train 400] [--test 400] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np

from hitdesk.model.encoder import load_encoder

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from lyrics_data import LyricsSetConfig, build_lyrics_set, lyrics_auc

SEEDS = (0, 1, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--train", type=int, default=400)
    parser.add_argument("--test", type=int, default=400)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    encoder = load_encoder()
    load_s = time.perf_counter() - t0
    rows, embed_s, n_texts, n_tokens = [], 0.0, 0, 0
    for seed in SEEDS:
        data = build_lyrics_set(LyricsSetConfig(args.train, args.test, seed))
        texts = data.train_texts + data.test_texts
        t1 = time.perf_counter()
        vectors = encoder.embed(texts)
        embed_s += time.perf_counter() - t1
        n_texts += len(texts)
        n_tokens += sum(len(encoder.token_ids(t)) for t in texts)
        cache = dict(zip(texts, vectors, strict=True))

        def embed(ts: list[str], cache: dict[str, np.ndarray] = cache) -> np.ndarray:
            return np.stack([cache[t] for t in ts])

        auc = lyrics_auc(embed, data)
        shuffled = [lyrics_auc(embed, data, shuffle_seed=s) for s in SEEDS]
        rows.append({"seed": seed, "auc": auc, "shuffled": shuffled, "shuffled_mean": float(np.mean(shuffled))})
    load_after = os.getloadavg()[0]
    print(
        f"{args.train} training / {args.test} held-out texts per set; load average {load_before:.1f}-{load_after:.1f}"
    )
    print("| data seed | held-out ROC-AUC | shuffled labels (3 seeds) | shuffled mean |")
    print("|---|---|---|---|")
    for r in rows:
        shuffled = ", ".join(f"{a:.3f}" for a in r["shuffled"])
        print(f"| {r['seed']} | {r['auc']:.3f} | {shuffled} | {r['shuffled_mean']:.3f} |")
    speed = {
        "load_s": round(load_s, 2),
        "texts_per_s": round(n_texts / embed_s, 1),
        "ms_per_text": round(1000 * embed_s / n_texts, 2),
        "mean_tokens": round(n_tokens / n_texts, 1),
    }
    print(
        f"encoder: loaded in {speed['load_s']} s; {speed['texts_per_s']} texts/s ({speed['ms_per_text']} ms a text of "
        f"{speed['mean_tokens']} tokens on average), one thread"
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps({"rows": rows, "speed": speed, "load": [load_before, load_after]}, indent=2)
        )


if __name__ == "__main__":
    main()
