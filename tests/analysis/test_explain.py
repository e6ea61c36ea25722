"""Why a track scores as it does (hitdesk.explain): hit curve, Shapley values of groups, tonal balance."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from shared_folder import ZALO

from hitdesk.analysis import AnalysisOptions
from hitdesk.config import N_STATS
from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.stats import dct_matrix
from hitdesk.dsp.windows import WindowPlan, frame_range, plan_windows
from hitdesk.explain import analyze, load_background
from hitdesk.explain.background import background_path, file_sha256
from hitdesk.explain.curve import context_tempi, curve_windows, exact_window_tempi
from hitdesk.explain.drivers import explain_many
from hitdesk.explain.groups import GROUP_NAMES, group_deltas
from hitdesk.explain.shapley import shapley_from_values
from hitdesk.insights import HitCurve, TonalBalance
from hitdesk.model import HitModel
from hitdesk.result_schema import ResultSchemaError, validate_result_dict
from hitdesk.results import TrackResult

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def explained(model: HitModel, data_dir: Path) -> TrackResult:
    """The 12 s clip with 5 s windows: long enough (two windows) for a curve, every second."""
    opts = AnalysisOptions(window_seconds=5.0, curve_hop_s=1.0)
    return analyze(data_dir / "chipdisko-12s.ogg", model, opts)[0]


def test_curve_starts_with_the_beginning_window_and_ends_with_the_end_window(explained: TrackResult) -> None:
    curve = explained.curve
    assert curve is not None and curve.window_s == 5.0 and curve.hop_s == 1.0
    beginning, _, end = explained.segments
    first, last = curve.points[0], curve.points[-1]
    assert (first.start_s, first.end_s) == (beginning.start_s, beginning.end_s)
    assert first.p_hit == beginning.score.p_hit
    assert (last.start_s, last.end_s) == (end.start_s, end.end_s)
    assert last.p_hit == end.score.p_hit
    starts = [p.start_s for p in curve.points]
    assert np.allclose(np.diff(starts)[:-1], 1.0) and 0 < starts[-1] - starts[-2] <= 1.0
    assert len({round(p.p_hit, 6) for p in curve.points}) > 1  # the windows are scored, not copied


def test_the_curve_scores_the_beginning_window_like_the_analysis(model: HitModel, data_dir: Path) -> None:
    """Without the analysis's scores handed over, the curve's own scoring of its first window agrees too."""
    from hitdesk.analysis import analyze as plain
    from hitdesk.explain.curve import hit_curve

    def own_curve(
        frames: MelFrames, plan: WindowPlan, tempo: dict[str, float], duration_s: float, tags: object
    ) -> object:
        return hit_curve(model, frames, plan, duration_s, 5.0, 1.0, tempo)

    clip = data_dir / "chipdisko-12s.ogg"
    result, detail = plain(clip, model, AnalysisOptions(window_seconds=5.0), on_track=own_curve)
    curve = detail.track_extra
    assert isinstance(curve, HitCurve)
    assert curve.points[0].p_hit == pytest.approx(result.segments[0].score.p_hit, abs=1e-6)
    assert curve.points[-1].p_hit == pytest.approx(result.segments[2].score.p_hit, abs=1e-6)


def test_curve_is_null_in_fast_mode_when_switched_off_and_for_short_tracks(model: HitModel, data_dir: Path) -> None:
    clip = data_dir / "chipdisko-12s.ogg"
    assert analyze(clip, model, AnalysisOptions(window_seconds=5.0, curve=False))[0].curve is None
    fast = analyze(clip, model, AnalysisOptions(window_seconds=5.0, fast=True))[0]
    assert fast.curve is None and fast.explanation is not None  # fast mode explains the excerpts' statistics
    short = analyze(clip, model, AnalysisOptions(window_seconds=7.0))[0]  # 12 s is under two 7 s windows
    assert short.ok and short.curve is None and short.explanation is not None
    with pytest.raises(ValueError, match="hop"):
        analyze(clip, model, AnalysisOptions(window_seconds=5.0, curve_hop_s=0.0))


def test_curve_windows_cover_the_audible_part() -> None:
    plan = plan_windows(2.0, 100.0, 30.0)
    spans = curve_windows(plan, 30.0, 5.0)
    assert spans[0] == (2.0, 32.0) and spans[-1] == (70.0, 100.0)
    assert all(b - a == pytest.approx(30.0) for a, b in spans) and len(spans) == 15
    assert curve_windows(plan_windows(0.0, 59.0, 30.0), 30.0, 5.0) == []


def test_context_tempo_over_the_whole_track_is_the_tempo_of_the_track() -> None:
    """With no music around the span, the block-summed autocorrelation is the analysis's own estimate."""
    sr, hop = 22050, 512
    n = int(40 * sr / hop)
    rng = np.random.default_rng(0)
    mel = rng.uniform(1e-4, 1e-3, (128, n)).astype(np.float32)
    beat = np.round(np.arange(0, 40, 60 / 97) * sr / hop).astype(int)
    mel[:, beat[beat < n]] = 1.0
    whole = [slice(0, n)]
    assert context_tempi(mel, whole) == pytest.approx(exact_window_tempi(mel, whole))
    assert exact_window_tempi(mel, whole)[0] == pytest.approx(97.0, rel=0.03)


