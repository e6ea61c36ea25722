"""How far nuisance changes of the same music move P(hit): the margin of the paired comparison.

Each corpus track (one file per piece of music; the corpus's shorter cuts and second encodings of
the same music are left out) is scored as it is and after each change in tests/nuisance.py: MP3
128 kbps, Opus 96 kbps, AAC 128 kbps, gain +6 / -6 dB, resampling to 48 kHz (44.1 kHz for a track
already at 48 kHz), mono fold-down, and +/-2 dB shelves (high shelf at 4 kHz, low shelf at 200 Hz).
The corpus's own second encodings (chipdisko.mp3, forest-sprint.m4a) are scored against their
Vorbis originals too. Every change gives one pair (original, changed) and its |difference| of the
overall P(hit); the segments' differences are reported beside it.

The margin is the 99th percentile of the overall |difference| rounded up to the next half point
(0.005). With ``--card`` it is written into that model card's "comparison" section, which the
comparison rule reads (hitdesk.ranking.rule_for_card), so re-running this for a new model sets
its own margin; with ``--fast`` too, into the section's "fast" entry, used for fast-mode scores:

    "comparison": {"margin", "nuisance_p99", "n_pairs", "measured_on", "mode", "rule", ...}

``rule`` says how "clear" is decided for that model: "paired-members" for a model whose head gives
member scores, "ranges-overlap" for one that gives none (the margin is then measured and recorded,
but the existing overlap rule decides). Prints a Markdown table (for the README) and the load average.

``--pairs out.json`` takes the pairs an earlier run wrote (``--json``) instead of scoring again, for a
model whose P(hit) is the same graph's: hitdesk-zalo-v1's card was written from the run on its copy
with the member output renamed (tests/member_model.py), which gives the same P(hit) and adds the
members' agreement.

    python bench/bench_nuisance.py [--corpus DIR] [--model SPEC] [--card CARD.json]
        [--fast] [--json out.json] [--pairs out.json] [--tracks N]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.config import window_seconds_for
from hitdesk.model import HitModel
from hitdesk.ranking import member_differences
from hitdesk.results import TrackResult

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # the changes live beside the tests
from nuisance import CHANGES, read_native, write_changes

DEFAULT_CORPUS = Path("/work/shared/corpus")
# One file per piece of music; excerpts and second encodings of the same music are left out.
TRACKS = (
    "armygeddon-mix.ogg",
    "awakening.ogg",
    "battle_theme.ogg",
    "blupi-music004-long.ogg",
    "chaos_god-guitar.ogg",
    "chaos_god-mix.ogg",
    "chipdisko.ogg",
    "elvish-theme.ogg",
    "forest-sprint.ogg",
    "hr3-crossroads.ogg",
    "loyalists.ogg",
    "warzone-track3.opus",
)
# The corpus's own re-encodings of the same music, against their originals.
CORPUS_PAIRS = (
    ("chipdisko.ogg", "chipdisko.mp3", "corpus mp3-192k"),
    ("forest-sprint.ogg", "forest-sprint.m4a", "corpus aac"),
)
PERCENTILES = (50, 90, 95, 99)
STEP = 0.005  # the margin is the 99th percentile rounded up to the next half point


def margin_from(p99: float) -> float:
    """Above the 99th percentile: rounded up to the next half point (strictly above it)."""
    return round((math.floor(p99 / STEP) + 1) * STEP, 4)


def pair_row(kind: str, track: str, a: TrackResult, b: TrackResult) -> dict[str, Any]:
    assert a.overall is not None and b.overall is not None, (a.error, b.error)
    diffs = member_differences(b.overall, a.overall)
    agree = diffs is not None and (all(d > 0 for d in diffs) or all(d < 0 for d in diffs))
    return {
        "kind": kind,
        "track": track,
        "original": a.overall.p_hit,
        "changed": b.overall.p_hit,
        "difference": b.overall.p_hit - a.overall.p_hit,
        "segments": [sb.score.p_hit - sa.score.p_hit for sa, sb in zip(a.segments, b.segments, strict=True)],
        "members_agree": agree,
        "member_mean": None if diffs is None else float(np.mean(diffs)),
    }


def measure(corpus: Path, model: HitModel, opts: AnalysisOptions, tracks: tuple[str, ...]) -> list[dict[str, Any]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="hitdesk-nuisance-") as tmp:
        for name in tracks:
            path = corpus / name
            t0 = time.perf_counter()
            original = analyze_file(path, model, opts)
            data, sr = read_native(path)
            changed = write_changes(data, sr, Path(tmp), path.stem)
            for kind, file in changed.items():
                rows.append(pair_row(kind, name, original, analyze_file(file, model, opts)))
                file.unlink()
            print(f"{name}: {len(changed)} changes, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        for first, second, kind in CORPUS_PAIRS:
            if (corpus / first).exists() and (corpus / second).exists():
                a, b = analyze_file(corpus / first, model, opts), analyze_file(corpus / second, model, opts)
                rows.append(pair_row(kind, first, a, b))
    return rows


def percentiles(values: list[float]) -> dict[str, float]:
    arr = np.abs(np.asarray(values, dtype=np.float64))
    out = {f"p{q}": float(np.percentile(arr, q)) for q in PERCENTILES}
    out["max"] = float(arr.max())
    return out


def table(rows: list[dict[str, Any]]) -> str:
    """|difference| in points of P(hit), per change and over all pairs (overall score; segments last)."""
    head = "| change | pairs | " + " | ".join(f"p{q}" for q in PERCENTILES) + " | max |"
    lines = [head, "|" + "---|" * (3 + len(PERCENTILES))]
    kinds = [*CHANGES, *sorted({r["kind"] for r in rows} - set(CHANGES))]
    for kind in kinds:
        sel = [r["difference"] for r in rows if r["kind"] == kind]
        if sel:
            lines.append(_line(kind, sel))
    lines.append(_line("**all (overall score)**", [r["difference"] for r in rows]))
    lines.append(_line("all (the three segments)", [d for r in rows for d in r["segments"]]))
    return "\n".join(lines)


def _line(label: str, values: list[float]) -> str:
    pct = percentiles(values)
    cells = " | ".join(f"{100 * pct[f'p{q}']:.2f}" for q in PERCENTILES)
    return f"| {label} | {len(values)} | {cells} | {100 * pct['max']:.2f} |"


def comparison_section(
    rows: list[dict[str, Any]], has_members: bool, fast: bool, measured: str, tracks: int
) -> dict[str, Any]:
    p99 = percentiles([r["difference"] for r in rows])["p99"]
    margin = margin_from(p99)
    section: dict[str, Any] = {
        "margin": margin,
        "nuisance_p99": round(p99, 5),
        "n_pairs": len(rows),
        "measured_on": (
            f"{tracks} corpus tracks and their changes ({', '.join(CHANGES)}) plus the "
            f"corpus's own second encodings; bench/bench_nuisance.py, {measured}"
        ),
        "mode": "fast" if fast else "full",
    }
    if has_members:
        agree = [r for r in rows if r["members_agree"]]
        section["rule"] = "paired-members"
        section["nuisance_members_agree_share"] = round(len(agree) / len(rows), 4)
        section["nuisance_clear_share"] = round(sum(1 for r in agree if abs(r["member_mean"]) > margin) / len(rows), 4)
    else:
        section["rule"] = "ranges-overlap"
        section["note"] = (
            "This model gives no member scores, so a difference is called clear when the two ensemble ranges "
            "do not overlap; the margin is measured and recorded but does not decide."
        )
    return section


def write_card(card: Path, section: dict[str, Any], fast: bool) -> None:
    """Full mode's figures are the section; fast mode's go in its "fast" entry (the rule uses them for
    fast-mode scores), leaving the rest as it was."""
    raw = json.loads(card.read_text(encoding="utf-8"))
    if fast:
        keep = ("margin", "nuisance_p99", "n_pairs", "measured_on")
        raw.setdefault("comparison", {})["fast"] = {k: section[k] for k in keep}
    else:
        raw["comparison"] = {
            **section,
            **({"fast": raw["comparison"]["fast"]} if "fast" in raw.get("comparison", {}) else {}),
        }
    card.write_text(json.dumps(raw, indent=1, ensure_ascii=False, allow_nan=False) + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--model", help="model name or path (default: the bundled one)")
    parser.add_argument("--card", type=Path, help="write the margin into this model card's 'comparison' section")
    parser.add_argument("--fast", action="store_true", help="score in fast mode (excerpts) instead of full")
    parser.add_argument("--tracks", type=int, default=len(TRACKS), help="use the first N tracks")
    parser.add_argument("--json", type=Path, help="also write every pair to this file")
    parser.add_argument("--pairs", type=Path, help="take the pairs from an earlier run's --json instead of scoring")
    args = parser.parse_args()

    model = HitModel.load(args.model)
    window_s = window_seconds_for(None, model.card.window_seconds)
    opts = AnalysisOptions(window_seconds=window_s, fast=args.fast, curve=False)
    tracks = tuple(t for t in TRACKS[: args.tracks] if (args.corpus / t).exists())
    if not tracks:
        raise SystemExit(f"none of the corpus tracks is in {args.corpus}")
    if args.pairs:
        earlier = json.loads(args.pairs.read_text(encoding="utf-8"))
        rows, measured, seconds = earlier["pairs"], earlier["measured"], earlier["seconds"]
    else:
        before = os.getloadavg()
        t0 = time.perf_counter()
        rows = measure(args.corpus, model, opts, tracks)
        after = os.getloadavg()
        seconds = time.perf_counter() - t0
        measured = f"{date.today().isoformat()}, load average {before[0]:.1f}-{after[0]:.1f}"
    section = comparison_section(rows, model.has_members, args.fast, measured, len(tracks))
    print(table(rows))
    print(
        f"\n{len(rows)} pairs, {seconds:.0f} s, {measured}; "
        f"p99 {100 * section['nuisance_p99']:.2f} pts, margin {100 * section['margin']:.1f} pts ({section['rule']})"
    )
    if args.json:
        out = {"comparison": section, "model": model.info.to_dict(), "measured": measured, "seconds": seconds}
        out["pairs"] = rows
        args.json.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    if args.card:
        write_card(args.card, section, args.fast)
        print(f"wrote the margin into {args.card}")


if __name__ == "__main__":
    main()
