"""What logging problem spots (``hitdesk.dsp.spots``) costs the loudness meter of the analysis pass.

The same decoded native blocks (held in memory) are fed to ``TrackMeter`` twice per repeat, with the
problem spots logged and with them switched off (the true-peak meter then prunes as it did before),
alternating so that load changes hit both alike; CPU seconds of this process, best of ``--repeat``.
The load average is printed: the machine is shared.

    python bench/bench_spots.py ../shared/corpus/*.ogg [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from hitdesk.dsp.meters import TrackMeter

BLOCK = 4 * 1152  # the decoder's native block (see hitdesk.audio.decode)


def meter_cpu(blocks: list[np.ndarray], rate: int, channels: int, spots: bool) -> tuple[float, TrackMeter]:
    meter = TrackMeter(rate, channels)
    if not spots:
        meter._peak.spots = None
        meter._clips.spots = None
    start = time.process_time()
    for block in blocks:
        meter.feed_true_peak(block)
        meter.feed_loudness(block)
    meter.result()
    return time.process_time() - start, meter


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    for path in args.files:
        try:
            data, rate = sf.read(str(path), dtype="float32", always_2d=True)
        except (OSError, RuntimeError) as exc:
            print(f"{path.name}: skipped ({exc})")
            continue
        blocks = [data[i : i + BLOCK] for i in range(0, len(data), BLOCK)]
        off, on = float("inf"), float("inf")
        meter = None
        for _ in range(args.repeat):
            off = min(off, meter_cpu(blocks, rate, data.shape[1], spots=False)[0])
            took, meter = meter_cpu(blocks, rate, data.shape[1], spots=True)
            on = min(on, took)
        assert meter is not None
        result = meter.result()
        spots = result.problem_spots
        assert spots is not None
        print(
            f"{path.name}: {len(data) / rate:.0f} s, true peak {result.true_peak_dbtp:+.1f} dBTP, "
            f"meter {off:.3f} -> {on:.3f} CPU s (+{on - off:.3f}); {len(spots.true_peak)} spans over "
            f"-1 dBTP, {len(spots.clipped)} clipped"
        )
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
