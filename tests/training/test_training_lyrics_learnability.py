"""Proof that lyrics are learnable through the shipped encoder: generated texts whose label is their topic.

A small version of ``bench/bench_lyrics_learnability.py``: a logistic regression on the encoder's
embeddings must reach a held-out ROC-AUC of at least 0.9 on texts whose topic lines it never saw,
and at most 0.65 (mean of three seeds) with the training labels shuffled.
"""

from __future__ import annotations

import numpy as np
import pytest
from lyrics_data import FILLER, TOPICS, LyricsSet, LyricsSetConfig, build_lyrics_set, lyrics_auc

from hitdesk.model.encoder import load_encoder

SMALL = LyricsSetConfig(n_train=120, n_test=80, seed=0)
MIN_AUC = 0.9
MAX_SHUFFLED_AUC = 0.65


@pytest.fixture(scope="module")
def small() -> tuple[LyricsSet, dict[str, np.ndarray]]:
    data = build_lyrics_set(SMALL)
    texts = data.train_texts + data.test_texts
    return data, dict(zip(texts, load_encoder().embed(texts), strict=True))


def test_the_set_is_balanced_and_held_out_lines_are_new(small: tuple[LyricsSet, dict[str, np.ndarray]]) -> None:
    data, _ = small
    assert data.train_labels.mean() == 0.5 and data.test_labels.mean() == 0.5
    topic_lines = {line for _, lines in TOPICS.values() for line in lines}
    seen = {line for t in data.train_texts for line in t.split("\n")} & topic_lines
    held = {line for t in data.test_texts for line in t.split("\n")} & topic_lines
    assert seen and held and not seen & held
    # The filler appears under both labels, so it says nothing about the label.
    for line in FILLER:
        labels = {int(y) for t, y in zip(data.train_texts, data.train_labels, strict=True) if line in t.split("\n")}
        assert labels == {0, 1}, line


def test_the_label_is_learnt_from_the_embeddings(small: tuple[LyricsSet, dict[str, np.ndarray]]) -> None:
    data, cache = small
    assert lyrics_auc(lambda ts: np.stack([cache[t] for t in ts]), data) >= MIN_AUC


def test_shuffled_labels_are_not_learnt(small: tuple[LyricsSet, dict[str, np.ndarray]]) -> None:
    data, cache = small
    aucs = [lyrics_auc(lambda ts: np.stack([cache[t] for t in ts]), data, shuffle_seed=s) for s in (0, 1, 2)]
    assert float(np.mean(aucs)) <= MAX_SHUFFLED_AUC
