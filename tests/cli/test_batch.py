"""``hitdesk batch`` with the local engine: the rows are ``analyze --json``'s objects, re-runs skip what is
done, an interrupted run is finished by the next with no key twice, bad files become error rows."""

from __future__ import annotations

import json
import os
import shutil
import signal
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from batch_helpers import assert_same_as_analyze, batch_rows, hitdesk, start_batch
from conftest import AudioFactory

from hitdesk.batch.dataset import DatasetError, ResultsDataset
from hitdesk.batch.schema import COLUMNS, SCHEMA_VERSION, SCHEMA_VERSION_KEY, from_row, to_row

pytestmark = pytest.mark.usefixtures("needs_model")


def _clips(data_dir: Path) -> list[str]:
    return sorted(str(p) for p in data_dir.iterdir() if p.suffix in {".ogg", ".flac", ".m4a"})


def _bad_files(folder: Path) -> list[str]:
    text = folder / "notes.ogg"
    text.write_text("not audio at all\n", encoding="utf-8")
    return [str(text), str(folder / "missing.flac")]


def test_rows_equal_analyze_json_and_a_second_run_skips_everything(tmp_path: Path, data_dir: Path) -> None:
    files = [*_clips(data_dir), *_bad_files(tmp_path)]
    out = tmp_path / "results"
    proc = hitdesk("batch", *files, "--out", str(out), "--jobs", "2")
    assert proc.returncode == 1, proc.stderr  # two files failed, as analyze says with 1
    assert proc.stdout == ""
    assert_same_as_analyze(out, files)
    rows = {r["path"]: r for r in batch_rows(out)}
    assert "not audio" in rows[files[-2]]["error"] or "Cannot" in rows[files[-2]]["error"]
    assert rows[files[-1]]["error"] and rows[files[0]]["error"] is None
    # Progress and the summary on stderr.
    assert f"batch: {len(files)}/{len(files)} done, 2 failed, 0 skipped" in proc.stderr
    assert "batch finished in" in proc.stderr and f"written to {out}" in proc.stderr
    # The schema is versioned in every part, and the columns are the documented ones.
    parts = sorted(out.glob("part-*.parquet"))
    meta = pq.read_schema(parts[0]).metadata
    assert meta[SCHEMA_VERSION_KEY] == str(SCHEMA_VERSION).encode()
    assert tuple(pq.read_schema(parts[0]).names) == COLUMNS

    again = hitdesk("batch", *files, "--out", str(out), "--jobs", "2")
    assert again.returncode == 0, again.stderr  # nothing failed in this run: the error rows stay as they were
    assert f"0 done, 0 failed, {len(files)} skipped" in again.stderr
    assert sorted(out.glob("part-*.parquet")) == parts


def test_retry_failed_redoes_error_rows_only(tmp_path: Path, data_dir: Path) -> None:
    clip = _clips(data_dir)[0]
    bad = _bad_files(tmp_path)[0]
    out = tmp_path / "results"
    hitdesk("batch", clip, bad, "--out", str(out), "--jobs", "1")
    proc = hitdesk("batch", clip, bad, "--out", str(out), "--jobs", "1", "--retry-failed")
    assert "1 done, 1 failed, 1 skipped" in proc.stderr, proc.stderr
    rows = batch_rows(out)
    assert sorted(r["path"] for r in rows) == sorted([clip, bad])  # the old error row was replaced, not kept


