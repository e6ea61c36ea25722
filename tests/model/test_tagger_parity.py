"""The ONNX tagger against the original musicnn network: outputs of its TensorFlow graph, stored.

The references (tests/data/musicnn-reference-*.json) were computed by tools/tagger/musicnn_reference.py
with musicnn's own network code and checkpoint under TensorFlow, from musicnn's preprocessing of
the files. Here the files go through HitDesk's own path instead: its decoder, the analysis's
22,050 Hz signal resampled to 16 kHz, hitdesk.dsp.tagger_input and onnxruntime.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from hitdesk.audio import decode_all
from hitdesk.dsp.tagger_input import patches, tagger_frames
from hitdesk.model import available_models
from hitdesk.model.tagger import Tagger, shared_tagger, tagger_stem

DATA = Path(__file__).resolve().parents[1] / "data"
TOLERANCE = 1e-3


def _references(name: str) -> list[dict[str, object]]:
    files: list[dict[str, object]] = json.loads((DATA / name).read_text(encoding="utf-8"))["files"]
    return files


def _check(folder: Path, entry: dict[str, object]) -> None:
    path = folder / str(entry["file"])
    assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"], f"{path.name} is not the file referenced"
    want = np.asarray(entry["patches"], dtype=np.float64)
    got = shared_tagger().probabilities(patches(tagger_frames(decode_all(path))))
    assert got.shape == want.shape
    assert np.abs(got - want).max() < TOLERANCE
    assert np.abs(got.mean(axis=0) - want.mean(axis=0)).max() < TOLERANCE


@pytest.mark.parametrize("entry", _references("musicnn-reference-clip.json"), ids=lambda e: str(e["file"]))
def test_tagger_matches_the_original_on_the_test_clip(entry: dict[str, object]) -> None:
    _check(DATA, entry)


@pytest.mark.parametrize("entry", _references("musicnn-reference-corpus.json"), ids=lambda e: str(e["file"]))
def test_tagger_matches_the_original_on_corpus_tracks(corpus_dir: Path, entry: dict[str, object]) -> None:
    _check(corpus_dir, entry)


def test_tags_are_read_from_the_card() -> None:
    tagger = shared_tagger()
    card = json.loads(tagger_stem().with_suffix(".json").read_text(encoding="utf-8"))
    assert tagger.tags == tuple(card["tags"]) and len(tagger.tags) == 50
    assert card["licence"]["name"] == "ISC"
    assert card["training_data"]["n_songs"] > 100_000


def test_the_tagger_is_not_offered_as_a_hit_model() -> None:
    assert tagger_stem().with_suffix(".onnx").exists()
    assert tagger_stem().name not in available_models()


def test_a_card_for_other_features_is_refused(tmp_path: Path) -> None:
    from hitdesk.errors import ModelError

    card = json.loads(tagger_stem().with_suffix(".json").read_text(encoding="utf-8"))
    card["preprocessing"]["n_mels"] = 128
    (tmp_path / "t.json").write_text(json.dumps(card), encoding="utf-8")
    (tmp_path / "t.onnx").write_bytes(tagger_stem().with_suffix(".onnx").read_bytes())
    with pytest.raises(ModelError, match="other input features"):
        Tagger(tmp_path / "t")
    (tmp_path / "t.onnx").write_bytes(b"not a model")
    card["preprocessing"]["n_mels"] = 96
    (tmp_path / "t.json").write_text(json.dumps(card), encoding="utf-8")
    with pytest.raises(ModelError, match="damaged"):
        Tagger(tmp_path / "t")
