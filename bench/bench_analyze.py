"""Speed and memory of `hitdesk analyze` against a naive librosa pipeline, measured in the same run.

Naive: librosa.load of the whole file at 22,050 Hz, then mel, MFCC statistics and tempo of the whole
file. Ours: the default (full) mode and --fast, in-process after start-up, one file at a time, with
the decode threads `hitdesk analyze` uses for a single file.
Also: start-up overhead of the command and peak memory on a generated 60-minute file.
bench_cli.py measures the same as a user meets it: one command per file, on tracks the engine was
not tuned on.

    python bench/bench_analyze.py --corpus ../shared/corpus [--repeat 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Before numpy, as in the command: the package's settings for numpy's threads (the naive pipeline gets them too).
import hitdesk  # noqa: F401

# isort: split
import librosa
import numpy as np

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.audio import probe
from hitdesk.cli.analyze import decode_threads
from hitdesk.model import HitModel

SR = 22050


def naive(path: Path) -> np.ndarray:
    y, sr = librosa.load(path, sr=SR)
    S = librosa.feature.melspectrogram(y=y, sr=sr, n_fft=2048, hop_length=512, n_mels=128)
    M = librosa.feature.mfcc(S=librosa.power_to_db(S, ref=np.max), n_mfcc=20)
    tempo = librosa.feature.tempo(y=y, sr=sr)[0]
    return np.concatenate([M.mean(axis=1), M.std(axis=1), [tempo, len(y) / sr]])


def best_of(fn, repeat: int) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """Runs a command in a fresh process; returns (peak RSS in MB, wall seconds)."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _RSS_WRAPPER, *cmd], capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode not in (0, 1):
        raise RuntimeError(proc.stderr)
    return float(proc.stdout.strip().splitlines()[-1]), wall


_RSS_WRAPPER = """
import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=False)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def make_long_file(corpus: Path, minutes: float, out: Path) -> Path:
    import soundfile as sf

    with sf.SoundFile(out, "w", samplerate=44100, channels=2, format="FLAC", subtype="PCM_16") as dst:
        written = 0.0
        while written < minutes * 60:
            for name in ("battle_theme.ogg", "forest-sprint.ogg", "armygeddon-mix.ogg", "chaos_god-mix.ogg"):
                y, _ = sf.read(corpus / name, dtype="float32", always_2d=True)
                y = y[: int((minutes * 60 - written) * 44100)]
                y = y[:, :2] if y.shape[1] >= 2 else np.repeat(y, 2, axis=1)
                for a in range(0, y.shape[0], 44100):  # libsndfile's Vorbis encoder crashes on large writes
                    dst.write(np.ascontiguousarray(y[a : a + 44100]))
                written += y.shape[0] / 44100
                if written >= minutes * 60:
                    break
    return out


def sixty_minutes(corpus: Path) -> dict[str, object]:
    """Peak memory and wall time of the whole command on a generated 60-minute FLAC (quick to encode), both modes."""
    out: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        long_file = make_long_file(corpus, 60.0, Path(tmp) / "sixty-minutes.flac")
        hitdesk = str(Path(sys.executable).with_name("hitdesk"))
        for mode in ("full", "fast"):
            cmd = [hitdesk, "analyze", "--no-cache", "--json", str(long_file)] + (["--fast"] if mode == "fast" else [])
            rss, wall = peak_rss_mb(cmd)
            out[f"sixty_minute_{mode}"] = {"peak_rss_mb": rss, "wall_s": wall}
            print(f"60-minute file, {mode}: peak memory {rss:.0f} MB, {wall:.1f} s", flush=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path)
    ap.add_argument("--skip-long", action="store_true", help="skip the 60-minute memory test")
    ap.add_argument("--only-long", action="store_true", help="only the 60-minute memory test")
    args = ap.parse_args()
    corpus: Path = args.corpus
    if not corpus.is_dir():
        print(f"corpus not found: {corpus}", file=sys.stderr)
        return 2

    if args.only_long:
        print(json.dumps(sixty_minutes(corpus), indent=2))
        return 0
    model = HitModel.load()
    # What `hitdesk analyze FILE` uses for one file: the cores left over go to decoding it.
    threads = decode_threads(1)
    full = AnalysisOptions(decode_threads=threads)
    fast = AnalysisOptions(fast=True, decode_threads=threads)
    print(f"decode threads per file: {threads}", flush=True)
    files = sorted(
        p
        for p in corpus.iterdir()
        if p.is_file() and p.suffix.lower() in {".ogg", ".mp3", ".m4a", ".opus", ".flac", ".wav"}
    )
    # Warm up (imports, JIT, FFT plans) so per-track figures are after start-up.
    analyze_file(files[0], model, full)
    naive(files[0])

    rows = []
    for path in files:
        dur = probe(path).duration_s
        if dur < 150:
            continue
        try:
            t_naive = best_of(lambda p=path: naive(p), args.repeat)
        except Exception:  # librosa.load cannot read M4A without an ffmpeg program: no naive figure
            t_naive = float("nan")
        t_full = best_of(lambda p=path: analyze_file(p, model, full), args.repeat)
        t_fast = best_of(lambda p=path: analyze_file(p, model, fast), args.repeat)
        rows.append(
            {"file": path.name, "duration_s": round(dur, 1), "naive_s": t_naive, "full_s": t_full, "fast_s": t_fast}
        )
        print(
            f"{path.name:28s} {dur:6.0f}s  naive {t_naive:6.3f}  full {t_full:6.3f} ({t_naive / t_full:4.1f}x)"
            f"  fast {t_fast:6.3f} ({t_naive / t_fast:4.1f}x)",
            flush=True,
        )
    typical = [r for r in rows if 180 <= r["duration_s"] <= 360 and r["naive_s"] == r["naive_s"]]
    summary: dict[str, object] = {"rows": rows}
    if typical:
        summary["typical_3_to_6_min"] = {
            "n": len(typical),
            "median_full_s": statistics.median(r["full_s"] for r in typical),
            "median_fast_s": statistics.median(r["fast_s"] for r in typical),
            "median_naive_s": statistics.median(r["naive_s"] for r in typical),
            "median_speedup_full": statistics.median(r["naive_s"] / r["full_s"] for r in typical),
            "median_speedup_fast": statistics.median(r["naive_s"] / r["fast_s"] for r in typical),
        }
    long10 = [r for r in rows if r["duration_s"] >= 540 and r["naive_s"] == r["naive_s"]]
    if long10:
        summary["ten_minute"] = {
            "file": long10[0]["file"],
            "speedup_fast": long10[0]["naive_s"] / long10[0]["fast_s"],
            "speedup_full": long10[0]["naive_s"] / long10[0]["full_s"],
        }

    # Start-up overhead: the whole command on one short file, minus the in-process time for that file.
    short = corpus / "hr3-crossroads.ogg"
    if short.exists():
        in_proc = best_of(lambda: analyze_file(short, model, full), args.repeat)
        hitdesk = [str(Path(sys.executable).with_name("hitdesk"))]
        walls = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            subprocess.run([*hitdesk, "analyze", "--no-cache", "--json", str(short)], capture_output=True, check=False)
            walls.append(time.perf_counter() - t0)
        summary["startup_overhead_s"] = min(walls) - in_proc
        print(
            f"start-up overhead of hitdesk analyze: {summary['startup_overhead_s']:.2f} s (command {min(walls):.2f} s)"
        )

    if not args.skip_long:
        summary.update(sixty_minutes(corpus))

    print(json.dumps({k: v for k, v in summary.items() if k != "rows"}, indent=2))
    if args.json:
        args.json.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