def test_context_tempo_agrees_with_windows_on_their_own_on_real_music(corpus_dir: Path) -> None:
    """On real tracks the tempo of 30 s windows measured in context is, nearly always, the one measured alone."""
    from hitdesk.analysis import track_mel

    same = total = 0
    for name in ("forest-sprint.ogg", "chaos_god-mix.ogg"):
        track = track_mel(corpus_dir / name)
        plan = plan_windows(track.start_s, track.end_s, 30.0)
        spans = [frame_range(a, b, track.mel.shape[1]) for a, b in curve_windows(plan, 30.0, 5.0)]
        pairs = zip(context_tempi(track.mel, spans), exact_window_tempi(track.mel, spans), strict=True)
        same += sum(a == pytest.approx(b) for a, b in pairs)
        total += len(spans)
    assert total > 40 and same >= 0.9 * total


def test_efficiency_for_the_track_and_each_segment(explained: TrackResult) -> None:
    """Baseline plus the contributions is the score explained, overall and for each window (1e-4)."""
    assert explained.explanation is not None and explained.overall is not None
    assert explained.explanation.total == pytest.approx(explained.overall.p_hit, abs=1e-4)
    for seg in explained.segments:
        assert seg.explanation is not None
        assert seg.explanation.total == pytest.approx(seg.score.p_hit, abs=1e-4)
    values = [abs(c.value) for c in explained.explanation.contributions]
    assert values == sorted(values, reverse=True)
    assert {c.name for c in explained.explanation.contributions} == set(GROUP_NAMES) and len(GROUP_NAMES) >= 4
    for c in explained.explanation.contributions:
        assert c.text.startswith("In the model's view, ") and c.text.endswith(".") and c.text.count(". ") == 0


def _synthetic_background() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(3)
    z = rng.normal(0.0, 1.0, (5, N_STATS)) * 10.0 + 50.0
    return z, np.array([0.1, 0.2, 0.3, 0.15, 0.25])


@pytest.mark.parametrize(
    ("group", "column"), [("tempo", N_STATS - 2), ("length", N_STATS - 1), ("density", 0), ("movement", 25)]
)
def test_a_head_that_reads_one_group_gives_it_all_the_credit(model: HitModel, group: str, column: int) -> None:
    z, w = _synthetic_background()
    bg = load_background(model.stem, model.card.raw)
    assert bg is not None
    bg = type(bg)(z, w, bg.hits_range, bg.envelopes, bg.training_range)

    def head(rows: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-(rows[:, column] - 50.0) / 7.0))

    x = z[0] + 13.0
    (e,) = explain_many(head, [x], bg)
    credit = {c.name: c.value for c in e.contributions}
    assert credit[group] == pytest.approx(head(x[None])[0] - e.baseline, abs=1e-12)
    assert all(abs(v) < 1e-12 for name, v in credit.items() if name != group)
    assert e.baseline == pytest.approx(float(head(z) @ w), abs=1e-12)


def test_groups_add_up_to_the_track_and_shapley_is_exact_on_a_known_game() -> None:
    z, _ = _synthetic_background()
    x = np.arange(N_STATS, dtype=np.float64)
    deltas = group_deltas(x, z)
    assert np.allclose(z + deltas.sum(axis=1), x[None], atol=1e-9)
    # v(S) = sum of the members' weights plus 1 when players 0 and 1 are both in: the pair splits it.
    n, weights = 3, np.array([1.0, 2.0, 4.0])
    values = [sum(weights[i] for i in range(n) if c >> i & 1) + (1.0 if c & 3 == 3 else 0.0) for c in range(8)]
    assert shapley_from_values(values, n) == pytest.approx([1.5, 2.5, 4.0])


def test_tonal_balance_round_trips_to_the_mfcc_means(model: HitModel, data_dir: Path, explained: TrackResult) -> None:
    """The take's envelope, through JSON and back through the DCT, gives its MFCC means (1e-4)."""
    from hitdesk.analysis import analyze as plain

    tb = explained.tonal_balance
    assert tb is not None and len(tb.bands_hz) == 128 and tb.bands_hz == tuple(sorted(tb.bands_hz))
    back = TonalBalance.from_dict(json.loads(json.dumps(tb.to_dict())))
    _, detail = plain(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(window_seconds=5.0))
    assert detail.track_stats is not None
    means = dct_matrix().astype(np.float64) @ np.asarray(back.take_db)
    assert np.max(np.abs(means - detail.track_stats[:20])) < 1e-4
    assert all(lo <= mid <= hi for lo, mid, hi in zip(tb.hits_p10_db, tb.hits_db, tb.hits_p90_db, strict=True))


