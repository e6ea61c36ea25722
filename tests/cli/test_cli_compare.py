"""`hitdesk compare` as a user runs it: a real process, real clips, the shipped model's graphs with
and without their member scores (tests/member_model.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from cli_run import run_hitdesk
from member_model import write_member_model, write_plain_model

from hitdesk.ranking import PairedRule
from hitdesk.results import Score

PAIR_KEYS = {"a", "b", "difference", "clear", "members_agree"}


@pytest.fixture
def takes(data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "takes"
    folder.mkdir()
    for name in ("chipdisko-12s.ogg", "forest-sprint-6s.m4a", "elvish-theme-3s-24bit.flac"):
        shutil.copy(data_dir / name, folder / name)
    (folder / "broken.mp3").write_text("not audio at all")
    return folder


def _p(take: dict[str, Any]) -> float:
    return float(take["overall"]["p_hit"])


@pytest.mark.usefixtures("needs_model")
def test_json_ranks_the_takes_as_analyze_scores_them_and_lists_the_failure_last(takes: Path, tmp_path: Path) -> None:
    plain = str(write_plain_model(tmp_path / "models"))  # no member scores: the ranges decide
    proc = run_hitdesk("compare", "--json", "--window-seconds", "4", "--model", plain, str(takes))
    assert proc.returncode == 1, proc.stderr  # one file failed, as analyze says
    doc = json.loads(proc.stdout)
    assert list(doc) == ["takes", "pairs"]
    scored, failed = doc["takes"][:3], doc["takes"][3]
    assert Path(failed["file"]).name == "broken.mp3" and failed["error"].endswith(".") and failed["overall"] is None
    assert [_p(t) for t in scored] == sorted((_p(t) for t in scored), reverse=True)
    # Each take is the object `analyze --json` gives for that file (the same analysis, from the cache).
    analysed = json.loads(
        run_hitdesk("analyze", "--json", "--window-seconds", "4", "--model", plain, str(takes)).stdout
    )
    assert sorted(doc["takes"], key=lambda t: t["file"]) == sorted(analysed, key=lambda t: t["file"])
    files = [t["file"] for t in scored]
    assert [(p["a"], p["b"]) for p in doc["pairs"]] == [
        (files[0], files[1]),
        (files[0], files[2]),
        (files[1], files[2]),
    ]
    for pair in doc["pairs"]:
        assert set(pair) == PAIR_KEYS
        a, b = (next(t for t in scored if t["file"] == pair[k]) for k in ("a", "b"))
        assert pair["difference"] == pytest.approx(_p(a) - _p(b)) and pair["difference"] >= 0
        assert pair["members_agree"] is False  # this model gives no member scores
        ranges_apart = a["overall"]["p_hit_low"] > b["overall"]["p_hit_high"]
        assert pair["clear"] is ranges_apart  # so the ranges decide


@pytest.mark.usefixtures("needs_model")
def test_human_output_and_exit_statuses(takes: Path, tmp_path: Path) -> None:
    good = [str(takes / "chipdisko-12s.ogg"), str(takes / "forest-sprint-6s.m4a")]
    plain = str(write_plain_model(tmp_path / "models"))
    proc = run_hitdesk("compare", "--fast", "--window-seconds", "4", "--model", plain, *good)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0].split() == ["rank", "P(hit)", "range", "take"]
    assert lines[1].split()[0] == "1" and lines[2].split()[0] == "2"
    pair_lines = [line for line in lines if "clear difference" in line]
    assert len(pair_lines) == 1 and pair_lines[0].startswith("'")
    rule = " ".join(proc.stdout.split("\n\n")[-1].split())
    assert "ranges" in rule and "do not overlap" in rule  # how "clear" is decided without member scores
    assert run_hitdesk("compare", "--model", str(tmp_path / "nothing"), *good).returncode == 2
    assert run_hitdesk("compare", "--json", str(takes / "broken.mp3")).returncode == 1


@pytest.mark.usefixtures("needs_model")
def test_a_model_with_members_compares_member_by_member(takes: Path, tmp_path: Path) -> None:
    stem = write_member_model(tmp_path / "models")
    card = json.loads(stem.with_suffix(".json").read_text())
    card["comparison"] = {"margin": 0.01, "nuisance_p99": 0.009, "n_pairs": 100, "measured_on": "test"}
    stem.with_suffix(".json").write_text(json.dumps(card))
    proc = run_hitdesk("compare", "--json", "--window-seconds", "4", "--model", str(stem), str(takes))
    assert proc.returncode == 1, proc.stderr
    doc = json.loads(proc.stdout)
    scored = {t["file"]: Score.from_dict(t["overall"]) for t in doc["takes"] if not t["error"]}
    assert all(s.members is not None and len(s.members) == 5 for s in scored.values())
    for pair in doc["pairs"]:
        expected = PairedRule(0.01).verdict(scored[pair["a"]], scored[pair["b"]])
        assert (pair["clear"], pair["members_agree"]) == (expected.clear, expected.members_agree)
    human = " ".join(run_hitdesk("compare", "--window-seconds", "4", "--model", str(stem), str(takes)).stdout.split())
    assert "every member of the model's ensemble" in human and "1.0 points" in human
