"""Takes ranked against each other, overall and segment by segment, and the sentence that sums it up.

Two rules tell scores apart. ``PairedRule`` compares two takes member by member: each member of the
model's ensemble scored both, so their errors are shared and only the differences matter; a
difference is clear when every member agrees on its sign and the mean difference exceeds a margin
measured on nuisance changes of the same music (re-encoding, gain, resampling, mono, EQ; see
bench/bench_nuisance.py, which writes the margin into the model card's "comparison" section).
Scores without member scores (models that give none) fall back to
``clearly_different``: the two low-high ranges (the ensemble's spread) do not overlap.
``rule_for_card`` picks the rule a model's card allows, the one place that choice is made.
``Ranking`` bundles a rule with ``rank``, ``rank_segment`` and ``summary``: the compare view and
``hitdesk compare`` are given one, so a different rule is one object handed in, not an edit of a
view. Pure, like ``hitdesk.present`` (whose percentages it writes).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from hitdesk.present import pct
from hitdesk.results import Score, TrackResult


def clearly_different(a: Score, b: Score) -> bool:
    """Whether the model tells two scores apart: their ranges do not overlap."""
    return not (a.p_hit_low <= b.p_hit_high and b.p_hit_low <= a.p_hit_high)


DifferenceRule = Callable[[Score, Score], bool]  # True: the model tells the two scores apart
OVERLAP_REASON = "their ranges overlap"


@dataclass(frozen=True)
class PairVerdict:
    """Two takes compared: ``difference`` is a's P(hit) minus b's; ``members_agree`` that every
    ensemble member puts them in the same order (False where either score has no member scores)."""

    difference: float
    clear: bool
    members_agree: bool
    reason: str  # why there is no clear difference ("" when there is one)


def member_differences(a: Score, b: Score) -> list[float] | None:
    """Each member's score of a minus its score of b; None unless both scores have the same members."""
    if a.members is None or b.members is None or len(a.members) != len(b.members) or not a.members:
        return None
    return [x - y for x, y in zip(a.members, b.members, strict=True)]


@dataclass(frozen=True)
class PairedRule:
    """Clear: every member's difference has the same sign (none zero), as has a's P(hit) minus b's,
    and the members' mean difference exceeds ``margin``. Without member scores on both sides the
    ranges decide (``clearly_different``), and members are not said to agree."""

    margin: float

    def verdict(self, a: Score, b: Score) -> PairVerdict:
        difference = a.p_hit - b.p_hit
        diffs = member_differences(a, b)
        if diffs is None:
            clear = clearly_different(a, b)
            return PairVerdict(difference, clear, False, "" if clear else OVERLAP_REASON)
        agree = all(d > 0 for d in diffs) or all(d < 0 for d in diffs)
        mean = sum(diffs) / len(diffs)
        if not agree:
            return PairVerdict(difference, False, False, "the model's ensemble members disagree on the order")
        if mean * difference <= 0:
            return PairVerdict(difference, False, True, "the members' mean and the overall score disagree on the order")
        if abs(mean) <= self.margin:
            reason = f"the difference is within the {100 * self.margin:.1f}-point margin re-encoding alone can cause"
            return PairVerdict(difference, False, True, reason)
        return PairVerdict(difference, True, True, "")

    def __call__(self, a: Score, b: Score) -> bool:
        return self.verdict(a, b).clear


def overlap_verdict(a: Score, b: Score) -> PairVerdict:
    """The ranges rule as a verdict (members are not compared)."""
    clear = clearly_different(a, b)
    return PairVerdict(a.p_hit - b.p_hit, clear, False, "" if clear else OVERLAP_REASON)


def comparison_margin(card_raw: Mapping[str, Any], fast: bool = False) -> float | None:
    """The margin a model's card holds (its "comparison" section, written by bench_nuisance.py), or None.

    ``fast``: the margin measured on fast-mode scores (the section's "fast" entry), where there is one;
    else the full mode's.
    """
    section = card_raw.get("comparison")
    if not isinstance(section, Mapping):
        return None
    if fast and isinstance(section.get("fast"), Mapping) and _margin(section["fast"]) is not None:
        return _margin(section["fast"])
    return _margin(section)


def _margin(section: Mapping[str, Any]) -> float | None:
    margin = section.get("margin")
    if isinstance(margin, bool) or not isinstance(margin, int | float) or not math.isfinite(margin):
        return None
    return float(margin) if 0.0 <= margin < 1.0 else None


def rule_for_card(card_raw: Mapping[str, Any], has_members: bool, fast: bool = False) -> DifferenceRule:
    """The paired rule for a model with member scores and a measured margin (for fast-mode scores
    the fast one, where measured); else the ranges rule."""
    margin = comparison_margin(card_raw, fast)
    if has_members and margin is not None:
        return PairedRule(margin)
    return clearly_different


def describe(rule: DifferenceRule) -> str:
    """How ``rule`` decides that a difference is clear, in one sentence for people."""
    if isinstance(rule, PairedRule):
        return (
            "A difference is clear when every member of the model's ensemble puts the two takes in the same order "
            f"and their mean difference exceeds {100 * rule.margin:.1f} points, more than re-encoding, gain, "
            "resampling, mono or EQ changes of the same music move the score in 99% of the measured cases."
        )
    if rule is clearly_different:
        return (
            "A difference is clear when the two takes' ranges (the spread of the model's ensemble) do not overlap; "
            "this model gives no member scores to compare take by take."
        )
    return "A difference is clear by the rule the caller gave."


