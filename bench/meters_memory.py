"""Peak memory of the loudness meter with and without the meters of issue 15 on a long stream.

Each variant runs in a fresh process, fed 8 s blocks of stereo noise at 8 kHz for ``--hours``
(the meters keep four numbers per 100 ms step, so their memory depends on the length, not the rate):

    python bench/meters_memory.py [--hours 4]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import time


def run(kind: str, hours: float) -> None:
    import numpy as np

    from hitdesk.dsp.loudness import LoudnessMeter
    from hitdesk.dsp.meters import TrackMeter

    rate = 8000
    block = (0.1 * np.random.default_rng(0).standard_normal((rate * 8, 2))).astype(np.float32)
    meter = (TrackMeter if kind == "meters" else LoudnessMeter)(rate, 2)
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.process_time()
    for _ in range(int(hours * 3600 // 8)):
        meter.feed(block)
    meter.result()
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) / 1024
    print(f"{kind:<14} peak RSS +{grown:.0f} MB, {time.process_time() - start:.1f} CPU s for {hours:g} h")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hours", type=float, default=4.0)
    parser.add_argument("--kind", choices=("loudness-only", "meters"))
    args = parser.parse_args()
    if args.kind:
        run(args.kind, args.hours)
        return 0
    for kind in ("loudness-only", "meters"):
        subprocess.run([sys.executable, __file__, "--kind", kind, "--hours", str(args.hours)], check=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
