"""Paired comparisons: the member-by-member rule, the ranges rule it falls back to, the rule a card
picks, the compare document (takes ranked, failed files last, every pair) and its human text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from hitdesk import present
from hitdesk.ranking import (
    PairedRule,
    Ranking,
    clearly_different,
    compare_results,
    comparison_margin,
    member_differences,
    rule_for_card,
)
from hitdesk.results import Score

RULE = PairedRule(margin=0.02)


def score(*members: float, spread: float = 0.2) -> Score:
    """A score whose P(hit) is its members' mean, with a wide range (so the ranges always overlap)."""
    p = sum(members) / len(members)
    return Score(p, max(0.0, p - spread), min(1.0, p + spread), members=tuple(members))


def test_members_that_agree_beyond_the_margin_make_a_clear_difference() -> None:
    a, b = score(0.40, 0.45, 0.50), score(0.30, 0.33, 0.41)
    v = RULE.verdict(a, b)
    assert v.clear and v.members_agree and v.reason == ""
    assert v.difference == pytest.approx(a.p_hit - b.p_hit)
    assert not clearly_different(a, b)  # the ranges overlap: the old rule would not tell them apart
    back = RULE.verdict(b, a)  # the same pair the other way round: same verdict, negative difference
    assert back.clear and back.members_agree and back.difference == pytest.approx(-v.difference)


def test_one_member_disagreeing_is_no_clear_difference_however_large_the_mean() -> None:
    a, b = score(0.60, 0.62, 0.30), score(0.30, 0.31, 0.32)  # mean +0.19, third member -0.02
    v = RULE.verdict(a, b)
    assert not v.clear and not v.members_agree and "disagree" in v.reason
    assert member_differences(a, b) == pytest.approx([0.30, 0.31, -0.02])


def test_a_tied_member_is_no_agreement() -> None:
    v = RULE.verdict(score(0.50, 0.40, 0.40), score(0.30, 0.30, 0.40))
    assert not v.members_agree and not v.clear


def test_agreeing_members_within_the_margin_are_no_clear_difference() -> None:
    a, b = score(0.410, 0.420, 0.430), score(0.400, 0.401, 0.402)  # all agree; mean difference 0.019
    v = RULE.verdict(a, b)
    assert v.members_agree and not v.clear and "2.0-point margin" in v.reason
    assert PairedRule(margin=0.015).verdict(a, b).clear  # a smaller margin tells them apart


def test_scores_without_members_fall_back_to_the_ranges() -> None:
    apart, near, far = Score(0.5, 0.45, 0.55), Score(0.47, 0.40, 0.52), Score(0.2, 0.1, 0.3)
    assert member_differences(apart, far) is None
    assert RULE.verdict(apart, far).clear and not RULE.verdict(apart, far).members_agree
    near_v = RULE.verdict(apart, near)
    assert not near_v.clear and near_v.reason == "their ranges overlap"
    # Members on one side only, or of another count, are not compared either.
    assert member_differences(score(0.5, 0.5), Score(0.4, 0.3, 0.5)) is None
    assert member_differences(score(0.5, 0.5), score(0.4, 0.4, 0.4)) is None


def test_the_card_and_the_model_pick_the_rule() -> None:
    card: dict[str, Any] = {"comparison": {"margin": 0.025, "nuisance_p99": 0.021}}
    assert rule_for_card(card, has_members=True) == PairedRule(0.025)
    assert rule_for_card(card, has_members=False) is clearly_different  # no members: the ranges decide
    assert rule_for_card({}, has_members=True) is clearly_different  # no measured margin: no paired rule
    for bad in ({"margin": "x"}, {"margin": float("nan")}, {"margin": -0.1}, {"margin": True}, "0.02"):
        assert comparison_margin({"comparison": bad}) is None
    assert "do not overlap" in Ranking.for_model(card, False).description
    # Fast-mode scores use the margin measured in fast mode, where the card has one.
    card["comparison"]["fast"] = {"margin": 0.035, "nuisance_p99": 0.032}
    assert rule_for_card(card, has_members=True, fast=True) == PairedRule(0.035)
    assert rule_for_card(card, has_members=True) == PairedRule(0.025)
    assert comparison_margin({"comparison": {"margin": 0.02, "fast": {"margin": None}}}, fast=True) == 0.02
    assert "2.5 points" in Ranking.for_model(card, True).description


