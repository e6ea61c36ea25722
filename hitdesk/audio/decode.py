"""Decoding an audio file: native blocks, and mono float32 samples at the feature rate from them.

One pass through a file gives native blocks (all channels at the file's own rate, for meters that
need them: loudness) and, from those same blocks, the feature path: mixed to mono and resampled,
the signal ``librosa.load(path, sr=22050)`` would give. Both block by block, so an hour-long file
never sits in memory at its native rate; excerpts are read by seeking instead of decoding the
whole file.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from contextlib import closing
from pathlib import Path

import av
import numpy as np

from hitdesk.audio.av_reader import AvReader
from hitdesk.audio.info import TARGET_SR, AudioInfo, NativeBlock, NativeReader, Samples, SeekFailed
from hitdesk.audio.inputs import check_input, display_name
from hitdesk.audio.mono import downmix
from hitdesk.audio.parallel import read_ranges_parallel
from hitdesk.audio.resample import (
    CONTEXT_SECONDS,
    StreamResampler,
    grid_step,
    native_to_target_index,
    resample_segment,
    target_length,
)
from hitdesk.audio.sndfile_reader import SndfileReader
from hitdesk.errors import DecodeError

__all__ = [
    "AudioInfo",
    "NativeBlock",
    "NativeSink",
    "decode_all",
    "feature_blocks",
    "iter_blocks",
    "open_stream",
    "probe",
    "read_excerpts",
    "read_pieces",
]

log = logging.getLogger(__name__)


# libsndfile recognises these, but FFmpeg decodes them better: libsndfile 1.2's MP3 reader returns
# different samples depending on how a file is cut into reads (seen on a 32 kbit/s 22,050 Hz file,
# at read boundaries, with mpg123 reporting bit-reservoir errors), and its MP3 seeks are not always
# exact. FFmpeg matches libsndfile's one-shot decode to about 1e-6 and trims the encoder delay too.
_PREFER_FFMPEG = {"MP3"}


# Sample rates a recording can have. A header stating one outside them is damaged, and resampling
# from it would never end (800 MHz: a filter tens of thousands of taps long per output sample) or
# fill the memory (2 Hz: every sample becomes 11,025).
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1_000, 768_000


def _open_reader(path: Path) -> NativeReader:
    """libsndfile when it recognises the file (exact, seekable); FFmpeg for everything else."""
    reader = _open_native(path)
    rate = reader.info.sample_rate
    if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
        reader.close()
        raise DecodeError(
            f"Cannot decode '{display_name(path)}': it states a sample rate of {rate:,} Hz, so it is damaged."
        )
    return reader


def _open_native(path: Path) -> NativeReader:
    reader = SndfileReader.open(path)
    if reader is None:
        return AvReader.open(path)
    if reader.info.format in _PREFER_FFMPEG:
        try:
            ffmpeg_reader = AvReader.open(path)
        except DecodeError:
            return reader  # FFmpeg cannot read what libsndfile can: keep libsndfile
        reader.close()
        return ffmpeg_reader
    return reader


# Decoding straight through, FFmpeg is faster than libsndfile: its Vorbis decoder about 3 times
# (the same samples to within float rounding), and libopus through FFmpeg about 3 times too (the same
# decoder as libsndfile's, see av_reader._reference_decoder). libsndfile stays the reader for
# excerpts, where its seeking is what counts.
_STREAM_WITH_FFMPEG = {"Ogg Vorbis", "Opus"}


def _open_stream_reader(path: Path) -> NativeReader:
    """The fastest exact reader for decoding the whole file from the start."""
    reader = _open_reader(path)
    if reader.info.format == "Opus" and "libopus" not in av.codecs_available:
        return reader  # FFmpeg's own Opus decoder is not libopus: keep libsndfile
    if reader.info.format in _STREAM_WITH_FFMPEG:
        try:
            ffmpeg_reader = AvReader.open(path)
        except DecodeError:
            return reader
        reader.close()
        return ffmpeg_reader
    return reader


def open_stream(path: str | Path) -> NativeReader:
    """The file opened for one pass from the start: ``info`` and ``native_blocks()``; close it after.

    This is the block interface meters read (``(frames, channels)`` float32 at the native rate);
    ``feature_blocks`` turns the same blocks into the feature path.
    """
    return _open_stream_reader(check_input(path))


def probe(path: str | Path) -> AudioInfo:
    """Format, rate, channels and duration from the header, without decoding the file."""
    with closing(_open_reader(check_input(path))) as reader:
        return reader.info


NativeSink = Callable[[NativeBlock], None]
"""Receives every native block of a pass, in order, before the block is mixed down."""


def iter_blocks(
    path: str | Path,
    block_seconds: float = 8.0,
    native_sink: Callable[[AudioInfo], NativeSink | None] | None = None,
) -> Generator[Samples, None, None]:
    """Contiguous mono float32 blocks at 22,050 Hz; each ``block_seconds`` long except the last.

    ``native_sink``, when given, is called once with the opened stream's info (native rate and
    channels) and returns a function that is handed each native block of the same pass (or None
    for none): a loudness meter rides on the decoding the features need instead of decoding again.
    A missing or empty file raises here; a file that is not audio raises on the first ``next()``.
    The file is closed when the generator finishes, is closed, or is garbage collected.
    """
    if not block_seconds > 0:
        raise ValueError(f"block_seconds must be positive, not {block_seconds!r}")
    return _iter_blocks(check_input(path), max(1, round(block_seconds * TARGET_SR)), native_sink)


def _iter_blocks(
    path: Path, block_len: int, native_sink: Callable[[AudioInfo], NativeSink | None] | None
) -> Generator[Samples, None, None]:
    reader = _open_stream_reader(path)
    try:
        blocks = reader.native_blocks()
        sink = None if native_sink is None else native_sink(reader.info)
        if sink is not None:
            blocks = _tee(blocks, sink)
        yield from feature_blocks(blocks, reader.info.sample_rate, block_len)
    finally:
        reader.close()


def _tee(blocks: Iterable[NativeBlock], sink: NativeSink) -> Iterator[NativeBlock]:
    for block in blocks:
        sink(block)
        yield block


def feature_blocks(blocks: Iterable[NativeBlock], sample_rate: int, block_len: int) -> Iterator[Samples]:
    """Native blocks mixed to mono, resampled to 22,050 Hz and cut into blocks of ``block_len``."""
    return _rechunk(_resampled((downmix(b, channel_axis=1) for b in blocks), sample_rate), block_len)


def _resampled(blocks: Iterable[Samples], sample_rate: int) -> Iterator[Samples]:
    resampler = StreamResampler(sample_rate)
    for block in blocks:
        yield resampler.push(block)
    yield resampler.finish()


def _rechunk(blocks: Iterable[Samples], size: int) -> Iterator[Samples]:
    pending: list[Samples] = []
    held = 0
    for block in blocks:
        if len(block) == 0:
            continue
        pending.append(block)
        held += len(block)
        if held >= size:
            joined = np.concatenate(pending)
            cut = held - held % size
            yield from np.split(joined[:cut], cut // size)
            pending = [joined[cut:]] if cut < held else []
            held -= cut
    if held:
        yield np.concatenate(pending)


def decode_all(path: str | Path) -> Samples:
    """The whole file as one array: the concatenation of ``iter_blocks``."""
    blocks = list(iter_blocks(path))
    return np.concatenate(blocks) if blocks else np.zeros(0, dtype=np.float32)


def read_excerpts(path: str | Path, starts_s: Sequence[float], duration_s: float, threads: int = 1) -> list[Samples]:
    """For each start (seconds in the decoded timeline) ``duration_s`` of mono 22,050 Hz audio.

    Each excerpt equals the same slice of ``decode_all(path)``; those running past the end are
    shorter (empty when they start after it). Only the needed parts are read, by seeking; when the
    format cannot seek exactly, the file is decoded once and only the needed ranges are kept. With
    ``threads`` of 2 or more, excerpts are read by that many readers at once.
    """
    return read_pieces(path, [(s, duration_s) for s in starts_s], threads)


def read_pieces(path: str | Path, pieces: Sequence[tuple[float, float]], threads: int = 1) -> list[Samples]:
    """``read_excerpts`` for pieces of different lengths: (start, duration) in seconds each."""
    p = check_input(path)
    if any(not (d > 0 and math.isfinite(d)) for _, d in pieces):
        raise ValueError("every duration must be positive and finite")
    if any(not (s >= 0 and math.isfinite(s)) for s, _ in pieces):
        raise ValueError("every start must be a finite number of seconds, zero or more")
    ranges = [(round(s * TARGET_SR), round(s * TARGET_SR) + round(d * TARGET_SR)) for s, d in pieces]
    found: dict[int, Samples] = {}
    with closing(_open_reader(p)) as reader:
        parallel = threads > 1 and len(ranges) > 1 and isinstance(reader, SndfileReader)
        try:
            if parallel:
                excerpts = read_ranges_parallel(reader, lambda: _open_reader(p), ranges, _excerpt_by_seeking, threads)
                found = dict(enumerate(excerpts))
            else:
                for i in sorted(range(len(ranges)), key=lambda k: ranges[k][0]):
                    found[i] = _excerpt_by_seeking(reader, *ranges[i])
        except SeekFailed as exc:
            found = {}
            log.info("Cannot seek exactly in '%s' (%s); decoding it through once.", display_name(p), exc)
    missing = {i: ranges[i] for i in range(len(ranges)) if i not in found}
    if missing:
        found.update(_excerpts_by_decoding(p, missing))
    return [found[i] for i in range(len(ranges))]


def _excerpt_by_seeking(reader: NativeReader, start: int, stop: int) -> Samples:
    """Target samples ``[start, stop)``: a grid-aligned native segment with context, resampled."""
    sr = reader.info.sample_rate
    if sr == TARGET_SR:
        return reader.read_range(start, stop)
    margin = math.ceil(CONTEXT_SECONDS * sr)
    step = grid_step(sr)
    lo = max(0, (start * sr // TARGET_SR - margin) // step * step)
    hi = -(-stop * sr // TARGET_SR) + margin
    segment = reader.read_range(lo, hi)
    if len(segment) == 0:  # the file ends before the context does, so before the start too
        return np.zeros(0, dtype=np.float32)
    out = resample_segment(segment, sr)
    offset = native_to_target_index(lo, sr)
    end = stop
    if len(segment) < hi - lo:  # reached the end of the file: cut where the whole-file decode ends
        end = min(stop, target_length(lo + len(segment), sr))
        total = end - offset
        if len(out) < total:
            out = np.concatenate([out, np.zeros(total - len(out), dtype=np.float32)])
    return np.ascontiguousarray(out[start - offset : max(end - offset, start - offset)])


def _excerpts_by_decoding(path: Path, ranges: dict[int, tuple[int, int]]) -> dict[int, Samples]:
    """One pass through ``iter_blocks``, copying only the wanted ranges; stops after the last one."""
    buffers = {i: np.zeros(stop - start, dtype=np.float32) for i, (start, stop) in ranges.items()}
    last = max(stop for _, stop in ranges.values())
    pos = 0
    blocks = iter_blocks(path)
    try:
        for block in blocks:
            end = pos + len(block)
            for i, (start, stop) in ranges.items():
                lo, hi = max(start, pos), min(stop, end)
                if lo < hi:
                    buffers[i][lo - start : hi - start] = block[lo - pos : hi - pos]
            pos = end
            if pos >= last:
                break
    finally:
        blocks.close()
    return {i: buffers[i][: max(0, min(stop, pos) - start)] for i, (start, stop) in ranges.items()}