def test_results_with_explanations_pass_the_schema_and_damaged_ones_do_not(explained: TrackResult) -> None:
    d = json.loads(json.dumps(explained.to_dict()))
    validate_result_dict(d)
    assert TrackResult.from_dict(validate_result_dict(d)).to_dict() == d
    for path, value in [
        (("curve", "points", 0, "p_hit"), 1.5),
        (("explanation", "contributions", 0, "value"), float("nan")),
        (("segments", 1, "explanation", "baseline"), "x"),
        (("tonal_balance", "take_db"), []),
    ]:
        broken = json.loads(json.dumps(d))
        target = broken
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        with pytest.raises(ResultSchemaError):
            validate_result_dict(broken)


def test_a_damaged_background_is_one_note_and_the_scores_stay(model: HitModel, data_dir: Path, tmp_path: Path) -> None:
    for suffix in (".json", ".onnx", ".head.onnx", ".background"):
        shutil.copy(model.stem.parent / f"{model.stem.name}{suffix}", tmp_path / f"m{suffix}")
    (tmp_path / "m.background").write_text('{"format": "hitdesk-explain-background", "version": 1}')
    copy = HitModel(tmp_path / "m")
    result = analyze(data_dir / "chipdisko-12s.ogg", copy, AnalysisOptions(window_seconds=5.0))[0]
    assert result.ok and result.overall is not None and result.curve is not None
    assert result.explanation is None and result.tonal_balance is None
    assert [n for n in result.notes if "background" in n] == [
        "The explanation background 'm.background' is damaged or of another version. "
        "What drives the score cannot be shown."
    ]


def test_the_shipped_background_is_the_one_the_card_names(model: HitModel) -> None:
    section = model.card.raw["explanation"]
    path = background_path(model.stem)
    assert section["background"]["file"] == path.name
    assert section["background"]["sha256"] == file_sha256(path)
    assert "not" in section["what_it_is_not"] and "Shapley" in section["what_it_is"]


def test_the_background_is_rebuilt_byte_for_byte_from_the_chart_data(model: HitModel, tmp_path: Path) -> None:
    data = ZALO
    if not (data / "features.csv").exists():
        pytest.skip("needs the chart data (../shared/data/zalo2019)")
    from hitdesk.training.background import write_background

    for suffix in (".json", ".onnx", ".head.onnx"):
        shutil.copy(model.stem.parent / f"{model.stem.name}{suffix}", tmp_path / f"{model.stem.name}{suffix}")
    section = write_background(data, tmp_path / model.stem.name)
    assert section["background"]["sha256"] == model.card.raw["explanation"]["background"]["sha256"]
    raw = json.loads(background_path(tmp_path / model.stem.name).read_text())
    features = np.loadtxt(data / "features.csv", delimiter=",", skiprows=1, usecols=range(1, N_STATS + 1))
    centroids = np.asarray(raw["centroids"])
    nearest = np.min(np.abs(features[:, None, :] - centroids[None]).max(axis=2), axis=0)
    assert np.all(nearest > 1e-3)  # no song's own row is shipped


def test_what_if_moves_one_group_and_refuses_what_the_model_never_saw(model: HitModel) -> None:
    from hitdesk.explain.drivers import head_scorer
    from hitdesk.explain.groups import describe
    from hitdesk.explain.whatif import CONTROLS, WhatIfError, edited, response, what_if

    bg = load_background(model.stem, model.card.raw)
    assert bg is not None
    x = bg.centroids[0]
    before = describe(x)
    assert describe(edited(x, "tempo", 10.0))["tempo"] == pytest.approx(1.1 * before["tempo"])
    assert describe(edited(x, "density", 3.0))["density"] == pytest.approx(before["density"] - 3.0)
    assert describe(edited(x, "movement", -20.0))["movement"] == pytest.approx(0.8 * before["movement"])
    assert edited(x, "length", 200.0)[N_STATS - 1] == 200.0
    louder = edited(x, "high band", 3.0)
    assert describe(louder)["high band"] > before["high band"] + 1.0
    assert np.array_equal(louder[[0, *range(20, N_STATS)]], x[[0, *range(20, N_STATS)]])  # only MFCC means 1-19

    score = head_scorer(model)
    assert what_if(score, x, "tempo", 0.0, bg) == pytest.approx(float(score(x[None])[0]))
    with pytest.raises(WhatIfError, match=r"^The model cannot say what 2000 s|^The model cannot say what 33:20"):
        what_if(score, x, "length", 2000.0, bg)
    curve = response(score, x, "tempo", bg)
    assert curve.amounts[0] == -15.0 and curve.amounts[-1] == 15.0 and curve.allowed.any()
    middle = len(curve.amounts) // 2
    assert curve.p_hit[middle] == pytest.approx(what_if(score, x, "tempo", 0.0, bg), abs=1e-6)
    assert {c.name for c in CONTROLS} == set(GROUP_NAMES)
