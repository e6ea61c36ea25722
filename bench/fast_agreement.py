"""How well --fast agrees with the default (full) mode, and how segment scores relate to overall.

For every corpus file long enough for fast mode to read excerpts, computes the overall P(hit) in
both modes and reports the Spearman correlation across tracks. Also tries other excerpt counts and
lengths (the measurement behind FAST_EXCERPTS and FAST_EXCERPT_SECONDS), and reports how the three
segment scores relate to the overall score.

    python bench/fast_agreement.py --corpus ../shared/corpus [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from scipy.stats import spearmanr

import hitdesk.analysis as analysis
from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.model import HitModel

CONFIGS = [(3, 10.0), (6, 5.0), (6, 10.0), (9, 5.0), (9, 10.0)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpus", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "corpus")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    model = HitModel.load()
    files = sorted(
        p for p in args.corpus.iterdir() if p.suffix.lower() in {".ogg", ".opus", ".m4a", ".mp3", ".flac", ".wav"}
    )
    full = {p.name: analyze_file(p, model) for p in files}
    full = {k: v for k, v in full.items() if v.ok}
    out: dict[str, object] = {}

    # Segment scores against overall (full mode), across all tracks.
    names = sorted(full)
    overall = np.array([full[n].overall.p_hit for n in names])  # type: ignore[union-attr]
    seg = {
        s: np.array([next(x.score.p_hit for x in full[n].segments if x.name == s) for n in names])
        for s in ("beginning", "middle", "end")
    }
    mean3 = np.mean([seg[s] for s in seg], axis=0)
    rel = {s: float(spearmanr(seg[s], overall)[0]) for s in seg}
    rel["mean_of_three"] = float(spearmanr(mean3, overall)[0])
    out["segments_vs_overall_spearman"] = rel
    out["segments_vs_overall_mean_abs_diff"] = {s: float(np.mean(np.abs(seg[s] - overall))) for s in seg}
    print(f"segments vs overall (Spearman across {len(names)} tracks):", json.dumps(rel))

    results = []
    original = (analysis.FAST_EXCERPTS, analysis.FAST_EXCERPT_SECONDS)
    for count, length in sorted({*CONFIGS, original}):
        analysis.FAST_EXCERPTS, analysis.FAST_EXCERPT_SECONDS = count, length
        fast_p, full_p, used, t0 = [], [], [], time.perf_counter()
        for p in files:
            if p.name not in full:
                continue
            r = analyze_file(p, model, AnalysisOptions(fast=True))
            if r.ok and r.mode == "fast":
                fast_p.append(r.overall.p_hit)  # type: ignore[union-attr]
                full_p.append(full[p.name].overall.p_hit)  # type: ignore[union-attr]
                used.append(p.name)
        rho = float(spearmanr(fast_p, full_p)[0]) if len(used) > 2 else float("nan")
        mad = float(np.mean(np.abs(np.array(fast_p) - np.array(full_p)))) if used else float("nan")
        row = {
            "excerpts": count,
            "excerpt_s": length,
            "n_tracks": len(used),
            "spearman": rho,
            "mean_abs_diff": mad,
            "seconds": time.perf_counter() - t0,
            "default": (count, length) == original,
        }
        results.append(row)
        print(json.dumps(row), flush=True)
    analysis.FAST_EXCERPTS, analysis.FAST_EXCERPT_SECONDS = original
    out["fast_vs_full"] = results
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
