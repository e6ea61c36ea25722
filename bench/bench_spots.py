"""What logging problem spots (``hitdesk.dsp.spots``) costs the loudness meter of the analysis pass.

The same decoded native blocks (held in memory) are fed to ``TrackMeter`` twice per repeat, with the
problem spots logged and with them switched off (the true-peak meter then prunes as it did before),
alternating so that load changes hit both alike; CPU seconds of this process, best of ``--repeat``.
With ``--default-mode``, each file is also analysed as the app and the CLI do (``analyze_file``,
in-process, after a warm-up), the pass's meter with and without the spots, alternating; median CPU
and wall seconds over ``--repeat``. The load average is printed: the machine is shared.

    python bench/bench_spots.py ../shared/corpus/*.ogg [--repeat 3] [--default-mode]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from hitdesk.dsp import meter_tap
from hitdesk.dsp.meters import TrackMeter

BLOCK = 4 * 1152  # the decoder's native block (see hitdesk.audio.decode)


class SpotlessMeter(TrackMeter):
    """The pass's meter as it was before the spots: nothing logged, the true peak pruned as before."""

    def __init__(self, rate: int, channels: int) -> None:
        super().__init__(rate, channels)
        self._peak.spots = None
        self._clips.spots = None


def meter_cpu(blocks: list[np.ndarray], rate: int, channels: int, spots: bool) -> tuple[float, TrackMeter]:
    meter = TrackMeter(rate, channels) if spots else SpotlessMeter(rate, channels)
    start = time.process_time()
    for block in blocks:
        meter.feed_true_peak(block)
        meter.feed_loudness(block)
    meter.result()
    return time.process_time() - start, meter


def default_mode(path: Path, repeat: int) -> str:
    from hitdesk.analysis import AnalysisOptions, analyze_file
    from hitdesk.model import HitModel

    model, opts = HitModel.load(None), AnalysisOptions()
    analyze_file(path, model, opts)  # warm-up
    cpu: dict[bool, list[float]] = {False: [], True: []}
    wall: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(repeat):
        for spots in (False, True):
            meter_tap.TrackMeter = TrackMeter if spots else SpotlessMeter  # type: ignore[misc]
            c0, w0 = time.process_time(), time.perf_counter()
            assert analyze_file(path, model, opts).ok
            cpu[spots].append(time.process_time() - c0)
            wall[spots].append(time.perf_counter() - w0)
    meter_tap.TrackMeter = TrackMeter  # type: ignore[misc]
    cb, ca = statistics.median(cpu[False]), statistics.median(cpu[True])
    wb, wa = statistics.median(wall[False]), statistics.median(wall[True])
    return f"default mode CPU {cb:.2f} -> {ca:.2f} s ({ca - cb:+.2f}), wall {wb:.2f} -> {wa:.2f} s ({wa - wb:+.2f})"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", type=Path)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--default-mode", action="store_true", help="also time whole analyses, spots on and off")
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
        if args.default_mode:
            print(f"  {default_mode(path, args.repeat)} (load {' '.join(f'{x:.1f}' for x in os.getloadavg())})")
    print(f"load average after: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
