"""deephits-multimodal end to end: audio + lyrics embedding + metadata, its ablation, and the app's use of it.

Tiny runs (one epoch, 3 s windows, 3 folds) on the recipe clips with a lyrics column: they prove the
plumbing (embedding, joined side input, export parity, card, report, loading, lyrics at analysis).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from recipe_clips import write_clip_manifest

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.model.runtime import HitModel
from hitdesk.take_lyrics import NO_LYRICS_NOTE
from hitdesk.training.cli import main

REPO = Path(__file__).resolve().parents[2]
OPTS = AnalysisOptions(window_seconds=3.0, curve=False)


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    root = tmp_path_factory.mktemp("multimodal")
    manifest = write_clip_manifest(root / "clips", lyrics=True)
    args = ["fit", "--recipe", "deephits-multimodal", "--manifest", str(manifest), "--out", str(root / "models")]
    args += ["--report", str(root / "report.md"), "--folds", "3", "--window-seconds", "3", "--epochs", "1"]
    args += ["--cache-dir", str(root / "cache")]
    assert main(args) == 0
    return manifest, root / "models" / "manifest-deephits-multimodal", root / "report.md"


def test_the_card_declares_lyrics_and_metadata(fitted: tuple[Path, Path, Path]) -> None:
    _, stem, _ = fitted
    card = json.loads(stem.with_suffix(".json").read_text())
    assert card["recipe"] == "deephits-multimodal" and card["task"] == "tiers3"
    assert card["runtime"]["inputs"] == ["logmel", "meta", "lyrics"]
    assert card["runtime"]["meta"]["columns"] == ["year"]
    assert card["export_parity_max_abs_diff"] <= 1e-3
    assert "9 of 12" in card["model"]["lyrics"]


def test_the_report_has_the_ablation(fitted: tuple[Path, Path, Path]) -> None:
    report = fitted[2].read_text()
    for row in ("audio only", "lyrics only", "metadata only", "deephits-multimodal"):
        assert row in report, row


def test_the_app_feeds_the_lyrics_beside_a_take(fitted: tuple[Path, Path, Path], tmp_path: Path) -> None:
    manifest, stem, _ = fitted
    model = HitModel(stem)
    take = tmp_path / "clip00.wav"
    take.write_bytes((manifest.parent / "clip00.wav").read_bytes())
    without = analyze_file(take, model, OPTS)
    assert without.error is None and NO_LYRICS_NOTE in without.notes
    take.with_suffix(".txt").write_text("the rocket climbs into the stars", encoding="utf-8")
    with_lyrics = analyze_file(take, model, OPTS)
    assert with_lyrics.error is None and NO_LYRICS_NOTE not in with_lyrics.notes
    assert with_lyrics.overall is not None and 0.0 <= with_lyrics.overall.p_hit <= 1.0
    assert with_lyrics.loudness == without.loudness


def test_the_cli_scores_with_the_model(fitted: tuple[Path, Path, Path]) -> None:
    manifest, stem, _ = fitted
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "hitdesk", "analyze", "--model", str(stem.with_suffix(".onnx")), "--json"]
    cmd += ["--window-seconds", "3", "--no-cache", *(str(manifest.parent / f"clip0{i}.wav") for i in (0, 1))]
    out = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True)
    rows = json.loads(out.stdout)
    assert all(r["error"] is None for r in rows)
    assert NO_LYRICS_NOTE in rows[0]["notes"]  # clip00's lyrics are in the manifest's cell only
    assert NO_LYRICS_NOTE not in rows[1]["notes"]  # clip01.lrc is beside clip01.wav


def test_a_manifest_without_lyrics_is_refused_in_one_sentence(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = write_clip_manifest(tmp_path / "clips", n=6)
    args = ["fit", "--recipe", "deephits-multimodal", "--manifest", str(manifest), "--out", str(tmp_path / "m")]
    args += ["--folds", "2", "--window-seconds", "3", "--epochs", "1", "--cache-dir", str(tmp_path / "c")]
    assert main(args) != 0
    assert "needs a 'lyrics' column in the manifest" in capsys.readouterr().err
