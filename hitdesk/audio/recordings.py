"""Recorded takes on disk: where they go, how they are written so a crash loses at most a second,
how an unfinished one is repaired and offered back, and listing and pruning them.

WAV (the default) is written by a small writer of our own that rewrites the RIFF and data sizes at
every flush (at least once a second), so the file on disk is always a valid WAV holding everything
up to the last flush; after a crash, ``repair_recording`` extends the sizes to the file's length.
FLAC goes through libsndfile; an unfinished FLAC has no sample count in its header, and its repair
re-encodes the frames that can be decoded.

While a take is being written, a marker in ``recordings/.unfinished/`` names it and is held locked
by the recording process. A marker that nobody holds belongs to a take whose program died:
``recover_unfinished`` repairs that take and returns it, so the app can offer it back. The lock
(not a PID) tells a live recording from a dead one, and works for takes written outside the
folder (``hitdesk capture --out``).

Recordings are the program's own files in its own data folder, so repairs are done in place.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import struct
import sys
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import numpy.typing as npt

from hitdesk.errors import CaptureError

log = logging.getLogger(__name__)

RECORDING_SUFFIXES = {"wav": ".wav", "flac": ".flac"}
_NAME_PREFIX = "take-"
_NAME_TIME = "%Y-%m-%d_%H-%M-%S"
_NAME_RE = re.compile(r"^take-(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})")
_MARKERS = ".unfinished"
_WAV_HEADER_BYTES = 44
_WAV_MAX_DATA = 0xFFFFFFFF - (_WAV_HEADER_BYTES - 8)
_SUBTYPE_BYTES = {"PCM_16": 2, "PCM_24": 3}
_FLAC_REPAIR_BLOCK = 2048


def data_dir() -> Path:
    """The app's data folder: ``$HITDESK_DATA_DIR``, or the platform's user data folder."""
    env = os.environ.get("HITDESK_DATA_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_data_dir("hitdesk", appauthor=False))


def recordings_dir() -> Path:
    return data_dir() / "recordings"


def recording_format(path: Path) -> str:
    """``"wav"`` or ``"flac"`` from the file name; anything else is refused."""
    suffix = path.suffix.lower()
    for fmt, ext in RECORDING_SUFFIXES.items():
        if suffix == ext:
            return fmt
    raise CaptureError(f"Takes are written as WAV or FLAC, so '{path.name}' needs a .wav or .flac name.")


def new_recording_path(fmt: str = "wav", folder: Path | None = None, now: datetime | None = None) -> Path:
    """A free name in the recordings folder, from the local date and time: ``take-2025-01-31_14-05-09.wav``."""
    if fmt not in RECORDING_SUFFIXES:
        raise ValueError(f"unknown recording format {fmt!r}")
    target = folder or recordings_dir()
    stamp = (now or datetime.now()).strftime(_NAME_TIME)
    ext = RECORDING_SUFFIXES[fmt]
    candidate = target / f"{_NAME_PREFIX}{stamp}{ext}"
    n = 2
    while candidate.exists():
        candidate = target / f"{_NAME_PREFIX}{stamp}-{n}{ext}"
        n += 1
    return candidate


# ---------------------------------------------------------------------------------------------- writers


class RecordingWriter(Protocol):
    path: Path

    @property
    def frames(self) -> int: ...

    @property
    def frames_left(self) -> int | None:
        """Frames that still fit in the format (WAV's 4 GB limit), or None when unlimited."""
        ...

    def write(self, block: npt.NDArray[np.float32]) -> None: ...

    def flush(self) -> None:
        """Makes everything written so far readable from the file on disk."""
        ...

    def close(self) -> None: ...


class WavWriter:
    """Integer PCM WAV whose header is rewritten at each flush, so the file is always valid."""

    def __init__(self, path: Path, sample_rate: int, channels: int, subtype: str = "PCM_24") -> None:
        if subtype not in _SUBTYPE_BYTES:
            raise ValueError(f"unsupported WAV subtype {subtype!r}")
        self.path = path
        self._width = _SUBTYPE_BYTES[subtype]
        self._channels = channels
        self._align = self._width * channels
        self._sample_rate = sample_rate
        self._data_bytes = 0
        self._fh: IO[bytes] | None = path.open("xb")
        self._fh.write(self._header())
        self._fh.flush()

    @property
    def frames(self) -> int:
        return self._data_bytes // self._align

    @property
    def frames_left(self) -> int | None:
        return (_WAV_MAX_DATA - self._data_bytes) // self._align

    def _header(self) -> bytes:
        bits = 8 * self._width
        return (
            b"RIFF"
            + struct.pack("<I", _WAV_HEADER_BYTES - 8 + self._data_bytes)
            + b"WAVEfmt "
            + struct.pack(
                "<IHHIIHH", 16, 1, self._channels, self._sample_rate, self._sample_rate * self._align, self._align, bits
            )
            + b"data"
            + struct.pack("<I", self._data_bytes)
        )

    def write(self, block: npt.NDArray[np.float32]) -> None:
        if self._fh is None:
            raise ValueError("write to a closed WavWriter")
        data = _to_pcm_bytes(block, self._width)
        self._fh.write(data)
        self._data_bytes += len(data)

    def flush(self) -> None:
        if self._fh is None:
            return
        fh = self._fh
        fh.seek(0)
        fh.write(self._header())
        fh.seek(0, os.SEEK_END)
        fh.flush()
        os.fsync(fh.fileno())

    def close(self) -> None:
        if self._fh is None:
            return
        try:
            self.flush()
        finally:
            self._fh.close()
            self._fh = None


def _to_pcm_bytes(block: npt.NDArray[np.float32], width: int) -> bytes:
    """Little-endian integer samples, scaled as libsndfile reads them back (x * 2**(bits-1))."""
    scale = float(1 << (8 * width - 1))
    ints = np.clip(np.rint(block * scale), -scale, scale - 1).astype("<i4")
    if width == 2:
        return bytes(ints.astype("<i2").tobytes())
    return bytes(np.ascontiguousarray(ints.view(np.uint8).reshape(-1, 4)[:, :width]).tobytes())


class FlacWriter:
    """FLAC through libsndfile; frames reach the file as the encoder completes them."""

    def __init__(self, path: Path, sample_rate: int, channels: int) -> None:
        import soundfile as sf

        self.path = path
        # Create the file exclusively first: libsndfile itself would overwrite.
        with path.open("xb"):
            pass
        self._file: Any = sf.SoundFile(path, "w", sample_rate, channels, "PCM_24", format="FLAC")
        self._frames = 0

    @property
    def frames(self) -> int:
        return self._frames

    @property
    def frames_left(self) -> int | None:
        return None

    def write(self, block: npt.NDArray[np.float32]) -> None:
        self._file.write(block)
        self._frames += block.shape[0]

    def flush(self) -> None:
        if not self._file.closed:
            self._file.flush()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()


def open_writer(path: Path, sample_rate: int, channels: int) -> RecordingWriter:
    """A new recording file; refuses to overwrite, and says why it cannot be created."""
    fmt = recording_format(path)
    if path.exists():
        raise CaptureError(f"'{path}' already exists; choose another file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "flac":
            return FlacWriter(path, sample_rate, channels)
        return WavWriter(path, sample_rate, channels)
    except FileExistsError as exc:
        raise CaptureError(f"'{path}' already exists; choose another file name.") from exc
    except OSError as exc:
        raise CaptureError(f"Cannot create the recording file '{path}': {exc.strerror or exc}.") from exc


# ---------------------------------------------------------------------------------------------- markers


def _markers_dir() -> Path:
    return recordings_dir() / _MARKERS


def _try_lock(fh: IO[str]) -> bool:
    """An exclusive, non-blocking lock that the OS drops when the holder dies."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


class TakeMarker:
    """Says "this file is being recorded" for as long as the recording process holds it."""

    def __init__(self, audio_path: Path) -> None:
        folder = _markers_dir()
        folder.mkdir(parents=True, exist_ok=True)
        absolute = audio_path.resolve()
        digest = hashlib.sha1(str(absolute).encode(), usedforsecurity=False).hexdigest()[:10]
        self.path = folder / f"{audio_path.name}.{digest}.json"
        self._fh: IO[str] | None = self.path.open("a+", encoding="utf-8")
        if not _try_lock(self._fh):
            self._fh.close()
            raise CaptureError(f"'{audio_path}' is already being recorded by another program.")
        info = {"path": str(absolute), "pid": os.getpid(), "started": datetime.now().isoformat(timespec="seconds")}
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps(info))
        self._fh.flush()

    def release(self) -> None:
        """The take was finished properly: the marker goes."""
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._fh.close()
        self._fh = None


# ---------------------------------------------------------------------------------------------- repair


@dataclass(frozen=True)
class RepairOutcome:
    path: Path
    repaired: bool  # the file was changed
    frames: int | None
    sample_rate: int | None
    problem: str | None = None  # why the file could not be made readable

    @property
    def duration_s(self) -> float | None:
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate


def repair_recording(path: Path) -> RepairOutcome:
    """Makes an unfinished WAV or FLAC take valid and readable, in place; a finished one is left alone."""
    try:
        fmt = recording_format(path)
        if fmt == "wav":
            return _repair_wav(path)
        return _repair_flac(path)
    except CaptureError as exc:
        return RepairOutcome(path, False, None, None, str(exc))
    except OSError as exc:
        return RepairOutcome(path, False, None, None, f"Cannot repair '{path.name}': {exc.strerror or exc}.")


def needs_repair(path: Path) -> bool:
    try:
        if recording_format(path) == "wav":
            layout = _wav_layout(path)
            return layout is not None and layout.needs_repair
        return _flac_unfinished(path)
    except (CaptureError, OSError):
        return False


@dataclass(frozen=True)
class _WavLayout:
    file_size: int
    riff_size: int
    data_offset: int
    data_size: int  # as declared
    block_align: int
    sample_rate: int
    trailing_chunks_ok: bool  # bytes after the declared data are well-formed chunks up to the end

    @property
    def audio_bytes(self) -> int:
        """Whole frames in the file after the data chunk header, capped to what a WAV can declare."""
        avail = self.file_size - self.data_offset
        avail -= avail % self.block_align
        cap = _WAV_MAX_DATA - _WAV_MAX_DATA % self.block_align
        return min(avail, cap)

    @property
    def needs_repair(self) -> bool:
        end = self.data_offset + self.data_size
        if self.data_size == 0 or end > self.file_size:
            return self.audio_bytes != self.data_size or self.riff_size != self.file_size - 8
        if end == self.file_size or self.trailing_chunks_ok:
            return self.riff_size != self.file_size - 8 and not self.trailing_chunks_ok
        return True  # audio written after the last header update


def _wav_layout(path: Path) -> _WavLayout | None:
    """The chunk layout of a RIFF/WAVE file, or None when it has no fmt and data chunk to go by."""
    size = path.stat().st_size
    with path.open("rb") as fh:
        head = fh.read(12)
        if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
            return None
        riff_size = struct.unpack("<I", head[4:8])[0]
        pos = 12
        align = rate = 0
        while pos + 8 <= size:
            fh.seek(pos)
            chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
            if chunk_id == b"fmt ":
                fmt = fh.read(16)
                if len(fmt) < 16:
                    return None
                _, _, rate, _, align, _ = struct.unpack("<HHIIHH", fmt)
            elif chunk_id == b"data":
                if align <= 0:
                    return None
                data_offset = pos + 8
                end = data_offset + chunk_size + (chunk_size & 1)
                return _WavLayout(
                    size,
                    riff_size,
                    data_offset,
                    chunk_size,
                    align,
                    rate,
                    _chunks_fill(fh, end, size) if end < size else False,
                )
            pos += 8 + chunk_size + (chunk_size & 1)
    return None


def _chunks_fill(fh: IO[bytes], start: int, end: int) -> bool:
    """True when [start, end) is a run of chunks with printable ids that ends exactly at ``end``."""
    pos = start
    while pos + 8 <= end:
        fh.seek(pos)
        chunk_id, chunk_size = struct.unpack("<4sI", fh.read(8))
        if not all(32 <= c < 127 for c in chunk_id):
            return False
        pos += 8 + chunk_size + (chunk_size & 1)
    return pos == end


def _repair_wav(path: Path) -> RepairOutcome:
    layout = _wav_layout(path)
    if layout is None:
        return RepairOutcome(path, False, None, None, f"'{path.name}' has no WAV header to repair; no audio was saved.")
    if not layout.needs_repair:
        return RepairOutcome(path, False, layout.data_size // layout.block_align, layout.sample_rate)
    audio = layout.audio_bytes
    with path.open("r+b") as fh:
        fh.truncate(layout.data_offset + audio)  # drops a half-written last frame
        fh.seek(4)
        fh.write(struct.pack("<I", layout.data_offset + audio - 8))
        fh.seek(layout.data_offset - 4)
        fh.write(struct.pack("<I", audio))
        fh.flush()
        os.fsync(fh.fileno())
    log.info("repaired the WAV header of %s (%d bytes of audio)", path, audio)
    return RepairOutcome(path, True, audio // layout.block_align, layout.sample_rate)


def _flac_unfinished(path: Path) -> bool:
    """libsndfile writes the sample count into STREAMINFO only on close; 0 means "unknown"."""
    with path.open("rb") as fh:
        head = fh.read(4 + 4 + 34)
    if len(head) < 42 or head[:4] != b"fLaC":
        return False
    streaminfo = head[8:42]
    total = int.from_bytes(streaminfo[10:18], "big") & ((1 << 36) - 1)
    return total == 0


def _repair_flac(path: Path) -> RepairOutcome:
    import soundfile as sf

    if not _flac_unfinished(path):
        try:
            info = sf.info(str(path))
        except (RuntimeError, sf.LibsndfileError):
            return RepairOutcome(path, False, None, None, f"'{path.name}' is damaged and cannot be repaired.")
        return RepairOutcome(path, False, int(info.frames), int(info.samplerate))
    # Re-encode every frame that still decodes into a new file beside it, then swap it in.
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=".repair-", suffix=".flac")
    os.close(fd)
    tmp = Path(tmp_name)
    frames = 0
    try:
        with sf.SoundFile(str(path)) as src:
            rate, channels = int(src.samplerate), int(src.channels)
            with sf.SoundFile(str(tmp), "w", rate, channels, "PCM_24", format="FLAC") as dst:
                try:
                    # Small reads: the one that reaches the cut-off end fails as a whole.
                    while True:
                        block = src.read(_FLAC_REPAIR_BLOCK, dtype="float32", always_2d=True)
                        if block.shape[0] == 0:
                            break
                        dst.write(block)
                        frames += block.shape[0]
                except (RuntimeError, sf.LibsndfileError):
                    pass  # the cut-off last frame: everything before it is kept
        os.replace(tmp, path)
    except (RuntimeError, sf.LibsndfileError) as exc:
        tmp.unlink(missing_ok=True)
        return RepairOutcome(path, False, None, None, f"'{path.name}' is damaged and cannot be repaired ({exc}).")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("repaired unfinished FLAC %s (%d frames)", path, frames)
    return RepairOutcome(path, True, frames, rate)


# ---------------------------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class RecoveredTake:
    """A take whose recording was cut off (crash, killed program, power loss), made readable again."""

    path: Path
    repaired: bool
    duration_s: float | None
    problem: str | None  # set when the take could not be made readable


def _in_progress() -> tuple[set[Path], list[tuple[Path, IO[str]]]]:
    """Paths being recorded right now, and the abandoned markers (locked by us now, to be handled)."""
    busy: set[Path] = set()
    abandoned: list[tuple[Path, IO[str]]] = []
    folder = _markers_dir()
    if not folder.is_dir():
        return busy, abandoned
    for marker in sorted(folder.glob("*.json")):
        try:
            fh = marker.open("r+", encoding="utf-8")
        except OSError:
            continue
        if not _try_lock(fh):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                busy.add(Path(json.loads(fh.read())["path"]))
            fh.close()
            continue
        abandoned.append((marker, fh))
    return busy, abandoned


def recover_unfinished(folder: Path | None = None) -> list[RecoveredTake]:
    """Repairs takes left unfinished by a program that died, and returns them to offer back.

    Covers takes named by an abandoned marker (wherever they were written) and any recording in
    the folder whose header does not cover its audio. Takes being recorded now are left alone.
    """
    target = folder or recordings_dir()
    busy, abandoned = _in_progress()
    out: list[RecoveredTake] = []
    seen: set[Path] = set()
    for marker, fh in abandoned:
        try:
            try:
                audio = Path(json.loads(fh.read())["path"])
            except (ValueError, KeyError, TypeError):
                log.warning("ignoring unreadable capture marker %s", marker)
                audio = None
            if audio is not None and audio.exists():
                out.append(_recovered(repair_recording(audio)))
                seen.add(audio.resolve())
            elif audio is not None:
                log.info("unfinished take %s no longer exists", audio)
            with contextlib.suppress(OSError):
                marker.unlink()
        finally:
            fh.close()
    busy_resolved = {p.resolve() for p in busy}
    for path in _audio_files(target):
        resolved = path.resolve()
        if resolved in seen or resolved in busy_resolved or not needs_repair(path):
            continue
        out.append(_recovered(repair_recording(path)))
    for take in out:
        if take.problem:
            log.info("%s", take.problem)
        else:
            log.info("recovered unfinished take %s (%.1f s)", take.path, take.duration_s or 0.0)
    return out


def _recovered(outcome: RepairOutcome) -> RecoveredTake:
    return RecoveredTake(outcome.path, outcome.repaired, outcome.duration_s, outcome.problem)


# ---------------------------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Recording:
    path: Path
    started: datetime  # from the file name, else its modification time
    size_bytes: int
    duration_s: float | None  # None when the header cannot be read (e.g. needs repair)
    sample_rate: int | None
    channels: int | None
    in_progress: bool  # being recorded right now (by this or another program)


def _audio_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    suffixes = set(RECORDING_SUFFIXES.values())
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def _started(path: Path) -> datetime:
    match = _NAME_RE.match(path.name)
    if match:
        with contextlib.suppress(ValueError):
            return datetime.strptime(match.group(1), _NAME_TIME)
    return datetime.fromtimestamp(path.stat().st_mtime)


def list_recordings(folder: Path | None = None) -> list[Recording]:
    """The takes in the recordings folder, newest first."""
    import soundfile as sf

    busy, abandoned = _in_progress()
    for _, fh in abandoned:
        fh.close()  # only looking: recover_unfinished deals with these
    busy_resolved = {p.resolve() for p in busy}
    out: list[Recording] = []
    for path in _audio_files(folder or recordings_dir()):
        try:
            stat = path.stat()
            started = _started(path)
        except OSError:
            continue
        duration = rate = channels = None
        try:
            info = sf.info(str(path))
            rate, channels = int(info.samplerate), int(info.channels)
            if 0 <= info.frames < (1 << 62):
                duration = info.frames / info.samplerate
        except (RuntimeError, sf.LibsndfileError):
            pass
        out.append(Recording(path, started, stat.st_size, duration, rate, channels, path.resolve() in busy_resolved))
    out.sort(key=lambda r: r.started, reverse=True)
    return out


def prune_recordings(older_than_days: float, folder: Path | None = None, now: datetime | None = None) -> list[Path]:
    """Deletes takes in the recordings folder started more than ``older_than_days`` ago; returns them."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = (now or datetime.now()) - timedelta(days=older_than_days)
    removed: list[Path] = []
    for rec in list_recordings(folder):
        if rec.in_progress or rec.started >= cutoff:
            continue
        try:
            rec.path.unlink()
        except OSError as exc:
            log.warning("cannot delete old take %s: %s", rec.path, exc)
            continue
        removed.append(rec.path)
    if removed:
        log.info("deleted %d takes older than %g days", len(removed), older_than_days)
    return removed


def delete_recording(path: Path) -> None:
    """Deletes one take (the user asked to); refuses one being recorded."""
    busy, abandoned = _in_progress()
    for _, fh in abandoned:
        fh.close()
    if path.resolve() in {p.resolve() for p in busy}:
        raise CaptureError(f"'{path.name}' is being recorded; stop the recording before deleting it.")
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CaptureError(f"Cannot delete '{path.name}': {exc.strerror or exc}.") from exc
