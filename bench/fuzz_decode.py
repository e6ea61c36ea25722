"""A longer, bounded fuzzing run of the decoder path (``make fuzz``).

Random header mutations of small WAV, FLAC, Ogg, MP3, M4A and AIFF files (tests/badinput.py makes
them) go through tags, probe, whole and block decoding and excerpts in a watched worker process
(tests/fuzzing.py). Every file that makes the worker raise something other than a HitdeskError,
run out of memory, hang or die is kept in ``--out`` with its mutations; the exit status is 1 if
there was any. Stops after ``--seconds`` or ``--examples``, whichever comes first.

    python bench/fuzz_decode.py --seconds 300 --seed 1 --out out/fuzz
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np

TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path.insert(0, str(TESTS))

from badinput import seeds  # noqa: E402
from fuzzing import FAILURES, Decoder, Mutation, mutate  # noqa: E402

KINDS = ("byte", "byte", "u32", "u32", "cut", "drop", "repeat")


def random_mutations(rng: np.random.Generator) -> list[Mutation]:
    return [
        Mutation(
            kind=str(rng.choice(KINDS)),
            where=float(rng.random() ** 2),  # mostly the first bytes, where the headers are
            value=int(rng.integers(0, 256)),
            tail=bool(rng.random() < 0.25),
        )
        for _ in range(int(rng.integers(1, 7)))
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300.0, help="time budget (default 300)")
    parser.add_argument("--examples", type=int, default=0, help="stop after this many files (default: no limit)")
    parser.add_argument("--seed", type=int, default=None, help="random seed (default: from the clock)")
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds before a file counts as a hang")
    parser.add_argument("--out", type=Path, default=Path("out/fuzz"), help="where failing files are kept")
    args = parser.parse_args(argv)

    seed = args.seed if args.seed is not None else int(time.time())
    rng = np.random.default_rng(seed)
    outcomes: Counter[str] = Counter()
    per_seed: Counter[tuple[str, str]] = Counter()
    failures = 0
    slowest = (0.0, "")
    decoder = Decoder(timeout_s=args.timeout)
    started = time.monotonic()
    n = 0
    with tempfile.TemporaryDirectory(prefix="hitdesk-fuzz-") as tmp:
        originals = {p.name: p.read_bytes() for p in seeds(Path(tmp) / "seeds")}
        names = sorted(originals)
        work = Path(tmp) / "work"
        work.mkdir()
        try:
            while time.monotonic() - started < args.seconds and (not args.examples or n < args.examples):
                name = names[int(rng.integers(len(names)))]
                ops = random_mutations(rng)
                path = work / f"fuzz-{name}"
                path.write_bytes(mutate(originals[name], ops))
                answer = decoder.check(path)
                n += 1
                outcomes[answer["outcome"]] += 1
                per_seed[(name, answer["outcome"])] += 1
                if answer["elapsed_s"] > slowest[0]:
                    slowest = (answer["elapsed_s"], name)
                if answer["outcome"] in FAILURES:
                    failures += 1
                    args.out.mkdir(parents=True, exist_ok=True)
                    keep = args.out / f"{failures:03d}-{answer['outcome']}-{name}"
                    keep.write_bytes(path.read_bytes())
                    record = {"seed": name, "mutations": [asdict(m) for m in ops], "answer": answer}
                    keep.with_name(keep.name + ".json").write_text(json.dumps(record, indent=2), encoding="utf-8")
                    print(f"FAIL {keep}: {answer}", flush=True)
        finally:
            decoder.close()
    elapsed = time.monotonic() - started
    print(f"{n} files in {elapsed:.0f} s (seed {seed}); outcomes: {dict(outcomes)}")
    for name in names:
        row = {o: c for (s, o), c in per_seed.items() if s == name}
        print(f"  {name:16s} {row}")
    print(f"slowest file: {slowest[0]:.2f} s ({slowest[1]}); failures kept: {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
