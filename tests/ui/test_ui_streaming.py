"""While a take is analysed its log-mel streams into the spectrogram; cancelling frees the core at once."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from ui_helpers import WAIT_MS, drop_files, wait_idle

from hitdesk.audio import decode_all
from hitdesk.config import FEATURES
from hitdesk.ui.main_window import MainWindow
from hitdesk.ui.takes import State
from hitdesk.ui.takes_table import Column


@pytest.fixture(scope="module")
def long_takes(tmp_path_factory: pytest.TempPathFactory, data_dir: Path) -> list[Path]:
    """Two takes of eight minutes made of a real clip, long enough to watch them being analysed."""
    clip = decode_all(data_dir / "chipdisko-12s.ogg")
    rate = FEATURES.sample_rate
    folder = tmp_path_factory.mktemp("streaming")
    paths = []
    for i, gain in enumerate((0.8, 0.5)):
        samples = gain * np.tile(clip, int(np.ceil(480 * rate / clip.size)))[: 480 * rate]
        path = folder / f"take-{i + 1}.wav"
        sf.write(path, samples, rate, subtype="PCM_16")
        paths.append(path)
    return paths


def test_the_spectrogram_scrolls_with_the_analysis_then_keeps_the_track_under_the_windows(
    qtbot: object, window: MainWindow, long_takes: list[Path]
) -> None:
    window.controller.set_workers(1)
    assert drop_files(window, long_takes[:1])
    take = window.takes.takes[0]
    window.select_ids([take.id])
    assert window.panel.take is take
    view = window.panel.spectrogram
    states: set[str] = set()
    ranges: list[tuple[float, float]] = []

    def record() -> None:
        states.add(str(window.takes.data(window.takes.index(0, Column.STATE))))
        if view._picture is not None:
            ranges.append(tuple(view.getPlotItem().vb.viewRange()[0]))  # type: ignore[arg-type]

    window.controller.analyser.take_progress.connect(lambda *_: record())
    wait_idle(qtbot, window)
    assert take.state == State.DONE, take.error
    assert any(s.startswith("analysing ") and s.endswith("%") for s in states), states
    # While streaming the view followed the newest columns: it showed a minute, not the whole track.
    assert ranges and min(r[1] - r[0] for r in ranges) <= 61.0
    assert take.picture is not None and take.picture.done == 1.0
    assert take.picture.span_s == pytest.approx(480.0, abs=0.5)
    # Afterwards: the three windows the model heard, over the whole track's picture, dimmed.
    assert view.window_names == ["beginning", "middle", "end"]
    assert view._picture is not None and view._picture.opacity() < 1.0
    lo, hi = view.getPlotItem().vb.viewRange()[0]
    assert lo == pytest.approx(0.0, abs=0.5) and hi == pytest.approx(480.0, abs=1.0)
    image = view._picture.image
    assert image.shape[0] == FEATURES.n_mels and image.shape[1] <= 2048
    assert float(np.median(image)) > -100.0, "the picture holds the music, not the empty floor"


def test_cancel_stops_a_running_analysis_within_a_block(
    qtbot: object, window: MainWindow, long_takes: list[Path]
) -> None:
    window.controller.set_workers(1)
    started: list[float] = []
    window.controller.analyser.take_progress.connect(lambda *_: started.append(time.monotonic()))
    assert drop_files(window, long_takes)
    qtbot.waitUntil(lambda: bool(started), timeout=WAIT_MS)  # type: ignore[attr-defined]
    t0 = time.monotonic()
    window.controller.cancel_all()
    # The running job notices between two blocks of audio and gives its core back.
    qtbot.waitUntil(lambda: window.controller.analyser.pending == 0, timeout=5_000)  # type: ignore[attr-defined]
    stopped_after = time.monotonic() - t0
    assert stopped_after < 1.0, f"the analysis ran on for {stopped_after:.2f} s after it was cancelled"
    assert all(t.state == State.CANCELLED for t in window.takes.takes)
    assert window.controller.analyser.pool.activeThreadCount() == 0
    window.controller.reanalyse(window.takes.takes)
    wait_idle(qtbot, window)
    assert [t.state for t in window.takes.takes] == [State.DONE, State.DONE], [t.error for t in window.takes.takes]
