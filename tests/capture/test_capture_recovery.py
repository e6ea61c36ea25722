"""Recovery touches only its own unfinished takes.

A take's path can hold something else by the next start: the user moved the take away and saved
another file under its name, a program wrote over it, or the user copied a WAV into the recordings
folder. Those files must come out byte for byte as they were, and must not even be opened for
writing; a take that really was cut off is still repaired and offered back.

No audio device and no model needed. Takes are cut off either by killing a real recording process
or, where the exact bytes matter more than the kill, by abandoning the writer in this process.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import struct
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

import hitdesk.capture.repair as repair
from hitdesk.audio.av_reader import AvReader
from hitdesk.audio.decode import decode_all
from hitdesk.capture.markers import TakeMarker
from hitdesk.capture.recovery import recover_unfinished
from hitdesk.capture.repair import needs_repair, read_take_id
from hitdesk.capture.writers import WAV_HEADER_BYTES, FlacWriter, WavWriter, open_writer
from hitdesk.paths import recordings_dir

REPO = Path(__file__).resolve().parents[2]
RATE = 48000

# A recording process as ``hitdesk capture`` runs one: file, marker, a flushed second of audio and a
# second written after the last flush; then it waits to be killed.
_RECORDER = """
import sys, time
from pathlib import Path
import numpy as np
from hitdesk.capture.markers import TakeMarker
from hitdesk.capture.writers import open_writer
path = Path(sys.argv[1])
writer = open_writer(path, 48000, 2)
marker = TakeMarker(path, writer.take_id)
x = (0.3 * np.random.default_rng(0).standard_normal((48000, 2))).clip(-0.99, 0.99).astype(np.float32)
writer.write(x)
writer.flush()
writer.write(x)
print(writer.take_id, flush=True)
time.sleep(60)
"""


class Writes:
    """Every file opened for writing or replaced, through the calls recovery uses to change files."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.paths: list[Path] = []
        real_open, real_replace, real_sf_init = Path.open, os.replace, sf.SoundFile.__init__

        def spy_open(path: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
            if any(c in mode for c in "wax+"):
                self.paths.append(Path(path).resolve())
            return real_open(path, mode, *args, **kwargs)

        def spy_replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
            self.paths.append(Path(dst).resolve())
            real_replace(src, dst, *args, **kwargs)

        def spy_sf_init(sf_self: Any, file: Any, mode: str = "r", *args: Any, **kwargs: Any) -> None:
            if isinstance(file, str | Path) and any(c in mode for c in "wx+"):
                self.paths.append(Path(file).resolve())
            real_sf_init(sf_self, file, mode, *args, **kwargs)

        monkeypatch.setattr(Path, "open", spy_open)
        monkeypatch.setattr(os, "replace", spy_replace)
        monkeypatch.setattr(sf.SoundFile, "__init__", spy_sf_init)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Writes:
    return Writes(monkeypatch)


def _signal(frames: int, channels: int = 2, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal((frames, channels))).clip(-0.99, 0.99).astype(np.float32)


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _markers() -> list[Path]:
    return sorted((recordings_dir() / ".unfinished").glob("*.json"))


# ---------------------------------------------------------------------------------------------- cut-off files


def _drop(marker: TakeMarker) -> None:
    """The recording process died: its lock on the marker is gone, the marker file stays."""
    assert marker._fh is not None
    marker._fh.close()
    marker._fh = None


def _abandoned_take(path: Path, seed: int = 0, marked: bool = True) -> str:
    """A take as a killed recorder leaves it (audio past the last header update); its take id."""
    x = _signal(RATE, seed=seed)
    writer = open_writer(path, RATE, 2)
    marker = TakeMarker(path, writer.take_id) if marked else None
    if isinstance(writer, WavWriter):
        writer.write(x[: RATE // 2])
        writer.flush()
        writer.write(x[RATE // 2 :])
        assert writer._fh is not None
        writer._fh.close()  # the audio reaches the file, the header is not updated again
        writer._fh = None
    else:
        assert isinstance(writer, FlacWriter)
        writer.write(x)
        writer.flush()
        snapshot = path.read_bytes()  # what is on disk if the process dies now
        writer.close()
        with path.open("r+b") as fh:  # the same file (inode) holding those bytes
            fh.truncate(0)
            fh.write(snapshot)
    if marker is not None:
        _drop(marker)
    assert needs_repair(path) and read_take_id(path) == writer.take_id
    return writer.take_id


def _foreign_cut_off(path: Path, seed: int = 7) -> None:
    """A file HitDesk did not write that looks cut off, as streaming tools leave them: a WAV whose
    sizes were never filled in, or a FLAC with no sample count. The old recovery rewrote these."""
    x = _signal(20000, seed=seed)
    if path.suffix == ".wav":
        sf.write(str(path), x, 44100, subtype="PCM_16")
        with path.open("r+b") as fh:
            fh.seek(4)
            fh.write(struct.pack("<I", 36))
            fh.seek(40)
            fh.write(struct.pack("<I", 0))
    else:
        f = sf.SoundFile(str(path), "w", 44100, 2, "PCM_24", format="FLAC")
        f.write(x)
        f.flush()
        snapshot = path.read_bytes()
        f.close()
        path.write_bytes(snapshot)
    assert needs_repair(path) and read_take_id(path) is None


def _kill_while_recording(path: Path) -> str:
    """Records into ``path`` in another process and kills it (SIGKILL); the take's id."""
    proc = subprocess.Popen(
        [sys.executable, "-c", _RECORDER, str(path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        assert proc.stdout is not None
        take_id = proc.stdout.readline().strip()
        assert len(take_id) == 32, take_id
    finally:
        proc.kill()
        proc.wait(10)
        if proc.stdout is not None:
            proc.stdout.close()
    assert _markers(), "the killed take left no marker"
    return take_id


# ---------------------------------------------------------------------------------------------- the take id


def test_the_take_id_is_in_the_file_and_readers_do_not_see_it(tmp_path: Path) -> None:
    wav = tmp_path / "t.wav"
    x = _signal(3 * 44100)
    writer = WavWriter(wav, 44100, 2)
    writer.write(x)
    writer.close()
    assert read_take_id(wav) == writer.take_id
    raw = wav.read_bytes()
    assert raw[36:40] == b"hdsk" and raw[WAV_HEADER_BYTES - 8 : WAV_HEADER_BYTES - 4] == b"data"
    plain = tmp_path / "plain.wav"  # the same file without the take's chunk
    plain.write_bytes(b"RIFF" + struct.pack("<I", len(raw) - 48 - 8) + raw[8:36] + raw[84:])
    for a, b in [(sf.read(str(wav))[0], sf.read(str(plain))[0]), (decode_all(wav), decode_all(plain))]:
        np.testing.assert_array_equal(a, b)
    readers = [AvReader.open(wav), AvReader.open(plain)]  # FFmpeg
    try:
        a, b = (r.info for r in readers)
        assert (a.sample_rate, a.channels, a.duration_s, a.frames) == (
            b.sample_rate,
            b.channels,
            b.duration_s,
            b.frames,
        )
        assert a.duration_s == pytest.approx(3.0)
        np.testing.assert_array_equal(*(np.concatenate(list(r.blocks())) for r in readers))
    finally:
        for r in readers:
            r.close()
    assert read_take_id(plain) is None


def test_an_unfinished_flac_holds_its_take_id_before_any_audio_is_finished(tmp_path: Path) -> None:
    flac = tmp_path / "t.flac"
    take_id = _abandoned_take(flac, marked=False)  # asserts the id is read from the cut-off file
    assert len(take_id) == 32
    assert sf.info(str(flac)).channels == 2


# ---------------------------------------------------------------------------------------------- recovery


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_a_killed_take_is_repaired_and_offered_back(tmp_path: Path, suffix: str) -> None:
    take = tmp_path.resolve() / f"k2{suffix}"
    take_id = _kill_while_recording(take)
    assert read_take_id(take) == take_id  # the id is in the killed file, whatever the format
    recovered = recover_unfinished()
    assert [(r.path, r.repaired, r.problem) for r in recovered] == [(take, True, None)]
    frames = sf.info(str(take)).frames
    assert RATE < frames <= 2 * RATE and recovered[0].duration_s == pytest.approx(frames / RATE)
    assert not needs_repair(take) and read_take_id(take) == take_id
    assert _markers() == [] and recover_unfinished() == []


@pytest.mark.parametrize("where", ["out", "recordings"])
@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_a_file_saved_where_a_killed_take_was_is_left_untouched(
    tmp_path: Path, writes: Writes, suffix: str, where: str
) -> None:
    """The reported case: ``capture --out k2.wav`` killed, the take moved away, another file saved as
    k2.wav. Also with the take in the recordings folder, which recovery looks through as well."""
    folder = tmp_path.resolve() if where == "out" else recordings_dir().resolve()
    take = folder / f"k2{suffix}"
    _kill_while_recording(take)
    moved = tmp_path.resolve() / "kept" / take.name
    moved.parent.mkdir()
    take.rename(moved)
    _foreign_cut_off(take)
    before, moved_before = _sha(take), _sha(moved)
    writes.paths.clear()
    recovered = recover_unfinished()
    assert _sha(take) == before and _sha(moved) == moved_before
    assert take.resolve() not in writes.paths
    assert [(r.path, r.repaired) for r in recovered] == [(take, False)]
    assert recovered[0].problem == (
        f"'{take}' was replaced by another file since the recording stopped; it was left untouched."
    )
    assert _markers() == [] and recover_unfinished() == []  # reported once; the stale marker is gone
    assert _sha(take) == before


@pytest.mark.parametrize("suffix", [".wav", ".flac"])
def test_the_same_file_written_over_with_another_take_is_left_untouched(
    tmp_path: Path, writes: Writes, suffix: str
) -> None:
    """Same inode, other contents (a program saved over the file in place): the id tells them apart."""
    take = tmp_path.resolve() / f"k2{suffix}"
    _abandoned_take(take)
    inode = take.stat().st_ino
    other = tmp_path / "other" / take.name
    other.parent.mkdir()
    _abandoned_take(other, seed=3, marked=False)  # a cut-off HitDesk take, but another one
    with take.open("r+b") as fh:
        fh.truncate(0)
        fh.write(other.read_bytes())
    assert take.stat().st_ino == inode and needs_repair(take)
    before = _sha(take)
    writes.paths.clear()
    recovered = recover_unfinished()
    assert _sha(take) == before and take.resolve() not in writes.paths
    assert len(recovered) == 1 and not recovered[0].repaired
    assert recovered[0].problem is not None and "was replaced by another file" in recovered[0].problem
    assert _markers() == []


def test_a_copy_of_the_take_or_a_link_to_it_is_left_untouched(tmp_path: Path, writes: Writes) -> None:
    copied, linked = tmp_path.resolve() / "copied.wav", tmp_path.resolve() / "linked.wav"
    _abandoned_take(copied)
    _abandoned_take(linked, seed=1)
    away = tmp_path / "away"
    away.mkdir()
    copied.rename(away / copied.name)
    shutil.copyfile(away / copied.name, copied)  # the same take id, but not the file recorded
    linked.rename(away / linked.name)
    linked.symlink_to(away / linked.name)
    before = {p: _sha(p) for p in [*away.iterdir(), copied]}
    writes.paths.clear()
    problems = {r.path: r.problem for r in recover_unfinished()}
    assert {p: _sha(p) for p in before} == before and set(writes.paths).isdisjoint(before)
    assert (
        problems[copied]
        == f"'{copied}' holds a copy of the take, not the file that was being recorded; it was left untouched."
    )
    assert problems[linked] is not None and "no longer an ordinary file" in problems[linked]
    assert _markers() == []


@pytest.mark.parametrize("version", ["older", "no-inode"])
def test_a_marker_that_cannot_prove_the_take_is_not_trusted(tmp_path: Path, writes: Writes, version: str) -> None:
    take = tmp_path.resolve() / "old.wav"
    take_id = _abandoned_take(take, marked=False)
    folder = recordings_dir() / ".unfinished"
    folder.mkdir(parents=True, exist_ok=True)
    info: dict[str, Any] = {"path": str(take), "pid": 1, "started": "2025-01-01T10:00:00"}
    if version == "no-inode":  # marked before the file existed
        info.update(version=2, take=take_id, dev=None, ino=None)
    (folder / "old.wav.0123456789.json").write_text(json.dumps(info), encoding="utf-8")
    before = _sha(take)
    writes.paths.clear()
    recovered = recover_unfinished()
    assert _sha(take) == before and take.resolve() not in writes.paths
    assert len(recovered) == 1 and not recovered[0].repaired and recovered[0].problem
    expected = "older version of HitDesk" if version == "older" else "did not exist yet"
    assert expected in recovered[0].problem and "left untouched" in recovered[0].problem
    assert _markers() == []


def test_only_takes_with_an_id_are_repaired_in_the_recordings_folder(writes: Writes) -> None:
    folder = recordings_dir()
    folder.mkdir(parents=True)
    ours = folder / "take-2025-01-01_10-00-00.wav"
    ours_flac = folder / "take-2025-01-01_11-00-00.flac"
    _abandoned_take(ours, marked=False)  # no marker (e.g. the marker folder was cleaned)
    _abandoned_take(ours_flac, seed=2, marked=False)
    foreign = [folder / "my mix.wav", folder / "from the phone.flac"]
    for n, path in enumerate(foreign):
        _foreign_cut_off(path, seed=10 + n)
    old_take = folder / "take-2024-01-01_10-00-00.wav"  # from a version that wrote no take id
    _foreign_cut_off(old_take, seed=20)
    untouched = {p: _sha(p) for p in [*foreign, old_take]}
    writes.paths.clear()
    recovered = recover_unfinished()
    assert sorted((r.path, r.repaired, r.problem) for r in recovered) == [(ours, True, None), (ours_flac, True, None)]
    assert not needs_repair(ours) and not needs_repair(ours_flac)
    assert {p: _sha(p) for p in untouched} == untouched
    assert set(writes.paths).isdisjoint(p.resolve() for p in untouched)
    assert recover_unfinished() == []


def test_a_take_that_changes_while_it_is_checked_is_left_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Between reading the header and opening for writing, something appends to the file."""
    take = tmp_path / "busy.wav"
    _abandoned_take(take)
    original = take.read_bytes()
    real_layout = repair._wav_layout
    appended: list[int] = []

    def layout_then_append(fh: Any, size: int) -> Any:
        result = real_layout(fh, size)
        if not appended:
            with take.open("ab") as other:
                appended.append(other.write(b"\0" * 12))
        return result

    monkeypatch.setattr(repair, "_wav_layout", layout_then_append)
    recovered = recover_unfinished()
    assert appended == [12]
    assert len(recovered) == 1 and not recovered[0].repaired
    assert recovered[0].problem is not None and "changed while it was being checked" in recovered[0].problem
    assert take.read_bytes() == original + b"\0" * 12  # only the other writer's bytes


@pytest.fixture(autouse=True)
def _no_leftover_temporary_files(tmp_path: Path) -> Iterator[None]:
    yield
    assert not list(tmp_path.rglob(".repair-*")), "a repair left its temporary file behind"
