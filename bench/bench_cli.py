"""Speed of `hitdesk analyze` as a user meets it, against the naive pipeline on the same files in one run.

Each track is analysed by a fresh `python -m hitdesk analyze --json --no-cache FILE` process; the same
command on a 4-second file is subtracted, which leaves what the track itself costs (start-up, the
model's load and the imports are paid by both). The naive pipeline (bench_analyze.naive: librosa.load,
mel, MFCC statistics and tempo of the whole file) runs in this process, after a warm-up, as in
bench_analyze. The tracks are 4-6 minute 44.1 kHz stereo Ogg Vorbis files made from corpus material
the engine was not tuned on (MP3, AAC, Opus, 48 and 96 kHz sources, FLAC, WAV, concatenated and
transcoded into a temporary folder), so the figures are not those of the files it was tuned on.
`--also ROOT` times another checkout's command on the same files in the same run (for before/after).

    python bench/bench_cli.py --corpus ../shared/corpus [--repeat 3] [--also /tmp/old-checkout] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np
import soundfile as sf
from bench_analyze import naive  # bench/ is on the path when a script in it runs

ROOT = Path(__file__).resolve().parents[1]
RATE = 44100

# (source, start s, seconds or None for the rest): each recipe is one track, 4.5-6 minutes long.
RECIPES: dict[str, list[tuple[str, float, float | None]]] = {
    "opus-5min": [("warzone-track3.opus", 0.0, None)],
    "mp3-aac": [("chipdisko.mp3", 0.0, None), ("forest-sprint.m4a", 0.0, 190.0)],
    "48k-flac": [("awakening.ogg", 0.0, None), ("elvish-theme-60s.flac", 0.0, None)],
    "aac-wav-mp3": [
        ("forest-sprint.m4a", 0.0, None),
        ("awakening-30s-24bit.wav", 0.0, None),
        ("battle-96k-float.wav", 0.0, None),
        ("chipdisko.mp3", 20.0, 60.0),
    ],
    "opus-48k": [("warzone-track3.opus", 150.0, None), ("awakening.ogg", 0.0, 200.0)],
    "mp3-48k": [("chipdisko.mp3", 0.0, None), ("awakening.ogg", 20.0, 150.0)],
}
SHORT = [("warzone-track3.opus", 60.0, 4.0)]


def _decode_stereo(path: Path, start_s: float, seconds: float | None) -> np.ndarray:
    """(frames, 2) float32 at 44.1 kHz: FFmpeg decodes and resamples (its default resampler is fine here)."""
    parts = []
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=RATE)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1, 2))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1, 2))
    audio = np.concatenate(parts)
    lo = round(start_s * RATE)
    hi = len(audio) if seconds is None else lo + round(seconds * RATE)
    return np.ascontiguousarray(audio[lo:hi], dtype=np.float32)


def make_track(corpus: Path, recipe: list[tuple[str, float, float | None]], out: Path) -> Path:
    audio = np.concatenate([_decode_stereo(corpus / name, start, secs) for name, start, secs in recipe])
    with sf.SoundFile(out, "w", samplerate=RATE, channels=2, format="OGG", subtype="VORBIS") as dst:
        for a in range(0, len(audio), RATE):  # libsndfile's Vorbis encoder crashes on large writes
            dst.write(audio[a : a + RATE])
    return out


def make_tracks(corpus: Path, folder: Path) -> tuple[list[Path], Path]:
    tracks = [make_track(corpus, recipe, folder / f"{name}.ogg") for name, recipe in RECIPES.items()]
    return tracks, make_track(corpus, SHORT, folder / "four-seconds.ogg")


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_seconds(root: Path, path: Path) -> tuple[float, float]:
    """Wall time and CPU time (user + system, all threads) of one fresh `hitdesk analyze --json
    --no-cache FILE` process of the checkout at ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    c0, t0 = _children_cpu(), time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", "--no-cache", str(path)],
        capture_output=True,
        env=env,
        cwd=root,
        check=False,
    )
    wall, cpu = time.perf_counter() - t0, _children_cpu() - c0
    if proc.returncode != 0:
        raise RuntimeError(f"{root}: hitdesk analyze {path.name} failed: {proc.stderr.decode()[-500:]}")
    return wall, cpu


class InProcess:
    """A long-lived process of one checkout that times ``analyze_file`` after start-up and a warm-up.

    It imports ``hitdesk`` before anything else, as the command does, so it runs with the settings the
    package makes before numpy loads; the naive pipeline runs in this process, as in bench_analyze.
    """

    def __init__(self, root: Path, warm_up: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(root)}
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, str(warm_up)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            cwd=root,
            text=True,
        )
        assert self.proc.stdout is not None
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{root}: the in-process worker did not start")

    def seconds(self, path: Path) -> tuple[float, float]:
        """Wall and CPU time (all the worker's threads) of one ``analyze_file``."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(f"{path}\n")
        self.proc.stdin.flush()
        wall, cpu = self.proc.stdout.readline().split()
        return float(wall), float(cpu)

    def close(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


# The in-process worker: ``hitdesk`` is imported first, as the command imports it, so numpy starts
# with the settings the package makes; then the model is loaded and one file analysed as warm-up.
_WORKER = """
import sys, time
import hitdesk
from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.cli.analyze import decode_threads
from hitdesk.model import HitModel

