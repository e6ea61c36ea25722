"""Recorded takes on disk: the ring buffer, the WAV writer, header repair, recovery, listing, pruning.

No audio device and no model needed.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile as sf

from hitdesk.capture.library import delete_recording, list_recordings, new_recording_path, prune_recordings
from hitdesk.capture.markers import TakeMarker
from hitdesk.capture.recovery import recover_unfinished
from hitdesk.capture.repair import needs_repair, read_take_id, repair_recording
from hitdesk.capture.ring import RingBuffer
from hitdesk.capture.writers import WAV_HEADER_BYTES, WavWriter, open_writer
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir

if TYPE_CHECKING:
    from conftest import AppFolders

REPO = Path(__file__).resolve().parents[2]


def _signal(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal((frames, channels))).clip(-0.99, 0.99).astype(np.float32)


# ---------------------------------------------------------------------------------------------- ring


def test_ring_keeps_order_across_the_wrap_and_counts_drops() -> None:
    ring = RingBuffer(10, 2)
    x = np.arange(40, dtype=np.float32).reshape(20, 2)
    out = np.empty((10, 2), dtype=np.float32)
    assert ring.write(x[:7]) == 7
    assert ring.read_into(out[:5]) == 5
    np.testing.assert_array_equal(out[:5], x[:5])
    assert ring.write(x[7:15]) == 8  # wraps round the end
    assert ring.available() == 10
    assert ring.write(x[15:20]) == 0 and ring.dropped_frames == 5  # full: the newest frames go
    assert ring.read_into(out) == 10
    np.testing.assert_array_equal(out, x[5:15])
    assert ring.available() == 0 and ring.read_into(out) == 0
    assert ring.frames_written == 15


def test_ring_write_takes_a_strided_channel_view() -> None:
    """The callback passes ``indata[:, a:b+1:b-a]``: a view picking two channels of many."""
    ring = RingBuffer(8, 2)
    block = np.arange(24, dtype=np.float32).reshape(6, 4)
    ring.write(block[:, 1:4:2])
    out = np.empty((6, 2), dtype=np.float32)
    ring.read_into(out)
    np.testing.assert_array_equal(out, block[:, [1, 3]])


# ---------------------------------------------------------------------------------------------- writing


def test_wav_writer_round_trip_and_header_valid_after_each_flush(tmp_path: Path) -> None:
    path = tmp_path / "t.wav"
    x = _signal(44100)
    w = WavWriter(path, 44100, 2)
    w.write(x[:20000])
    w.flush()
    # Readable while still open, up to the last flush.
    y, rate = sf.read(str(path), dtype="float32")
    assert rate == 44100 and y.shape == (20000, 2)
    w.write(x[20000:])
    w.close()
    y, _ = sf.read(str(path), dtype="float32")
    assert y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=1.0 / (1 << 23))
    assert not needs_repair(path)
    assert sf.info(str(path)).subtype == "PCM_24"


def test_open_writer_refuses_to_overwrite_and_odd_names(tmp_path: Path) -> None:
    existing = tmp_path / "x.wav"
    existing.write_bytes(b"mine")
    with pytest.raises(CaptureError, match="already exists"):
        open_writer(existing, 44100, 1)
    assert existing.read_bytes() == b"mine"
    with pytest.raises(CaptureError, match=r"\.wav or \.flac"):
        open_writer(tmp_path / "x.mp3", 44100, 1)


def test_new_names_come_from_date_and_time_and_never_collide(app_folders: AppFolders) -> None:
    when = datetime(2025, 1, 31, 14, 5, 9)
    first = new_recording_path("wav", now=when)
    assert first == recordings_dir() / "take-2025-01-31_14-05-09.wav"
    assert recordings_dir() == app_folders.home / "data" / "recordings"
    first.parent.mkdir(parents=True)
    first.write_bytes(b"")
    assert new_recording_path("wav", now=when).name == "take-2025-01-31_14-05-09-2.wav"
    assert new_recording_path("flac", now=when).suffix == ".flac"


# ---------------------------------------------------------------------------------------------- repair


def _wav_with_stale_header(path: Path, frames: int = 30000, flushed: int = 10000) -> np.ndarray:
    """A WAV as a killed recorder leaves it: header last written after ``flushed`` frames."""
    x = _signal(frames)
    w = WavWriter(path, 48000, 2)
    w.write(x[:flushed])
    w.flush()
    w.write(x[flushed:])
    assert w._fh is not None
    w._fh.flush()  # the OS has the audio, the header was not updated: then the process dies
    w._fh.close()
    w._fh = None
    return x


def test_repair_extends_stale_header_sizes_in_place(tmp_path: Path) -> None:
    path = tmp_path / "killed.wav"
    x = _wav_with_stale_header(path)
    assert sf.info(str(path)).frames == 10000  # only what the stale header declares
    assert needs_repair(path)
    outcome = repair_recording(path)
    assert outcome.repaired and outcome.problem is None and outcome.frames == 30000
    assert outcome.duration_s == pytest.approx(30000 / 48000)
    y, _ = sf.read(str(path), dtype="float32")
    np.testing.assert_allclose(y, x, atol=1.0 / (1 << 23))
    assert not needs_repair(path)
    assert repair_recording(path).repaired is False  # a second run changes nothing


def test_repair_zeroed_sizes_and_a_half_written_frame(tmp_path: Path) -> None:
    path = tmp_path / "zeroed.wav"
    x = _wav_with_stale_header(path, frames=5000, flushed=5000)
    with path.open("r+b") as fh:
        fh.seek(4)
        fh.write(struct.pack("<I", 0))  # RIFF size never written
        fh.seek(WAV_HEADER_BYTES - 4)
        fh.write(struct.pack("<I", 0))  # data size never written
        fh.seek(0, os.SEEK_END)
        fh.write(b"\x01\x02\x03\x04")  # part of a frame (6 bytes each)
    assert sf.info(str(path)).frames == 0
    outcome = repair_recording(path)
    assert outcome.repaired and outcome.frames == 5000
    y, _ = sf.read(str(path), dtype="float32")
    np.testing.assert_allclose(y, x, atol=1.0 / (1 << 23))
    assert path.stat().st_size == WAV_HEADER_BYTES + 5000 * 6


def test_repair_reports_a_file_without_header(tmp_path: Path) -> None:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"RIF")
    outcome = repair_recording(path)
    assert not outcome.repaired and outcome.problem and "no WAV header" in outcome.problem


def test_repair_leaves_a_wav_with_trailing_chunks_alone(tmp_path: Path) -> None:
    path = tmp_path / "tagged.wav"
    sf.write(str(path), _signal(1000), 44100, subtype="PCM_16")
    with path.open("r+b") as fh:  # append a LIST chunk as tag editors do
        fh.seek(0, os.SEEK_END)
        fh.write(b"LIST" + struct.pack("<I", 4) + b"INFO")
        size = fh.tell()
        fh.seek(4)
        fh.write(struct.pack("<I", size - 8))
    before = path.read_bytes()
    assert not needs_repair(path)
    assert repair_recording(path).repaired is False
    assert path.read_bytes() == before


def test_repair_unfinished_flac(tmp_path: Path) -> None:
    """libsndfile writes a FLAC's sample count only on close; a killed take has none."""
    path = tmp_path / "killed.flac"
    x = _signal(48000)
    f = sf.SoundFile(str(path), "w", 48000, 2, "PCM_24", format="FLAC")
    f.write(x)
    f.flush()
    snapshot = path.read_bytes()  # what is on disk if the process dies now
    f.close()
    path.write_bytes(snapshot)
    assert needs_repair(path)
    outcome = repair_recording(path)
    assert outcome.repaired and outcome.frames is not None and outcome.frames >= 40000
    info = sf.info(str(path))
    assert info.frames == outcome.frames
    y, _ = sf.read(str(path), dtype="float32")
    np.testing.assert_allclose(y, x[: y.shape[0]], atol=2.0 / (1 << 23))
    assert not needs_repair(path)


