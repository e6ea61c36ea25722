"""A second core for decoding: the second half of a track, or some of its excerpts, on another thread.

libsndfile releases the GIL while it decodes (soundfile calls it through cffi), so two readers on
two threads decode about twice as fast as one; FFmpeg through PyAV holds the GIL and gains nothing
from a second thread. So while the usual reader decodes the first half, a libsndfile reader seeks to
the middle and decodes the second half. At the seam the usual reader decodes a little further and
the two must agree sample for sample (to float rounding when the usual reader is FFmpeg's); if they
do not, or the seek fails, the usual reader simply goes on through the second half itself. Either
way the samples are the ones a plain decode gives, so the result does not depend on the thread count.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hitdesk.audio.info import AudioInfo, NativeReader, Samples, SeekFailed
from hitdesk.audio.inputs import display_name
from hitdesk.audio.problems import in_context
from hitdesk.audio.sndfile_reader import SndfileReader
from hitdesk.errors import HitdeskError

log = logging.getLogger(__name__)

# Tracks shorter than this decode in well under a tenth of a second: not worth a second reader.
PARALLEL_MIN_S = 45.0
# The second half waits in memory (mono, native rate) until the first is through: 15 minutes at
# 48 kHz hold 86 MB. Longer files decode on one thread, with memory bounded by the block size.
PARALLEL_MAX_S = 15 * 60.0
# Frames the usual reader decodes past the seam to check the second reader against it.
SEAM_CHECK_FRAMES = 4096
# FFmpeg's and libsndfile's Vorbis decoders agree to float rounding; anything more is a bad seek.
SEAM_TOLERANCE = 1e-5
# libsndfile's MP3 reads depend on how they are cut (see decode.py); after a seek its Opus decoder
# ends the file with slightly different samples (the last ~20 ms, by up to 2e-4).
_NOT_SPLIT = frozenset({"MP3", "Opus"})

_POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="hitdesk-decode-part")


@dataclass
class TailRead:
    """The second half of a track being decoded on another thread, from native frame ``start``."""

    start: int
    samples: Future[Samples]


def start_tail(path: Path, info: AudioInfo) -> TailRead | None:
    """Starts decoding the second half on another thread, when that is possible and worth it."""
    if not PARALLEL_MIN_S <= info.duration_s <= PARALLEL_MAX_S:
        return None
    reader = SndfileReader.open(path)
    if reader is None:
        return None
    tail = reader.info
    if (
        tail.format in _NOT_SPLIT
        or not tail.seekable
        or tail.frames is None
        or tail.sample_rate != info.sample_rate
        or tail.channels != info.channels
    ):
        reader.close()
        return None
    frames = tail.frames
    start = frames // 2

    def read() -> Samples:
        with closing(reader):
            # Up to the end of the file, however long libsndfile finds it to be.
            return reader.read_range(start, start + 2 * frames)

    return TailRead(start, _POOL.submit(in_context(read)))


def with_tail(blocks: Iterator[Samples], tail: TailRead, path: Path) -> Iterator[Samples]:
    """The usual reader's blocks up to the seam, then the second half read on the other thread."""
    produced = 0
    for block in blocks:
        end = produced + len(block)
        if end <= tail.start:
            produced = end
            yield block
            continue
        yield block[: tail.start - produced]
        overlap = [block[tail.start - produced :]]
        produced = end
        yield from _after_seam(blocks, overlap, tail, path)
        return
    _drop(tail)


def _after_seam(blocks: Iterator[Samples], overlap: list[Samples], tail: TailRead, path: Path) -> Iterator[Samples]:
    held = sum(len(b) for b in overlap)
    while held < SEAM_CHECK_FRAMES:
        block = next(blocks, None)
        if block is None:
            break
        overlap.append(block)
        held += len(block)
    check = np.concatenate(overlap) if overlap else np.zeros(0, dtype=np.float32)
    try:
        second = tail.samples.result()
    except (SeekFailed, HitdeskError, OSError, RuntimeError) as exc:
        log.debug("second-half read of %s failed (%s); decoding on one thread", display_name(path), exc)
        second = None
    n = min(len(check), SEAM_CHECK_FRAMES)
    if (
        second is not None
        and len(second) >= n
        and n > 0
        and np.allclose(second[:n], check[:n], rtol=0.0, atol=SEAM_TOLERANCE)
    ):
        yield second
        return
    if second is not None:
        log.info("the two readers of %s disagree at the seam; decoding on one thread", display_name(path))
    yield check
    yield from blocks


def _drop(tail: TailRead) -> None:
    """The usual reader ended before the seam (the header overstated the length): forget the tail."""
    tail.samples.cancel()


def read_ranges_parallel(
    reader: NativeReader,
    open_reader: Callable[[], NativeReader],
    ranges: Sequence[tuple[int, int]],
    read: Callable[[NativeReader, int, int], Samples],
    threads: int,
) -> list[Samples]:
    """``read(reader, start, stop)`` for each range, spread over ``reader`` and ``threads - 1`` more.

    Raises SeekFailed if any read does, as one reader would; the caller then decodes through.
    """
    order = sorted(range(len(ranges)), key=lambda k: ranges[k][0])
    groups = [order[i::threads] for i in range(threads)]

    def run_on(own: NativeReader, group: list[int]) -> dict[int, Samples]:
        return {k: read(own, *ranges[k]) for k in group}

    def run(group: list[int]) -> dict[int, Samples]:
        with closing(open_reader()) as own:
            return run_on(own, group)

    futures = [_POOL.submit(in_context(run), g) for g in groups[1:] if g]
    found = run_on(reader, groups[0])
    for future in futures:
        found.update(future.result())
    return [found[k] for k in range(len(ranges))]
