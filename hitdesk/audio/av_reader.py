"""Reading through FFmpeg (PyAV) for what libsndfile cannot open: M4A/AAC, WMA, WebM, Matroska, ...

The decoded timeline is the count of decoded samples from the first frame, which is what a
whole-file decode produces. Frame timestamps do not always agree with it: an M4A remuxed by FFmpeg
from Ogg Vorbis carries the Vorbis packet times, which wander by up to ~450 samples around the true
position. So a read after a seek is placed by an *anchor*: a frame whose timestamp agrees with the
two frames after it (each starts where the previous one ends); frames before the anchor are placed
by counting back from it. Seeking is tried only for containers with sample-exact indexes; elsewhere
(MP3 and ADTS estimate positions from byte offsets, Matroska stores milliseconds) ``read_range``
raises ``SeekFailed`` and the caller decodes through the file once.
"""

from __future__ import annotations

import logging
from collections.abc import Generator, Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np
from av.audio.codeccontext import AudioCodecContext
from av.audio.frame import AudioFrame
from av.audio.stream import AudioStream
from av.container import InputContainer
from numpy.typing import NDArray

from hitdesk.audio.info import AudioInfo, NativeBlock, Samples, SeekFailed
from hitdesk.audio.inputs import damaged_error, display_name
from hitdesk.audio.mono import downmix, report_replaced, sanitize, to_mono
from hitdesk.audio.problems import report
from hitdesk.errors import DecodeError

log = logging.getLogger(__name__)

# What FFmpeg raises through PyAV on damaged input; ValueError covers undecodable metadata text and
# PyAV's own checks on odd streams.
_ERRORS: tuple[type[Exception], ...] = (av.error.FFmpegError, OSError, ValueError)
_CODEC_NAMES = {
    "aac": "AAC",
    "aac_latm": "AAC",
    "mp3": "MP3",
    "mp3float": "MP3",
    "mp2": "MP2",
    "opus": "Opus",
    "vorbis": "Vorbis",
    "flac": "FLAC",
    "alac": "ALAC",
    "wmav1": "WMA",
    "wmav2": "WMA",
    "wmapro": "WMA Pro",
    "wmalossless": "WMA Lossless",
    "ac3": "AC-3",
    "eac3": "E-AC-3",
}
# Demuxers whose seek lands on a frame with an exact timestamp (sample tables, sample numbers).
_SEEK_TRUSTED = {"mov,mp4,m4a,3gp,3g2,mj2", "wav", "w64", "aiff", "caf", "flac"}
# Decoder warm-up before the wanted start; later tries reach further back (a seek near the end can
# land on the last packet, too late to find an anchor before the end).
_PREROLLS_S = (0.5, 3.0, 12.0)
_ANCHOR_RUN = 3  # frames whose timestamps must agree to trust the first of them
_MAX_UNANCHORED_S = 10.0  # give up seeking when no anchor appears within this much audio
_MAX_BAD_PACKETS = 1000  # stop a decode that fails this often before producing any audio
_BATCH_FRAMES = 65536  # samples gathered before handing a block on: fewer, larger conversions and resampler calls


def _codec_name(stream: AudioStream) -> str:
    codec = stream.codec_context.codec
    if codec.name.startswith("pcm_"):
        return "PCM"
    return _CODEC_NAMES.get(codec.name, codec.long_name or codec.name)


# FFmpeg's AVFrame.data holds this many plane pointers; more channels live only in extended_data.
_DATA_POINTERS = 8


def frame_array(frame: AudioFrame, name: str) -> NDArray[Any]:
    """``frame.to_ndarray()``, safe for planar frames with more than 8 channels.

    PyAV finds a frame's planes by walking ``extended_data`` to a NULL pointer, which only exists
    for 8 channels or fewer; with more it reads past the array and the process dies (a valid
    12-channel Ogg Vorbis file did it, and a damaged M4A announcing 27 channels). Such frames are
    converted to packed samples, which have one plane, and handed back in the planar shape.
    """
    channels = frame.layout.nb_channels
    if not frame.format.is_planar or channels <= _DATA_POINTERS:
        return frame.to_ndarray()
    try:
        packer = av.AudioResampler(format=frame.format.packed.name, layout=frame.layout, rate=frame.sample_rate)
        packed = [f.to_ndarray() for f in [*packer.resample(frame), *packer.resample(None)]]
    except _ERRORS as exc:
        raise DecodeError(f"Cannot decode '{name}': FFmpeg cannot convert its {channels} channels.") from exc
    if not packed:
        return np.zeros((channels, 0), dtype=np.float32)
    return np.ascontiguousarray(np.concatenate(packed, axis=-1).reshape(-1, channels).T)