# ---------------------------------------------------------------------------------------------- recovery


def test_recover_repairs_abandoned_takes_and_skips_live_ones(tmp_path: Path) -> None:
    folder = recordings_dir()
    folder.mkdir(parents=True)
    # A take in the folder whose program died (no marker left, e.g. the marker folder was cleaned).
    dead_in_folder = folder / "take-2025-01-01_10-00-00.wav"
    _wav_with_stale_header(dead_in_folder)
    # A take written elsewhere (--out) whose marker is left behind, unlocked.
    outside = tmp_path / "elsewhere" / "song.wav"
    outside.parent.mkdir()
    _wav_with_stale_header(outside, frames=20000, flushed=0)
    marker = TakeMarker(outside, read_take_id(outside) or "")
    marker._fh.close()  # type: ignore[union-attr]  # the process died: its lock is gone, the file stays
    marker._fh = None
    assert marker.path.exists()
    # A take being recorded right now: its marker is held.
    live = folder / "take-2025-01-02_10-00-00.wav"
    _wav_with_stale_header(live)
    holder = TakeMarker(live, read_take_id(live) or "")
    try:
        recovered = {r.path.resolve(): r for r in recover_unfinished()}
        assert set(recovered) == {dead_in_folder.resolve(), outside.resolve()}
        assert all(r.repaired and r.problem is None for r in recovered.values())
        assert recovered[outside.resolve()].duration_s == pytest.approx(20000 / 48000)
        assert not marker.path.exists()
        assert needs_repair(live)  # untouched while it is recorded
        assert [r.in_progress for r in list_recordings() if r.path == live] == [True]
        with pytest.raises(CaptureError, match="being recorded"):
            delete_recording(live)
    finally:
        holder.release()
    assert not holder.path.exists()
    assert [r.path for r in recover_unfinished()] == [live]


