"""A second decoding thread gives the same samples and the same results as one."""

from __future__ import annotations

import logging
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from conftest import AudioFactory

from hitdesk.analysis import AnalysisOptions, analyze
from hitdesk.audio import iter_blocks, probe, read_excerpts
from hitdesk.audio import parallel as par
from hitdesk.audio.info import SeekFailed
from hitdesk.model import HitModel


def _decode(path: Path, threads: int) -> np.ndarray:
    return np.concatenate(list(iter_blocks(path, threads=threads)))


@pytest.fixture(scope="module")
def model() -> HitModel:
    return HitModel.load()


@pytest.fixture(scope="module")
def long_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A minute of audio in the formats whose second half another thread can decode."""
    audio_factory = AudioFactory(tmp_path_factory.mktemp("parallel"))
    vorbis = audio_factory.folder / "minute.ogg"
    data = audio_factory.signal(44100, 60.0)
    # libsndfile's Vorbis encoder crashes on one large write; small writes are fine.
    with sf.SoundFile(vorbis, "w", 44100, 2, subtype="VORBIS") as out:
        for i in range(0, len(data), 8192):
            out.write(data[i : i + 8192])
    return {
        "vorbis": vorbis,
        "flac": audio_factory.sndfile("minute.flac", sr=48000, seconds=60.0),
        "wav": audio_factory.sndfile("minute.wav", sr=96000, seconds=50.0, subtype="PCM_24"),
    }


@pytest.mark.parametrize("kind", ["vorbis", "flac", "wav"])
def test_two_threads_decode_the_same_samples(long_files: dict[str, Path], kind: str) -> None:
    path = long_files[kind]
    assert par.start_tail(path, probe(path)) is not None, "this file is one a second thread can help with"
    one, two = _decode(path, 1), _decode(path, 2)
    assert one.shape == two.shape
    # Ogg Vorbis: FFmpeg decodes the first half, libsndfile the second; they agree to float rounding.
    atol = 1e-6 if kind == "vorbis" else 0.0
    np.testing.assert_allclose(two, one, rtol=0, atol=atol)


def test_a_bad_seam_falls_back_to_one_thread(
    long_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    path = long_files["flac"]
    reference = _decode(path, 1)
    real_start = par.start_tail

    def shifted(p: Path, info: object) -> par.TailRead | None:
        tail = real_start(p, info)  # type: ignore[arg-type]
        assert tail is not None
        wrong: Future[np.ndarray] = Future()
        wrong.set_result(np.roll(tail.samples.result(), 100))  # a seek that landed 100 frames off
        return par.TailRead(tail.start, wrong)

    monkeypatch.setattr("hitdesk.audio.decode.start_tail", shifted)
    with caplog.at_level(logging.INFO, logger="hitdesk.audio.parallel"):
        np.testing.assert_array_equal(_decode(path, 2), reference)
    assert "disagree at the seam" in caplog.text


def test_a_failed_seek_falls_back_to_one_thread(long_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    path = long_files["vorbis"]
    reference = _decode(path, 1)

    def failing(p: Path, info: object) -> par.TailRead:
        broken: Future[np.ndarray] = Future()
        broken.set_exception(SeekFailed("two libsndfile seeks to the same place disagree"))
        return par.TailRead(int(probe(p).sample_rate * 30), broken)

    monkeypatch.setattr("hitdesk.audio.decode.start_tail", failing)
    np.testing.assert_array_equal(_decode(path, 2), reference)


def test_short_long_and_mp3_files_stay_on_one_thread(audio_factory: AudioFactory) -> None:
    short = audio_factory.sndfile("short.flac", seconds=10.0)
    mp3 = audio_factory.encoded("minute.mp3", "mp3", seconds=50.0)
    assert par.start_tail(short, probe(short)) is None
    assert par.start_tail(mp3, probe(mp3)) is None


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
    one, _ = analyze(path, model, AnalysisOptions(window_seconds=10.0, fast=fast, decode_threads=1))
    two, _ = analyze(path, model, AnalysisOptions(window_seconds=10.0, fast=fast, decode_threads=2))
    assert one.ok and two.ok and one.mode == two.mode
    a, b = one.to_dict(), two.to_dict()
    assert a["duration_s"] == b["duration_s"] and a["notes"] == b["notes"]
    for sa, sb in zip(a["segments"], b["segments"], strict=True):
        assert (sa["name"], sa["start_s"], sa["end_s"]) == (sb["name"], sb["start_s"], sb["end_s"])
        assert sa["p_hit"] == pytest.approx(sb["p_hit"], abs=1e-5)
    assert a["overall"]["p_hit"] == pytest.approx(b["overall"]["p_hit"], abs=1e-5)
    assert repr(AnalysisOptions(decode_threads=2)) == repr(AnalysisOptions()), "the cache key ignores threads"


@pytest.mark.corpus
def test_real_vorbis_track_decodes_the_same_on_two_threads(corpus_dir: Path) -> None:
    path = corpus_dir / "chaos_god-mix.ogg"
    one, two = _decode(path, 1), _decode(path, 2)
    assert one.shape == two.shape
    np.testing.assert_allclose(two, one, rtol=0, atol=1e-6)
