"""Repairing a take that was cut off (crash, killed program, power cut), in place, and proving
first that a file is that take.

A WAV take's header covers the audio up to its last flush; ``repair_recording`` extends the sizes to
the file's length. An unfinished FLAC has no sample count in its header; its repair re-encodes the
frames that can be decoded.

A take is proven by what ``recordings`` writes: its random take id inside the file (read here), and
the file's inode (recorded in the take's marker). ``repair_recording`` given a ``TakeIdentity``
reads the file first and opens it for writing only when both match, and in any case only if the
file has not changed since it was checked.
"""

from __future__ import annotations

import logging
import os
import struct
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from hitdesk.capture.writers import (
    FLAC_TAKE_PREFIX,
    FLAC_TAKE_RE,
    TAKE_ID_RE,
    WAV_TAKE_CHUNK,
    WAV_TAKE_CHUNK_SIZE,
    WAV_TAKE_PREFIX,
    recording_format,
)
from hitdesk.errors import CaptureError

log = logging.getLogger(__name__)

_FLAC_REPAIR_BLOCK = 2048
_MAX_CHUNKS = 64  # chunks (WAV) or metadata blocks (FLAC) looked through for the take id
_FLAC_VORBIS_COMMENT = 4


# ---------------------------------------------------------------------------------------------- take ids


@dataclass(frozen=True)
class TakeIdentity:
    """What proves a file is a given take: the take id written in it, and the file's inode.

    The device number is kept for the log but not compared: it can change across a reboot (btrfs
    subvolumes, USB disks), which is when power-cut takes are recovered. The id is random, so a
    file holding it with the same inode number at the same path is the take.
    """

    take_id: str
    ino: int
    dev: int | None = None


def read_take_id(path: Path) -> str | None:
    """The HitDesk take id written in a WAV or FLAC file; None for files HitDesk did not write (or
    wrote before takes carried ids)."""
    with path.open("rb") as fh:
        return _take_id(fh, recording_format(path))


def take_identity(path: Path) -> TakeIdentity | None:
    """The take id in the file with the file's inode, read from one open handle; None for a file
    HitDesk did not write (or wrote before takes carried ids)."""
    with path.open("rb") as fh:
        st = os.fstat(fh.fileno())
        take_id = _take_id(fh, recording_format(path))
    return None if take_id is None else TakeIdentity(take_id, st.st_ino, st.st_dev)


def _take_id(fh: IO[bytes], fmt: str) -> str | None:
    fh.seek(0)
    return _wav_take_id(fh) if fmt == "wav" else _flac_take_id(fh)


def _wav_take_id(fh: IO[bytes]) -> str | None:
    """The ``hdsk`` chunk, looked for before the data chunk."""
    head = fh.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        return None
    for _ in range(_MAX_CHUNKS):
        raw = fh.read(8)
        if len(raw) < 8:
            return None
        chunk_id, size = struct.unpack("<4sI", raw)
        if chunk_id == b"data":
            return None
        if chunk_id == WAV_TAKE_CHUNK:
            body = fh.read(size) if size == WAV_TAKE_CHUNK_SIZE else b""
            text = body[len(WAV_TAKE_PREFIX) :].decode("ascii", "replace")
            ok = body.startswith(WAV_TAKE_PREFIX) and TAKE_ID_RE.fullmatch(text)
            return text if ok else None
        fh.seek(size + (size & 1), os.SEEK_CUR)
    return None


def _flac_take_id(fh: IO[bytes]) -> str | None:
    """The ``software`` Vorbis comment, in the metadata blocks after ``fLaC``."""
    if fh.read(4) != b"fLaC":
        return None
    for _ in range(_MAX_CHUNKS):
        raw = fh.read(4)
        if len(raw) < 4:
            return None
        size = int.from_bytes(raw[1:4], "big")
        if raw[0] & 0x7F == _FLAC_VORBIS_COMMENT:
            return _vorbis_take_id(fh.read(size))
        if raw[0] & 0x80:  # the last metadata block
            return None
        fh.seek(size, os.SEEK_CUR)
    return None


