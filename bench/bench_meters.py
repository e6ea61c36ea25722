"""What the meters of issue 15 (loudness over time, stereo, clipping) add to default mode.

Two measurements on the 4.5-6 minute 44.1 kHz stereo tracks of bench_cli (made from the corpus):

- the meter alone: the same decoded native blocks (held in memory) fed to ``LoudnessMeter``
  (integrated loudness and true peak only) and to ``TrackMeter`` (the same plus the meters), CPU
  seconds of this process, best of ``--repeat``;
- default mode as the app and the CLI run it, in-process (``analyze_file``), with the pass's meter
  swapped back to ``LoudnessMeter`` for "before": CPU seconds and wall seconds, alternating the two
  so load changes hit both alike, median over ``--repeat``.

The load average is printed with each run: the machine is shared.

    python bench/bench_meters.py --corpus ../shared/corpus [--repeat 5] [--tracks /tmp/tracks]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_cli import make_tracks  # bench/ is on the path when a script in it runs

from hitdesk import analysis
from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.dsp.loudness import LoudnessMeter
from hitdesk.dsp.meters import TrackMeter
from hitdesk.model import HitModel
from hitdesk.ui.loudness import iter_native_blocks


def load_average() -> str:
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def meter_cpu(blocks: list[np.ndarray], rate: int, channels: int, kind: type[LoudnessMeter], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.process_time()
        meter = kind(rate, channels)
        for block in blocks:
            meter.feed(block)
        meter.result()
        best = min(best, time.process_time() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--tracks", type=Path, help="reuse (or make) the tracks in this folder")
    args = parser.parse_args()
    folder = args.tracks or Path(tempfile.mkdtemp(prefix="hitdesk-meters-"))
    folder.mkdir(parents=True, exist_ok=True)
    existing = sorted(p for p in folder.glob("*.ogg") if p.name != "four-seconds.ogg")
    tracks = existing or make_tracks(args.corpus, folder)[0]
    model = HitModel.load(None)
    opts = AnalysisOptions()
    print(f"load average at start: {load_average()}")
    print(
        f"{'track':<14}{'min':>6}  meter alone CPU s: before  after   +   "
        "| default mode CPU s: before after | wall s: before after"
    )
    extra_cpu, extra_wall, extra_meter = [], [], []
    for path in tracks:
        rate, channels, it = iter_native_blocks(path)
        blocks = list(it)
        minutes = sum(b.shape[0] for b in blocks) / rate / 60
        m_before = meter_cpu(blocks, rate, channels, LoudnessMeter, args.repeat)
        m_after = meter_cpu(blocks, rate, channels, TrackMeter, args.repeat)
        del blocks
        cpu: dict[str, list[float]] = {"before": [], "after": []}
        wall: dict[str, list[float]] = {"before": [], "after": []}
        analyze_file(path, model, opts)  # warm-up
        for _ in range(args.repeat):
            for label, kind in (("before", LoudnessMeter), ("after", TrackMeter)):
                analysis.TrackMeter = kind  # type: ignore[misc,assignment]
                c0, w0 = time.process_time(), time.perf_counter()
                result = analyze_file(path, model, opts)
                cpu[label].append(time.process_time() - c0)
                wall[label].append(time.perf_counter() - w0)
                assert result.ok, result.error
        analysis.TrackMeter = TrackMeter  # type: ignore[misc]
        cb, ca = statistics.median(cpu["before"]), statistics.median(cpu["after"])
        wb, wa = statistics.median(wall["before"]), statistics.median(wall["after"])
        extra_cpu.append(ca - cb)
        extra_wall.append(wa - wb)
        extra_meter.append(m_after - m_before)
        print(
            f"{path.stem:<14}{minutes:>6.2f}  {m_before:>22.3f} {m_after:>6.3f} {m_after - m_before:>+6.3f} "
            f"| {cb:>24.2f} {ca:>5.2f} | {wb:>13.2f} {wa:>5.2f}   (load {load_average()})"
        )
    print(
        f"median extra per track: meter alone {statistics.median(extra_meter):+.3f} CPU s; default mode "
        f"{statistics.median(extra_cpu):+.2f} CPU s, {statistics.median(extra_wall):+.2f} s wall"
    )
    print(f"load average at end: {load_average()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
