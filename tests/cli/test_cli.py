"""`hitdesk analyze` as a user runs it: a real process, real files, the shipped model."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cli_run import run_hitdesk
from conftest import RESULT_KEYS

REPO = Path(__file__).resolve().parents[2]
LOUDNESS_KEYS = {"lufs", "true_peak_dbtp", "lra_lu", "plr_db", "momentary_max_lufs", "short_term_max_lufs"}
# "members": the shipped model gives each ensemble member's score with every score (tests/model/test_model_members.py)
SEGMENT_KEYS = {"name", "start_s", "end_s", "p_hit", "p_hit_low", "p_hit_high", "head", "members", "explanation"}


def run_cli(*args: str, cache: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    if cache is not None:
        env["HITDESK_CACHE_DIR"] = str(cache)
    return run_hitdesk(*args, env=env)


@pytest.fixture
def takes(data_dir: Path, tmp_path: Path) -> Path:
    folder = tmp_path / "takes"
    folder.mkdir()
    for name in ("chipdisko-12s.ogg", "forest-sprint-6s.m4a"):
        shutil.copy(data_dir / name, folder / name)
    (folder / "broken.mp3").write_text("not audio at all")
    return folder


def test_json_output_and_exit_status(takes: Path, tmp_path: Path) -> None:
    proc = run_cli("analyze", "--json", "--no-cache", "--window-seconds", "4", str(takes))
    assert proc.returncode == 1, proc.stderr  # one file failed
    rows: list[dict[str, Any]] = json.loads(proc.stdout)  # stdout is only the JSON
    assert [Path(r["file"]).name for r in rows] == ["broken.mp3", "chipdisko-12s.ogg", "forest-sprint-6s.m4a"]
    broken, ogg, m4a = rows
    assert set(broken) == RESULT_KEYS and "broken.mp3" in broken["error"] and broken["error"].endswith(".")
    assert broken["loudness"] is None
    for r in (ogg, m4a):
        assert set(r) == RESULT_KEYS and r["error"] is None
        assert set(r["loudness"]) == LOUDNESS_KEYS and -40 < r["loudness"]["lufs"] < 0
        assert [s["name"] for s in r["segments"]] == ["beginning", "middle", "end"]
        assert all(set(s) == SEGMENT_KEYS for s in r["segments"])
        for s in [*r["segments"], r["overall"]]:
            assert 0 <= s["p_hit_low"] <= s["p_hit"] <= s["p_hit_high"] <= 1
        assert r["overall"]["head"] == "track" and {s["head"] for s in r["segments"]} == {"window"}
        assert r["model"]["name"] and r["model"]["version"] and r["mode"] == "full"
    assert (REPO / "models" / f"{ogg['model']['name']}.head.onnx").exists()


def test_one_file_starts_no_progress_bar_and_no_process_pool(data_dir: Path) -> None:
    """Start-up every one-file command pays: neither tqdm (its import, lock and monitor thread) nor
    the process pool's imports, which only several files use."""
    code = (
        "import sys\n"
        "from hitdesk.cli import main\n"
        "rc = main(['analyze', '--json', '--no-cache', sys.argv[1]])\n"
        "names = ('tqdm', 'concurrent.futures.process', 'multiprocessing.synchronize')\n"
        "print('\\nimported:', rc, ','.join(m for m in names if m in sys.modules) or '-')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(data_dir / "chipdisko-12s.ogg")],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=600,
        check=True,
    )
    assert json.loads(out.stdout.rsplit("imported:", 1)[0])[0]["overall"] is not None
    assert out.stdout.rsplit("imported:", 1)[1].split() == ["0", "-"]


def test_all_good_files_exit_zero_and_csv(data_dir: Path) -> None:
    proc = run_cli("analyze", "--csv", "--no-cache", str(data_dir / "chipdisko-12s.ogg"))
    assert proc.returncode == 0, proc.stderr
    rows = list(csv.DictReader(io.StringIO(proc.stdout)))
    assert len(rows) == 1 and rows[0]["error"] == "" and 0 <= float(rows[0]["p_hit"]) <= 1
    assert rows[0]["beginning_p_hit"] == rows[0]["middle_p_hit"]  # one window covers a 12 s track