def _vorbis_take_id(block: bytes) -> str | None:
    """A Vorbis comment block: a vendor string, then a count of length-prefixed ``KEY=value``."""
    pos = 4 + int.from_bytes(block[0:4], "little")
    count = int.from_bytes(block[pos : pos + 4], "little")
    pos += 4
    for _ in range(min(count, 1024)):
        if pos + 4 > len(block):
            return None
        n = int.from_bytes(block[pos : pos + 4], "little")
        entry = block[pos + 4 : pos + 4 + n]
        pos += 4 + n
        key, _, value = entry.decode("utf-8", "replace").partition("=")
        if key.lower() == "software":
            match = FLAC_TAKE_RE.match(value)
            return match.group(1) if match else None
    return None


def _not_the_take(path: Path, fh: IO[bytes], st: os.stat_result, expect: TakeIdentity) -> str | None:
    """Why the open file is not the take ``expect`` describes, in a sentence; None when it is."""
    found = _take_id(fh, recording_format(path))
    same_file = st.st_ino == expect.ino
    if found == expect.take_id:
        if same_file:
            if expect.dev is not None and st.st_dev != expect.dev:
                log.info("%s: same inode and take id, on a device numbered differently since", path)
            return None
        return f"'{path}' holds a copy of the take, not the file that was being recorded; it was left untouched."
    if same_file and st.st_size == 0:
        return f"'{path}' was cut off before any audio was saved."
    return f"'{path}' was replaced by another file since the recording stopped; it was left untouched."


def _changed(now: os.stat_result, then: os.stat_result) -> bool:
    fields = ("st_dev", "st_ino", "st_size", "st_mtime_ns")
    return any(getattr(now, f) != getattr(then, f) for f in fields)


def _changed_problem(path: Path) -> str:
    return f"'{path}' changed while it was being checked for repair; it was left untouched."


# ---------------------------------------------------------------------------------------------- repair


@dataclass(frozen=True)
class RepairOutcome:
    path: Path
    repaired: bool  # the file was changed
    frames: int | None
    sample_rate: int | None
    problem: str | None = None  # why the file could not be made readable, or was not touched

    @property
    def duration_s(self) -> float | None:
        if self.frames is None or not self.sample_rate:
            return None
        return self.frames / self.sample_rate


def repair_recording(path: Path, expect: TakeIdentity | None = None) -> RepairOutcome:
    """Makes an unfinished WAV or FLAC take valid and readable, in place; a finished one is left alone.

    With ``expect`` the file is first read to prove it is that take (inode and take id), and is
    opened for writing only if it is; otherwise the outcome's problem says why it was left alone.
    Without it the caller vouches for the file. Either way the file must not change between the
    check and the repair.
    """
    try:
        fmt = recording_format(path)
        if fmt == "wav":
            return _repair_wav(path, expect)
        return _repair_flac(path, expect)
    except CaptureError as exc:
        return RepairOutcome(path, False, None, None, str(exc))
    except OSError as exc:
        return RepairOutcome(path, False, None, None, f"Cannot repair '{path.name}': {exc.strerror or exc}.")


def needs_repair(path: Path) -> bool:
    try:
        with path.open("rb") as fh:
            if recording_format(path) == "wav":
                layout = _wav_layout(fh, os.fstat(fh.fileno()).st_size)
                return layout is not None and layout.needs_repair
            return _flac_unfinished(fh)
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
        limit = 0xFFFFFFFF - (self.data_offset - 8)  # the RIFF size must fit in 32 bits too
        return min(avail, limit - limit % self.block_align)

    @property
    def needs_repair(self) -> bool:
        end = self.data_offset + self.data_size
        if self.data_size == 0 or end > self.file_size:
            return self.audio_bytes != self.data_size or self.riff_size != self.file_size - 8
        if end == self.file_size or self.trailing_chunks_ok:
            return self.riff_size != self.file_size - 8 and not self.trailing_chunks_ok
        return True  # audio written after the last header update


