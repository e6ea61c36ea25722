"""A whole track's mel power frames: in memory up to a limit, in a temporary file beyond it.

The track's statistics need every frame (their dB reference is the loudest bin of the whole track,
known only at the end), so full mode keeps them all until the pass is over: 128 float32 a frame,
about 80 MB an hour. Kept in memory and then worked on as one array, a 4-hour track took over 1 GB.
Beyond ``SPILL_AFTER_S`` of frames this store writes them to an anonymous temporary file (removed
by the system however the process ends, a crash or a kill included) and hands them back a chunk at
a time, so memory stays flat for any length; a shorter track's frames stay one array in memory,
computed on as before. Plain reads (``preadv``), not a memory map: a map's pages count towards the
process's resident memory once read.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import BinaryIO

import numpy as np

from hitdesk.config import FEATURES, FeatureConfig
from hitdesk.dsp.mel import FloatArray
from hitdesk.errors import TemporaryFileError

# Up to 20 minutes of frames (26 MB) stay in memory; longer tracks spill to a temporary file.
SPILL_AFTER_S = 1200.0


def spill_frames(seconds: float = SPILL_AFTER_S, cfg: FeatureConfig = FEATURES) -> int:
    return int(seconds * cfg.sample_rate / cfg.hop_length)


class MelFrames:
    """Mel power frames appended in order (``n_mels x k`` arrays), read back whole or in chunks.

    ``limit_frames`` None never spills. ``folder`` is where the temporary file goes (None: the
    system's); ``name`` is the track's, for the sentence when that file cannot be written. Use as a
    context manager, or call ``close``, to give the file back at once. Reads are positional, so two
    threads may read at the same time (not while frames are appended).
    """

    def __init__(
        self,
        limit_frames: int | None = None,
        folder: Path | None = None,
        name: str = "the track",
        cfg: FeatureConfig = FEATURES,
    ) -> None:
        self.cfg = cfg
        self.name = name
        self.limit_frames = limit_frames
        self.folder = folder
        self._chunks: list[FloatArray] = []
        self._n = 0
        self._max = 0.0
        self._file: BinaryIO | None = None

    @classmethod
    def holding(cls, mel: FloatArray, cfg: FeatureConfig = FEATURES) -> MelFrames:
        """A store of frames already in memory (never spilled)."""
        frames = cls(cfg=cfg)
        frames.append(mel)
        return frames

    def __enter__(self) -> MelFrames:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        self._chunks = []
        if self._file is not None:
            self._file.close()
            self._file = None

    @property
    def n_frames(self) -> int:
        return self._n

    @property
    def spilled(self) -> bool:
        """True once the frames live in the temporary file."""
        return self._file is not None

    def max(self) -> float:
        """The largest mel power of all frames (0 for none)."""
        return self._max

    def append(self, mel: FloatArray) -> None:
        frames = np.asarray(mel, dtype=np.float32)
        if frames.ndim != 2 or frames.shape[0] != self.cfg.n_mels:
            raise ValueError(f"expected mel frames of shape ({self.cfg.n_mels}, k), got {frames.shape}")
        if frames.shape[1] == 0:
            return
        self._max = max(self._max, float(frames.max()))
        self._n += frames.shape[1]
        if self._file is None:
            self._chunks.append(frames)
            if self.limit_frames is not None and self._n > self.limit_frames:
                self._spill()
        else:
            self._write(frames)

    def _spill(self) -> None:
        try:
            # Open for the store's life (closed by close); unlinked at once, so nothing is left behind.
            self._file = tempfile.TemporaryFile(prefix="hitdesk-mel-", dir=self.folder)  # noqa: SIM115
        except OSError as exc:
            raise self._error(exc) from exc
        chunks, self._chunks = self._chunks, []
        for chunk in chunks:
            self._write(chunk)

    def _write(self, frames: FloatArray) -> None:
        assert self._file is not None
        try:
            # Frame-major on disk (each frame's bins together), so any range of frames is one read.
            self._file.write(np.ascontiguousarray(frames.T).data)
        except OSError as exc:
            self.close()
            raise self._error(exc) from exc

    def _error(self, exc: OSError) -> TemporaryFileError:
        folder = self.folder if self.folder is not None else Path(tempfile.gettempdir())
        return TemporaryFileError(
            f"Cannot analyse '{self.name}': a track this long needs a temporary file in {folder} "
            f"(about 80 MB an hour), which cannot be written ({exc.strerror or exc})."
        )

    def array(self) -> FloatArray:
        """All frames as one array (``n_mels x n_frames``); for frames held in memory."""
        if self._file is not None:
            return self.read(slice(0, self._n))
        if not self._chunks:
            return np.zeros((self.cfg.n_mels, 0), dtype=np.float32)
        if len(self._chunks) > 1:
            self._chunks = [np.concatenate(self._chunks, axis=1)]
        return self._chunks[0]

    def read(self, frames: slice) -> FloatArray:
        """A range of frames (``n_mels x k``): a view of those in memory, a new array of those in the file."""
        start, stop, _ = frames.indices(self._n)
        if self._file is None:
            return self.array()[:, start:stop]
        stop = max(start, stop)
        self._file.flush()
        n_mels = self.cfg.n_mels
        buf = np.empty((stop - start, n_mels), dtype=np.float32)
        view, offset, fd = buf.data.cast("B"), start * n_mels * 4, self._file.fileno()
        while view.nbytes:
            got = os.preadv(fd, [view], offset)
            if got <= 0:
                raise OSError(f"the temporary file of mel frames ended early ({offset} bytes)")
            view, offset = view[got:], offset + got
        return np.ascontiguousarray(buf.T)

    def chunks(self, size: int, overlap: int = 0) -> Iterator[tuple[int, FloatArray]]:
        """``(start, frames start .. start + size + overlap)`` for start = 0, size, 2 size, ..."""
        for start in range(0, self._n, size):
            yield start, self.read(slice(start, start + size + overlap))
