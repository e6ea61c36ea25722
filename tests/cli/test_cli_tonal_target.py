"""`hitdesk analyze --tonal-target NAME`: one of the user's own targets beside the take's tonal balance."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from cli_run import run_hitdesk

from hitdesk.explain.groups import envelope_db
from hitdesk.explain.targets import make_target, save_target
from hitdesk.result_schema import ResultSchemaError, validate_result_dict


def test_the_named_target_is_added_to_the_tonal_balance(data_dir: Path) -> None:
    envelopes = envelope_db(np.random.default_rng(0).normal(size=(4, 42)))
    target = make_target("Bright refs", envelopes, ["a.wav", "b.wav", "c.wav", "d.wav"])
    save_target(target)
    clip = str(data_dir / "chipdisko-12s.ogg")
    proc = run_hitdesk(
        "analyze", "--json", "--no-cache", "--window-seconds", "4", "--tonal-target", "bright REFS", clip
    )
    assert proc.returncode == 0, proc.stderr
    (r,) = json.loads(proc.stdout)
    got = r["tonal_balance"]["target"]
    assert set(got) == {"name", "median_db", "p10_db", "p90_db"} and got["name"] == "Bright refs"
    assert got["median_db"] == pytest.approx(target.median_db, abs=1e-4)
    assert len(got["p90_db"]) == len(r["tonal_balance"]["take_db"])
    validate_result_dict(r)  # the schema knows the target
    r["tonal_balance"]["target"]["p10_db"] = r["tonal_balance"]["target"]["p10_db"][:-1]
    with pytest.raises(ResultSchemaError, match="one value per band"):
        validate_result_dict(r)


def test_an_unknown_target_is_one_sentence_before_any_work(data_dir: Path) -> None:
    proc = run_hitdesk("analyze", "--json", "--tonal-target", "Nope", str(data_dir / "chipdisko-12s.ogg"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip().endswith("There is no tonal target named 'Nope'.")
    assert len(proc.stderr.strip().splitlines()) == 1
