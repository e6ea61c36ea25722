"""The takes controller with no window: the real model on the small clips, driven through its signals.

Everything the window shows comes from these states and signals, so the take state machine is
tested here without building a widget.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings
from ui_helpers import REPO, WAIT_MS, clips

from hitdesk.analysis import AnalysisOptions
from hitdesk.explain import analyze
from hitdesk.ui.controller import AnalysisSettings, TakesController
from hitdesk.ui.takes import State


class Recorder:
    """Every signal of a controller, in order, as (name, args)."""

    NAMES = (
        "takes_added",
        "takes_removing",
        "takes_removed",
        "take_changed",
        "take_finished",
        "take_loudness",
        "take_ended",
        "takes_requeued",
        "takes_cancelled",
        "focus_requested",
        "progress",
        "model_changed",
        "model_failed",
        "message",
        "all_done",
        "dirty_changed",
    )

    def __init__(self, controller: TakesController) -> None:
        self.events: list[tuple[str, tuple[Any, ...]]] = []
        for name in self.NAMES:
            getattr(controller, name).connect(lambda *args, n=name: self.events.append((n, args)))

    def args(self, name: str) -> list[tuple[Any, ...]]:
        return [a for n, a in self.events if n == name]

    def clear(self) -> None:
        self.events.clear()


@pytest.fixture
def controller(qtbot: Any, settings: QSettings) -> Iterator[TakesController]:
    """A controller with the default model; ``settings`` puts the result cache and logs in tmp."""
    c = TakesController(AnalysisSettings())
    assert c.load_model(None), c.model_error
    yield c
    c.shutdown()


def _wait_idle(qtbot: Any, c: TakesController) -> None:
    qtbot.waitUntil(lambda: not c.is_busy, timeout=WAIT_MS)


def test_added_files_are_analysed_with_the_engines_numbers(qtbot: Any, controller: TakesController) -> None:
    files = clips()
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        added = controller.add_paths(files)
    qtbot.waitUntil(lambda: all(t.loudness is not None for t in controller.takes), timeout=WAIT_MS)
    assert [t.path for t in added] == [p.absolute() for p in files]
    assert seen.args("takes_added") == [([t.id for t in added],)]
    model = controller.model
    assert model is not None
    options = AnalysisOptions(window_seconds=model.card.window_seconds or 30.0, fast=False)
    assert controller.options == options
    for take, path in zip(controller.takes, files, strict=True):
        assert take.state == State.DONE and take.detail is not None and take.picture is not None
        assert (
            take.result is not None and take.result.to_dict() == analyze(path.absolute(), model, options)[0].to_dict()
        )
        assert take.loudness is not None and take.loudness_error is None
        assert (take.id, False) in seen.args("take_finished")
        assert (take.id,) in seen.args("take_loudness") and (take.id,) in seen.args("take_ended")
    progress = seen.args("progress")
    assert progress[-1] == (0, 0) and (0, len(files)) in progress
    assert controller.batch == (0, 0) and not controller.is_busy
    assert controller.dirty and seen.args("dirty_changed") == [(True,)]


def test_bad_files_are_error_takes_and_duplicates_are_skipped(
    qtbot: Any, controller: TakesController, tmp_path: Path
) -> None:
    broken = tmp_path / "x.mp3"
    broken.write_text("this is not audio\n", encoding="utf-8")
    missing = tmp_path / "gone.wav"
    empty = tmp_path / "empty"
    empty.mkdir()
    clip = clips()[0]
    seen = Recorder(controller)
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        added = controller.add_paths([empty, missing, broken, clip, clip])
    assert len(added) == 4
    folder, gone, bad, good = added
    assert folder.state == State.ERROR and folder.message and "empty" in folder.message
    assert folder.result is None and (folder.id,) not in seen.args("take_ended")  # an input problem is never queued
    assert gone.state == State.ERROR and gone.error is not None and "gone.wav" in gone.error
    assert bad.state == State.ERROR and bad.error is not None and "x.mp3" in bad.error
    assert good.state == State.DONE
    assert seen.args("message") == [("1 file already in the list, not added again.",)]
    _wait_idle(qtbot, controller)
    seen.clear()
    assert controller.add_paths([clip]) == []
    assert seen.args("message") == [("1 file already in the list, not added again.",)]
    assert not seen.args("takes_added") and not controller.is_busy
    # Exported as the command line does: an error row for each file that could not be analysed.
    assert controller.export_results(tmp_path / "out.json") == 4
    exported = json.loads((tmp_path / "out.json").read_text(encoding="utf-8"))
    assert [bool(e["error"]) for e in exported] == [True, True, True, False]
    assert seen.args("message")[-1] == ("Exported 4 results to out.json.",)


def test_cancel_stops_the_queue_and_analyse_again_finishes_it(qtbot: Any, controller: TakesController) -> None:
    controller.set_workers(1)
    assert controller.workers == 1
    added = controller.add_paths(clips())
    seen = Recorder(controller)
    controller.cancel_all()
    cancelled = seen.args("takes_cancelled")
    assert len(cancelled) == 1 and set(cancelled[0][0]) <= {t.id for t in added}
    assert all(t.state in (State.CANCELLED, State.DONE) for t in controller.takes)
    _wait_idle(qtbot, controller)
    assert all(t.state in (State.CANCELLED, State.DONE) for t in controller.takes)
    unfinished = controller.unfinished_takes()
    assert unfinished and all(t.state == State.CANCELLED for t in unfinished)
    with qtbot.waitSignal(controller.takes_requeued) as requeued:
        controller.reanalyse(unfinished)
    assert requeued.args == [[t.id for t in unfinished]]
    _wait_idle(qtbot, controller)
    assert all(t.state == State.DONE for t in controller.takes)


def test_remove_is_instant_and_late_answers_are_dropped(qtbot: Any, controller: TakesController) -> None:
    added = controller.add_paths(clips())
    seen = Recorder(controller)
    first = added[0].id
    controller.remove_ids({first})
    assert seen.args("takes_removing") == [([first],)] and seen.args("takes_removed") == [([first],)]
    assert [t.id for t in controller.takes] == [t.id for t in added[1:]]
    assert controller.by_id(first) is None
    _wait_idle(qtbot, controller)
    for name in ("take_changed", "take_finished", "take_loudness", "take_ended"):
        assert all(args[0] != first for args in seen.args(name)), name
    assert all(t.state == State.DONE for t in controller.takes)
    controller.clear()
    assert controller.takes == [] and not controller.dirty


def test_reanalyse_forgets_the_results_then_gives_them_again(qtbot: Any, controller: TakesController) -> None:
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        controller.add_paths(clips()[:2])
    _wait_idle(qtbot, controller)
    before = [t.result.to_dict() for t in controller.takes if t.result is not None]
    seen = Recorder(controller)
    controller.reanalyse(controller.takes, use_cache=False)
    assert seen.args("takes_requeued") == [([t.id for t in controller.takes],)]
    assert all(t.state == State.QUEUED and t.result is None and t.loudness is None for t in controller.takes)
    _wait_idle(qtbot, controller)
    assert [t.result.to_dict() for t in controller.takes if t.result is not None] == before
    assert all(t.state == State.DONE for t in controller.takes)


def test_model_change_analyses_again_and_a_bad_model_is_refused(
    qtbot: Any, controller: TakesController, tmp_path: Path
) -> None:
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        controller.add_paths(clips()[:2])
    _wait_idle(qtbot, controller)
    model = controller.model
    assert model is not None
    # The same model files under another name: a different model as far as the app knows.
    other = tmp_path / "other"
    for suffix in (".json", ".onnx", ".head.onnx"):
        (tmp_path / f"other{suffix}").write_bytes((model.stem.parent / f"{model.stem.name}{suffix}").read_bytes())
    seen = Recorder(controller)
    assert controller.load_model(str(other))
    assert controller.model is not None and controller.model.stem.name == "other"
    assert seen.args("model_changed") == [()]
    assert seen.args("takes_requeued") == [([t.id for t in controller.takes],)]
    _wait_idle(qtbot, controller)
    assert all(t.state == State.DONE for t in controller.takes)
    # An incompatible model: refused with a sentence, the loaded one stays, the takes are untouched.
    bad = tmp_path / "bad"
    card = json.loads(model.stem.with_suffix(".json").read_text(encoding="utf-8"))
    card["feature_config"]["n_mels"] = 64
    bad.with_suffix(".json").write_text(json.dumps(card), encoding="utf-8")
    for suffix in (".onnx", ".head.onnx"):
        (tmp_path / f"bad{suffix}").write_bytes((model.stem.parent / f"{model.stem.name}{suffix}").read_bytes())
    kept = controller.model
    seen.clear()
    assert not controller.load_model(str(bad))
    assert controller.model is kept
    assert controller.model_error is not None and "different features" in controller.model_error
    assert seen.args("model_failed") == [(controller.model_error,)]
    assert not seen.args("takes_requeued") and all(t.state == State.DONE for t in controller.takes)


def test_takes_wait_for_a_model(qtbot: Any, settings: QSettings) -> None:
    c = TakesController(AnalysisSettings())
    try:
        added = c.add_paths(clips()[:1])
        assert added[0].state == State.QUEUED and not c.is_busy  # nothing to analyse with yet
        with qtbot.waitSignal(c.all_done, timeout=WAIT_MS):
            assert c.load_model(None)
        _wait_idle(qtbot, c)
        assert added[0].state == State.DONE
    finally:
        c.shutdown()


def test_recorded_take_notes_and_session_round_trip(
    qtbot: Any, controller: TakesController, settings: QSettings, tmp_path: Path
) -> None:
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        controller.add_paths(clips()[:1])
    _wait_idle(qtbot, controller)
    take = controller.takes[0]
    assert take.result is not None
    # A recorded take arrives with its result: listed as done and shown at once, analysed no more.
    recorded = clips()[1]
    seen = Recorder(controller)
    result = controller.add_result(recorded, take.result, notes=["Audio was lost."])
    assert result is not None and result.state == State.DONE and not controller.is_busy
    assert seen.args("focus_requested") == [(result.id,)]
    assert controller.add_result(recorded, take.result) is None  # already listed
    controller.set_note(take.id, "chorus too quiet")
    assert (take.id,) in seen.args("take_changed") and take.note == "chorus too quiet"
    session = tmp_path / "s.hitdesk.json"
    controller.save_session(session)
    assert not controller.dirty and seen.args("message")[-1] == ("Session saved to s.hitdesk.json.",)
    other = TakesController(AnalysisSettings())
    try:
        assert other.load_model(None)
        seen = Recorder(other)
        opened = other.open_session(session)
        assert [t.path for t in opened] == [t.path for t in controller.takes]
        assert all(t.state == State.DONE for t in opened)  # at once, from the session
        assert [t.result.to_dict() for t in opened if t.result] == [
            {**t.result.to_dict(), "file": str(t.path)} for t in controller.takes if t.result
        ]
        assert opened[0].note == "chorus too quiet"
        assert seen.args("focus_requested") == [(opened[0].id,)]
        assert not other.dirty and not other.is_busy
    finally:
        other.shutdown()


def test_a_spectrogram_no_longer_wanted_is_not_computed(
    qtbot: Any, controller: TakesController, tmp_path: Path
) -> None:
    """Takes of a session have results but no log-mel: the compare view asks for it for the rows in
    view and withdraws the request when they scroll away; a withdrawn job that has not started never
    runs, and the take keeps its result."""
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        controller.add_paths(clips())
    session = tmp_path / "s.hitdesk.json"
    controller.save_session(session)
    other = TakesController(AnalysisSettings(), workers=1)
    try:
        assert other.load_model(None)
        opened = other.open_session(session)
        before = [t.result for t in opened]
        started: list[int] = []
        other.analyser.take_started.connect(started.append)
        for take in opened:
            other.ensure_detail(take.id)
        for take in opened[1:]:  # one worker: these wait behind the first
            other.ensure_detail(take.id, wanted=False)
        _wait_idle(qtbot, other)
        assert started == [opened[0].id]
        assert opened[0].detail is not None
        assert all(t.detail is None and t.state == State.DONE for t in opened[1:])
        assert [t.result for t in opened[1:]] == before[1:]
    finally:
        other.shutdown()


def test_the_controller_needs_no_widgets() -> None:
    """QtCore only: the controller (and the takes it owns) can run where no widget toolkit loads."""
    code = (
        "import sys; import hitdesk.ui.controller; print(sorted(m for m in sys.modules if m.startswith('PySide6.Qt')))"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert proc.stdout.strip() == "['PySide6.QtCore']"


def test_a_damaged_result_in_a_session_is_analysed_again(
    qtbot: Any, controller: TakesController, tmp_path: Path
) -> None:
    with qtbot.waitSignal(controller.all_done, timeout=WAIT_MS):
        controller.add_paths(clips()[:2])
    _wait_idle(qtbot, controller)
    session = tmp_path / "s.hitdesk.json"
    controller.save_session(session)
    raw = json.loads(session.read_text(encoding="utf-8"))
    raw["takes"][1]["result"]["overall"]["p_hit"] = 7.5
    session.write_text(json.dumps(raw), encoding="utf-8")
    good = controller.takes[1].result
    other = TakesController(AnalysisSettings())
    try:
        assert other.load_model(None)
        seen = Recorder(other)
        opened = other.open_session(session)
        assert opened[0].state == State.DONE and opened[1].result is None and opened[1].state == State.QUEUED
        assert any("not valid" in a[0] and clips()[1].name in a[0] for a in seen.args("message"))
        _wait_idle(qtbot, other)
        assert opened[1].state == State.DONE and opened[1].result is not None and good is not None
        assert opened[1].result.overall == good.overall  # analysed again: the engine's number, not 7.5
    finally:
        other.shutdown()