def verdict(rule: DifferenceRule, a: Score, b: Score) -> PairVerdict:
    """A pair judged by ``rule``: its own verdict where it gives one, else its answer alone."""
    if isinstance(rule, PairedRule):
        return rule.verdict(a, b)
    if rule is clearly_different:
        return overlap_verdict(a, b)
    clear = rule(a, b)
    return PairVerdict(a.p_hit - b.p_hit, clear, False, "" if clear else "the rule does not tell them apart")


def difference_text(score: Score, best: Score, is_best: bool, different: DifferenceRule = clearly_different) -> str:
    if is_best:
        return "best"
    points = 100.0 * (score.p_hit - best.p_hit)
    if not different(score, best):
        return f"{points:+.0f} pts, no clear difference"
    return f"{points:+.0f} pts, clearly lower"


@dataclass(frozen=True)
class Ranked:
    key: int
    rank: int  # 1 = highest overall probability
    score: Score
    diff_to_best: float  # p_hit - best p_hit (0 for the best)
    clear: bool  # the model tells this take apart from the best one
    text: str


def rank(scores: Sequence[tuple[int, Score]], different: DifferenceRule = clearly_different) -> list[Ranked]:
    """Highest probability first; ties keep the given order. ``different`` tells a take from the best."""
    ordered = sorted(scores, key=lambda ks: -ks[1].p_hit)
    if not ordered:
        return []
    best = ordered[0][1]
    out = []
    for i, (key, score) in enumerate(ordered):
        is_best = i == 0
        out.append(
            Ranked(
                key=key,
                rank=i + 1,
                score=score,
                diff_to_best=score.p_hit - best.p_hit,
                clear=not is_best and different(score, best),
                text=difference_text(score, best, is_best, different),
            )
        )
    return out


def rank_segment(
    results: Sequence[tuple[int, TrackResult]], segment: str, different: DifferenceRule = clearly_different
) -> dict[int, Ranked]:
    scores = [(key, s.score) for key, r in results for s in r.segments if s.name == segment]
    return {r.key: r for r in rank(scores, different)}


def summary(ranked: Sequence[Ranked], names: Mapping[int, str], different: DifferenceRule = clearly_different) -> str:
    """One sentence for the top of the compare view; ``different`` says why two takes are not apart."""
    if len(ranked) < 2:
        return "Select two or more analysed takes to compare them."
    best, second = ranked[0], ranked[1]
    why = verdict(different, best.score, second.score).reason or OVERLAP_REASON
    if not second.clear:
        return (
            f"'{names[best.key]}' scores highest ({pct(best.score.p_hit)}), but there is no clear difference to "
            f"'{names[second.key]}' ({pct(second.score.p_hit)}): {why}."
        )
    clear = sum(1 for r in ranked[1:] if r.clear)
    others = len(ranked) - 1
    which = "the other take" if others == 1 else ("all other takes" if clear == others else f"{clear} of {others}")
    return f"'{names[best.key]}' scores highest ({pct(best.score.p_hit)}), clearly above {which}."


@dataclass(frozen=True)
class Ranking:
    """How takes are ranked and told apart, as one replaceable object (the compare view is given one).

    ``different`` is the "clear difference" rule; the default is ``clearly_different``. The
    differences' wording, each take's ``clear`` flag and the summary all follow the rule given.
    ``for_model`` gives the rule a model's card allows (``rule_for_card``).
    """

    different: DifferenceRule = clearly_different

    @classmethod
    def for_model(cls, card_raw: Mapping[str, Any], has_members: bool, fast: bool = False) -> Ranking:
        return cls(rule_for_card(card_raw, has_members, fast))

    def verdict(self, a: Score, b: Score) -> PairVerdict:
        return verdict(self.different, a, b)

    @property
    def description(self) -> str:
        return describe(self.different)

    def rank(self, scores: Sequence[tuple[int, Score]]) -> list[Ranked]:
        return rank(scores, self.different)

    def rank_segment(self, results: Sequence[tuple[int, TrackResult]], segment: str) -> dict[int, Ranked]:
        return rank_segment(results, segment, self.different)

    def summary(self, ranked: Sequence[Ranked], names: Mapping[int, str]) -> str:
        return summary(ranked, names, self.different)


@dataclass(frozen=True)
class Comparison:
    """``hitdesk compare``'s document (``to_dict``) and the reason behind each pair's verdict."""

    takes: list[dict[str, Any]]  # analyze objects, best first, failed files last
    pairs: list[dict[str, Any]]
    reasons: list[str]  # one per pair, "" where the difference is clear

    def to_dict(self) -> dict[str, Any]:
        return {"takes": self.takes, "pairs": self.pairs}


def compare_results(results: Sequence[Mapping[str, Any]], ranking: Ranking) -> Comparison:
    """Takes ranked by overall P(hit) (ties keep the given order) and every pair of scored takes, the
    higher-ranked as "a"; files that failed come last, in the given order, and are in no pair."""
    scored = [
        (i, Score.from_dict(r["overall"])) for i, r in enumerate(results) if not r.get("error") and r.get("overall")
    ]
    ranked = ranking.rank(scored)
    order = [r.key for r in ranked]
    scores = {r.key: r.score for r in ranked}
    failed = [r for i, r in enumerate(results) if i not in scores]
    pairs, reasons = [], []
    for n, i in enumerate(order):
        for j in order[n + 1 :]:
            v = ranking.verdict(scores[i], scores[j])
            pairs.append(
                {
                    "a": results[i]["file"],
                    "b": results[j]["file"],
                    "difference": v.difference,
                    "clear": v.clear,
                    "members_agree": v.members_agree,
                }
            )
            reasons.append(v.reason)
    return Comparison([*(dict(results[i]) for i in order), *(dict(r) for r in failed)], pairs, reasons)
