"""Writing a take so that a crash loses at most a second, with a take id inside the file.

WAV (the default) is written by a small writer of our own that rewrites the RIFF and data sizes at
every flush (at least once a second), so the file on disk is always a valid WAV holding everything
up to the last flush. FLAC goes through libsndfile; an unfinished FLAC has no sample count in its
header.

Every take carries a random take id in the file itself, written before any audio: in a ``hdsk``
chunk between the WAV's ``fmt `` and ``data`` chunks (readers skip chunks they do not know), and in
the FLAC's Vorbis comment (libsndfile's "software" string). Recovery reads it back to prove that a
file is still the take it was, before it changes a byte (see ``markers`` and ``recovery``).
"""

from __future__ import annotations

import logging
import os
import re
import struct
import uuid
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import numpy.typing as npt

from hitdesk.errors import CaptureError

log = logging.getLogger(__name__)

RECORDING_SUFFIXES = {"wav": ".wav", "flac": ".flac"}
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


def recording_format(path: Path) -> str:
    """``"wav"`` or ``"flac"`` from the file name; anything else is refused."""
    suffix = path.suffix.lower()
    for fmt, ext in RECORDING_SUFFIXES.items():
        if suffix == ext:
            return fmt
    raise CaptureError(f"Takes are written as WAV or FLAC, so '{path.name}' needs a .wav or .flac name.")


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
