"""Proof that the tag recipes learn: generated drum-heavy against piano-like clips.

First that the music tagger hears the difference (its tag probabilities differ between the two
kinds), then that ``tags-linear`` learns the label from them: held-out ROC-AUC at least 0.9, and at
most 0.65 (mean of three seeds) with the training labels shuffled. Small here (short clips, one
tagger patch each); ``bench/bench_tag_learnability.py`` runs the full-size set and the joint nets.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score
from tag_signals import build_tagset, clip_tags, held_out_auc, recipe_data

N_CLIPS = 120
MIN_AUC = 0.9
MAX_SHUFFLED_AUC = 0.65


@pytest.fixture(scope="module")
def tagged():  # type: ignore[no-untyped-def]
    pytest.importorskip("onnxruntime")
    tagset = build_tagset(N_CLIPS, seed=0)
    tags = clip_tags(tagset.clips)
    order = np.random.default_rng(1).permutation(N_CLIPS)
    return tagset, tags, np.sort(order[48:]), np.sort(order[:48])


def test_the_set_is_reproducible_and_balanced() -> None:
    a, b, c = build_tagset(6, seed=0), build_tagset(6, seed=0), build_tagset(6, seed=1)
    assert all(np.array_equal(x, y) for x, y in zip(a.clips, b.clips, strict=True))
    assert not np.array_equal(a.clips[0], c.clips[0])
    assert a.label.tolist() == [0, 1, 0, 1, 0, 1]
    assert (a.drum_share[a.label == 1] > 0.5).all() and (a.drum_share[a.label == 0] < 0.5).all()


def test_the_tagger_hears_drums_against_piano(tagged) -> None:  # type: ignore[no-untyped-def]
    from hitdesk.model.tagger import shared_tagger

    tagset, tags, _, _ = tagged
    names = shared_tagger().tags
    per_tag = [roc_auc_score(tagset.label, tags[:, j]) for j in range(tags.shape[1])]
    best = int(np.argmax(np.abs(np.array(per_tag) - 0.5)))
    assert abs(per_tag[best] - 0.5) >= 0.3, f"no tag tells the kinds apart (best {names[best]}: {per_tag[best]:.2f})"
    jazz = names.index("jazz")  # the piano-like clips sound like jazz to the tagger
    assert tags[tagset.label == 0, jazz].mean() > tags[tagset.label == 1, jazz].mean() + 0.1


def test_tags_linear_learns_the_label(tagged) -> None:  # type: ignore[no-untyped-def]
    tagset, tags, train, test = tagged
    auc = held_out_auc("tags-linear", recipe_data(tags, tagset.label), train, test)
    assert auc >= MIN_AUC, f"tags-linear did not learn (held-out ROC-AUC {auc:.3f})"


def test_tags_linear_does_not_learn_shuffled_labels(tagged) -> None:  # type: ignore[no-untyped-def]
    tagset, tags, train, test = tagged
    data = recipe_data(tags, tagset.label)
    aucs = [held_out_auc("tags-linear", data, train, test, shuffle_seed=s) for s in (0, 1, 2)]
    assert float(np.mean(aucs)) <= MAX_SHUFFLED_AUC, f"tags-linear learnt shuffled labels: {aucs}"
