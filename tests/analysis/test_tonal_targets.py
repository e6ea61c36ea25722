"""The user's own tonal targets: made from reference takes' envelopes, stored as small versioned files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hitdesk import paths
from hitdesk.config import FEATURES, N_STATS
from hitdesk.explain.groups import envelope_db
from hitdesk.explain.targets import (
    TargetError,
    find_target,
    load_targets,
    make_target,
    save_target,
    target_from_results,
    target_path,
)
from hitdesk.insights import TonalBalance
from hitdesk.results import TrackResult

N = FEATURES.n_mels


def _envelopes(k: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return envelope_db(rng.normal(size=(k, N_STATS)) * 5.0)


def test_a_target_is_the_median_and_10th_90th_percentile_of_the_references() -> None:
    env = _envelopes(11)
    t = make_target("  My refs ", env, [f"take{i}.wav" for i in range(11)])
    assert t.name == "My refs" and len(t.median_db) == N and t.sources[0] == "take0.wav"
    assert np.allclose(t.median_db, np.median(env, axis=0))
    assert np.allclose(t.p10_db, np.percentile(env, 10, axis=0))
    assert np.allclose(t.p90_db, np.percentile(env, 90, axis=0))
    assert np.all(np.array(t.p10_db) <= np.array(t.median_db)) and np.all(np.array(t.median_db) <= t.p90_db)
    one = make_target("one", env[:1], ["a.wav"])
    assert one.median_db == one.p10_db == one.p90_db == tuple(env[0])
    with pytest.raises(TargetError, match="needs a name"):
        make_target("  ", env, [])
    with pytest.raises(TargetError, match="at least one reference take"):
        make_target("x", [], [])


def test_a_target_from_takes_uses_their_envelopes_and_says_when_none_has_one() -> None:
    env = _envelopes(3, seed=1)

    def result(i: int) -> TrackResult:
        zeros = tuple(0.0 for _ in range(N))
        balance = TonalBalance(zeros, tuple(float(v) for v in env[i]), zeros, zeros, zeros, zeros)
        return TrackResult(file=f"t{i}.wav", mode="full", tonal_balance=balance)

    failed = TrackResult(file="bad.wav", mode="full", error="Cannot decode 'bad.wav'.")
    t = target_from_results("Refs", [("t0.wav", result(0)), ("bad.wav", failed), ("t2.wav", result(2))])
    assert t.sources == ("t0.wav", "t2.wav")
    assert np.allclose(t.median_db, np.median(env[[0, 2]], axis=0))
    with pytest.raises(TargetError, match=r"^None of the takes chosen for 'Refs' has a tonal balance"):
        target_from_results("Refs", [("bad.wav", failed), ("none.wav", None)])


def test_targets_are_stored_in_the_users_data_folder_and_read_back() -> None:
    t = make_target("Club mixes 2024", _envelopes(5), ["a.wav", "b.wav"])
    path = save_target(t)
    assert path == paths.data_dir() / "tonal-targets" / "club-mixes-2024.json"
    raw = json.loads(path.read_text(encoding="utf-8"))
    assert raw["format"] == "hitdesk-tonal-target" and raw["version"] == 1 and raw["sources"] == ["a.wav", "b.wav"]
    assert set(raw) == {"format", "version", "name", "median_db", "p10_db", "p90_db", "sources"}
    (back,), problems = load_targets()
    assert problems == [] and back.name == t.name
    assert back.median_db == pytest.approx(t.median_db, abs=1e-4) and back.p90_db == pytest.approx(t.p90_db, abs=1e-4)
    assert find_target("club MIXES 2024").name == "Club mixes 2024"
    with pytest.raises(TargetError, match=r"^There is no tonal target named 'Pop' \(there are: Club mixes 2024\)\.$"):
        find_target("Pop")
    # Saving again under the same name replaces the file.
    save_target(make_target("Club mixes 2024", _envelopes(2, seed=3), ["c.wav"]))
    (again,), _ = load_targets()
    assert again.sources == ("c.wav",) and len(list(path.parent.iterdir())) == 1


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"format": "hitdesk-tonal-target", "version": 2}),
        "DAMAGED",  # a valid file with one band cut off
        "SWAPPED",  # p10 above p90
        "NAN",
    ],
)
def test_a_damaged_target_file_is_one_sentence_and_skipped(content: str, tmp_path: Path) -> None:
    good = make_target("Good", _envelopes(4), ["g.wav"])
    folder = tmp_path / "targets"
    save_target(good, folder)
    raw = make_target("Bad", _envelopes(4, seed=2), ["b.wav"]).to_file_dict()
    if content == "DAMAGED":
        raw["median_db"] = raw["median_db"][:-1]
        content = json.dumps(raw)
    elif content == "SWAPPED":
        raw["p10_db"], raw["p90_db"] = raw["p90_db"], raw["p10_db"]
        content = json.dumps(raw)
    elif content == "NAN":
        raw["p10_db"][3] = float("nan")
        content = json.dumps(raw)
    (folder / "bad.json").write_text(content, encoding="utf-8")
    targets, problems = load_targets(folder)
    assert [t.name for t in targets] == ["Good"]
    assert len(problems) == 1 and problems[0].startswith("The tonal target file 'bad.json' ")
    assert problems[0].endswith("it is skipped.") and problems[0].count(".") == 2  # the file name's dot
    with pytest.raises(TargetError, match=r"^The tonal target file 'bad\.json' "):
        find_target("Bad", folder)
    assert target_path("Bad", folder).name == "bad.json"
