"""How far the style's evenly spaced patches are from tagging every patch, and what --style costs.

For each corpus file: the tagger's mean over every 3 s patch of the whole track (musicnn's own
summary) against the mean over ``hitdesk.style.MAX_PATCHES`` evenly spaced ones (full mode) and over
fast mode's pieces; then the wall time of ``analyze`` with and without ``style`` (best of two runs,
one file at a time), with the load average.

    python bench/style_agreement.py --corpus ../shared/corpus [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.audio import decode_all
from hitdesk.dsp.tagger_input import patches, tagger_frames
from hitdesk.model import HitModel
from hitdesk.model.tagger import shared_tagger
from hitdesk.style import MAX_PATCHES

AUDIO = {".ogg", ".opus", ".m4a", ".mp3", ".flac", ".wav"}


def _compare(whole: np.ndarray, part: np.ndarray) -> dict[str, float]:
    top = set(np.argsort(-whole)[:5])
    return {
        "max_abs_diff": float(np.abs(whole - part).max()),
        "top5_overlap": len(top & set(np.argsort(-part)[:5])) / 5,
        "top1_same": float(np.argmax(whole) == np.argmax(part)),
    }


def _best_time(path: Path, model: HitModel, opts: AnalysisOptions) -> float:
    times = []
    for _ in range(2):
        t0 = time.perf_counter()
        analyze(path, model, opts)
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--timing-files", type=int, default=3, help="files timed with and without style")
    args = ap.parse_args()
    model, tagger = HitModel.load(), shared_tagger()
    files = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in AUDIO)
    rows = []
    for p in files:
        every = patches(tagger_frames(decode_all(p)))
        if not len(every):
            continue
        whole = tagger.probabilities(every).mean(axis=0)
        full, full_detail = analyze(p, model, AnalysisOptions(style=True, curve=False))
        fast, fast_detail = analyze(p, model, AnalysisOptions(style=True, curve=False, fast=True))
        assert full_detail.style is not None and fast_detail.style is not None and full.ok and fast.ok
        row = {"file": p.name, "patches": len(every), "fast_mode": fast.mode}
        row["full"] = _compare(whole, full_detail.style.probabilities)
        row["fast"] = _compare(whole, fast_detail.style.probabilities)
        rows.append(row)
        print(json.dumps(row), flush=True)
    summary: dict[str, object] = {"max_patches": MAX_PATCHES, "files": len(rows)}
    for mode in ("full", "fast"):
        sel = [r[mode] for r in rows if mode == "full" or r["fast_mode"] == "fast"]
        summary[mode] = {
            "tracks": len(sel),
            "max_abs_diff_worst": max(s["max_abs_diff"] for s in sel) if sel else None,
            "max_abs_diff_median": float(np.median([s["max_abs_diff"] for s in sel])) if sel else None,
            "top5_overlap_mean": float(np.mean([s["top5_overlap"] for s in sel])) if sel else None,
            "top1_same_share": float(np.mean([s["top1_same"] for s in sel])) if sel else None,
        }
    timing = []
    longest = sorted(rows, key=lambda r: -int(r["patches"]))[: args.timing_files]
    for r in longest:
        p = args.corpus / str(r["file"])
        load_before = os.getloadavg()[0]
        plain = _best_time(p, model, AnalysisOptions(curve=False))
        styled = _best_time(p, model, AnalysisOptions(curve=False, style=True))
        timing.append(
            {
                "file": p.name,
                "seconds_of_audio": round(int(r["patches"]) * 2.992, 1),
                "analyze_s": round(plain, 2),
                "analyze_style_s": round(styled, 2),
                "load_1min": [round(load_before, 2), round(os.getloadavg()[0], 2)],
            }
        )
        print(json.dumps(timing[-1]), flush=True)
    summary["timing"] = timing
    print(json.dumps(summary, indent=2))
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
