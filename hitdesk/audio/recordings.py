"""Recorded takes on disk: where they go, how they are written so a crash loses at most a second,
and listing and pruning them. Repairing a cut-off take is in ``repair``; finding and offering
it back at start-up, in ``recovery``.

WAV (the default) is written by a small writer of our own that rewrites the RIFF and data sizes at
every flush (at least once a second), so the file on disk is always a valid WAV holding everything
up to the last flush. FLAC goes through libsndfile; an unfinished FLAC has no sample count in its
header.

Every take carries a random take id in the file itself, written before any audio: in a ``hdsk``
chunk between the WAV's ``fmt `` and ``data`` chunks (readers skip chunks they do not know), and in
the FLAC's Vorbis comment (libsndfile's "software" string). While a take is being written, a marker
in ``recordings/.unfinished/`` names it, with its id and the file's inode, and is held locked by the
recording process. The lock (not a PID) tells a live recording from a dead one, and works for takes
written outside the folder (``hitdesk capture --out``). The id and inode are what let recovery prove
that the file at a marked path is still that take before it changes a byte: the user may have moved
the take away and saved something else under its name.
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
import uuid
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
_SUBTYPE_BYTES = {"PCM_16": 2, "PCM_24": 3}

# The take id: 32 lowercase hex digits (a uuid4). In a WAV, the chunk ``hdsk`` holds ``HitDesk ``
# and the id (40 bytes); the header is RIFF (12) + fmt (24) + hdsk (48) + the data chunk's 8 bytes.
TAKE_ID_RE = re.compile(r"[0-9a-f]{32}")
WAV_TAKE_CHUNK = b"hdsk"
WAV_TAKE_PREFIX = b"HitDesk "
WAV_TAKE_CHUNK_SIZE = len(WAV_TAKE_PREFIX) + 32
WAV_HEADER_BYTES = 12 + 24 + 8 + WAV_TAKE_CHUNK_SIZE + 8
WAV_MAX_DATA = 0xFFFFFFFF - (WAV_HEADER_BYTES - 8)
# In a FLAC, libsndfile writes the "software" string as the Vorbis comment ``software=...`` (adding
# its own version after it) when it writes the header, at the first block of audio.
FLAC_TAKE_PREFIX = "HitDesk take "
FLAC_TAKE_RE = re.compile(r"HitDesk take ([0-9a-f]{32})(?![0-9a-f])")


def new_take_id() -> str:
    """A take's id: random, so no other file can carry it unless it is a copy of the take."""
    return uuid.uuid4().hex


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
    take_id: str  # written in the file before any audio

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


def _checked_take_id(take_id: str | None) -> str:
    if take_id is None:
        return new_take_id()
    if not TAKE_ID_RE.fullmatch(take_id):
        raise ValueError(f"a take id is 32 lowercase hex digits, not {take_id!r}")
    return take_id


