"""The tagger's style as the analysis computes it: from the one pass, off by default, from pieces."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import AudioFactory

import hitdesk.analysis as analysis
from hitdesk.analysis import AnalysisOptions, analyze, track_mel
from hitdesk.audio import decode_all
from hitdesk.dsp.tagger_input import patches, tagger_frames
from hitdesk.model.runtime import HitModel
from hitdesk.model.tagger import shared_tagger
from hitdesk.style import StyleListener, style_of_pieces


def test_the_pass_gives_the_tagger_what_a_decode_of_its_own_would(data_dir: Path) -> None:
    clip = data_dir / "chipdisko-12s.ogg"
    listener = StyleListener(max_patches=None)
    track_mel(clip, listener=listener)
    style = listener.finish()
    assert style is not None and style.n_patches == 4
    want = shared_tagger().probabilities(patches(tagger_frames(decode_all(clip)))).mean(axis=0)
    np.testing.assert_allclose(style.probabilities, want, atol=1e-6)
    assert style.tags == shared_tagger().tags


def test_off_by_default_and_then_nothing_of_it_runs(
    model: HitModel, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the tagger ran without being asked")

    monkeypatch.setattr(analysis, "StyleListener", refuse)
    monkeypatch.setattr(analysis, "style_of_pieces", refuse)
    result, detail = analyze(data_dir / "chipdisko-12s.ogg", model)
    assert result.ok and result.style is None and detail.style is None
    assert AnalysisOptions().style is False


def test_full_mode_style_is_in_the_result_and_the_detail(model: HitModel, data_dir: Path) -> None:
    result, detail = analyze(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(style=True))
    assert result.style is not None and detail.style is not None
    assert len(result.style) == 10 and len(detail.style.probabilities) == 50
    assert [t.tag for t in result.style] == [t.tag for t in detail.style.top()]
    assert result.style[0].p == pytest.approx(float(detail.style.probabilities.max()))


def test_pieces_are_taken_in_time_order_and_capped(data_dir: Path) -> None:
    x = decode_all(data_dir / "chipdisko-12s.ogg")
    a, b = x[: 6 * 22050], x[6 * 22050 :]
    forward = style_of_pieces([(0.0, a), (6.0, b)])
    backward = style_of_pieces([(6.0, b), (0.0, a)])
    assert forward is not None and backward is not None and forward.n_patches == 4  # two 3 s patches a piece
    np.testing.assert_array_equal(forward.probabilities, backward.probabilities)
    capped = style_of_pieces([(0.0, a), (6.0, b)], max_patches=1)
    assert capped is not None and capped.n_patches == 1
    assert style_of_pieces([(0.0, x[:22050])]) is None  # shorter than one 3 s patch


def test_a_missing_tagger_costs_the_tags_not_the_scores(
    model: HitModel, audio_factory: AudioFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The app asks for tags by its setting; without a usable tagger each take keeps its scores and says why."""
    long = audio_factory.sndfile("long.flac", seconds=100.0)
    monkeypatch.setenv("HITDESK_MODELS_DIR", str(tmp_path))  # no taggers/ folder there
    for fast in (False, True):
        opts = AnalysisOptions(window_seconds=5.0, style=True, fast=fast)
        result, detail = analyze(long, model, opts)
        assert result.ok and result.mode == ("fast" if fast else "full")
        assert result.overall is not None and result.style is None and detail.style is None
        assert sum("music tagger" in n and "scores are not affected" in n for n in result.notes) == 1