model = HitModel.load()
opts = AnalysisOptions(decode_threads=decode_threads(1))
analyze_file(sys.argv[1], model, opts)
print("ready", flush=True)
for line in sys.stdin:
    c0, t0 = time.process_time(), time.perf_counter()
    analyze_file(line.strip(), model, opts)
    print(time.perf_counter() - t0, time.process_time() - c0, flush=True)
"""


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    ap.add_argument("--repeat", type=int, default=3, help="timings of each kind per track (their median is used)")
    ap.add_argument("--root", type=Path, default=ROOT, help="the checkout whose command is timed (default: this one)")
    ap.add_argument("--also", type=Path, action="append", default=[], help="another checkout to time the same way")
    ap.add_argument("--tracks", type=Path, help="reuse (or make once into) this folder of tracks")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if not args.corpus.is_dir():
        print(f"corpus not found: {args.corpus}", file=sys.stderr)
        return 2
    roots = {str(args.root.resolve()): args.root.resolve(), **{str(p.resolve()): p.resolve() for p in args.also}}
    with tempfile.TemporaryDirectory(prefix="hitdesk-bench-cli-") as tmp:
        folder = args.tracks or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        names = [folder / f"{n}.ogg" for n in RECIPES] + [folder / "four-seconds.ogg"]
        if all(p.exists() for p in names):
            tracks, short = names[:-1], names[-1]
        else:
            tracks, short = make_tracks(args.corpus, folder)
        loads = [load_average()]
        print(f"load average at start: {loads[0]}", flush=True)
        naive(short)  # warm-up: librosa's imports and numba's compilation
        workers = {label: InProcess(root, short) for label, root in roots.items()}
        for root in roots.values():
            command_seconds(root, short)
        times: dict[str, dict[str, list[float]]] = {p.name: {} for p in [*tracks, short]}
        for rep in range(args.repeat):
            for path in [short, *tracks]:
                row = times[path.name]
                for label, root in roots.items():
                    wall, cpu = command_seconds(root, path)
                    row.setdefault(f"cmd:{label}", []).append(wall)
                    row.setdefault(f"cmdcpu:{label}", []).append(cpu)
                if path != short:
                    wall, cpu = _timed(naive, path)
                    row.setdefault("naive", []).append(wall)
                    row.setdefault("naivecpu", []).append(cpu)
                    for label, w in workers.items():
                        wall, cpu = w.seconds(path)
                        row.setdefault(f"in:{label}", []).append(wall)
                        row.setdefault(f"incpu:{label}", []).append(cpu)
            loads.append(load_average())
            print(f"run {rep + 1}/{args.repeat} done, load average {loads[-1]}", flush=True)
        for w in workers.values():
            w.close()
    summary = _summarise(times, [p.name for p in tracks], short.name, list(roots))
    summary["load_averages"] = loads  # at the start and after each run: 1, 5 and 15 minutes
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"times": times, "summary": summary}, indent=2))
    return 0


def _timed(fn, path: Path) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Wall and CPU time (all of this process's threads) of ``fn(path)``."""
    c0, t0 = time.process_time(), time.perf_counter()
    fn(path)
    return time.perf_counter() - t0, time.process_time() - c0


def _summarise(times: dict[str, dict[str, list[float]]], tracks: list[str], short: str, labels: list[str]) -> dict:  # type: ignore[type-arg]
    med = {name: {k: statistics.median(v) for k, v in row.items()} for name, row in times.items()}
    out: dict[str, object] = {"load_average_end": load_average(), "tracks": len(tracks)}
    for label in labels:
        base = med[short][f"cmd:{label}"]
        per_track = {t: med[t][f"cmd:{label}"] - base for t in tracks}
        out[label] = {
            "short_file_command_s": round(base, 3),
            "median_track_s_after_short": round(statistics.median(per_track.values()), 3),
            "median_speedup_vs_naive": round(statistics.median(med[t]["naive"] / per_track[t] for t in tracks), 3),
            "per_track_speedup": {t: round(med[t]["naive"] / per_track[t], 2) for t in tracks},
            "in_process_median_track_s": round(statistics.median(med[t][f"in:{label}"] for t in tracks), 3),
            "in_process_median_speedup_vs_naive": round(
                statistics.median(med[t]["naive"] / med[t][f"in:{label}"] for t in tracks), 3
            ),
        }
        # CPU seconds (all threads) say less about waiting and more about work, so they move less with
        # the machine's load than wall time; the naive pipeline's CPU time is its own process's.
        cpu_base = med[short][f"cmdcpu:{label}"]
        cpu_per_track = {t: med[t][f"cmdcpu:{label}"] - cpu_base for t in tracks}
        out[label].update(  # type: ignore[attr-defined]
            {
                "median_track_cpu_s_after_short": round(statistics.median(cpu_per_track.values()), 3),
                "median_cpu_ratio_vs_naive": round(
                    statistics.median(med[t]["naivecpu"] / cpu_per_track[t] for t in tracks), 3
                ),
                "in_process_median_track_cpu_s": round(statistics.median(med[t][f"incpu:{label}"] for t in tracks), 3),
                "in_process_median_cpu_ratio_vs_naive": round(
                    statistics.median(med[t]["naivecpu"] / med[t][f"incpu:{label}"] for t in tracks), 3
                ),
            }
        )
    out["median_naive_s"] = round(statistics.median(med[t]["naive"] for t in tracks), 3)
    out["median_naive_cpu_s"] = round(statistics.median(med[t]["naivecpu"] for t in tracks), 3)
    return out


if __name__ == "__main__":
    sys.exit(main())
