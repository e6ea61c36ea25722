"""Excerpts read by two readers on two threads: the same samples and the same results as one."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import AudioFactory

from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.audio import read_excerpts
from hitdesk.model import HitModel


@pytest.fixture(scope="module")
def long_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A minute or more of audio in formats libsndfile seeks in exactly."""
    audio_factory = AudioFactory(tmp_path_factory.mktemp("parallel"))
    vorbis = audio_factory.folder / "minute.ogg"
    data = audio_factory.signal(44100, 90.0)
    # libsndfile's Vorbis encoder crashes on one large write; small writes are fine.
    with sf.SoundFile(vorbis, "w", 44100, 2, subtype="VORBIS") as out:
        for i in range(0, len(data), 8192):
            out.write(data[i : i + 8192])
    return {
        "vorbis": vorbis,
        "flac": audio_factory.sndfile("minute.flac", sr=48000, seconds=60.0),
    }


@pytest.mark.parametrize("kind", ["vorbis", "flac"])
def test_excerpts_read_by_two_readers_are_the_same(long_files: dict[str, Path], kind: str) -> None:
    path = long_files[kind]
    starts = [0.0, 12.5, 30.0, 47.25, 59.0]
    one = read_excerpts(path, starts, 8.0)
    two = read_excerpts(path, starts, 8.0, threads=2)
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("fast", [False, True])
def test_results_do_not_depend_on_decode_threads(model: HitModel, long_files: dict[str, Path], fast: bool) -> None:
    path = long_files["vorbis"]
    one, _ = analyze(path, model, AnalysisOptions(window_seconds=5.0, fast=fast, decode_threads=1))
    two, _ = analyze(path, model, AnalysisOptions(window_seconds=5.0, fast=fast, decode_threads=2))
    assert one.ok and one.mode == ("fast" if fast else "full")
    assert one.to_dict() == two.to_dict()
    assert repr(AnalysisOptions(decode_threads=2)) == repr(AnalysisOptions()), "the cache key ignores threads"
