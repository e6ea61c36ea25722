"""Every awkward input at once, through the command line and through a drop on the real window.

For each file of the generated corpus (tests/badinput.py): one plain sentence naming the file, or
a correct result; the other files are still analysed; the app keeps running; no input changes by a
byte. One file is deleted while it is being read, which on Linux must not disturb the reader.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import json
import math
import re
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from badinput import Case, Corpus, build, open_by, sha256, unlock
from PySide6.QtCore import QSettings
from ui_helpers import WAIT_MS, clips, drop_files, make_window, require_model

REPO = Path(__file__).resolve().parents[2]


def assert_one_sentence(message: str | None, case: Case) -> None:
    assert message, case.name
    quoted = f"'{case.path.name}'"
    assert quoted in message, (case.name, message)
    rest = message.replace(quoted, "NAME")
    assert "\n" not in rest and rest.endswith("."), (case.name, message)
    assert len(re.findall(r"[.!?](?:\s|$)", rest)) == 1, (case.name, message)
    assert "Traceback" not in message and "unexpected" not in message, (case.name, message)
    if case.hints:
        assert any(h.lower() in message.lower() for h in case.hints), (case.name, message)


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, dict):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def assert_outcome(case: Case, row: dict[str, Any]) -> None:
    """The row is a one-sentence error or a sound result, as the case allows."""
    error = row.get("error")
    if case.expect == "error" or (case.expect == "either" and error):
        assert error, f"{case.name}: expected an error, got a result"
        assert_one_sentence(error, case)
        return
    assert error is None, f"{case.name}: {error}"
    assert _finite(row), f"{case.name}: a number is not finite: {row}"
    overall = row["overall"]
    assert 0.0 <= overall["p_hit_low"] <= overall["p_hit"] <= overall["p_hit_high"] <= 1.0
    assert [s["name"] for s in row["segments"]] == ["beginning", "middle", "end"]
    for seg in row["segments"]:
        assert 0.0 <= seg["p_hit"] <= 1.0
        assert 0.0 <= seg["start_s"] < seg["end_s"] <= row["duration_s"] + 1e-6
    if case.duration_s is not None:
        tolerance = 0.05 if case.expect == "result" else case.duration_s  # a truncated file: what decodes
        assert abs(row["duration_s"] - case.duration_s) <= tolerance, (case.name, row["duration_s"])


def _strict_json(text: str) -> Any:
    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in the JSON output")

    return json.loads(text, parse_constant=refuse)


class Deleter(threading.Thread):
    """Deletes ``path`` as soon as process ``pid`` has it open; remembers whether it caught it open."""

    def __init__(self, pid: int, path: Path, timeout_s: float = 300.0) -> None:
        super().__init__(daemon=True)
        self.pid, self.path, self.timeout_s = pid, path, timeout_s
        self.caught_open = False
        self.stop = threading.Event()

    def run(self) -> None:
        deadline = time.monotonic() + self.timeout_s
        while not self.stop.is_set() and time.monotonic() < deadline:
            if open_by(self.pid, self.path):
                self.path.unlink()
                self.caught_open = True
                return
            time.sleep(0.002)


@pytest.fixture
def corpus(tmp_path: Path) -> Iterator[Corpus]:
    c = build(tmp_path / "bad input")
    yield c
    unlock(c)


def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    env["HITDESK_CACHE_DIR"] = str(tmp_path / "cache")
    return env


def _run_cli(corpus: Corpus, tmp_path: Path, *extra: str) -> tuple[list[dict[str, Any]], str, int, Deleter]:
    vanishing = corpus.by_name("deleted-while-analysed").path
    proc = subprocess.Popen(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", *extra, *map(str, corpus.paths())],
        env=_env(tmp_path),
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deleter = Deleter(proc.pid, vanishing)
    deleter.start()
    try:
        stdout, stderr = proc.communicate(timeout=900)
    finally:
        deleter.stop.set()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    deleter.join()
    return _strict_json(stdout), stderr, proc.returncode, deleter


def test_cli_on_every_bad_input(corpus: Corpus, tmp_path: Path) -> None:
    require_model()
    before = corpus.hashes()
    names = set(os.listdir(corpus.root))
    rows, stderr, code, deleter = _run_cli(corpus, tmp_path)
    assert code == 1, stderr  # some files failed, none stopped the run
    assert "Traceback" not in stderr, stderr
    assert deleter.caught_open, "the file was never seen open, so it was not deleted during its analysis"
    assert [r["file"] for r in rows] == [str(p) for p in corpus.paths()]  # every file has its row, in order
    for case, row in zip(corpus.cases, rows, strict=True):
        assert_outcome(case, row)
    by_name = {c.name: r for c, r in zip(corpus.cases, rows, strict=True)}
    # Deleted while open: a reader that has it keeps reading to the end, a later open (tags, decoding,
    # the cache's content hash each open it) finds it gone; either way one of the two outcomes above.
    assert by_name["wav-claims-longer"]["duration_s"] == pytest.approx(10.0, abs=0.01)
    assert by_name["wav-claims-shorter"]["duration_s"] == pytest.approx(5.0, abs=0.01)
    assert corpus.hashes() == {p: h for p, h in before.items() if p.exists()}
    # Nothing written beside the inputs, and nothing recreated the deleted file.
    assert set(os.listdir(corpus.root)) == names - {"vanishing.wav"}


@pytest.mark.slow
def test_cli_hour_long_flac_among_bad_inputs(tmp_path: Path) -> None:
    """The 60-minute file, with two broken neighbours: it is scored whole and they still get their rows."""
    require_model()
    corpus = build(tmp_path / "long", long_minutes=60)
    try:
        keep = [corpus.by_name(n) for n in ("zero-byte", "60-minutes", "text-as-mp3")]
        before = {c.path: c for c in keep}
        hashes = {c.path: sha256(c.path) for c in keep}
        proc = subprocess.run(
            [sys.executable, "-m", "hitdesk", "analyze", "--json", *(str(c.path) for c in keep)],
            env=_env(tmp_path),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=1200,
        )
        rows = _strict_json(proc.stdout)
        assert proc.returncode == 1, proc.stderr
        for row in rows:
            assert_outcome(before[Path(row["file"])], row)
        assert {c.path: sha256(c.path) for c in keep} == hashes
    finally:
        unlock(corpus)


# ---------------------------------------------------------------------------------------------- the app


def test_app_on_every_bad_input(qtbot: Any, corpus: Corpus, settings: QSettings) -> None:
    from hitdesk.ui.takes import State

    before = corpus.hashes()
    windows = make_window(qtbot, settings, restore=False)
    window = next(windows)
    try:
        window.controller.set_workers(1)  # one file at a time: the deleter has time to catch its file open
        deleter = Deleter(os.getpid(), corpus.by_name("deleted-while-analysed").path)
        deleter.start()
        assert drop_files(window.table.viewport(), corpus.paths())
        qtbot.waitUntil(lambda: not window.is_busy, timeout=WAIT_MS * 5)
        deleter.stop.set()
        deleter.join()
        assert deleter.caught_open
        assert window.isVisible()
        takes = {t.path: t for t in window.takes.takes}
        assert set(takes) == {p.absolute() for p in corpus.paths()}
        for case in corpus.cases:
            take = takes[case.path.absolute()]
            if take.state == State.DONE:
                assert case.expect != "error", case.name
                assert take.result is not None
                assert_outcome(case, take.result.to_dict())
            else:
                assert take.state == State.ERROR, (case.name, take.state)
                assert case.expect != "result", (case.name, take.error)
                assert_one_sentence(take.error, case)
        # The app still works after all that: a good clip dropped now is analysed.
        good = clips()[0]
        assert drop_files(window.table.viewport(), [good])
        qtbot.waitUntil(lambda: not window.is_busy, timeout=WAIT_MS)
        assert window.takes.take_at(window.takes.rowCount() - 1).state == State.DONE
        assert corpus.hashes() == {p: h for p, h in before.items() if p.exists()}
    finally:
        for _ in windows:
            pass


def test_more_than_eight_channels_through_ffmpeg(tmp_path: Path) -> None:
    """FFmpeg's decode of a 12-channel Vorbis file (planar frames) equals libsndfile's, and the app's
    loudness meter reads a 12-channel file only FFmpeg opens; both used to kill the process."""
    import numpy as np
    import soundfile as sf

    from hitdesk.audio import decode_all, read_excerpts
    from hitdesk.audio.resample import StreamResampler
    from hitdesk.ui.loudness import measure_file

    c = build(tmp_path / "many")
    try:
        vorbis = c.by_name("12-channels-vorbis").path
        ours = decode_all(vorbis)  # the whole-file decode goes through FFmpeg for Vorbis
        native, sr = sf.read(str(vorbis), dtype="float32", always_2d=True)
        assert native.shape[1] == 12
        resampler = StreamResampler(sr)
        reference = np.concatenate([resampler.push(native.mean(axis=1).astype(np.float32)), resampler.finish()])
        assert len(ours) == len(reference)
        assert float(np.max(np.abs(ours - reference))) < 1e-4
        excerpt = read_excerpts(c.by_name("12-channels-matroska").path, [1.0], 2.0)[0]
        assert len(excerpt) == 2 * 22050 and float(np.abs(excerpt).max()) > 0.1
        loudness = measure_file(c.by_name("12-channels-matroska").path)
        assert loudness is not None and math.isfinite(loudness.integrated_lufs)
    finally:
        unlock(c)
