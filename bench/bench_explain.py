"""What the explanations cost per track in default (full) mode, and what they say on the corpus.

For each track, in-process after a warm-up, the best of ``--repeat`` runs of each step, timed on
its own: the plain analysis (``hitdesk.analysis.analyze``, default options), the hit curve from its
detail (``hitdesk.explain.curve.hit_curve``), and the rest of ``hitdesk.explain.explain`` (what
drives each score, tonal balance). Timing the steps directly rather than subtracting two totals
keeps the figures usable on a loaded machine. Prints a Markdown table (top driver, strongest part)
and the load average before and after; ``--markdown`` also writes the table, with the line that says
how it was made, to a file (the README's corpus table), so it can be made again for another model.

    python bench/bench_explain.py --corpus ../shared/corpus [--repeat 3] [--model M] [--markdown t.md] [--json o.json]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import replace
from pathlib import Path

import hitdesk  # noqa: F401  (numpy's thread settings, as in the command)

# isort: split
from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.config import window_seconds_for
from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.windows import WindowPlan
from hitdesk.explain import explain
from hitdesk.explain.curve import hit_curve
from hitdesk.explain.text import strongest_part
from hitdesk.model import HitModel
from hitdesk.present import mmss

SUFFIXES = (".ogg", ".opus", ".mp3", ".flac", ".m4a", ".wav")


def timed_steps(path: Path, model: HitModel) -> tuple[float, float, float, object]:
    """(analysis s, curve s, the rest of the explanations s, the explained result)."""
    opts = AnalysisOptions(window_seconds=window_seconds_for(None, model.card.window_seconds))
    curve_s = 0.0

    def timed_curve(
        frames: MelFrames, plan: WindowPlan, tempo: dict[str, float], duration_s: float, tags: object
    ) -> object:
        nonlocal curve_s
        t = time.perf_counter()
        made = hit_curve(
            model,
            frames,
            plan,
            duration_s,
            opts.window_seconds,
            opts.curve_hop_s,
            tempo,
            tags=tags,  # type: ignore[arg-type]
        )
        curve_s = time.perf_counter() - t
        return made

    t0 = time.perf_counter()
    result, detail = analyze(path, model, opts, on_track=timed_curve)
    t1 = time.perf_counter() - curve_s  # the analysis without the curve it ran inside
    curve = detail.track_extra
    t2 = t1 + curve_s
    explained = explain(result, detail, model, replace(opts, curve=False))
    t3 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, (explained, curve)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--corpus", type=Path, required=True)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--model", default=None, help="model name or path (default: the bundled one)")
    ap.add_argument("--markdown", type=Path, default=None, help="also write the table to this file")
    args = ap.parse_args()
    model = HitModel.load(args.model)
    files = sorted(p for p in args.corpus.iterdir() if p.suffix.lower() in SUFFIXES)
    load_before = os.getloadavg()
    rows = []
    timed_steps(files[0], model)  # warm-up
    for path in files:
        runs = [timed_steps(path, model) for _ in range(args.repeat)]
        r, curve = runs[0][3]  # type: ignore[misc]
        if not r.ok or r.duration_s is None or r.duration_s < 90:
            continue
        top = r.explanation.contributions[0] if r.explanation else None
        rows.append(
            {
                "file": path.name,
                "length": mmss(r.duration_s),
                "p_hit": r.overall.p_hit if r.overall else None,
                "top_driver": None if top is None else f"{top.name} {100 * top.value:+.1f}",
                "strongest": strongest_part(curve) if curve else "no curve",
                "plain_s": min(x[0] for x in runs),
                "curve_s": min(x[1] for x in runs),
                "explanations_s": min(x[2] for x in runs),
            }
        )
        print(json.dumps(rows[-1]), flush=True)
    load_after = os.getloadavg()
    print(f"\nload average before {load_before[0]:.2f}, after {load_after[0]:.2f} (1 min)\n")
    lines = [
        "| track | length | P(hit) | top driver (points) | strongest part (P(hit)) | analysis s | +curve "
        "| +explanations |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['file']} | {r['length']} | {100 * r['p_hit']:.0f}% | {r['top_driver']} | "
            f"{r['strongest'].removeprefix('strongest part: ')} | {r['plain_s']:.2f} | "
            f"{100 * r['curve_s'] / r['plain_s']:+.0f}% | {100 * r['explanations_s'] / r['plain_s']:+.0f}% |"
        )
    total = sum(r["plain_s"] for r in rows)
    curve = sum(r["curve_s"] for r in rows)
    expl = sum(r["explanations_s"] for r in rows)
    totals = f"all tracks: curve {100 * curve / total:+.1f}%, explanations {100 * expl / total:+.1f}% of {total:.1f} s"
    print("\n".join(lines))
    print(f"\n{totals}")
    if args.markdown:
        made = (
            f"Made by `python bench/bench_explain.py --corpus {args.corpus} --repeat {args.repeat}` with "
            f"{model.card.name} {model.card.version}, best of {args.repeat}, load average {load_before[0]:.1f} "
            f"before and {load_after[0]:.1f} after; {totals}."
        )
        args.markdown.write_text("\n".join([made, "", *lines]) + "\n", encoding="utf-8")
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "load": [load_before, load_after]}, indent=1))


if __name__ == "__main__":
    main()