def test_marker_lock_is_released_when_the_process_dies(tmp_path: Path) -> None:
    """A real process holds the marker, then is killed: the marker is then seen as abandoned."""
    take = tmp_path / "t.wav"
    _wav_with_stale_header(take, frames=4800, flushed=0)
    code = (
        "import sys, time; from pathlib import Path; from hitdesk.capture.markers import TakeMarker; "
        "m = TakeMarker(Path(sys.argv[1]), sys.argv[2]); print('held', flush=True); time.sleep(60)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code, str(take), read_take_id(take) or ""],
        stdout=subprocess.PIPE,
        cwd=REPO,
        env=dict(os.environ),
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"held"
        assert recover_unfinished() == []  # alive: left alone
        proc.kill()
        proc.wait(10)
        recovered = recover_unfinished()
        assert [r.path for r in recovered] == [take.resolve()] and recovered[0].repaired
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()


# ---------------------------------------------------------------------------------------------- listing


def _take(folder: Path, when: datetime, seconds: float = 1.0) -> Path:
    path = folder / f"take-{when:%Y-%m-%d_%H-%M-%S}.wav"
    sf.write(str(path), _signal(round(seconds * 8000), 1), 8000, subtype="PCM_16")
    return path


def test_list_and_prune(tmp_path: Path) -> None:
    folder = recordings_dir()
    folder.mkdir(parents=True)
    now = datetime(2025, 6, 1, 12, 0, 0)
    old = _take(folder, now - timedelta(days=40), 2.0)
    recent = _take(folder, now - timedelta(days=3), 1.5)
    other = folder / "my mix.flac"  # any audio the user dropped in the folder: dated by its mtime
    sf.write(str(other), _signal(8000, 1), 8000, format="FLAC")
    stamp = (now - timedelta(days=100)).timestamp()
    os.utime(other, (stamp, stamp))
    (folder / "notes.txt").write_text("not audio")

    listed = list_recordings()
    assert [r.path for r in listed] == [recent, old, other]  # newest first
    assert listed[0].duration_s == pytest.approx(1.5) and listed[0].sample_rate == 8000
    assert listed[0].channels == 1 and not listed[0].in_progress

    removed = prune_recordings(30, now=now)
    assert sorted(removed) == sorted([old, other])
    assert [r.path for r in list_recordings()] == [recent]
    assert (folder / "notes.txt").exists()
    with pytest.raises(ValueError):
        prune_recordings(-1)


def test_listing_an_absent_folder_is_empty() -> None:
    assert list_recordings() == [] and prune_recordings(1) == [] and recover_unfinished() == []


def test_marker_file_names_the_take(tmp_path: Path, app_folders: AppFolders) -> None:
    take = tmp_path / "a.wav"
    writer = WavWriter(take, 8000, 1)
    marker = TakeMarker(take, writer.take_id)
    try:
        info = json.loads(marker.path.read_text(encoding="utf-8"))
        assert info["path"] == str(take.resolve()) and info["pid"] == os.getpid()
        assert info["take"] == writer.take_id == read_take_id(take) and len(writer.take_id) == 32
        assert (info["dev"], info["ino"]) == (take.stat().st_dev, take.stat().st_ino)
        with pytest.raises(CaptureError, match="already being recorded"):
            TakeMarker(take, writer.take_id)
    finally:
        marker.release()
        writer.close()
    shutil.rmtree(app_folders.data, ignore_errors=True)


def test_capture_modules_import_no_gui_training_or_audio_libraries() -> None:
    """The command line starts fast and the engine stays Qt-free: PortAudio and onnxruntime load on use."""
    code = (
        "import sys, hitdesk.cli.capture, hitdesk.capture.session, hitdesk.capture.recorder, hitdesk.capture.library\n"
        "import hitdesk.capture.repair, hitdesk.capture.recovery\n"
        "bad = ('PySide6', 'torch', 'pyqtgraph', 'sounddevice', 'onnxruntime', 'librosa')\n"
        "print(','.join(sorted(m for m in bad if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
