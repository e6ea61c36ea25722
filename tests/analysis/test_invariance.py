"""The same music re-encoded, re-gained, resampled, folded to mono or shelf-equalised moves P(hit) by
at most the margin in the model card, and is never a clear difference: neither by the rule the
shipped model uses (its ranges) nor by the paired rule on the same model's member scores.

Real corpus audio, cut to short excerpts (chosen before any was measured) so the test stays quick;
the full set of changes on two excerpts is marked slow. The changes are tests/nuisance.py's, the
ones bench/bench_nuisance.py measured the margin on (whole tracks there).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf
from member_model import write_member_model
from nuisance import CHANGES, read_native, write_changes

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.model.runtime import HitModel
from hitdesk.ranking import PairedRule, Ranking, comparison_margin
from hitdesk.results import Score

# (file, start s, seconds): an electronic track and a band mix, away from their intros.
EXCERPTS = (("chipdisko.ogg", 30.0, 40.0), ("armygeddon-mix.ogg", 60.0, 40.0))
QUICK = ("mp3-128k", "gain+6dB", "resample-48k", "mono")
OPTIONS = AnalysisOptions(curve=False)


@pytest.fixture(scope="module")
def member_model(tmp_path_factory: pytest.TempPathFactory) -> HitModel:
    return HitModel(write_member_model(tmp_path_factory.mktemp("member-model")))


def _overall(path: Path, model: HitModel) -> Score:
    result = analyze_file(path, model, OPTIONS)
    assert result.overall is not None, result.error
    return result.overall


def _check(
    corpus: Path,
    tmp: Path,
    excerpt: tuple[str, float, float],
    kinds: tuple[str, ...],
    model: HitModel,
    member_model: HitModel,
) -> None:
    name, start, seconds = excerpt
    margin = comparison_margin(model.card.raw)
    assert margin is not None, "the shipped card has no measured margin (bench/bench_nuisance.py --card)"
    shipped_rule = Ranking.for_model(model.card.raw, model.has_members)
    paired = PairedRule(margin)
    data, sr = read_native(corpus / name, start, seconds)
    original = tmp / "original.wav"
    sf.write(original, data, sr, subtype="FLOAT")
    base, base_members = _overall(original, model), _overall(original, member_model)
    moved = {}
    for kind, path in write_changes(data, sr, tmp, Path(name).stem, kinds).items():
        changed, changed_members = _overall(path, model), _overall(path, member_model)
        moved[kind] = changed.p_hit - base.p_hit
        assert abs(moved[kind]) <= margin, f"{kind} moved P(hit) by {moved[kind]:+.4f}, beyond the margin {margin}"
        assert not shipped_rule.verdict(changed, base).clear, kind
        assert not paired.verdict(changed_members, base_members).clear, kind
    assert moved["gain+6dB"] == pytest.approx(0.0, abs=1e-3)  # the features do not see level


def test_common_changes_stay_within_the_margin(
    corpus_dir: Path, tmp_path: Path, model: HitModel, member_model: HitModel
) -> None:
    _check(corpus_dir, tmp_path, EXCERPTS[0], QUICK, model, member_model)


@pytest.mark.slow
@pytest.mark.parametrize("excerpt", EXCERPTS, ids=[e[0] for e in EXCERPTS])
def test_every_measured_change_stays_within_the_margin(
    corpus_dir: Path, tmp_path: Path, model: HitModel, member_model: HitModel, excerpt: tuple[str, float, float]
) -> None:
    _check(corpus_dir, tmp_path, excerpt, tuple(CHANGES), model, member_model)
