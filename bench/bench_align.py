"""Alignment confidence on corpus pairs: takes of one song against pairs of different songs.

Same song: the corpus's stems and codec/format variants of one track (a mix and its guitar stem, Vorbis
and MP3, an excerpt of a longer file), and edits made here at the signal level: a track with its first
seconds cut, and the same with another song's opening put in front (a different intro). Different
songs: every pair of distinct tracks. Each envelope is the analysis's (``onset_envelope`` of the mel
frames of one decode at 22,050 Hz), so the figures are what the app sees.

    python bench/bench_align.py --corpus ../shared/corpus [--json out.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from pathlib import Path

import numpy as np

from hitdesk.align import SAME_SONG_MIN_CONFIDENCE, align
from hitdesk.audio import decode_all
from hitdesk.config import FEATURES
from hitdesk.dsp.mel import melspectrogram
from hitdesk.dsp.rhythm import onset_envelope

SONGS = (
    "armygeddon-mix.ogg",
    "awakening.ogg",
    "battle_theme.ogg",
    "blupi-music004-long.ogg",
    "chaos_god-mix.ogg",
    "chipdisko.ogg",
    "elvish-theme.ogg",
    "forest-sprint.ogg",
    "hr3-crossroads.ogg",
    "loyalists.ogg",
    "warzone-track3.opus",
)
# (a, b, how much later b's music is, or None when not known in advance)
SAME = (
    ("chaos_god-mix.ogg", "chaos_god-guitar.ogg", 0.0),
    ("chipdisko.ogg", "chipdisko.mp3", None),
    ("forest-sprint.ogg", "forest-sprint.m4a", None),
    ("elvish-theme.ogg", "elvish-theme-60s.flac", None),
    ("awakening.ogg", "awakening-30s-24bit.wav", None),
    ("loyalists.ogg", "loyalists-8k-u8.wav", None),
)
CUT_S = 7.3  # seconds cut from the start of the edited take
INTRO_S = 12.0  # another song's opening put in front of it


def envelope(samples: np.ndarray) -> np.ndarray:
    return onset_envelope(melspectrogram(samples))


def measure(corpus: Path) -> dict[str, object]:
    audio = {}
    for name in sorted({*SONGS, *(p[1] for p in SAME), *(p[0] for p in SAME)}):
        audio[name] = decode_all(corpus / name)
    env = {name: envelope(y) for name, y in audio.items()}
    rate = FEATURES.sample_rate
    same = []
    for a, b, expect in SAME:
        r = align(env[a], env[b])
        same.append(
            {
                "a": a,
                "b": b,
                "offset_s": r.offset_s,
                "expected_s": expect,
                "confidence": r.confidence,
                "correlation": r.correlation,
                "margin": r.margin,
            }
        )
    for song, intro in (("battle_theme.ogg", "chipdisko.ogg"), ("armygeddon-mix.ogg", "awakening.ogg")):
        cut = audio[song][round(CUT_S * rate) :]
        for label, edited, expect in (
            ("cut", cut, -CUT_S),
            ("new intro", np.concatenate([audio[intro][: round(INTRO_S * rate)], cut]), INTRO_S - CUT_S),
        ):
            r = align(env[song], envelope(edited))
            same.append(
                {
                    "a": song,
                    "b": f"{song} ({label})",
                    "offset_s": r.offset_s,
                    "expected_s": expect,
                    "confidence": r.confidence,
                    "correlation": r.correlation,
                    "margin": r.margin,
                }
            )
    different = []
    t0 = time.perf_counter()
    for a, b in itertools.combinations(SONGS, 2):
        r = align(env[a], env[b])
        different.append(
            {
                "a": a,
                "b": b,
                "offset_s": r.offset_s,
                "confidence": r.confidence,
                "correlation": r.correlation,
                "margin": r.margin,
            }
        )
    per_pair_ms = 1000 * (time.perf_counter() - t0) / len(different)
    return {
        "threshold": SAME_SONG_MIN_CONFIDENCE,
        "same": same,
        "different": different,
        "same_min": min(float(p["confidence"]) for p in same),  # type: ignore[arg-type]
        "different_max": max(float(p["confidence"]) for p in different),  # type: ignore[arg-type]
        "align_ms_per_pair": per_pair_ms,
    }


def _line(p: dict[str, object]) -> str:
    head = f"{p['confidence']:.3f} ({p['correlation']:.3f}, {p['margin']:.3f})  {p['offset_s']:+8.3f} s"
    expected = f" (expected {p['expected_s']})" if "expected_s" in p else ""
    return f"{head}{expected}  {p['a']} / {p['b']}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("/work/shared/corpus"))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    out = measure(args.corpus)
    for p in out["same"]:  # type: ignore[union-attr]
        print("same  " + _line(p))
    for p in sorted(out["different"], key=lambda p: -p["confidence"])[:8]:  # type: ignore[union-attr]
        print("diff  " + _line(p))
    print(f"same-song lowest {out['same_min']:.3f}, different-song highest {out['different_max']:.3f}")
    print(f"threshold {out['threshold']}, {out['align_ms_per_pair']:.1f} ms per pair")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