def test_the_shipped_card_holds_a_measured_margin() -> None:
    from hitdesk.model.card import load_card
    from hitdesk.model.runtime import resolve_model_path

    card = load_card(resolve_model_path(None).with_suffix(".json"))
    section = card.raw["comparison"]
    assert section["margin"] > section["nuisance_p99"] > 0 and section["n_pairs"] >= 100
    assert section["rule"] == "paired-members"  # the shipped model gives member scores
    assert comparison_margin(card.raw) == section["margin"]
    fast = section["fast"]  # measured on fast-mode scores, which re-encoding moves more
    assert fast["margin"] > fast["nuisance_p99"] > 0 and comparison_margin(card.raw, fast=True) == fast["margin"]


def _result(name: str, s: Score | None, error: str | None = None) -> dict[str, Any]:
    return {"file": f"/takes/{name}", "overall": None if s is None else s.to_dict(), "error": error}


def test_compare_ranks_takes_reports_every_pair_and_lists_failures_last() -> None:
    results = [
        _result("low.wav", score(0.20, 0.21, 0.22)),
        _result("bad.mp3", None, "Cannot decode 'bad.mp3': the file is damaged or not audio."),
        _result("high.wav", score(0.40, 0.45, 0.50)),
        _result("mid.wav", score(0.39, 0.46, 0.47)),
    ]
    out = compare_results(results, Ranking(RULE))
    assert [t["file"] for t in out.takes] == ["/takes/high.wav", "/takes/mid.wav", "/takes/low.wav", "/takes/bad.mp3"]
    assert list(out.to_dict()) == ["takes", "pairs"]
    assert [(p["a"], p["b"]) for p in out.pairs] == [
        ("/takes/high.wav", "/takes/mid.wav"),
        ("/takes/high.wav", "/takes/low.wav"),
        ("/takes/mid.wav", "/takes/low.wav"),
    ]
    assert all(set(p) == {"a", "b", "difference", "clear", "members_agree"} for p in out.pairs)
    assert all(p["difference"] >= 0 for p in out.pairs)
    high_mid, high_low, mid_low = out.pairs
    assert not high_mid["clear"] and not high_mid["members_agree"]  # members cross
    assert high_low["clear"] and high_low["members_agree"] and mid_low["clear"]
    assert out.reasons[0] and out.reasons[1] == ""


def test_compare_text_has_a_ranked_table_and_one_sentence_per_pair() -> None:
    results = [
        _result("low.wav", score(0.20, 0.21, 0.22)),
        _result("bad.mp3", None, "Cannot decode 'bad.mp3': the file is damaged or not audio."),
        _result("high.wav", score(0.40, 0.45, 0.50)),
    ]
    ranking = Ranking(RULE)
    out = compare_results(results, ranking)
    text = present.format_compare(out.takes, out.pairs, out.reasons, ranking.description)
    lines = text.splitlines()
    assert lines[1].split()[:2] == ["1", "45%"] and lines[1].endswith("high.wav")
    assert lines[2].split()[:2] == ["2", "21%"] and lines[2].endswith("low.wav")
    assert "bad.mp3: Cannot decode" in lines[3] and "failed" in lines[3]
    assert "'high.wav' scores 24.0 points above 'low.wav': a clear difference." in lines
    assert " ".join(text.split()).endswith(ranking.description)  # wrapped at 100 columns
    assert max(len(line) for line in lines) <= 100
    alone = compare_results(results[:2], ranking)
    assert "nothing to compare" in present.format_compare(alone.takes, alone.pairs, alone.reasons, "")


def test_the_readme_gives_the_cards_margin_and_the_compare_json() -> None:
    from hitdesk.model.card import load_card
    from hitdesk.model.runtime import resolve_model_path

    section = load_card(resolve_model_path(None).with_suffix(".json")).raw["comparison"]
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    text = " ".join(readme.split("### Telling two takes apart", 1)[1].split("\n## ", 1)[0].split())
    assert f"**{100 * section['margin']:.1f} points**" in text
    assert f"99th percentile {100 * section['nuisance_p99']:.2f} points over {section['n_pairs']} pairs" in text
    assert f"**{100 * section['fast']['margin']:.1f} points** for `--fast`" in text
    compare = " ".join(readme.split("hitdesk compare FILE_OR_FOLDER", 1)[1].split("### ", 1)[0].split())
    for key in ('"takes"', '"pairs"', '"a": file', '"b": file', '"difference"', '"clear"', '"members_agree"'):
        assert key in compare
