"""The result cache cannot be made to return a wrong result: changed files, edited entries, odd entries.

Everything is generated in ``tmp_path``: short WAVs written with numpy, entries made by a first run
and then edited on disk the way an attacker (or a crash, or another version) could.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pytest
import soundfile as sf
from badinput import lying_wav, music

from hitdesk import cache
from hitdesk.analysis import AnalysisOptions
from hitdesk.cli import main
from hitdesk.explain import analyze_file
from hitdesk.platforms import BUILT_IN, platform_rows
from hitdesk.present import format_human
from hitdesk.result_schema import validate_result_dict

if TYPE_CHECKING:
    from conftest import AppFolders

REPO = Path(__file__).resolve().parents[2]
SR = 22050
OPTS = AnalysisOptions(window_seconds=3.0)


@pytest.fixture
def cache_root(app_folders: AppFolders) -> Path:
    """The results cache the code under test uses (in the test's own app folders)."""
    return app_folders.cache


def wav(path: Path, seconds: float, seed: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, music(SR, seconds, seed=seed), SR, subtype="PCM_16")
    return path


def entries(root: Path) -> list[Path]:
    return sorted(root.iterdir()) if root.is_dir() else []


def fresh(path: Path, model: Any, opts: AnalysisOptions = OPTS) -> dict[str, Any]:
    return analyze_file(path, model, opts).to_dict()


# ---------------------------------------------------------------------------------------------- changed files


def _rewrite(path: Path, how: str) -> None:
    """Changes the file in place (same inode), as a download, a recorder or an attacker would."""
    original = path.read_bytes()
    if how == "grown":
        other = path.with_name("longer.wav")
        data = wav(other, 20.0).read_bytes()
        other.unlink()
    elif how == "truncated":
        data = original[: len(original) // 3]
    else:  # same size, other samples, timestamps put back
        st = os.stat(path)
        data = original[:44] + bytes(reversed(original[44:]))
    with open(path, "r+b") as fh:
        fh.write(data)
        fh.truncate(len(data))
    if how == "same-size":
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def _changing_analysis(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """``analyze_file`` that finds the file changed after it was hashed (the attack's timing)."""
    real = cache.analyze_file

    def changed_then_analysed(path: Path, *args: Any) -> Any:
        _rewrite(Path(path), how)
        return real(path, *args)

    monkeypatch.setattr(cache, "analyze_file", changed_then_analysed)


@pytest.mark.parametrize("how", ["grown", "truncated", "same-size"])
@pytest.mark.parametrize("settled", [True, False], ids=["old-file", "just-written"])
def test_a_file_changed_during_analysis_is_not_cached(
    how: str, settled: bool, model: Any, cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A result for content the file no longer has must not be stored under the hash of the old content."""
    path = wav(tmp_path / "take.wav", 12.0)
    original = path.read_bytes()
    expected = fresh(path, model)
    if settled:  # the stat comparison alone must see it (ctime moves even when mtime is put back)
        monkeypatch.setattr(cache, "SETTLE_S", 0.0, raising=False)
        time.sleep(0.05)  # not in the timestamp tick the file was written in
    with monkeypatch.context() as m:
        _changing_analysis(m, how)
        changed = cache.analyze_cached(path, model, OPTS)
    assert entries(cache_root) == []
    path.write_bytes(original)  # the content that was hashed, again: the cache must not answer for it
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected
    assert changed.notes[-1] == cache.CHANGED_NOTE


def test_a_change_within_one_timestamp_tick_is_caught_by_hashing_again(
    model: Any, cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the stat looks the same (coarse timestamps), a file changed recently is hashed again."""
    path = wav(tmp_path / "take.wav", 12.0)
    original = path.read_bytes()
    expected = fresh(path, model)
    tick = time.time_ns()  # every stamp reads as written in this tick: only the content can tell

    def coarse(st: os.stat_result) -> Any:
        return cache._Stamp(st.st_dev, st.st_ino, st.st_size, tick, tick)

    monkeypatch.setattr(cache._Stamp, "of", staticmethod(coarse))
    monkeypatch.setattr(cache, "SETTLE_S", 3600.0)  # however slowly this runs, the file counts as just written
    with monkeypatch.context() as m:
        _changing_analysis(m, "same-size")
        assert cache.analyze_cached(path, model, OPTS).notes[-1] == cache.CHANGED_NOTE
    assert entries(cache_root) == []
    path.write_bytes(original)
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected
    assert len(entries(cache_root)) == 1  # unchanged: stored after the second hash agreed


# ---------------------------------------------------------------------------------------------- edited entries


def _set(*keys: Any, value: Any) -> Callable[[dict[str, Any]], Any]:
    def edit(d: dict[str, Any]) -> Any:
        target = d
        for k in keys[:-1]:
            target = target[k]
        target[keys[-1]] = value
        return d

    return edit


def _drop_field(name: str) -> Callable[[dict[str, Any]], Any]:
    def edit(d: dict[str, Any]) -> Any:
        del d[name]
        return d

    return edit


def _swap_segments(d: dict[str, Any]) -> Any:
    d["segments"] = list(reversed(d["segments"]))
    return d


EDITS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "p_hit-7.5": _set("overall", "p_hit", value=7.5),
    "segment-p_hit-negative": _set("segments", 1, "p_hit", value=-0.2),
    "low-above-p_hit": _set("overall", "p_hit_low", value=0.999),
    "duration-minus-1": _set("duration_s", value=-1),
    "duration-null": _set("duration_s", value=None),
    "nan": _set("overall", "p_hit", value=float("nan")),
    "infinity": _set("segments", 0, "end_s", value=float("inf")),
    "overall-null": _set("overall", value=None),
    "p_hit-as-text": _set("overall", "p_hit", value="0.5"),
    "p_hit-as-bool": _set("overall", "p_hit", value=True),
    "segments-as-object": _set("segments", value={"name": "beginning"}),
    "notes-as-text": _set("notes", value="fine"),
    "artist-as-number": _set("tags", "artist", value=12),
    "integer-beyond-float": _set("duration_s", value=10**400),
    "typicality-2": _set("familiarity", "typicality", value=2.0),
    "segment-beyond-track": _set("segments", 2, "end_s", value=999.0),
    "segments-out-of-order": _swap_segments,
    "unknown-segment": _set("segments", 0, "name", value="chorus"),
    "error-entry": _set("error", value="Cannot analyse it."),
    "other-model": _set("model", "name", value="someone-elses"),
    "fast-result-for-full-run": _set("mode", value="fast"),
    "before-familiarity-existed": _drop_field("familiarity"),
    "a-field-from-elsewhere": _set("verdict", value="hit"),
    "not-an-object": lambda d: [d],
}
RAW_EDITS: dict[str, Callable[[bytes], bytes]] = {
    "truncated-json": lambda raw: raw[: len(raw) // 2],
    "empty": lambda raw: b"",
    "not-utf8": lambda raw: b"\xff\xfe" + raw,
    "nested-deeply": lambda raw: b"[" * 100_000 + b"]" * 100_000,
    # A well-formed entry with another p_hit, padded past the size an entry can have.
    "too-large": lambda raw: raw.replace(b'"p_hit": 0.', b'"p_hit": 0.0', 1) + b" " * (2 << 20),
}


def _edit_entry(root: Path, case: str) -> None:
    (entry,) = entries(root)
    raw = entry.read_bytes()
    if case in RAW_EDITS:
        entry.write_bytes(RAW_EDITS[case](raw))
    else:
        # json.dumps writes NaN and Infinity as Python reads them (not standard JSON).
        entry.write_text(json.dumps(EDITS[case](json.loads(raw))), encoding="utf-8")


def _run_main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["analyze", "--window-seconds", "3", *args])
    return code, capsys.readouterr().out


@pytest.mark.parametrize("case", [*EDITS, *RAW_EDITS])
def test_an_edited_entry_is_dropped_and_recomputed(
    case: str, model: Any, cache_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    expected = fresh(path, model)
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected  # writes the entry
    _edit_entry(cache_root, case)
    code, out = _run_main(capsys, "--json", str(path))
    assert code == 0
    (row,) = json.loads(out)
    assert row.pop("platforms") == platform_rows(expected["loudness"], BUILT_IN)  # the output's own, not cached
    assert [row] == [expected]
    _edit_entry(cache_root, case)  # the run replaced it with a good entry; spoil it again
    code, out = _run_main(capsys, str(path))
    assert code == 0 and "overall (whole track)" in out and "take.wav" in out
    (entry,) = entries(cache_root)  # one good entry again, and no temporary file beside it
    assert validate_result_dict(json.loads(entry.read_bytes()))["overall"] == expected["overall"]


def test_the_human_output_of_an_edited_entry_in_a_real_process(model: Any, tmp_path: Path) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    env = dict(os.environ, HITDESK_CACHE_DIR=str(tmp_path / "cache"))
    cmd = [sys.executable, "-m", "hitdesk", "analyze", "--window-seconds", "3", str(path)]
    first = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert first.returncode == 0, first.stderr
    _edit_entry(tmp_path / "cache", "overall-null")
    second = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert second.returncode == 0, second.stderr
    assert second.stdout == first.stdout and "Traceback" not in second.stderr


def test_human_output_survives_odd_rows() -> None:
    class Card:
        name, version, label_definition, base_rate = "m", "1", "a hit", 0.1

    rows: list[dict[str, Any]] = [
        {"file": "a.wav", "duration_s": None, "overall": None, "segments": None, "mode": "full"},
        {"file": "b.wav", "duration_s": float("nan"), "tags": {"artist": 3}, "segments": [{"name": "x"}]},
        {"file": "c.wav", "overall": {"p_hit": "high"}, "familiarity": {"typicality": None}, "notes": ["n"]},
    ]
    text = format_human(rows, Card())
    assert "a.wav" in text and "b.wav" in text and "note: n" in text and "no score" in text


# ---------------------------------------------------------------------------------------------- odd entries


@pytest.mark.timeout(30)
def test_a_fifo_entry_does_not_hang(model: Any, cache_root: Path, tmp_path: Path) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    expected = fresh(path, model)
    cache.analyze_cached(path, model, OPTS)
    (entry,) = entries(cache_root)
    entry.unlink()
    os.mkfifo(entry)
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected
    assert entry.is_file() and entries(cache_root) == [entry]  # replaced by a good entry


def test_a_linked_entry_is_not_followed(model: Any, cache_root: Path, tmp_path: Path) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    expected = fresh(path, model)
    cache.analyze_cached(path, model, OPTS)
    (entry,) = entries(cache_root)
    elsewhere = tmp_path / "planted.json"
    elsewhere.write_text(json.dumps(_set("overall", "p_hit", value=0.99)(json.loads(entry.read_text()))))
    planted = elsewhere.read_bytes()
    entry.unlink()
    entry.symlink_to(elsewhere)
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected
    assert elsewhere.read_bytes() == planted  # the link's target is neither trusted nor touched


def test_a_folder_in_place_of_an_entry_leaves_no_temporary_file(model: Any, cache_root: Path, tmp_path: Path) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    expected = fresh(path, model)
    cache.analyze_cached(path, model, OPTS)
    (entry,) = entries(cache_root)
    entry.unlink()
    entry.mkdir()
    assert cache.analyze_cached(path, model, OPTS).to_dict() == expected
    assert entries(cache_root) == [entry]


def test_a_full_disk_leaves_no_temporary_file(
    model: Any, cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    real_fdopen = os.fdopen

    class Full(io.RawIOBase):
        def __init__(self, fd: int) -> None:
            self.fh = real_fdopen(fd, "wb")

        def write(self, b: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

        def close(self) -> None:
            self.fh.close()
            super().close()

    monkeypatch.setattr(os, "fdopen", lambda fd, *a, **k: Full(fd))
    assert cache.analyze_cached(path, model, OPTS).ok
    assert entries(cache_root) == []


def test_a_file_size_limit_leaves_no_temporary_file(tmp_path: Path) -> None:
    """The kernel refuses the write (EFBIG, as a full disk refuses with ENOSPC) in a real run."""
    path = wav(tmp_path / "take.wav", 12.0)
    root = tmp_path / "cache"
    root.mkdir()

    # The limit is set in the child before the app starts (no preexec_fn: this process has threads).
    limited = (
        "import resource, runpy, signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "
        "resource.setrlimit(resource.RLIMIT_FSIZE, (100, 100)); sys.argv[0] = 'hitdesk'; "
        "runpy.run_module('hitdesk', run_name='__main__')"
    )
    env = dict(os.environ, HITDESK_CACHE_DIR=str(root), PYTHONDONTWRITEBYTECODE="1")
    cmd = [sys.executable, "-c", limited, "analyze", "--json", "--window-seconds", "3", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=REPO, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["error"] is None
    assert "cannot write the result cache" in proc.stderr
    assert entries(root) == []


# ---------------------------------------------------------------------------------------------- keys and names


def test_an_older_result_schema_is_not_read(
    model: Any, cache_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = wav(tmp_path / "take.wav", 12.0)
    cache.analyze_cached(path, model, OPTS)
    (old,) = entries(cache_root)
    monkeypatch.setattr(cache, "RESULT_SCHEMA_VERSION", cache.RESULT_SCHEMA_VERSION + 1)
    cached, key = cache.lookup(path, model, OPTS)
    assert cached is None and key is not None and key.entry != old
    cache.analyze_cached(path, model, OPTS)
    assert len(entries(cache_root)) == 2


def test_a_copy_under_another_name_describes_itself(model: Any, cache_root: Path, tmp_path: Path) -> None:
    """Notes name the file; a copy answered from the cache reads exactly as its own analysis."""
    (tmp_path / "a").mkdir()
    first = lying_wav(tmp_path / "a" / "first take.wav", music(SR, 8.0), SR, 20 * SR)  # gets a note naming it
    original = cache.analyze_cached(first, model, OPTS).to_dict()
    assert any("'first take.wav'" in n for n in original["notes"]), original["notes"]
    assert len(entries(cache_root)) == 1
    for copy in (tmp_path / "b" / "mix's copy.wav", tmp_path / "first take.wav"):
        copy.parent.mkdir(exist_ok=True)
        shutil.copyfile(first, copy)
        cached, key = cache.lookup(copy, model, OPTS)
        assert cached is not None and key is not None and len(entries(cache_root)) == 1  # a cache hit
        assert cached.file == str(copy)
        result = cache.analyze_cached(copy, model, OPTS)
        assert {**result.to_dict(), "file": None} == {**fresh(copy, model), "file": None}
        if copy.name != first.name:
            assert not any("first take" in n for n in result.notes)
            assert any(f"'{copy.name}'" in n for n in result.notes)
        copy.unlink()


def test_the_extension_is_part_of_the_key(model: Any, tmp_path: Path, cache_root: Path) -> None:
    """It picks the tag reader and, in fast mode, how excerpts are found: the same bytes may read differently."""
    a = wav(tmp_path / "take.wav", 4.0)
    key = cache.cache_key(a, model, OPTS)
    for name, same in (("other name.wav", True), ("take.WAV", True), ("take.aiff", False)):
        copy = tmp_path / name
        shutil.copyfile(a, copy)
        other = cache.cache_key(copy, model, OPTS)
        assert key is not None and other is not None and (other.name == key.name) == same, name


def test_fresh_results_pass_the_schema_check(model: Any, tmp_path: Path) -> None:
    short = wav(tmp_path / "short.wav", 4.0)
    long = wav(tmp_path / "long.wav", 40.0, seed=1)
    for path in (short, long):
        for fast in (False, True):
            validate_result_dict(fresh(path, model, AnalysisOptions(window_seconds=3.0, fast=fast)))
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros((SR * 5, 2), dtype=np.float32), SR)
    failed = fresh(silent, model)
    assert failed["error"] and validate_result_dict(failed) is failed


def test_a_note_naming_the_file_in_another_way_is_not_stored(model: Any, cache_root: Path, tmp_path: Path) -> None:
    """Only the quoted name is replaced by a placeholder; any other mention would reach copies unchanged."""
    path = wav(tmp_path / "take.wav", 12.0)
    key = cache.cache_key(path, model, OPTS)
    result = analyze_file(path, model, OPTS)
    cache.store(key, replace(result, notes=("take.wav was read twice.",)))
    assert entries(cache_root) == []
    cache.store(key, replace(result, notes=("'take.wav' was read twice.",)))
    (entry,) = entries(cache_root)
    assert "take.wav" not in entry.read_text(encoding="utf-8")
