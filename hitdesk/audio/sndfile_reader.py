"""Reading through libsndfile (``soundfile``): WAV, AIFF, FLAC, Ogg Vorbis, Opus and more.

This is the preferred back end: it is what ``librosa.load`` uses, so samples match it exactly, and
it seeks to exact frames (lossy formats need the warm-up described in ``read_range``), so excerpts
can be read without decoding the rest of the file. MP3 goes to FFmpeg instead (see ``decode.py``).
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf

from hitdesk.audio.info import AudioInfo, NativeBlock, Samples, SeekFailed
from hitdesk.audio.inputs import damaged_error, display_name
from hitdesk.audio.mono import downmix, report_replaced, sanitize
from hitdesk.audio.problems import report

log = logging.getLogger(__name__)

# Frames per read call: bounded memory even for 8 channels at 192 kHz, and a multiple of the MP3
# frame length (1152), as reads that split MP3 frames can come back different (see decode.py).
READ_FRAMES = 56 * 1152

_FORMAT_NAMES = {
    "WAV": "WAV",
    "WAVEX": "WAV",
    "RF64": "WAV",
    "W64": "Wave64",
    "AIFF": "AIFF",
    "FLAC": "FLAC",
    "MPEG": "MP3",
    "MP3": "MP3",
    "CAF": "CAF",
}
_OGG_NAMES = {"VORBIS": "Ogg Vorbis", "OPUS": "Opus", "FLAC": "Ogg FLAC", "SPEEX": "Ogg Speex"}
# libsndfile's MP3 frame count comes from the Xing/LAME header or the file size, so it is not
# reported as exact. (MP3 normally goes to FFmpeg; libsndfile reads it only when FFmpeg cannot.)
_INEXACT_COUNT = {"MPEG", "MP3"}
_LOSSY = {"OGG", "MPEG", "MP3"}  # decoders that need warm-up after a seek
_PREROLL_S = 1.0
_CHECK_FRAMES = 2048
_SALVAGE_FRAMES = 1024

# libsndfile's log line when a WAV or AIFF data chunk claims more bytes than the file holds.
_SHORT_DATA = re.compile(r"^\s*(data|SSND)\s*:\s*\d+\s*\(should be", re.MULTILINE)

# Errors libsndfile raises through soundfile; RuntimeError covers older soundfile versions.
_SF_ERRORS: tuple[type[Exception], ...] = (sf.SoundFileError, RuntimeError, OSError)


def _format_name(handle: sf.SoundFile) -> str:
    if handle.format == "OGG":
        return _OGG_NAMES.get(handle.subtype, "Ogg")
    return _FORMAT_NAMES.get(handle.format, str(handle.format_info or handle.format))


class SndfileReader:
    """An input opened read-only by libsndfile; see ``NativeReader`` for the contract."""

    def __init__(self, path: Path, handle: sf.SoundFile) -> None:
        self._path = path
        self._handle = handle
        self._replaced = 0
        self._lossy = handle.format in _LOSSY
        frames = int(handle.frames)
        sr = int(handle.samplerate)
        self._info = AudioInfo(
            path=path,
            format=_format_name(handle),
            sample_rate=sr,
            channels=int(handle.channels),
            duration_s=frames / sr,
            frames=None if handle.format in _INEXACT_COUNT else frames,
            seekable=bool(handle.seekable()),
        )

    @classmethod
    def open(cls, path: Path) -> SndfileReader | None:
        """The reader, or None when libsndfile does not recognise the file (PyAV may)."""
        try:
            handle = sf.SoundFile(os.fsencode(path), mode="r")  # bytes: any name the system allows
        except _SF_ERRORS as exc:
            log.debug("libsndfile cannot open %s: %s", path, exc)
            return None
        if handle.samplerate <= 0 or handle.channels <= 0:
            handle.close()
            return None
        if _SHORT_DATA.search(handle.extra_info):
            # libsndfile reads what is there; say so, as the end of the recording is missing.
            report(log, f"'{display_name(path)}' is shorter than its header says; it may be truncated.")
        return cls(path, handle)

    @property
    def info(self) -> AudioInfo:
        return self._info

    def _read_native(self, frames: int) -> NativeBlock:
        block, replaced = sanitize(self._handle.read(frames, dtype="float32", always_2d=True))
        self._replaced += replaced
        return block

    def _read(self, frames: int) -> Samples:
        return downmix(self._read_native(frames), channel_axis=1)

    def blocks(self) -> Iterator[Samples]:
        return (downmix(block, channel_axis=1) for block in self.native_blocks())

    def native_blocks(self) -> Iterator[NativeBlock]:
        # Read until libsndfile returns nothing: ``SoundFile.blocks`` trusts the header's frame count
        # and pads a truncated MP3 with silence up to it.
        produced = 0
        while True:
            try:
                block = self._read_native(READ_FRAMES)
            except _SF_ERRORS as exc:
                tail = self._salvage(produced)
                if len(tail):
                    produced += len(tail)
                    yield tail
                if produced == 0:
                    raise damaged_error(self._path) from exc
                report(
                    log,
                    f"'{display_name(self._path)}' is damaged or truncated after "
                    f"{produced / self._info.sample_rate:.1f} s; using the part that decodes ({exc}).",
                )
                return
            if len(block) == 0:
                break
            produced += len(block)
            yield block
        if self._info.frames is not None and produced < self._info.frames:
            report(
                log,
                f"'{display_name(self._path)}' ended after {produced} of {self._info.frames} frames; "
                "it may be truncated.",
            )

    def _salvage(self, start: int) -> NativeBlock:
        """After a failed read, the frames from ``start`` that still decode, read in small pieces.

        A failed read returns nothing, so without this a cut FLAC file would lose up to a whole
        read's worth (1.5 s) of good audio before the damage. Lossy formats are not retried: their
        seeks are not exact enough to continue the timeline (see ``read_range``).
        """
        parts: list[NativeBlock] = []
        empty = np.zeros((0, self._info.channels), dtype=np.float32)
        if self._lossy or not self._info.seekable:
            return empty
        # libsndfile refuses every call on a handle after an error, so read through a fresh one.
        try:
            with sf.SoundFile(os.fsencode(self._path), mode="r") as handle:
                handle.seek(start)
                while len(block := handle.read(_SALVAGE_FRAMES, dtype="float32", always_2d=True)):
                    clean, replaced = sanitize(block)
                    self._replaced += replaced
                    parts.append(clean)
        except _SF_ERRORS:
            pass  # the damage itself: keep what came before it
        return np.concatenate(parts) if parts else empty

    def read_range(self, start: int, stop: int) -> Samples:
        if not self._info.seekable:
            raise SeekFailed("libsndfile cannot seek in this file")
        if start >= self._handle.frames:  # libsndfile fails a seek past the end, even for MP3
            return np.zeros(0, dtype=np.float32)
        if not self._lossy:
            return self._read_at(start, stop - start)
        # libsndfile's Vorbis and MP3 seeks are sometimes off for the first few hundred frames (and
        # Vorbis can land a lapped block early or late: libsndfile issue #885); a second of decoding
        # before the start always converged in tests. A short read from twice as far back must
        # agree, or the caller decodes through the file instead.
        preroll = round(_PREROLL_S * self._info.sample_rate)
        first = max(0, start - preroll)
        segment = self._read_at(first, stop - first)[start - first :]
        if first > 0:
            second = max(0, start - 2 * preroll)
            check = self._read_at(second, start - second + _CHECK_FRAMES)[start - second :]
            n = min(len(check), len(segment))
            if not np.allclose(check[:n], segment[:n], rtol=0.0, atol=1e-6):
                raise SeekFailed("two libsndfile seeks to the same place disagree")
        return segment

    def _read_at(self, start: int, frames: int) -> Samples:
        """``frames`` mono frames from ``start``, fewer at the end of the file."""
        try:
            self._handle.seek(start)
            parts: list[Samples] = []
            remaining = frames
            while remaining > 0:
                mono = self._read(min(READ_FRAMES, remaining))
                if len(mono) == 0:
                    break
                parts.append(mono)
                remaining -= len(mono)
        except _SF_ERRORS as exc:
            raise SeekFailed(str(exc)) from exc
        return np.concatenate(parts) if parts else np.zeros(0, dtype=np.float32)

    def close(self) -> None:
        report_replaced(self._path, self._replaced)
        self._replaced = 0
        self._handle.close()