def _wav_layout(fh: IO[bytes], size: int) -> _WavLayout | None:
    """The chunk layout of a RIFF/WAVE file, or None when it has no fmt and data chunk to go by."""
    fh.seek(0)
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
            trailing_ok = _chunks_fill(fh, end, size) if end < size else False
            return _WavLayout(size, riff_size, data_offset, chunk_size, align, rate, trailing_ok)
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


def _repair_wav(path: Path, expect: TakeIdentity | None) -> RepairOutcome:
    with path.open("rb") as fh:
        checked = os.fstat(fh.fileno())
        if expect is not None and (problem := _not_the_take(path, fh, checked, expect)):
            return RepairOutcome(path, False, None, None, problem)
        layout = _wav_layout(fh, checked.st_size)
    if layout is None:
        return RepairOutcome(path, False, None, None, f"'{path.name}' has no WAV header to repair; no audio was saved.")
    if not layout.needs_repair:
        return RepairOutcome(path, False, layout.data_size // layout.block_align, layout.sample_rate)
    audio = layout.audio_bytes
    with path.open("r+b") as fh:
        if _changed(os.fstat(fh.fileno()), checked):
            return RepairOutcome(path, False, None, None, _changed_problem(path))
        fh.truncate(layout.data_offset + audio)  # drops a half-written last frame
        fh.seek(4)
        fh.write(struct.pack("<I", layout.data_offset + audio - 8))
        fh.seek(layout.data_offset - 4)
        fh.write(struct.pack("<I", audio))
        fh.flush()
        os.fsync(fh.fileno())
    log.info("repaired the WAV header of %s (%d bytes of audio)", path, audio)
    return RepairOutcome(path, True, audio // layout.block_align, layout.sample_rate)


def _flac_unfinished(fh: IO[bytes]) -> bool:
    """libsndfile writes the sample count into STREAMINFO only on close; 0 means "unknown"."""
    fh.seek(0)
    head = fh.read(4 + 4 + 34)
    if len(head) < 42 or head[:4] != b"fLaC":
        return False
    streaminfo = head[8:42]
    total = int.from_bytes(streaminfo[10:18], "big") & ((1 << 36) - 1)
    return total == 0


def _repair_flac(path: Path, expect: TakeIdentity | None) -> RepairOutcome:
    import soundfile as sf

    with path.open("rb") as fh:
        checked = os.fstat(fh.fileno())
        if expect is not None and (problem := _not_the_take(path, fh, checked, expect)):
            return RepairOutcome(path, False, None, None, problem)
        unfinished = _flac_unfinished(fh)
        take_id = _take_id(fh, "flac")
    if not unfinished:
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
                if take_id is not None:
                    dst.software = FLAC_TAKE_PREFIX + take_id  # still the same take
                frames = _copy_decodable(src, dst, sf)
        # The swap replaces whatever is at the path: only if it is still the file checked above
        # (not a link to it either). Only the instant between this check and the rename is open.
        if _changed(os.lstat(path), checked):
            tmp.unlink(missing_ok=True)
            return RepairOutcome(path, False, None, None, _changed_problem(path))
        os.replace(tmp, path)
    except (RuntimeError, sf.LibsndfileError) as exc:
        tmp.unlink(missing_ok=True)
        return RepairOutcome(path, False, None, None, f"'{path.name}' is damaged and cannot be repaired ({exc}).")
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("repaired unfinished FLAC %s (%d frames)", path, frames)
    return RepairOutcome(path, True, frames, rate)


def _copy_decodable(src: Any, dst: Any, sf: Any) -> int:
    """Copies frames until the end or the first that does not decode; returns how many."""
    frames = 0
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
    return frames