def _frame_channels(frame: AudioFrame, name: str) -> NDArray[np.float32]:
    """Samples as float32 ``(channels, n)`` scaled to [-1, 1) like libsndfile does."""
    return _scale_channels(frame_array(frame, name), frame.format.is_planar, frame.layout.nb_channels)


def _scale_channels(arr: NDArray[Any], planar: bool, channels: int) -> NDArray[np.float32]:
    """``to_ndarray`` output (one frame's, or several joined on the last axis) as float32 (channels, n)."""
    if not planar:
        arr = arr.reshape(-1, channels).T
    if arr.dtype == np.uint8:
        return (arr.astype(np.float32) - 128.0) / 128.0
    if np.issubdtype(arr.dtype, np.signedinteger):
        return (arr.astype(np.float64) / float(2 ** (8 * arr.dtype.itemsize - 1))).astype(np.float32)
    return arr.astype(np.float32, copy=False)


def _reference_decoder(stream: AudioStream) -> AudioCodecContext | None:
    """libopus for Opus, when this FFmpeg has it; None for FFmpeg's own decoder.

    FFmpeg's own Opus decoder differs from libopus (the reference, which libsndfile and so
    librosa use) by up to 0.06 near the start; libopus through FFmpeg, asked for float output,
    gives libsndfile's samples to within float rounding, about 3 times faster.
    """
    own = stream.codec_context  # None when FFmpeg has no decoder for the stream's codec
    if own is None or own.codec.name != "opus" or "libopus" not in av.codecs_available:
        return None
    try:
        ctx = av.CodecContext.create("libopus", "r")
        assert isinstance(ctx, AudioCodecContext)
        ctx.extradata = own.extradata
        ctx.sample_rate = own.sample_rate
        ctx.layout = own.layout
        ctx.options = {"request_sample_fmt": "flt"}
        ctx.open()
    except _ERRORS as exc:
        log.debug("libopus cannot decode this stream (%s); using FFmpeg's Opus decoder", exc)
        return None
    return ctx


def _open_container(path: Path) -> tuple[InputContainer, AudioStream]:
    try:
        container = av.open(str(path), mode="r", metadata_errors="replace")
    except _ERRORS as exc:
        raise damaged_error(path) from exc
    if not container.streams.audio:
        container.close()
        raise DecodeError(f"Cannot decode '{display_name(path)}': it contains no audio.")
    best = container.streams.best("audio")
    return container, best if isinstance(best, AudioStream) else container.streams.audio[0]


def _take_all(fifo: av.AudioFifo) -> AudioFrame:
    frame = fifo.read()
    assert frame is not None, "read only when the FIFO holds samples"
    return frame


