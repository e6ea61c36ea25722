"""A take read for playback: its own channels at its own rate, from any frame, a block at a time. No Qt.

The analysis decoder (``hitdesk.audio``) gives the model's signal, mono at 22,050 Hz, which is not
what a mix sounds like. Playback reads the file itself: libsndfile for what it opens (WAV, AIFF,
FLAC, Ogg Vorbis, Opus, MP3), whose seeks are exact once a lossy decoder has warmed up
(``_PREROLL_S``); FFmpeg through PyAV for the rest (M4A/AAC, WMA, ...), placed by frame timestamps,
which is close enough for listening, with the same warm-up. Nothing is decoded ahead of what is
asked for, so an hour-long take costs a decoder, not hundreds of megabytes.

Each source names its channels (FFmpeg's names: FL, FR, FC, LFE, BL, BR, SL, SR, ...), so
``downmix_matrix`` can fold a surround file into the two channels a listener has.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Generator
from pathlib import Path
from typing import Protocol

import av
import av.error
import numpy as np
import numpy.typing as npt
import soundfile as sf
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer

from hitdesk.audio.decode import MAX_SAMPLE_RATE, MIN_SAMPLE_RATE
from hitdesk.audio.inputs import check_input, damaged_error, display_name
from hitdesk.errors import DecodeError

log = logging.getLogger(__name__)

Block = npt.NDArray[np.float32]  # (frames, channels)

_PREROLL_S = 0.1  # decoded and dropped before a seek target: lossy decoders need it (see sndfile_reader)
_LOSSY_SNDFILE = {"OGG", "MPEG", "MP3"}
_SF_ERRORS: tuple[type[Exception], ...] = (sf.SoundFileError, RuntimeError, OSError)
_AV_ERRORS: tuple[type[Exception], ...] = (av.error.FFmpegError, OSError, ValueError)

# Channel order by count when the file does not say: WAV's (also FLAC's and AIFF's), and Vorbis's
# (Ogg Vorbis and Opus), which puts the centre second and LFE last.
_WAV_ORDER = {
    1: ("FC",),
    2: ("FL", "FR"),
    3: ("FL", "FR", "FC"),
    4: ("FL", "FR", "BL", "BR"),
    5: ("FL", "FR", "FC", "BL", "BR"),
    6: ("FL", "FR", "FC", "LFE", "BL", "BR"),
    7: ("FL", "FR", "FC", "LFE", "BC", "SL", "SR"),
    8: ("FL", "FR", "FC", "LFE", "BL", "BR", "SL", "SR"),
}
_VORBIS_ORDER = {
    3: ("FL", "FC", "FR"),
    5: ("FL", "FC", "FR", "BL", "BR"),
    6: ("FL", "FC", "FR", "BL", "BR", "LFE"),
    7: ("FL", "FC", "FR", "SL", "SR", "BC", "LFE"),
    8: ("FL", "FC", "FR", "SL", "SR", "BL", "BR", "LFE"),
}
_LEFT = {"FL", "FLC", "BL", "SL", "TFL", "TBL", "WL", "TSL"}
_RIGHT = {"FR", "FRC", "BR", "SR", "TFR", "TBR", "WR", "TSR"}
_MINUS_3DB = math.sqrt(0.5)


def channel_names(channels: int, vorbis: bool = False) -> tuple[str, ...]:
    """The usual layout for ``channels`` (empty names when there is none, e.g. 12 channels)."""
    if vorbis and channels in _VORBIS_ORDER:
        return _VORBIS_ORDER[channels]
    return _WAV_ORDER.get(channels, ("",) * channels)


def downmix_matrix(names: tuple[str, ...], out_channels: int) -> npt.NDArray[np.float32] | None:
    """``(in, out)`` gains that fold the named channels into ``out_channels`` (1 or 2); None: as they are.

    Mono goes to both sides; stereo stays; surround follows ITU-R BS.775 (centre and surrounds at
    -3 dB, LFE left out), scaled so a full-scale signal in every channel cannot clip, as FFmpeg's
    downmix does. Unnamed channels alternate left and right. One output channel gets the mean.
    """
    n = len(names)
    if (n == out_channels == 2 and names == ("FL", "FR")) or n == out_channels == 1:
        return None
    m = np.zeros((n, 2), dtype=np.float64)
    for i, name in enumerate(names):
        front = name in ("FL", "FR")
        if n == 1:
            m[i] = (1.0, 1.0)
        elif name in _LEFT:
            m[i, 0] = 1.0 if front or n == 2 else _MINUS_3DB
        elif name in _RIGHT:
            m[i, 1] = 1.0 if front or n == 2 else _MINUS_3DB
        elif name in ("FC", "BC", "TC", "TFC", "TBC"):
            m[i] = (_MINUS_3DB, _MINUS_3DB)
        elif name == "LFE" or name.startswith("LFE"):
            continue
        elif name:
            m[i] = (0.5, 0.5)
        else:
            m[i, i % 2] = 1.0
    m /= max(1.0, float(m.sum(axis=0).max()))
    if out_channels == 1:
        m = m.sum(axis=1, keepdims=True) / 2.0 if n > 1 else m[:, :1]
    return m.astype(np.float32)


class PlaySource(Protocol):
    """One file open for playback. Used by one thread at a time; always ``close`` it."""

    rate: int
    channels: int
    names: tuple[str, ...]
    duration_s: float
    format: str

    def seek(self, frame: int) -> None:
        """The next ``read`` starts at this frame (0 or more; past the end reads nothing)."""
        ...

    def read(self, frames: int) -> Block:
        """Up to ``frames`` frames, ``(n, channels)`` float32; fewer only at the end, none after it."""
        ...

    def close(self) -> None: ...


def open_play_source(path: str | Path) -> PlaySource:
    """The file opened for playback; raises ``HitdeskError`` with one sentence when it cannot be."""
    p = check_input(path)
    source: PlaySource = SndfileSource.open(p) or AvSource(p)
    if not MIN_SAMPLE_RATE <= source.rate <= MAX_SAMPLE_RATE:
        source.close()
        raise DecodeError(f"Cannot play '{display_name(p)}': it states a sample rate of {source.rate:,} Hz.")
    return source


class SndfileSource:
    """libsndfile: exact seeks, and reads of any length."""

    def __init__(self, path: Path, handle: sf.SoundFile) -> None:
        self._path, self._handle = path, handle
        self.rate = int(handle.samplerate)
        self.channels = int(handle.channels)
        self.names = channel_names(self.channels, vorbis=handle.format == "OGG")
        self._frames = int(handle.frames)
        self.duration_s = self._frames / self.rate
        self.format = str(handle.format)
        self._lossy = handle.format in _LOSSY_SNDFILE
        self._at_end = False

    @classmethod
    def open(cls, path: Path) -> SndfileSource | None:
        """The source, or None when libsndfile does not read the file (FFmpeg may)."""
        try:
            handle = sf.SoundFile(os.fsencode(path), mode="r")
        except _SF_ERRORS as exc:
            log.debug("libsndfile cannot open %s: %s", path, exc)
            return None
        if handle.samplerate <= 0 or handle.channels <= 0 or not handle.seekable():
            handle.close()
            return None
        return cls(path, handle)

    def seek(self, frame: int) -> None:
        frame = max(0, frame)
        self._at_end = frame >= self._frames  # libsndfile refuses a seek past the end
        if self._at_end:
            return
        preroll = min(frame, round(_PREROLL_S * self.rate)) if self._lossy else 0
        try:
            self._handle.seek(frame - preroll)
            if preroll:
                self._handle.read(preroll, dtype="float32", always_2d=True)
        except _SF_ERRORS as exc:
            log.warning("cannot seek in '%s': %s", display_name(self._path), exc)
            self._at_end = True

    def read(self, frames: int) -> Block:
        if self._at_end:
            return np.zeros((0, self.channels), dtype=np.float32)
        try:
            block: Block = self._handle.read(frames, dtype="float32", always_2d=True)
        except _SF_ERRORS as exc:  # damaged further on: the take ends there
            log.warning("'%s' cannot be read further: %s", display_name(self._path), exc)
            self._at_end = True
            return np.zeros((0, self.channels), dtype=np.float32)
        return block

    def close(self) -> None:
        self._handle.close()


class AvSource:
    """FFmpeg: frames converted to packed float; a seek lands by timestamp, then decodes up to the frame."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._container, self._stream = self._open()
        self._frames = self._decode()
        first = next(self._frames, None)
        if first is None:
            self.close()
            raise damaged_error(path)
        self.rate = int(first.sample_rate)
        self.channels = int(first.layout.nb_channels)
        self.names = tuple(c.name for c in first.layout.channels)
        self.format = self._stream.codec_context.name if self._stream.codec_context else "?"
        self._layout = first.layout.name
        self._origin = first.pts
        self._time_base = first.time_base or self._stream.time_base
        self._converter = self._new_converter()
        self._held: list[Block] = [self._convert(first)]  # decoded, not yet read
        self._skip = 0  # frames still to drop before the next read's first frame
        duration = self._stream.duration
        if duration is not None and self._stream.time_base is not None:
            self.duration_s = float(duration * self._stream.time_base)
        else:
            self.duration_s = (self._container.duration or 0) / av.time_base

    def _open(self) -> tuple[InputContainer, AudioStream]:
        try:
            container = av.open(str(self._path), mode="r", metadata_errors="replace")
        except _AV_ERRORS as exc:
            raise damaged_error(self._path) from exc
        streams = [s for s in container.streams.audio if isinstance(s, AudioStream)]
        if not streams:
            container.close()
            raise DecodeError(f"Cannot play '{display_name(self._path)}': it contains no audio.")
        best = container.streams.best("audio")
        return container, best if isinstance(best, AudioStream) else streams[0]

    def _new_converter(self) -> av.AudioResampler:
        # Packed float: PyAV reads planar frames of more than 8 channels out of bounds (see frame_array).
        return av.AudioResampler(format="flt", layout=self._layout, rate=self.rate)

    def _decode(self) -> Generator[AudioFrame, None, None]:
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode()
                except (av.error.FFmpegError, ValueError):
                    continue  # a damaged packet: skipped, as ffmpeg does
                yield from (f for f in frames if isinstance(f, AudioFrame) and f.samples > 0)
        except _AV_ERRORS as exc:
            log.warning("'%s' cannot be read further: %s", display_name(self._path), exc)

    def _convert(self, frame: AudioFrame) -> Block:
        frame.pts = None  # the converter checks timestamps; positions are counted here
        out = [f.to_ndarray().reshape(-1, self.channels) for f in self._converter.resample(frame)]
        return np.concatenate(out).astype(np.float32, copy=False) if out else np.zeros((0, self.channels), np.float32)

    def _position(self, frame: AudioFrame) -> int | None:
        tb = frame.time_base or self._time_base
        if frame.pts is None or self._origin is None or tb is None:
            return None
        return round((frame.pts - self._origin) * tb * self.rate)

    def _restart(self, frame: int) -> None:
        """From the first frame, dropping ``frame`` frames: slow far into a file, but always right."""
        self._frames.close()
        self._container.close()
        self._container, self._stream = self._open()
        self._frames = self._decode()
        self._converter = self._new_converter()
        self._held, self._skip = [], frame

    def seek(self, frame: int) -> None:
        frame = max(0, frame)
        preroll = round(_PREROLL_S * self.rate)
        if frame <= 2 * preroll or self._origin is None or self._time_base is None:
            self._restart(frame)
            return
        try:
            target = self._origin + int((frame - preroll) / self.rate / self._time_base)
            self._container.seek(target, backward=True, any_frame=False, stream=self._stream)
        except _AV_ERRORS:
            self._restart(frame)
            return
        self._frames = self._decode()
        self._converter = self._new_converter()
        first = next(self._frames, None)
        landed = None if first is None else self._position(first)
        if first is None or landed is None or landed > frame:
            self._restart(frame)  # after the end, no timestamp, or too late to warm up
            return
        self._held, self._skip = [self._convert(first)], frame - landed

    def read(self, frames: int) -> Block:
        got = sum(len(b) for b in self._held) - self._skip
        while got < frames:
            frame = next(self._frames, None)
            if frame is None:
                break
            if frame.sample_rate != self.rate or frame.layout.nb_channels != self.channels:
                continue  # a mid-stream format change would warp the timeline
            block = self._convert(frame)
            self._held.append(block)
            got += len(block)
        joined = np.concatenate(self._held) if self._held else np.zeros((0, self.channels), np.float32)
        joined = joined[self._skip :]
        self._skip = max(0, self._skip - sum(len(b) for b in self._held))
        self._held = [joined[frames:]] if len(joined) > frames else []
        return np.ascontiguousarray(joined[:frames])

    def close(self) -> None:
        self._frames.close()
        self._container.close()
