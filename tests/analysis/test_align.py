"""Lining takes up (hitdesk.align): known offsets on made-up songs, different songs refused, corpus pairs."""

from __future__ import annotations

import numpy as np
import pytest
from made_songs import RATE, envelope, song, with_intro
from shared_folder import CORPUS

from hitdesk.align import ENVELOPE_HOP_S, SAME_SONG_MIN_CONFIDENCE, Alignment, AlignmentError, align


@pytest.mark.parametrize(("intro_s", "cut_s"), [(0.0, 3.217), (5.0, 1.7), (2.5, 0.0), (8.0, 8.0)])
def test_a_known_offset_is_found_with_a_different_intro(intro_s: float, cut_s: float) -> None:
    a = song(1)
    b = with_intro(a, 9, intro_s, cut_s) if intro_s else a[round(cut_s * RATE) :]
    found = align(envelope(a), envelope(b))
    assert found.offset_s == pytest.approx(intro_s - cut_s, abs=0.012)  # about half a frame
    assert found.same_song and found.confidence >= SAME_SONG_MIN_CONFIDENCE
    back = align(envelope(b), envelope(a))  # the other way round: the same offset, negated
    assert back.offset_s == pytest.approx(cut_s - intro_s, abs=0.012)


def test_a_take_that_starts_later_lines_up_at_a_fraction_of_a_frame() -> None:
    a = song(5)
    late = np.concatenate([np.zeros(round(0.3 * ENVELOPE_HOP_S * RATE) + 2 * 512, dtype=np.float32), a])
    expected = len(late) / RATE - len(a) / RATE
    assert align(envelope(a), envelope(late)).offset_s == pytest.approx(expected, abs=0.006)


@pytest.mark.parametrize(("seed_a", "seed_b", "beat"), [(1, 2, None), (3, 4, 0.5), (6, 7, 0.4)])
def test_different_songs_do_not_look_like_one(seed_a: int, seed_b: int, beat: float | None) -> None:
    """Also two songs on one steady beat, whose onsets correlate a little at every beat."""
    found = align(envelope(song(seed_a, beat_s=beat)), envelope(song(seed_b, beat_s=beat)))
    assert not found.same_song and found.confidence < SAME_SONG_MIN_CONFIDENCE


def test_a_song_on_a_steady_beat_still_lines_up_with_itself() -> None:
    a = song(3, beat_s=0.5)
    found = align(envelope(a), envelope(with_intro(a, 11, 2.0, 0.0)))
    assert found.offset_s == pytest.approx(2.0, abs=0.012) and found.same_song


def test_what_cannot_be_lined_up() -> None:
    with pytest.raises(AlignmentError, match="too short"):
        align(envelope(song(1, 10.0)), envelope(song(1)))
    with pytest.raises(AlignmentError, match="hop"):
        align(envelope(song(1)), envelope(song(1)), hop_s=0.0)
    song_envelope = envelope(song(1))
    silent = align(np.zeros(2000), song_envelope)  # nothing to line up: not one song
    assert silent == Alignment(0.0, 0.0, 0.0, song_envelope.size * ENVELOPE_HOP_S) and not silent.same_song


def test_the_analysis_keeps_the_onset_envelope(model: object, data_dir: object) -> None:
    from pathlib import Path

    from hitdesk.analysis import AnalysisOptions
    from hitdesk.audio import decode_all
    from hitdesk.explain import analyze

    clip = Path(str(data_dir)) / "chipdisko-12s.ogg"
    result, detail = analyze(clip, model, AnalysisOptions(window_seconds=5.0))  # type: ignore[arg-type]
    assert detail.onset_envelope is not None and detail.track_extra is None and result.curve is not None
    assert np.allclose(detail.onset_envelope, envelope(decode_all(clip)), atol=1e-4)
    fast = analyze(clip, model, AnalysisOptions(window_seconds=5.0, fast=True))[1]  # type: ignore[arg-type]
    assert fast.onset_envelope is None  # excerpts only: no whole-track envelope


CORPUS_SAME = [
    ("chaos_god-mix.ogg", "chaos_god-guitar.ogg", 0.0),  # a mix and its guitar stem
    ("chipdisko.ogg", "chipdisko.mp3", 0.0),
    ("elvish-theme.ogg", "elvish-theme-60s.flac", -30.0),
    ("awakening.ogg", "awakening-30s-24bit.wav", -60.0),
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason="needs the corpus in the shared folder")
def test_corpus_pairs_of_one_song_line_up_and_different_songs_do_not() -> None:
    from hitdesk.audio import decode_all

    cache: dict[str, np.ndarray] = {}

    def env(name: str) -> np.ndarray:
        if name not in cache:
            cache[name] = envelope(decode_all(CORPUS / name))
        return cache[name]

    for a, b, offset in CORPUS_SAME:
        found = align(env(a), env(b))
        assert found.same_song, (a, b, found)
        assert found.offset_s == pytest.approx(offset, abs=0.03), (a, b)
    battle = decode_all(CORPUS / "battle_theme.ogg")
    intro = np.concatenate([decode_all(CORPUS / "chipdisko.ogg")[: 12 * RATE], battle[round(7.3 * RATE) :]])
    assert align(env("battle_theme.ogg"), envelope(intro)).same_song  # another song's intro in front
    for a, b in [("awakening.ogg", "forest-sprint.ogg"), ("armygeddon-mix.ogg", "chaos_god-mix.ogg")]:
        assert not align(env(a), env(b)).same_song, (a, b)
