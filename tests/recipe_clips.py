"""A dozen real clips for recipe tests: the tests/data clips and excerpts made from them.

Each excerpt is a stretch of a licensed clip, some filtered darker, so the songs differ in sound;
popularity follows brightness (with noise), artists come in pairs and one metadata column is given.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import soundfile as sf

from hitdesk.audio import iter_blocks
from hitdesk.config import FEATURES

DATA = Path(__file__).parent / "data"
SOURCES = ("chipdisko-12s.ogg", "forest-sprint-6s.m4a")
EXCERPT_SECONDS = 4.5


def _decode(path: Path) -> np.ndarray:
    return np.concatenate([np.asarray(b, dtype=np.float32) for b in iter_blocks(path)])


def _darker(x: np.ndarray, strength: float) -> np.ndarray:
    """A one-pole low-pass: less treble, the same music."""
    y = np.empty_like(x)
    acc = 0.0
    a = float(strength)
    for i in range(x.size):  # short clips: a plain loop is quick enough
        acc = a * acc + (1.0 - a) * float(x[i])
        y[i] = acc
    return y


LYRICS = (
    "sailing on the ocean under a silver moon",
    "neon lights and traffic on the avenue",
    "[00:01.00]the rocket climbs into the stars\n[00:03.00]goodbye planet earth",
)


def write_clip_manifest(folder: Path, n: int = 12, seed: int = 0, lyrics: bool = False) -> Path:
    """Writes ``n`` WAV excerpts and ``manifest.csv`` (path, popularity, artist, year) into ``folder``.

    With ``lyrics``, a ``lyrics`` column too: text in the cell, an .lrc file, or nothing (every fourth clip).
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    sr = FEATURES.sample_rate
    sources = [_decode(DATA / name) for name in SOURCES]
    rows = []
    for i in range(n):
        src = sources[i % len(sources)]
        length = int(EXCERPT_SECONDS * sr)
        start = int(rng.integers(0, max(1, src.size - length)))
        clip = src[start : start + length]
        dark = i % 3 == 0
        if dark:
            clip = _darker(clip, 0.9)
        clip = (0.8 * clip / max(1e-6, float(np.abs(clip).max()))).astype(np.float32)
        name = f"clip{i:02d}.wav"
        sf.write(folder / name, clip, sr, subtype="PCM_16")
        popularity = (20.0 if dark else 60.0) + float(rng.uniform(0, 30))
        row = {"path": name, "popularity": f"{popularity:.1f}", "artist": f"artist{i // 2}", "year": 2000 + i}
        if lyrics and i % 4 == 1:
            (folder / f"clip{i:02d}.lrc").write_text(LYRICS[2] + f" {i}\n", encoding="utf-8")
            row["lyrics"] = f"clip{i:02d}.lrc"
        elif lyrics and i % 4 != 3:
            row["lyrics"] = f"{LYRICS[int(dark)]}, verse {i}"
        rows.append(row)
    manifest = folder / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(
            fh, fieldnames=["path", "popularity", "artist", "year", *(["lyrics"] if lyrics else [])]
        )
        writer.writeheader()
        writer.writerows(rows)
    return manifest
