"""Throughput of `hitdesk batch`: the local engine and Ray at 1 and 2 workers, and a two-node Ray cluster.

FILES links (default 200) to the corpus's tracks in turn, each cut to its first 60 s (``--seconds``;
0 keeps whole tracks, 1-6 minutes each), are scored by `python -m hitdesk batch`
into a fresh RESULTS folder per configuration, all in one run: local engine with 1 and 2 processes,
Ray (started embedded) with 1 and 2 workers. For each the wall time, tracks per minute over the wall
time and over the time after the first file (the engine's start-up left out) and the load average
are printed. Ray's start-up is its first file's time less the local engine's at the same workers.

`--cluster N` then starts a two-node Ray cluster on this machine (`ray start --head` and `ray start
--address`, one CPU each, as separate processes this script ends by their id), runs a batch of N of
the files through `--address` and checks that its rows equal the local engine's.

    python bench/bench_batch.py --corpus ../shared/corpus [--files 200] [--cluster 20] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
AUDIO = {".ogg", ".mp3", ".m4a", ".flac", ".wav", ".opus"}
CONFIGS = [("local", 1), ("local", 2), ("ray", 1), ("ray", 2)]


def _env(home: Path, extra: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        HITDESK_HOME=str(home),
        HOME=str(home),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_DATA_HOME=str(home / ".local/share"),
        PYTHONPATH=str(ROOT) + os.pathsep + env.get("PYTHONPATH", ""),
        RAY_USAGE_STATS_ENABLED="0",
    )
    env.update(extra or {})
    return env


def _excerpt(src: Path, target: Path, seconds: float) -> Path:
    """The first ``seconds`` of ``src`` as 44.1 kHz stereo FLAC (FFmpeg decodes, libsndfile encodes)."""
    import av
    import numpy as np
    import soundfile as sf

    parts, have = [], 0
    with av.open(str(src)) as container:
        resampler = av.AudioResampler(format="flt", layout="stereo", rate=44100)
        for frame in container.decode(container.streams.audio[0]):
            for out in resampler.resample(frame):
                block = out.to_ndarray().reshape(-1, 2)
                parts.append(block)
                have += len(block)
            if have >= seconds * 44100:
                break
    data = np.concatenate(parts)[: int(seconds * 44100)]
    sf.write(target, data, 44100, format="FLAC", subtype="PCM_16")
    return target


def make_files(corpus: Path, folder: Path, n: int, seconds: float) -> list[Path]:
    """``n`` files, each a link to one of the corpus's tracks in turn (or to its first ``seconds``)."""
    sources = sorted(p for p in corpus.iterdir() if p.suffix.lower() in AUDIO)
    folder.mkdir(parents=True, exist_ok=True)
    if seconds > 0:
        cut = folder.parent / "excerpts"
        cut.mkdir(exist_ok=True)
        sources = [_excerpt(p, cut / f"{p.stem}-{p.suffix[1:]}.flac", seconds) for p in sources]
    out = []
    for i in range(n):
        src = sources[i % len(sources)]
        link = folder / f"track-{i:04d}{src.suffix.lower()}"
        link.symlink_to(src.resolve())
        out.append(link)
    return out


def run_batch(args: list[str], env: dict[str, str], n: int) -> dict[str, Any]:
    """Wall time, time to the first finished file and the final line of one batch run."""
    load_before = os.getloadavg()[0]
    t0 = time.monotonic()
    cmd = [sys.executable, "-m", "hitdesk", "batch", *args]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert proc.stderr is not None
    first: float | None = None
    lines = []
    for line in proc.stderr:
        lines.append(line.rstrip())
        if first is None and line.startswith("batch: "):
            first = time.monotonic() - t0
    proc.wait()
    wall = time.monotonic() - t0
    if proc.returncode not in (0, 1):
        raise SystemExit(f"batch failed ({proc.returncode}): {' '.join(cmd)}\n" + "\n".join(lines[-20:]))
    first = first if first is not None else wall
    return {
        "wall_s": round(wall, 1),
        "first_file_s": round(first, 1),
        "tracks_per_min": round(60.0 * n / wall, 1),
        "steady_tracks_per_min": round(60.0 * (n - 1) / max(wall - first, 1e-9), 1),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
        "summary": next((x for x in reversed(lines) if x.startswith("batch ")), ""),
    }