class AvReader:
    """An input opened read-only by FFmpeg; see ``NativeReader`` for the contract."""

    def __init__(self, path: Path, container: InputContainer, stream: AudioStream) -> None:
        self._path = path
        self._container = container
        self._stream = stream
        self._codec = _reference_decoder(stream)
        self._replaced = 0
        self._bad_packets = 0
        self._frames = self._decode()
        # The first frame gives the true rate (HE-AAC headers can state the core rate) and the
        # timestamp that position 0 of the decoded timeline stands for.
        first = next(self._frames, None)
        time_base = None if first is None else first.time_base or stream.time_base
        if first is None or time_base is None:
            self._frames.close()
            raise damaged_error(path)
        self._first: AudioFrame | None = first
        self._origin_pts = first.pts
        self._time_base: Fraction = time_base
        sr = int(first.sample_rate)
        duration_s = 0.0
        if stream.duration is not None and stream.time_base is not None:
            duration_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            duration_s = container.duration / av.time_base
        self._info = AudioInfo(
            path=path,
            format=_codec_name(stream),
            sample_rate=sr,
            channels=int(first.layout.nb_channels),
            duration_s=duration_s,
            frames=None,
            seekable=False,
        )
        self._seek_trusted = container.format.name in _SEEK_TRUSTED and self._origin_pts is not None

    @classmethod
    def open(cls, path: Path) -> AvReader:
        container, stream = _open_container(path)
        try:
            return cls(path, container, stream)
        except BaseException:
            container.close()
            raise

    @property
    def info(self) -> AudioInfo:
        return self._info

    def _decode(self) -> Generator[AudioFrame, None, None]:
        """Frames from the current position, skipping packets the decoder rejects (as ffmpeg does)."""
        produced = False
        try:
            for packet in self._container.demux(self._stream):
                try:
                    frames = packet.decode() if self._codec is None else self._codec.decode(packet)
                except (av.error.FFmpegError, ValueError) as exc:
                    self._bad_packets += 1
                    log.debug("skipping a damaged packet in %s: %s", self._path, exc)
                    if not produced and self._bad_packets >= _MAX_BAD_PACKETS:
                        return
                    continue
                for frame in frames:
                    if isinstance(frame, AudioFrame) and frame.samples > 0:
                        produced = True
                        yield frame
        except _ERRORS as exc:
            if not produced:
                raise damaged_error(self._path) from exc
            report(log, f"'{display_name(self._path)}' is damaged; using the part that decodes ({exc}).")

    def _mono(self, frame: AudioFrame, name: str | None = None) -> Samples:
        mono, replaced = to_mono(_frame_channels(frame, name or display_name(self._path)), channel_axis=0)
        self._replaced += replaced
        return mono

    def _native(self, frame: AudioFrame, name: str) -> NativeBlock:
        """``(frames, channels)``: a transposed view of FFmpeg's planar layout, not a copy."""
        clean, replaced = sanitize(_frame_channels(frame, name))
        self._replaced += replaced
        return clean.T

    def blocks(self) -> Iterator[Samples]:
        return (downmix(block, channel_axis=1) for block in self.native_blocks())

    def native_blocks(self) -> Iterator[NativeBlock]:
        if self._first is None:
            raise RuntimeError("AvReader.native_blocks() can be called once, before any read_range().")
        first, self._first = self._first, None
        name = display_name(self._path)
        # Codec frames are small (1,024 samples for Vorbis) and converting each to an array costs
        # more than decoding it, so they are gathered in FFmpeg's audio FIFO (a copy in C, no
        # timestamps checked) and converted a batch at a time.
        # The loop below runs for every codec frame (15,000 for five minutes of Vorbis), so it reads as
        # few attributes as it can: the FIFO needs the same sample format and channel count for all
        # it holds (a layout of the same count under another name changes nothing in the samples).
        rate, channels, fmt = self._info.sample_rate, first.layout.nb_channels, first.format.name
        fifo = av.AudioFifo()
        first.pts = None
        fifo.write(first)
        produced = 0
        skipped = 0
        for frame in self._frames:
            if frame.sample_rate != rate or frame.layout.nb_channels != channels:
                skipped += 1  # a rate or layout switch mid-stream would warp the timeline; drop those frames
                continue
            if frame.format.name != fmt:
                if fifo.samples:
                    produced += fifo.samples
                    yield self._native(_take_all(fifo), name)
                fifo, fmt = av.AudioFifo(), frame.format.name
            frame.pts = None
            fifo.write(frame)
            if fifo.samples >= _BATCH_FRAMES:
                produced += fifo.samples
                yield self._native(_take_all(fifo), name)
        if fifo.samples:
            produced += fifo.samples
            yield self._native(_take_all(fifo), name)
        if skipped:
            report(log, f"'{name}' changes sample rate mid-file; {skipped} frames were dropped.")
        got, stated = produced / self._info.sample_rate, self._info.duration_s
        if got < stated - max(1.0, 0.02 * stated):
            report(log, f"'{name}' ended after {got:.1f} s of the {stated:.1f} s it states; it may be truncated.")

    def read_range(self, start: int, stop: int) -> Samples:
        if not self._seek_trusted:
            raise SeekFailed(f"{self._container.format.name} timestamps are not sample-accurate")
        self._first = None  # the stream position moves: blocks() is no longer valid
        for preroll_s in _PREROLLS_S:
            preroll = round(preroll_s * self._info.sample_rate)
            if start <= preroll:
                return self._read_from_start(start, stop)
            segment = self._read_range_once(start, stop, preroll)
            if segment is not None:
                return segment
        raise SeekFailed("the seek landed after the wanted start")

    def _read_from_start(self, start: int, stop: int) -> Samples:
        """Decode from a fresh open: seeking to 0 skips the encoder-delay packet the decoder needs
        for warm-up (AAC in MP4), so the first frames would differ from a whole-file decode."""
        self._frames.close()
        self._container.close()
        self._container, self._stream = _open_container(self._path)
        self._codec = _reference_decoder(self._stream)
        self._frames = self._decode()
        chunks: list[Samples] = []
        decoded = 0
        try:
            for frame in self._frames:
                if frame.sample_rate != self._info.sample_rate:
                    raise SeekFailed("the sample rate changes mid-file")
                chunks.append(self._mono(frame))
                decoded += len(chunks[-1])
                if decoded >= stop:
                    break
        except DecodeError as exc:
            raise SeekFailed(str(exc)) from exc
        joined = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32)
        return joined[start:stop]

    def _position(self, frame: AudioFrame) -> Fraction | None:
        if frame.pts is None or self._origin_pts is None:
            return None
        tb = frame.time_base or self._time_base
        return (frame.pts - self._origin_pts) * tb * self._info.sample_rate

    def _read_range_once(self, start: int, stop: int, preroll: int) -> Samples | None:
        """The segment, or None when the seek landed too late to cover ``start`` after warm-up."""
        sr = self._info.sample_rate
        target = max(0, start - preroll)
        assert self._origin_pts is not None
        offset = self._origin_pts + int(Fraction(target, sr) / self._time_base)
        try:
            self._container.seek(offset, backward=True, any_frame=False, stream=self._stream)
            if self._codec is not None:  # the container's seek flushes only its own streams' decoders
                self._codec.flush_buffers()
        except _ERRORS as exc:
            raise SeekFailed(str(exc)) from exc
        positions: list[Fraction | None] = []
        chunks: list[Samples] = []
        decoded = 0
        first_pos: int | None = None
        frames = self._decode()
        try:
            for frame in frames:
                if frame.sample_rate != sr:
                    raise SeekFailed("the sample rate changes mid-file")
                positions.append(self._position(frame))
                chunks.append(self._mono(frame))
                decoded += len(chunks[-1])
                if first_pos is None:
                    first_pos = self._anchor(positions, chunks)
                    if first_pos is None:
                        if decoded > stop - start + preroll + _MAX_UNANCHORED_S * sr:
                            raise SeekFailed("frame timestamps do not agree with their lengths")
                        continue
                    if first_pos > 0 and first_pos > start - min(preroll, start) // 2:
                        return None  # landed late: not enough warm-up before the start
                if first_pos + decoded >= stop:
                    break
        except DecodeError as exc:
            raise SeekFailed(str(exc)) from exc
        finally:
            frames.close()
        if first_pos is None:
            return None  # the end came before an anchor: try again from further back
        joined = np.concatenate(chunks)
        lo = max(start - first_pos, 0)
        return joined[lo : max(stop - first_pos, lo)]

    @staticmethod
    def _anchor(positions: list[Fraction | None], chunks: list[Samples]) -> int | None:
        """Position of the first decoded frame, once the last frames agree on a timestamp."""
        if len(positions) < _ANCHOR_RUN:
            return None
        run = positions[-_ANCHOR_RUN:]
        lengths = [len(c) for c in chunks[-_ANCHOR_RUN:]]
        if any(p is None for p in run):
            return None
        exact = [p for p in run if p is not None]
        if any(abs(p - round(p)) > Fraction(1, 100) for p in exact):
            return None
        if any(abs(exact[i] + lengths[i] - exact[i + 1]) > Fraction(1, 2) for i in range(_ANCHOR_RUN - 1)):
            return None
        before = sum(len(c) for c in chunks[: len(chunks) - _ANCHOR_RUN])
        return round(exact[0]) - before

    def close(self) -> None:
        report_replaced(self._path, self._replaced)
        self._replaced = 0
        if self._bad_packets:
            report(log, f"'{display_name(self._path)}' has {self._bad_packets} damaged packets that were skipped.")
            self._bad_packets = 0
        self._frames.close()
        self._container.close()
