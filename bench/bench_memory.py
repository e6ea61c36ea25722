"""Peak memory and wall time of `hitdesk analyze` on long generated files, full mode and --fast.

The promise (README, "Performance"): GNU time's maximum resident set size of the whole command
stays at or under 500 MiB for a track of any length. Measured on a 4-hour 8 kHz mono WAV and a
1-hour 44.1 kHz stereo file as WAV and as FLAC, each run as

    /usr/bin/time -v python -m hitdesk analyze --json --no-cache FILE [--fast]

The files are music-like (tones with vibrato and chord changes, noise bursts, drum-like clicks at a
changing tempo, swells and near-silent passages) and made with soundfile into a temporary folder
(`--keep DIR` writes them there instead and reuses them on the next run). They are never committed.

    python bench/bench_memory.py [--keep /tmp/hitdesk-long] [--only wav4h] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

LIMIT_MIB = 500.0
REPO = Path(__file__).resolve().parents[1]


@dataclass(frozen=True)
class LongFile:
    key: str
    name: str
    rate: int
    channels: int
    hours: float
    fmt: str
    subtype: str


FILES = (
    LongFile("wav4h", "four-hours-8k-mono.wav", 8000, 1, 4.0, "WAV", "PCM_16"),
    LongFile("wav1h", "one-hour-44k-stereo.wav", 44100, 2, 1.0, "WAV", "PCM_16"),
    LongFile("flac1h", "one-hour-44k-stereo.flac", 44100, 2, 1.0, "FLAC", "PCM_16"),
)


def music_like(rate: int, channels: int, start: int, n: int, seed: int) -> np.ndarray:
    """Samples ``start .. start + n`` of a deterministic music-like signal, (n, channels) float32.

    Every 8 s section has its own chord, loudness and beat; sections repeat no pattern, so MFCC
    statistics, tempo and loudness have something to measure throughout the file.
    """
    out = np.zeros((n, channels), dtype=np.float64)
    t_all = (start + np.arange(n)) / rate
    section_s = 8.0
    first, last = int(t_all[0] // section_s), int(t_all[-1] // section_s)
    for sec in range(first, last + 1):
        mask = (t_all >= sec * section_s) & (t_all < (sec + 1) * section_s)
        if not mask.any():
            continue
        t = t_all[mask]
        rng = np.random.default_rng(seed * 1_000_003 + sec)
        root = 110.0 * 2 ** (rng.integers(0, 24) / 12)
        gain = 10 ** (rng.uniform(-30.0, -3.0) / 20) if rng.random() > 0.05 else 1e-4  # a rare near-silence
        chord = np.zeros_like(t)
        for step in (0, 4, 7, 12):
            f = root * 2 ** (step / 12)
            if f < 0.45 * rate:
                chord += np.sin(2 * np.pi * f * t + 0.3 * np.sin(2 * np.pi * 5.0 * t))
        swell = 0.6 + 0.4 * np.sin(2 * np.pi * t / rng.uniform(2.0, 8.0))
        bpm = rng.uniform(70.0, 170.0)
        phase = (t * bpm / 60.0) % 1.0
        clicks = np.exp(-phase * 40.0) * np.random.default_rng(seed + sec).standard_normal(t.size)
        burst = np.where(rng.random() < 0.3, np.exp(-((t % 2.0) * 6.0)), 0.0) * rng.standard_normal(t.size)
        mono = gain * (0.25 * chord * swell + 0.4 * clicks + 0.2 * burst)
        for c in range(channels):
            out[mask, c] = mono * (1.0 - 0.3 * c) + 0.02 * c * chord
    return np.clip(out, -1.0, 1.0).astype(np.float32)


def make_file(spec: LongFile, folder: Path) -> Path:
    path = folder / spec.name
    if path.exists():
        return path
    partial = path.with_suffix(".part" + path.suffix)
    total = int(spec.hours * 3600 * spec.rate)
    block = 60 * spec.rate
    with sf.SoundFile(partial, "w", spec.rate, spec.channels, spec.subtype, format=spec.fmt) as f:
        for a in range(0, total, block):
            f.write(music_like(spec.rate, spec.channels, a, min(block, total - a), seed=spec.rate + spec.channels))
    partial.rename(path)
    return path


def measure(path: Path, fast: bool) -> dict[str, float]:
    """One `hitdesk analyze` under GNU time: its maximum RSS (MiB) and wall time (s)."""
    cmd = ["/usr/bin/time", "-v", sys.executable, "-m", "hitdesk", "analyze", "--json", "--no-cache", str(path)]
    if fast:
        cmd.append("--fast")
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False, env=env)
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", proc.stderr)
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", proc.stderr)
    if proc.returncode != 0 or rss is None or wall is None:
        raise SystemExit(f"{path.name}: hitdesk analyze failed ({proc.returncode}):\n{proc.stderr[-2000:]}")
    result = json.loads(proc.stdout)
    first = result[0] if isinstance(result, list) else result
    if first.get("error"):
        raise SystemExit(f"{path.name}: {first['error']}")
    seconds = 0.0
    for part in wall.group(1).split(":"):
        seconds = seconds * 60 + float(part)
    return {"max_rss_mib": int(rss.group(1)) / 1024, "wall_s": seconds, "p_hit": float(first["overall"]["p_hit"])}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--keep", type=Path, help="make (or reuse) the files in this folder instead of a temporary one")
    ap.add_argument("--only", choices=[f.key for f in FILES], action="append", help="measure only these files")
    ap.add_argument("--mode", choices=["full", "fast"], action="append", help="measure only these modes")
    ap.add_argument("--json", type=Path, help="also write the figures here")
    args = ap.parse_args()
    if not Path("/usr/bin/time").exists():
        raise SystemExit("GNU time (/usr/bin/time) is needed: apt-get install time")
    specs = [f for f in FILES if not args.only or f.key in args.only]
    modes = args.mode or ["full", "fast"]
    rows = []
    with tempfile.TemporaryDirectory(prefix="hitdesk-bench-memory-") as tmp:
        folder = args.keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        print(f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        for spec in specs:
            path = make_file(spec, folder)
            for mode in modes:
                load = os.getloadavg()[0]
                figures = measure(path, fast=mode == "fast")
                row = {
                    "file": spec.name,
                    "mode": mode,
                    "load_before": load,
                    **figures,
                    "load_after": os.getloadavg()[0],
                }
                rows.append(row)
                verdict = "ok" if figures["max_rss_mib"] <= LIMIT_MIB else f"OVER {LIMIT_MIB:.0f} MiB"
                print(
                    f"{spec.name:26} {mode:4}  max RSS {figures['max_rss_mib']:4.0f} MiB"
                    f"  wall {figures['wall_s']:6.1f} s"
                    f"  P(hit) {figures['p_hit']:.4f}  load {load:.1f}-{row['load_after']:.1f}  {verdict}",
                    flush=True,
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    if any(r["max_rss_mib"] > LIMIT_MIB for r in rows):
        sys.exit(1)


if __name__ == "__main__":
    main()
