"""The tag recipes' plumbing: the recipe list, tags in the feature cache, and models that take tags.

Fitting, exporting and analysing with each tag recipe is in test_training_recipes.py (every recipe
goes through it); the learnability proof in test_training_tag_learnability.py.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.errors import ModelError
from hitdesk.model.card import parse_runtime
from hitdesk.model.tagger import shared_tagger
from hitdesk.style import StyleListener
from hitdesk.training.cli import main
from hitdesk.training.featcache import FeatureCache, compute_features
from hitdesk.training.manifest import Track
from hitdesk.training.recipes import RECIPE_NAMES

CLIP = "chipdisko-12s.ogg"


def test_recipes_lists_every_recipe_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["recipes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == list(RECIPE_NAMES)
    assert all(len(line.split(maxsplit=1)) == 2 for line in lines)
    assert main(["recipes", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in rows] == list(RECIPE_NAMES)
    assert all(set(r) == {"name", "description"} and r["description"].strip() for r in rows)
    by_name = {r["name"]: r["description"] for r in rows}
    assert "m4" in by_name["tags-linear"] and "m5" in by_name["tags-cnn-joint"]
    assert "m6" in by_name["tags-inception-joint"]


def test_tags_come_from_the_same_pass_as_the_app_computes_them(data_dir: Path) -> None:
    from hitdesk.analysis import track_mel

    path = data_dir / CLIP
    feats = compute_features(path, 4.0, tags=True)
    listener = StyleListener()
    track_mel(path, listener=listener)
    style = listener.finish()
    assert style is not None and feats.tags is not None
    np.testing.assert_allclose(feats.tags, style.probabilities, atol=1e-6)
    assert feats.tags.shape == (len(shared_tagger().tags),)
    assert compute_features(path, 4.0).tags is None


def test_the_cache_keeps_tags_and_decodes_once(data_dir: Path, tmp_path: Path) -> None:
    tracks = [Track(data_dir / CLIP, None, 1, None, {})]
    plain = FeatureCache(root=tmp_path, window_seconds=4.0, progress=False)
    assert plain.features(tracks)[0][0].tags is None and plain.misses == 1  # type: ignore[union-attr]
    tagged = FeatureCache(root=tmp_path, window_seconds=4.0, progress=False, tags=True)
    first = tagged.features(tracks)[0][0]
    assert first is not None and first.tags is not None and tagged.misses == 1, "an entry without tags is redone"
    again = tagged.features(tracks)[0][0]
    assert again is not None and tagged.hits == 1 and tagged.audio_seconds == 0.0
    np.testing.assert_array_equal(again.tags, first.tags)
    assert plain.features(tracks)[0][0] is not None and plain.hits == 1, "the entry with tags serves plain fits too"


def test_tags_of_another_tagger_are_recomputed(data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hitdesk.training import featcache

    tracks = [Track(data_dir / CLIP, None, 1, None, {})]
    first = FeatureCache(root=tmp_path, window_seconds=4.0, progress=False, tags=True)
    assert first.features(tracks)[0][0].tagger and first.misses == 1  # type: ignore[union-attr]
    monkeypatch.setattr(featcache, "_tagger_digest", lambda: "another tagger")
    other = FeatureCache(root=tmp_path, window_seconds=4.0, progress=False, tags=True)
    feats = other.features(tracks)[0][0]
    assert other.misses == 1 and feats is not None and feats.tagger == "another tagger"
    assert other.features(tracks)[0][0] is not None and other.hits == 1


def test_a_tags_model_card_is_understood() -> None:
    spec = parse_runtime({"inputs": ["tags"], "overall": "mean"}, "m")
    assert spec.inputs == ("tags",)
    assert parse_runtime({"inputs": ["logmel", "tags"], "overall": "mean"}, "m").inputs == ("logmel", "tags")
    with pytest.raises(ModelError, match="'logmel' or 'tags'"):
        parse_runtime({"inputs": ["meta"], "overall": "mean"}, "m")


@pytest.fixture(scope="module")
def tags_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from recipe_clips import write_clip_manifest

    root = tmp_path_factory.mktemp("tagmodel")
    manifest = write_clip_manifest(root / "clips")
    args = ["fit", "--recipe", "tags-linear", "--manifest", str(manifest), "--out", str(root / "models")]
    args += ["--report", str(root / "r.md"), "--folds", "3", "--window-seconds", "3", "--cache-dir", str(root / "c")]
    assert main(args) == 0
    return root / "models" / f"{manifest.stem}-tags-linear"


def test_a_tags_model_scores_from_the_tagger(tags_model: Path, data_dir: Path) -> None:
    from hitdesk.model.runtime import HitModel

    model = HitModel(tags_model)
    assert model.runtime.inputs == ("tags",) and model.tag_names == shared_tagger().tags
    result = analyze_file(data_dir / CLIP, model, AnalysisOptions(window_seconds=3.0))
    assert result.error is None and result.overall is not None
    assert result.style is None, "the tags feed the model; they are shown only when asked for"
    shown = analyze_file(data_dir / CLIP, model, AnalysisOptions(window_seconds=3.0, style=True))
    assert shown.style and shown.overall == result.overall
    fast = analyze_file(data_dir / CLIP, model, AnalysisOptions(window_seconds=3.0, fast=True))
    assert fast.error is None and fast.overall is not None
    # The track's one row of tags serves every window, as one row per window does.
    lm = [np.zeros((128, 10), np.float32)] * 3
    row = np.linspace(0.0, 0.5, 50)
    assert model.score_logmel(lm, np.zeros((3, 2)), tags=row) == model.score_logmel(
        lm, np.zeros((3, 2)), tags=np.tile(row, (3, 1))
    )
    with pytest.raises(ModelError, match="scores from the music tagger's tags"):
        model.score_logmel([np.zeros((128, 10), np.float32)], [[0.0, 0.0]])


def test_a_tags_model_without_the_tagger_says_so(
    tags_model: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hitdesk import style
    from hitdesk.model.runtime import HitModel

    model = HitModel(tags_model)

    def missing(directory: Path | None = None) -> None:
        raise ModelError("The music tagger 'musicnn-msd.onnx' is missing from models/taggers.")

    monkeypatch.setattr(style, "shared_tagger", missing)
    result = analyze_file(data_dir / CLIP, model, AnalysisOptions(window_seconds=3.0))
    assert result.overall is None
    assert result.error == (
        f"Model '{tags_model.name}' scores from the music tagger's tags, and '{CLIP}' has none it can use."
    )


def test_a_tags_model_card_without_tag_names_is_refused(tags_model: Path, tmp_path: Path) -> None:
    from hitdesk.model.runtime import HitModel

    card = json.loads(tags_model.with_suffix(".json").read_text())
    del card["model"]["tagger"]
    (tmp_path / "bad.json").write_text(json.dumps(card))
    (tmp_path / "bad.onnx").write_bytes(tags_model.with_suffix(".onnx").read_bytes())
    with pytest.raises(ModelError, match="does not name them"):
        HitModel(tmp_path / "bad")


def test_joint_net_takes_logmel_and_tags() -> None:
    torch = pytest.importorskip("torch")
    from hitdesk.training.nets import make_net

    for name in ("tags-cnn-joint", "tags-inception-joint"):
        net = make_net(name, n_meta=50)
        net.eval()
        out = net(torch.zeros(2, 128, 40) - 40.0, torch.rand(2, 50))
        assert out.shape == (2,)
        changed = net(torch.zeros(2, 128, 40) - 40.0, torch.rand(2, 50) + 1.0)
        assert not torch.allclose(out, changed), "the tag branch reaches the output"
        with pytest.raises(ValueError, match="metadata"):
            net(torch.zeros(2, 128, 40))


@pytest.mark.parametrize("calibrator", ["platt", "isotonic"])
def test_tags_linear_graph_merges_with_either_calibration(calibrator: str) -> None:
    """The tag graph, the calibration and the measured range become one model onnxruntime loads."""
    import onnxruntime as ort
    from tag_signals import recipe_data

    from hitdesk.training import calibration
    from hitdesk.training.recipes.base import with_calibration
    from hitdesk.training.recipes.interval import measure, with_interval
    from hitdesk.training.recipes.tags import TagsLinear

    rng = np.random.default_rng(0)
    tags = rng.uniform(0.0, 0.3, (40, 50))
    hit = (tags[:, 4] + rng.normal(0, 0.05, 40) > 0.15).astype(np.int64)
    scorer = TagsLinear().fit(recipe_data(tags, hit), seed=0, epochs=None)
    scores = np.asarray(scorer.score_songs(recipe_data(tags, hit)))[:, 0]
    cal = calibration.Platt.fit(scores, hit) if calibrator == "platt" else calibration.Isotonic.fit(scores, hit)
    model = with_interval(with_calibration(scorer.graph("t"), cal, "t"), measure(cal(scores), hit))
    session = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    p = session.run(["p_hit"], {"tags": tags.astype(np.float32)})[0]
    np.testing.assert_allclose(p, cal(scores), atol=1e-4)


def test_a_tags_model_draws_the_hit_curve(tags_model: Path, data_dir: Path) -> None:
    """``hitdesk analyze``'s default path: the curve's windows are scored with the track's tags too."""
    from hitdesk.explain.pipeline import analyze
    from hitdesk.model.runtime import HitModel

    model = HitModel(tags_model)
    result, _ = analyze(data_dir / CLIP, model, AnalysisOptions(window_seconds=3.0))
    assert result.error is None and result.curve is not None and len(result.curve.points) >= 3
    # One tag vector for the track and a linear model on it: every window scores the same.
    assert {round(p.p_hit, 5) for p in result.curve.points} == {round(result.overall.p_hit, 5)}  # type: ignore[union-attr]
