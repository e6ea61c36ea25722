"""``hitdesk-train features``: a manifest's features into the cache with the batch engines, so ``fit``
decodes nothing twice."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from hitdesk.training.featcache import FeatureCache
from hitdesk.training.manifest import read_manifest

REPO = Path(__file__).resolve().parents[2]


def _features(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "hitdesk.training.cli", "features", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def test_features_fill_the_cache_fit_reads(tmp_path: Path, data_dir: Path) -> None:
    clips = sorted(p for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})
    bad = tmp_path / "notes.ogg"
    bad.write_text("not audio\n", encoding="utf-8")
    manifest = tmp_path / "m.csv"
    rows = [f"{p},{i % 2}" for i, p in enumerate([*clips, bad])]
    manifest.write_text("path,label\n" + "\n".join(rows) + "\n", encoding="utf-8")
    cache = tmp_path / "features"

    first = _features("--manifest", str(manifest), "--cache-dir", str(cache), "--jobs", "2")
    assert first.returncode == 1, first.stderr  # the text file failed, with its sentence
    assert f"0 already there, {len(clips)} computed, 1 failed" in first.stdout
    assert "notes.ogg" in first.stderr
    assert "features: 4/4 done, 1 failed" in first.stderr

    again = _features("--manifest", str(manifest), "--cache-dir", str(cache), "--jobs", "1")
    assert f"{len(clips)} already there, 0 computed, 1 failed" in again.stdout

    # What fit reads: every track from the cache, none computed.
    tracks = [t for t in read_manifest(manifest) if t.path != bad]
    reader = FeatureCache(cache, progress=False)
    feats, errors = reader.features(tracks)
    assert errors == [] and all(f is not None for f in feats)
    assert reader.hits == len(clips) and reader.misses == 0