def test_sources_may_be_folders_and_lists(tmp_path: Path, data_dir: Path) -> None:
    clips = _clips(data_dir)
    shutil.copy(clips[0], tmp_path / "one.ogg")
    listing = tmp_path / "list.txt"
    listing.write_text(f"# catalogue\none.ogg\n\n{clips[1]}\n", encoding="utf-8")
    table = tmp_path / "list.csv"
    table.write_text(f"title,path\nx,{clips[2]}\ny,{clips[1]}\n", encoding="utf-8")
    out = tmp_path / "results"
    proc = hitdesk("batch", str(listing), str(table), "--out", str(out), "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    assert sorted(r["path"] for r in batch_rows(out)) == sorted([str(tmp_path / "one.ogg"), clips[1], clips[2]])


def test_fast_mode_rows_equal_analyze_fast(tmp_path: Path, data_dir: Path) -> None:
    files = _clips(data_dir)
    out = tmp_path / "results"
    assert hitdesk("batch", "--fast", *files, "--out", str(out), "--jobs", "1").returncode == 0
    assert_same_as_analyze(out, files, "--fast")
    # Other options are another key: the same files in full mode are new work, beside the fast rows.
    proc = hitdesk("batch", *files, "--out", str(out), "--jobs", "1")
    assert f"{len(files)}/{len(files)} done" in proc.stderr
    # (a clip this short is analysed whole even in fast mode: the options column tells the rows apart)
    assert Counter(json.loads(r["options"])["fast"] for r in batch_rows(out)) == {True: len(files), False: len(files)}


@pytest.mark.parametrize(
    ("signum", "status", "jobs"),
    [(signal.SIGINT, 130, "1"), (signal.SIGTERM, 143, "2")],
    ids=["sigint", "sigterm-pool"],
)
def test_a_stopped_run_keeps_finished_rows_and_the_next_run_completes(
    tmp_path: Path, audio_factory: AudioFactory, signum: int, status: int, jobs: str
) -> None:
    files = [str(audio_factory.sndfile(f"take{i}.flac", seconds=40.0, fmt="FLAC")) for i in range(8)]
    out = tmp_path / "results"
    proc = start_batch(*files, "--out", str(out), "--jobs", jobs)
    assert proc.stderr is not None
    first = proc.stderr.readline()  # the first progress line: one file is done
    while first and not first.startswith("batch: "):
        first = proc.stderr.readline()
    assert first.startswith("batch: 1/8 done"), first
    proc.send_signal(signum)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == status, err
    assert "batch stopped after" in err and ("interrupted" in err or "terminated" in err)
    assert not list(out.glob(".*.tmp"))
    kept = batch_rows(out)
    assert 1 <= len(kept) < len(files)  # the finished ones were written on the way out

    rest = hitdesk("batch", *files, "--out", str(out), "--jobs", "2")
    assert rest.returncode == 0, rest.stderr
    assert f"{len(kept)} skipped" in rest.stderr
    rows = batch_rows(out)
    assert sorted(r["path"] for r in rows) == sorted(files)
    assert len({r["key"] for r in rows}) == len(rows) == len(files)
    assert all(r["error"] is None for r in rows)


def test_one_run_at_a_time_and_no_key_twice(tmp_path: Path) -> None:
    """An engine that hands a row back twice (Ray retrying a block) still writes it once."""
    row = to_row({"file": "a.wav", "mode": "full", "error": "Cannot decode 'a.wav'.", "notes": []}, "k1", None, "{}")
    with ResultsDataset(tmp_path) as ds:
        assert ds.add(row) and not ds.add(dict(row))
        with pytest.raises(DatasetError, match="Another batch"), ResultsDataset(tmp_path):
            pass
    with ResultsDataset(tmp_path) as ds:
        assert ds.keys == {"k1": True} and not ds.add(row)
    rows = batch_rows(tmp_path)
    assert len(rows) == 1 and from_row(rows[0])["error"] == "Cannot decode 'a.wav'."


def test_a_folder_that_is_not_a_dataset_is_refused_in_one_sentence(tmp_path: Path, data_dir: Path) -> None:
    out = tmp_path / "results"
    out.mkdir()
    (out / "part-0.parquet").write_bytes(b"not parquet")
    proc = hitdesk("batch", _clips(data_dir)[0], "--out", str(out))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "is not a part HitDesk can resume from" in proc.stderr


@pytest.mark.corpus
def test_corpus_rows_equal_analyze_json(tmp_path: Path, corpus_dir: Path) -> None:
    files = [str(corpus_dir / n) for n in ("chipdisko.mp3", "forest-sprint.m4a", "loyalists-8k-u8.wav")]
    out = tmp_path / "results"
    proc = hitdesk("batch", *files, "--out", str(out), "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    assert_same_as_analyze(out, files)


def test_the_ray_engine_without_ray_says_how_to_get_it(
    tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    from hitdesk.cli import main

    monkeypatch.setitem(sys.modules, "ray", None)  # as if not installed
    out = tmp_path / "results"
    assert main(["batch", str(data_dir), "--out", str(out), "--engine", "ray"]) == 2
    err = capsys.readouterr().err
    assert (
        err
        == "hitdesk: The Ray engine needs Ray: install it with pip install 'hitdesk[scale]', or use --engine local.\n"
    )
    assert not out.exists()  # refused before anything was written


class _Echo:
    def __init__(self, tag: str) -> None:
        self.tag = tag
        self.pid = os.getpid()

    def row(self, item: dict[str, int]) -> dict[str, object]:
        return {"i": item["i"], "tag": self.tag, "pid": self.pid}


def test_the_local_engine_keeps_the_order_of_more_files_than_it_queues() -> None:
    """The pool queues a few files per worker at a time (not a million futures) and still yields them all, in order."""
    from hitdesk.batch.local import local_map

    rows = list(local_map(_Echo, {"tag": "x"}, [{"i": i} for i in range(40)], 2))
    assert [r["i"] for r in rows] == list(range(40))
    assert {r["tag"] for r in rows} == {"x"}
    assert os.getpid() not in {r["pid"] for r in rows}  # worker processes did them
