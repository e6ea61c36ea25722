"""`hitdesk analyze` with the meters: the JSON fields as issue 15 names them, --qc, CSV, --fast, bad settings."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf
from cli_run import run_hitdesk

from hitdesk.result_schema import validate_result_dict

LOUDNESS = ["lufs", "true_peak_dbtp", "lra_lu", "plr_db", "momentary_max_lufs", "short_term_max_lufs"]
PLATFORMS = ["Spotify", "Apple Music", "YouTube", "Tidal", "Amazon Music", "Deezer"]


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return run_hitdesk("analyze", "--no-cache", "--window-seconds", "3", *args)


def stereo_take(path: Path, seconds: float = 40.0) -> Path:
    """A 40 s take whose second half is 10 dB quieter (LRA 10 LU), its right channel half the left plus noise."""
    rate = 44100
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * rate)) / rate
    music = np.sin(2 * np.pi * 220 * t) * (1 + 0.5 * np.sin(2 * np.pi * 3 * t)) + 0.3 * rng.standard_normal(t.size)
    level = np.where(t < seconds / 2, 0.3, 0.3 * 10 ** (-10 / 20))
    music *= level
    right = 0.5 * music + 0.2 * level * rng.standard_normal(t.size)
    sf.write(path, np.stack([music, right], axis=1).astype(np.float32), rate, subtype="FLOAT")
    return path


def test_json_with_qc_has_the_issues_fields(tmp_path: Path, data_dir: Path) -> None:
    take = stereo_take(tmp_path / "take.wav")
    broken = tmp_path / "broken.wav"
    broken.write_text("not audio")
    proc = run_cli("--json", "--qc", "spotify", str(take), str(broken), str(data_dir / "elvish-theme-3s-24bit.flac"))
    assert proc.returncode == 1, proc.stderr  # the broken file
    rows: list[dict[str, Any]] = json.loads(proc.stdout)
    good, short, bad = sorted(rows, key=lambda r: (r["error"] is not None, Path(r["file"]).name != "take.wav"))
    assert list(good["loudness"]) == LOUDNESS
    assert good["loudness"]["lra_lu"] == pytest.approx(10.0, abs=1.0)
    lufs, peak = good["loudness"]["lufs"], good["loudness"]["true_peak_dbtp"]
    assert abs(good["loudness"]["plr_db"] - (peak - lufs)) <= 0.011  # each rounded to 0.01
    assert good["loudness"]["momentary_max_lufs"] >= good["loudness"]["short_term_max_lufs"] > lufs
    assert set(good["stereo"]) == {"correlation", "width", "mono_loss_lu"} and 0.8 < good["stereo"]["correlation"] < 1
    assert [p["name"] for p in good["platforms"]] == PLATFORMS
    for p in good["platforms"]:
        assert list(p) == ["name", "target_lufs", "gain_db", "true_peak_after_dbtp"]
        assert p["true_peak_after_dbtp"] == round(peak + p["gain_db"], 2)
    assert [q["rule"] for q in good["qc"]] == [
        "integrated_lufs",
        "true_peak_dbtp",
        "lra_lu",
        "mono_loss_lu",
        "clipping",
    ]
    assert all(set(q) == {"rule", "status", "detail"} and q["status"] in ("pass", "warn", "fail") for q in good["qc"])
    validate_result_dict(good)
    assert bad["error"] and bad["platforms"] is None and bad["qc"] is None and bad["stereo"] is None
    validate_result_dict(bad)
    assert short["error"] is None and short["loudness"]["lufs"] is not None


def test_fast_mode_leaves_the_meters_null_with_a_note(tmp_path: Path) -> None:
    take = stereo_take(tmp_path / "take.wav", seconds=90.0)
    proc = run_cli("--json", "--fast", "--qc", "youtube", str(take))
    assert proc.returncode == 0, proc.stderr
    (row,) = json.loads(proc.stdout)
    assert row["mode"] == "fast" and row["loudness"] == dict.fromkeys(LOUDNESS)
    assert row["stereo"] is None and row["clipping"] is None and row["platforms"] is None
    assert any("full mode only" in n for n in row["notes"])
    assert {q["status"] for q in row["qc"]} == {"warn"}


def test_csv_and_human_output_carry_the_same_numbers(tmp_path: Path) -> None:
    take = stereo_take(tmp_path / "take.wav")
    (row,) = json.loads(run_cli("--json", "--qc", "deezer", str(take)).stdout)
    proc = run_cli("--csv", "--qc", "deezer", str(take))
    assert proc.returncode == 0, proc.stderr
    (line,) = list(csv.DictReader(io.StringIO(proc.stdout)))
    for key in LOUDNESS:
        assert float(line[key]) == row["loudness"][key]
    for key in ("correlation", "width", "mono_loss_lu"):
        assert float(line[key]) == row["stereo"][key]
    assert float(line["spotify_gain_db"]) == row["platforms"][0]["gain_db"]
    assert float(line["amazon_music_target_lufs"]) == -14.0
    assert line["qc_true_peak_dbtp"] == row["qc"][1]["status"] and line["clipping_spots"] == "0"
    human = run_cli("--qc", "deezer", str(take)).stdout
    assert f"LRA {row['loudness']['lra_lu']:.1f} LU" in human and "stereo: correlation" in human
    assert "platforms: Spotify" in human and "qc pass: clipping: 0 spots" in human


def test_unknown_profile_and_bad_presets_are_usage_errors(tmp_path: Path) -> None:
    take = stereo_take(tmp_path / "take.wav", seconds=5.0)
    proc = run_cli("--json", "--qc", "napster", str(take))
    assert proc.returncode == 2 and proc.stdout == ""
    assert "No QC profile 'napster': choose one of" in proc.stderr and "Traceback" not in proc.stderr
    config = Path(os.environ["HITDESK_HOME"]) / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "platforms.toml").write_text("[[platform]]\nname = 'Spotify'\n", encoding="utf-8")
    proc = run_cli("--json", str(take))
    assert proc.returncode == 2 and "needs a target_lufs" in proc.stderr and "Traceback" not in proc.stderr