class WavWriter:
    """Integer PCM WAV whose header is rewritten at each flush, so the file is always valid.

    The header has a fixed size (the take id's chunk sits between ``fmt `` and ``data``), so the
    rewrite at each flush covers the same bytes.
    """

    def __init__(
        self, path: Path, sample_rate: int, channels: int, subtype: str = "PCM_24", take_id: str | None = None
    ) -> None:
        if subtype not in _SUBTYPE_BYTES:
            raise ValueError(f"unsupported WAV subtype {subtype!r}")
        self.path = path
        self.take_id = _checked_take_id(take_id)
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
        return (WAV_MAX_DATA - self._data_bytes) // self._align

    def _header(self) -> bytes:
        bits = 8 * self._width
        return (
            b"RIFF"
            + struct.pack("<I", WAV_HEADER_BYTES - 8 + self._data_bytes)
            + b"WAVEfmt "
            + struct.pack(
                "<IHHIIHH", 16, 1, self._channels, self._sample_rate, self._sample_rate * self._align, self._align, bits
            )
            + WAV_TAKE_CHUNK
            + struct.pack("<I", WAV_TAKE_CHUNK_SIZE)
            + WAV_TAKE_PREFIX
            + self.take_id.encode("ascii")
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
    """FLAC through libsndfile; frames reach the file as the encoder completes them.

    The take id goes in as libsndfile's "software" string, set before the first write: libsndfile
    writes the header (with the Vorbis comment) then, ahead of any audio. Until then the file is
    empty, so a take killed before its first block has no id and nothing to recover.
    """

    def __init__(self, path: Path, sample_rate: int, channels: int, take_id: str | None = None) -> None:
        import soundfile as sf

        self.path = path
        self.take_id = _checked_take_id(take_id)
        # Create the file exclusively first: libsndfile itself would overwrite. (It then opens the
        # same file again, truncating it: the inode stays. A file descriptor would not do: on
        # Windows libsndfile's C runtime has its own descriptor table.)
        with path.open("xb"):
            pass
        self._file: Any = sf.SoundFile(path, "w", sample_rate, channels, "PCM_24", format="FLAC")
        try:
            self._file.software = FLAC_TAKE_PREFIX + self.take_id
        except BaseException:
            self._file.close()
            path.unlink(missing_ok=True)
            raise
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


def open_writer(path: Path, sample_rate: int, channels: int, take_id: str | None = None) -> RecordingWriter:
    """A new recording file (with a new take id unless given); refuses to overwrite, and says why
    it cannot be created."""
    fmt = recording_format(path)
    if path.exists():
        raise CaptureError(f"'{path}' already exists; choose another file name.")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "flac":
            return FlacWriter(path, sample_rate, channels, take_id)
        return WavWriter(path, sample_rate, channels, take_id=take_id)
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


MARKER_VERSION = 2  # 1 (no version field): path, pid and start time only


class TakeMarker:
    """Says "this file is being recorded" for as long as the recording process holds it.

    Made just after the file: it records the take's id and the file's device and inode, which
    recovery checks before it touches the file at that path again.
    """

    def __init__(self, audio_path: Path, take_id: str) -> None:
        folder = _markers_dir()
        folder.mkdir(parents=True, exist_ok=True)
        absolute = audio_path.resolve()
        digest = hashlib.sha1(str(absolute).encode(), usedforsecurity=False).hexdigest()[:10]
        self.path = folder / f"{audio_path.name}.{digest}.json"
        self._fh: IO[str] | None = self.path.open("a+", encoding="utf-8")
        if not _try_lock(self._fh):
            self._fh.close()
            raise CaptureError(f"'{audio_path}' is already being recorded by another program.")
        try:
            st: os.stat_result | None = os.stat(absolute)
        except OSError:
            st = None  # not created yet: recovery will never repair it
        info = {
            "version": MARKER_VERSION,
            "path": str(absolute),
            "take": take_id,
            "dev": None if st is None else st.st_dev,
            "ino": None if st is None else st.st_ino,
            "pid": os.getpid(),
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps(info))
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())  # the id must survive a power cut as well as a crash

    def release(self) -> None:
        """The take was finished properly: the marker goes."""
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._fh.close()
        self._fh = None


def takes_in_progress() -> tuple[set[Path], list[tuple[Path, IO[str]]]]:
    """Paths being recorded right now, and the abandoned markers (locked by us now, to be handled).

    The caller closes the abandoned markers' handles, which unlocks them.
    """
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


def recording_files(folder: Path) -> list[Path]:
    """The WAV and FLAC files in a folder (not in its subfolders)."""
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

    busy, abandoned = takes_in_progress()
    for _, fh in abandoned:
        fh.close()  # only looking: recover_unfinished deals with these
    busy_resolved = {p.resolve() for p in busy}
    out: list[Recording] = []
    for path in recording_files(folder or recordings_dir()):
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
    busy, abandoned = takes_in_progress()
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
