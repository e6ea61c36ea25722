"""Models with a lyrics input: the take's lyrics (pasted, or the .lrc/.txt beside it) embedded and fed.

The model here is written by hand: p_hit = sigmoid(mean(logmel) / 10 + 10 * sum(lyrics)), so a take
scored with its lyrics and one scored without (zeros) give different, known numbers.
"""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from lyrics_model import write_lyrics_model

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.cache import cache_key
from hitdesk.model.card import parse_runtime
from hitdesk.model.encoder import load_encoder
from hitdesk.model.runtime import HitModel
from hitdesk.take_lyrics import NO_LYRICS_NOTE, take_embedding

OPTS = AnalysisOptions(window_seconds=3.0, curve=False)
WORDS = "[00:01.00]Sailing on the ocean\n[00:04.00]under a silver moon"


@pytest.fixture
def take(tmp_path: Path, data_dir: Path) -> Path:
    audio = tmp_path / "takes" / "song.ogg"
    audio.parent.mkdir()
    shutil.copy(data_dir / "chipdisko-12s.ogg", audio)
    return audio


def test_the_runtime_section_may_declare_lyrics() -> None:
    assert parse_runtime({"inputs": ["logmel", "lyrics"], "overall": "mean"}, "m").takes_lyrics
    assert not parse_runtime(None, "m").takes_lyrics


def test_a_take_without_lyrics_is_scored_without_them_and_says_so(tmp_path: Path, take: Path) -> None:
    model = HitModel(write_lyrics_model(tmp_path / "m"))
    without = analyze_file(take, model, OPTS)
    assert without.error is None and NO_LYRICS_NOTE in without.notes
    (take.parent / "song.lrc").write_text(WORDS, encoding="utf-8")
    with_file = analyze_file(take, model, OPTS)
    assert with_file.error is None and not any("lyrics" in n for n in with_file.notes)
    assert with_file.overall.p_hit != pytest.approx(without.overall.p_hit, abs=1e-4)
    # The take's other numbers are the same with and without lyrics.
    assert with_file.loudness == without.loudness and with_file.duration_s == without.duration_s
    # The embedding fed is the encoder's of the file's words without time tags: logits differ by 10 * its sum.
    vec = load_encoder().embed(["Sailing on the ocean\nunder a silver moon"])[0]
    for a, b in zip(with_file.segments, without.segments, strict=True):
        assert _logit(a.score.p_hit) - _logit(b.score.p_hit) == pytest.approx(10.0 * float(vec.sum()), abs=1e-3)
    pasted = analyze_file(take, model, replace(OPTS, lyrics="Sailing on the ocean\nunder a silver moon"))
    assert pasted.overall.p_hit == pytest.approx(with_file.overall.p_hit, abs=1e-6)


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def test_models_without_a_lyrics_input_never_read_lyrics(take: Path, model: HitModel) -> None:
    (take.parent / "song.txt").write_bytes(b"\xff\xfe not utf-8")  # would be an error if it were read
    assert take_embedding(take, model.runtime) == (None, None)
    result = analyze_file(take, model, OPTS)
    assert result.error is None and not any("lyric" in n.lower() for n in result.notes)


def test_an_unreadable_lyrics_file_is_one_note(tmp_path: Path, take: Path) -> None:
    model = HitModel(write_lyrics_model(tmp_path / "m"))
    (take.parent / "song.txt").write_bytes(b"\xff\xfe not utf-8")
    result = analyze_file(take, model, OPTS)
    assert result.error is None
    assert "Lyrics file 'song.txt' is not UTF-8 text. The model scored this take without lyrics." in result.notes


def test_the_cache_key_follows_the_lyrics_file_for_lyrics_models_only(
    tmp_path: Path, take: Path, model: HitModel
) -> None:
    lyr = HitModel(write_lyrics_model(tmp_path / "m"))
    before = (cache_key(take, lyr, OPTS), cache_key(take, model, OPTS))
    (take.parent / "song.lrc").write_text(WORDS, encoding="utf-8")
    after = (cache_key(take, lyr, OPTS), cache_key(take, model, OPTS))
    assert before[0] is not None and after[0] is not None and before[0].name != after[0].name
    assert before[1] is not None and after[1] is not None and before[1].name == after[1].name


def test_the_hit_curve_of_a_lyrics_model_hears_the_lyrics(tmp_path: Path, take: Path) -> None:
    """Every point of the curve, not only the three windows, is scored with the take's lyrics."""
    from hitdesk.explain import analyze_file as analyze_explained

    model = HitModel(write_lyrics_model(tmp_path / "m"))
    opts = AnalysisOptions(window_seconds=3.0, curve_hop_s=1.0)
    without = analyze_explained(take, model, opts)
    (take.parent / "song.lrc").write_text(WORDS, encoding="utf-8")
    with_file = analyze_explained(take, model, opts)
    assert without.curve is not None and with_file.curve is not None
    assert len(with_file.curve.points) == len(without.curve.points) > 3
    shift = 10.0 * float(load_encoder().embed(["Sailing on the ocean\nunder a silver moon"])[0].sum())
    for a, b in zip(with_file.curve.points, without.curve.points, strict=True):
        assert _logit(a.p_hit) - _logit(b.p_hit) == pytest.approx(shift, abs=1e-3)
