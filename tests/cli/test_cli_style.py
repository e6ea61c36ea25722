"""`hitdesk analyze --style`: the music tagger's tags in the JSON and the table, from the one pass."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from cli_run import run_hitdesk
from conftest import RESULT_KEYS, AudioFactory

from hitdesk.audio import decode_all
from hitdesk.dsp.tagger_input import patches, tagger_frames
from hitdesk.model.tagger import shared_tagger
from hitdesk.result_schema import ResultSchemaError, validate_result_dict
from hitdesk.style import MAX_PATCHES

REPO = Path(__file__).resolve().parents[2]


def _one(proc: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert proc.returncode == 0, proc.stderr
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    assert len(rows) == 1 and set(rows[0]) == RESULT_KEYS
    return validate_result_dict(rows[0])


def test_style_is_the_taggers_mean_over_the_whole_track(data_dir: Path) -> None:
    clip = data_dir / "chipdisko-12s.ogg"
    r = _one(run_hitdesk("analyze", "--json", "--no-cache", "--style", str(clip)))
    tagger = shared_tagger()
    # The same tags computed apart from the analysis, from a second decode: the pass hands the tagger
    # the very samples it would read itself.
    mean = tagger.probabilities(patches(tagger_frames(decode_all(clip)), MAX_PATCHES)).mean(axis=0)
    order = np.argsort(-mean)
    assert len(r["style"]) >= 5
    assert [t["tag"] for t in r["style"]] == [tagger.tags[i] for i in order[: len(r["style"])]]
    assert [t["p"] for t in r["style"]] == pytest.approx([float(mean[i]) for i in order[: len(r["style"])]], abs=1e-4)
    assert r["style"][0]["tag"] == "electronic"  # a chiptune dance track


def test_without_the_switch_style_is_null_and_the_table_has_no_line(data_dir: Path) -> None:
    clip = str(data_dir / "chipdisko-12s.ogg")
    assert _one(run_hitdesk("analyze", "--json", "--no-cache", clip))["style"] is None
    assert "sounds like" not in run_hitdesk("analyze", "--no-cache", clip).stdout
    table = run_hitdesk("analyze", "--no-cache", "--style", clip)
    assert table.returncode == 0, table.stderr
    line = next(x for x in table.stdout.splitlines() if "sounds like:" in x)
    assert line.strip().startswith("sounds like: electronic 0.")
    assert line.count(",") == 2  # three tags


def test_fast_mode_tags_its_excerpts(audio_factory: AudioFactory) -> None:
    long = audio_factory.sndfile("long.flac", seconds=100.0)
    r = _one(run_hitdesk("analyze", "--json", "--no-cache", "--fast", "--window-seconds", "5", "--style", str(long)))
    assert r["mode"] == "fast"
    ps = [t["p"] for t in r["style"]]
    assert len(ps) >= 5 and ps == sorted(ps, reverse=True) and 0 < ps[0] <= 1


def test_a_missing_tagger_is_one_sentence_before_any_work(data_dir: Path, tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for p in (REPO / "models").iterdir():
        if p.is_file():
            shutil.copy(p, models / p.name)
    env = {**os.environ, "HITDESK_MODELS_DIR": str(models)}
    clip = str(data_dir / "chipdisko-12s.ogg")
    proc = run_hitdesk("analyze", "--json", "--no-cache", "--style", clip, env=env)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "music tagger" in proc.stderr and "Traceback" not in proc.stderr
    assert run_hitdesk("analyze", "--json", "--no-cache", clip, env=env).returncode == 0


def test_the_schema_refuses_a_style_out_of_order_or_out_of_range(data_dir: Path) -> None:
    good = _one(run_hitdesk("analyze", "--json", "--no-cache", "--style", str(data_dir / "chipdisko-12s.ogg")))
    for style in (list(reversed(good["style"])), [{"tag": "rock", "p": 1.5}], [{"tag": "", "p": 0.5}], "rock"):
        with pytest.raises(ResultSchemaError, match="style"):
            validate_result_dict({**good, "style": style})
    failed = {**good, "error": "x.", "style": good["style"], "segments": [], "overall": None, "loudness": None}
    failed.update(dict.fromkeys(("familiarity", "stereo", "clipping", "curve", "explanation", "tonal_balance")))
    with pytest.raises(ResultSchemaError, match="no scores"):
        validate_result_dict(failed)
