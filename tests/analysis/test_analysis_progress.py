"""The engine's progress stream (log-mel as it is computed) and cancellation, on real audio."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from hitdesk import analysis
from hitdesk.analysis import AnalysisOptions, Progress, analyze
from hitdesk.audio import decode_all
from hitdesk.config import FEATURES
from hitdesk.dsp.mel import melspectrogram, power_to_fs_db
from hitdesk.dsp.windows import Window
from hitdesk.errors import AnalysisCancelledError
from hitdesk.model import HitModel

HOP_S = FEATURES.hop_length / FEATURES.sample_rate


@pytest.fixture(scope="module")
def long_wav(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> Path:
    """Four minutes of a real clip repeated, at the engine's rate, so decoding takes many blocks."""
    clip = decode_all(data_dir / "chipdisko-12s.ogg")
    rate = FEATURES.sample_rate
    path = tmp_path_factory.mktemp("progress") / "four-minutes.wav"
    sf.write(path, np.tile(clip, int(np.ceil(240 * rate / clip.size)))[: 240 * rate], rate, subtype="FLOAT")
    return path


def test_full_mode_streams_the_whole_track_in_order_before_the_result(
    model: HitModel, long_wav: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Every decoded block is handed on at once: the analysis may take less than the usual interval.
    monkeypatch.setattr(analysis, "PROGRESS_INTERVAL_S", 0.0)
    events: list[tuple[str, object]] = []

    def on_progress(p: Progress) -> None:
        events.append(("progress", p))

    def on_window(w: Window, logmel: np.ndarray) -> None:
        events.append(("window", (w, logmel)))

    result, detail = analyze(long_wav, model, AnalysisOptions(), on_window=on_window, on_progress=on_progress)
    assert result.ok, result.error
    progress = [e for kind, e in events if kind == "progress"]
    windows = [e for kind, e in events if kind == "window"]
    assert len(progress) >= 2, "a four-minute track arrives in several pieces"
    assert all(isinstance(p, Progress) for p in progress)
    # Contiguous pieces, in order, covering the whole track, with a rising share of the work done.
    frames = 0
    for p in progress:
        assert p.start_s == pytest.approx(frames * HOP_S)
        frames += p.columns.shape[1]
        assert p.duration_s == pytest.approx(240.0, abs=0.1)
    assert frames == 1 + int(240 * FEATURES.sample_rate) // FEATURES.hop_length
    dones = [p.done for p in progress]
    assert dones == sorted(dones) and dones[-1] == 1.0
    # The windows come after the track's picture, placed where the result says, with the model's input.
    assert [kind for kind, _ in events[-3:]] == ["window"] * 3
    for (w, logmel), seg in zip(windows, result.segments, strict=True):
        assert (w.name, w.start_s, w.end_s) == (seg.name, seg.start_s, seg.end_s)
        np.testing.assert_array_equal(logmel, detail.window_logmel[w.name])
    # The drawn columns are the engine's own mel power, on the fixed full-scale dB scale.
    start = 2500  # a frame about a minute in
    joined = np.concatenate([p.columns for p in progress], axis=1)
    audio, rate = sf.read(long_wav, dtype="float32")
    assert rate == FEATURES.sample_rate
    hop = FEATURES.hop_length
    reference = power_to_fs_db(melspectrogram(audio[(start - 200) * hop : (start + 400) * hop]))
    piece = joined[:, start : start + 100]
    np.testing.assert_allclose(piece, np.maximum(reference[:, 200:300], -100.0), atol=1e-3)


def test_fast_mode_streams_the_pieces_it_reads(model: HitModel, long_wav: Path) -> None:
    progress: list[Progress] = []
    result, _ = analyze(long_wav, model, AnalysisOptions(fast=True), on_progress=progress.append)
    assert result.ok and result.mode == "fast"
    starts = [p.start_s for p in progress]
    assert starts[0] == 0.0 and len(progress) >= 3
    covered = sum(p.columns.shape[1] for p in progress) * HOP_S
    assert covered < 0.8 * 240.0, "fast mode draws only what it read"
    middle = next(s for s in result.segments if s.name == "middle")
    assert any(abs(p.start_s - middle.start_s) < 1e-6 for p in progress)


def test_cancel_stops_within_a_block_and_leaves_no_result(model: HitModel, long_wav: Path) -> None:
    stop = threading.Event()
    seen: list[float] = []

    def on_progress(p: Progress) -> None:
        seen.append(time.monotonic())
        stop.set()  # ask to stop as soon as the first piece is drawn

    t0 = time.monotonic()
    with pytest.raises(AnalysisCancelledError):
        analyze(long_wav, model, AnalysisOptions(), on_progress=on_progress, should_stop=stop.is_set)
    assert seen, "the analysis reported progress before it was stopped"
    assert len(seen) <= 2
    # Stopped long before a full analysis of four minutes would end (it takes ~0.5 s; stopping ~ one block).
    assert time.monotonic() - seen[0] < 1.0
    assert time.monotonic() - t0 < 5.0


def test_cancel_before_start_reads_nothing(model: HitModel, tmp_path: Path) -> None:
    missing = tmp_path / "not-there.wav"  # would be an error row if it were read
    with pytest.raises(AnalysisCancelledError):
        analyze(missing, model, AnalysisOptions(), should_stop=lambda: True)