def test_human_output(data_dir: Path) -> None:
    proc = run_cli("analyze", "--no-cache", "--window-seconds", "3", str(data_dir / "chipdisko-12s.ogg"))
    assert proc.returncode == 0, proc.stderr
    for word in ("beginning", "middle", "end", "overall", "base rate"):
        assert word in proc.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    assert run_cli("analyze").returncode == 2
    assert run_cli("analyze", "--window-seconds", "1", "x.wav").returncode == 2
    assert run_cli("analyze", "--model", str(tmp_path / "nothing"), "x.wav").returncode == 2


def test_folder_without_audio_is_one_error_row(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("lyrics")
    proc = run_cli("analyze", "--json", str(tmp_path))
    assert proc.returncode == 1
    rows = json.loads(proc.stdout)
    assert len(rows) == 1 and "No audio files" in rows[0]["error"]


def test_results_do_not_depend_on_jobs_or_order(data_dir: Path, tmp_path: Path) -> None:
    files = [str(data_dir / n) for n in ("chipdisko-12s.ogg", "forest-sprint-6s.m4a", "elvish-theme-3s-24bit.flac")]
    one = json.loads(run_cli("analyze", "--json", "--no-cache", "--window-seconds", "3", *files).stdout)
    two = json.loads(
        run_cli("analyze", "--json", "--no-cache", "--jobs", "2", "--window-seconds", "3", *reversed(files)).stdout
    )
    assert [r["file"] for r in two] == list(reversed(files))
    assert {r["file"]: r for r in one} == {r["file"]: r for r in two}


def test_cache_serves_the_same_result(data_dir: Path, tmp_path: Path) -> None:
    path = str(data_dir / "chipdisko-12s.ogg")
    first = json.loads(run_cli("analyze", "--json", path, cache=tmp_path / "cache").stdout)
    assert len(list((tmp_path / "cache").glob("*.json"))) == 1
    second = json.loads(run_cli("analyze", "--json", path, cache=tmp_path / "cache").stdout)
    assert first == second


@pytest.mark.corpus
def test_every_corpus_file_gives_a_sensible_result(corpus_dir: Path, tmp_path: Path) -> None:
    proc = run_cli("analyze", "--json", "--no-cache", "--jobs", "2", str(corpus_dir))
    rows = json.loads(proc.stdout)
    by_name = {Path(r["file"]).name: r for r in rows}
    assert {"forest-sprint.m4a", "warzone-track3.opus", "battle-96k-float.wav", "loyalists-8k-u8.wav"} <= set(by_name)
    for name, r in by_name.items():
        assert r["error"] is None, (name, r["error"])
        assert r["duration_s"] > 3
        for s in [*r["segments"], r["overall"]]:
            assert 0 <= s["p_hit_low"] <= s["p_hit"] <= s["p_hit_high"] <= 1
    assert proc.returncode == 0
    assert any("shorter than one" in n for n in by_name["battle-96k-float.wav"]["notes"])
    assert any("shorter than one" in n for n in by_name["loyalists-8k-u8.wav"]["notes"])  # 20 s
    assert any("overlap" in n for n in by_name["hr3-crossroads.ogg"]["notes"])  # 48 s
    assert by_name["awakening-30s-24bit.wav"]["notes"]


def test_tags_and_names_reach_the_terminal_escaped_but_json_keeps_them(data_dir: Path, tmp_path: Path) -> None:
    from mutagen.oggvorbis import OggVorbis

    clip = tmp_path / "bad\nname\r.ogg"
    shutil.copy(data_dir / "chipdisko-12s.ogg", clip)
    tags = OggVorbis(clip)
    artist, title = "\x1b]0;pwned\x07\x1b[31mRED\x1b[0m", "T" * 200_000
    tags["artist"], tags["title"] = artist, title
    tags.save()
    human = run_cli("analyze", "--window-seconds", "3", str(clip), cache=tmp_path / "cache")
    assert human.returncode == 0, human.stderr
    assert "\x1b" not in human.stdout and "\x07" not in human.stdout and "\r" not in human.stdout
    first = human.stdout.splitlines()[0]
    assert first.startswith("bad\\x0aname\\x0d.ogg  (0:12, \\x1b]0;pwned\\x07\\x1b[31mRED\\x1b[0m - TTT")
    assert first.endswith("T…)") and len(first) < 300
    rows = json.loads(run_cli("analyze", "--json", "--window-seconds", "3", str(clip), cache=tmp_path / "cache").stdout)
    assert rows[0]["tags"]["artist"] == artist and rows[0]["tags"]["title"] == title  # JSON is exact


def test_a_mistyped_command_is_a_usage_error_and_analyse_is_analyze(
    data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clip = str(data_dir / "chipdisko-12s.ogg")
    typo = run_cli("anlyze", clip)
    assert typo.returncode == 2 and "did you mean 'analyze'?" in typo.stderr and typo.stdout == ""
    assert "did you mean 'capture'?" in run_cli("captur").stderr
    british = run_cli("analyse", "--json", "--window-seconds", "3", clip, cache=tmp_path / "cache")
    assert british.returncode == 0, british.stderr
    assert json.loads(british.stdout)[0]["overall"] is not None
    assert "analyze (analyse)" in run_cli("--help").stdout
    from hitdesk.cli import parse_args

    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        parse_args(["analysis"])
    (tmp_path / "analysis").mkdir()  # a folder of that name is a folder, not a typo: the app opens it
    assert parse_args(["analysis"]).files == ["analysis"]


def test_json_carries_the_curve_explanations_and_tonal_balance(data_dir: Path, tmp_path: Path) -> None:
    clip = str(data_dir / "chipdisko-12s.ogg")
    proc = run_cli("analyze", "--json", "--window-seconds", "4", "--curve-hop", "2", clip, cache=tmp_path / "c")
    assert proc.returncode == 0, proc.stderr
    (r,) = json.loads(proc.stdout)
    assert r["curve"]["window_s"] == 4 and r["curve"]["hop_s"] == 2
    assert r["curve"]["points"][0]["p_hit"] == r["segments"][0]["p_hit"]
    assert r["curve"]["points"][-1]["end_s"] == r["segments"][2]["end_s"]
    for e, p in [(r["explanation"], r["overall"]["p_hit"])] + [(s["explanation"], s["p_hit"]) for s in r["segments"]]:
        assert abs(e["baseline"] + sum(c["value"] for c in e["contributions"]) - p) < 1e-4
        assert all(set(c) == {"name", "value", "text"} for c in e["contributions"])
    assert set(r["tonal_balance"]) == {"bands_hz", "take_db", "hits_db", "hits_p10_db", "hits_p90_db", "others_db"}
    again = run_cli("analyze", "--json", "--window-seconds", "4", "--curve-hop", "2", clip, cache=tmp_path / "c")
    assert json.loads(again.stdout) == [r]  # read back from the cache whole

    for flags in (["--no-curve"], ["--fast"]):
        proc = run_cli("analyze", "--json", "--no-cache", "--window-seconds", "4", *flags, clip)
        (row,) = json.loads(proc.stdout)
        assert row["curve"] is None and row["explanation"] is not None


def test_a_bad_curve_hop_is_one_sentence(data_dir: Path) -> None:
    proc = run_cli("analyze", "--curve-hop", "0", str(data_dir / "chipdisko-12s.ogg"))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "argument --curve-hop: must be between 1 and 600 seconds" in proc.stderr


def test_human_output_names_the_strongest_part_and_the_drivers(data_dir: Path) -> None:
    proc = run_cli("analyze", "--no-cache", "--window-seconds", "4", str(data_dir / "chipdisko-12s.ogg"))
    assert proc.returncode == 0, proc.stderr
    assert "  hit curve (the model's view): strongest part 0:" in proc.stdout
    line = next(x for x in proc.stdout.splitlines() if x.startswith("  what drives it (the model's view, points): "))
    assert line.split("): ", 1)[1].count(", ") == 2  # the three largest