def cluster_run(files: list[Path], work: Path, reference: Path) -> dict[str, Any]:
    """A head and a worker node (one CPU each) started here, a batch through --address, both ended."""
    ray = Path(sys.executable).with_name("ray")
    temp = Path(tempfile.mkdtemp(prefix="hdb-", dir="/tmp"))  # Ray's socket paths must stay short
    token = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
    env = _env(work / "home", token)
    port = 26379
    head_cmd = [str(ray), "start", "--head", "--block", "--num-cpus=1", f"--port={port}", "--include-dashboard=false"]
    head_cmd += ["--node-ip-address=127.0.0.1", f"--temp-dir={temp}", "--disable-usage-stats"]
    procs = [
        subprocess.Popen(
            head_cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
    ]
    try:
        time.sleep(12)
        node_cmd = [str(ray), "start", "--block", "--num-cpus=1", f"--address=127.0.0.1:{port}"]
        node_cmd += ["--node-ip-address=127.0.0.1", "--disable-usage-stats"]
        procs.append(
            subprocess.Popen(
                node_cmd, env=env, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
            )
        )
        time.sleep(12)
        out = work / "results-cluster"
        result = run_batch([*map(str, files), "--out", str(out), "--address", f"127.0.0.1:{port}"], env, len(files))
        result["against_local"] = _same_rows(out, reference, {str(f) for f in files})
        return result
    finally:
        for proc in reversed(procs):  # each `ray start --block` was given a session of its own: end that group
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
        shutil.rmtree(temp, ignore_errors=True)


def _same_rows(out: Path, reference: Path, paths: set[str]) -> dict[str, Any]:
    import pyarrow.parquet as pq

    sys.path.insert(0, str(ROOT))
    from hitdesk.batch.schema import from_row

    got = {r["path"]: r for r in pq.read_table(out).to_pylist()}
    ref = {r["path"]: r for r in pq.read_table(reference).to_pylist() if r["path"] in paths}
    # Exactly equal where the workers use as many BLAS threads as the reference run; Ray gives a worker
    # of one CPU one thread, which moves float32 scores in their last digits.
    columns = [c for c in got[next(iter(paths))] if c.endswith(("_p_hit", "_p_hit_low", "_p_hit_high"))]
    diff = max((abs(got[p][c] - ref[p][c]) for p in paths for c in columns if got[p][c] is not None), default=0.0)
    return {
        "rows": len(got),
        "exactly_equal": set(got) == paths and all(from_row(got[p]) == from_row(ref[p]) for p in paths),
        "max_score_difference": diff,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument(
        "--seconds", type=float, default=60.0, help="each file is the first S seconds of a track (0: whole tracks)"
    )
    ap.add_argument("--cluster", type=int, default=20, help="files for the two-node cluster run (0: none)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="hitdesk-bench-batch-") as tmp:
        work = Path(tmp)
        files = make_files(args.corpus, work / "files", args.files, args.seconds)
        env = _env(work / "home")
        report: dict[str, Any] = {
            "files": args.files,
            "seconds": args.seconds,
            "cpus": len(os.sched_getaffinity(0)),
            "runs": {},
        }
        for engine, jobs in CONFIGS:
            out = work / f"results-{engine}-{jobs}"
            result = run_batch(
                [str(work / "files"), "--out", str(out), "--engine", engine, "--jobs", str(jobs)], env, len(files)
            )
            report["runs"][f"{engine}-{jobs}"] = result
            print(f"{engine} x{jobs}: {json.dumps(result)}", flush=True)
        runs = report["runs"]
        for jobs in (1, 2):
            local, ray = runs[f"local-{jobs}"], runs[f"ray-{jobs}"]
            report[f"ray_startup_s_{jobs}"] = round(ray["first_file_s"] - local["first_file_s"], 1)
            report[f"ray_vs_local_{jobs}"] = round(ray["tracks_per_min"] / local["tracks_per_min"], 3)
            report[f"ray_vs_local_steady_{jobs}"] = round(
                ray["steady_tracks_per_min"] / local["steady_tracks_per_min"], 3
            )
        report["local_1_to_2"] = round(runs["local-2"]["tracks_per_min"] / runs["local-1"]["tracks_per_min"], 3)
        report["ray_1_to_2"] = round(runs["ray-2"]["tracks_per_min"] / runs["ray-1"]["tracks_per_min"], 3)
        if args.cluster:
            report["cluster"] = cluster_run(files[: args.cluster], work, work / "results-local-1")
            print(f"two-node cluster: {json.dumps(report['cluster'])}", flush=True)
        # A million tracks at the local engine's one-worker rate, per core (of files this long).
        per_core = runs["local-1"]["steady_tracks_per_min"]
        report["seconds_per_file_one_worker"] = round(60.0 / per_core, 3)
        report["million_core_hours"] = round(1e6 / per_core / 60.0, 1)
        print(json.dumps({k: v for k, v in report.items() if k != "runs"}, indent=2))
        if args.json:
            args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
