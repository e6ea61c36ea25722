"""A preallocated single-producer, single-consumer ring of audio frames.

The producer is PortAudio's callback thread, which must not block, log or allocate buffers: it
copies each block into the ring and returns. The consumer is the capture writer thread. Frame
counters only grow; the producer publishes its counter after the copy and the consumer after its
read, so each side only ever reads the region the other has finished with. Under CPython each
counter update is one attribute store, which is atomic, so no lock is needed (a lock could make
the audio thread wait on the writer).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatFrames = npt.NDArray[np.float32]


class RingBuffer:
    """``capacity`` frames of ``channels`` float32 samples.

    When the ring is full, the newest frames of a block are dropped (the unread ones are kept, so
    what reaches the file is a prefix of the input with a gap, never a shuffled mix) and counted in
    ``dropped_frames``.
    """

    def __init__(self, capacity: int, channels: int) -> None:
        if capacity < 1 or channels < 1:
            raise ValueError("a ring needs at least one frame and one channel")
        self._buf: FloatFrames = np.zeros((capacity, channels), dtype=np.float32)
        self._capacity = capacity
        self._written = 0  # frames ever written; advanced by the producer only
        self._read = 0  # frames ever read; advanced by the consumer only
        self.dropped_frames = 0  # producer only

    @property
    def capacity(self) -> int:
        return self._capacity

    @property
    def channels(self) -> int:
        return int(self._buf.shape[1])

    @property
    def frames_written(self) -> int:
        """Frames accepted so far (dropped frames not included)."""
        return self._written

    def available(self) -> int:
        """Frames waiting to be read."""
        return self._written - self._read

    def write(self, block: FloatFrames) -> int:
        """Producer: copies ``block`` (frames x channels) in; returns how many frames were kept.

        Only slicing and in-place copies: safe in an audio callback.
        """
        n = int(block.shape[0])
        free = self._capacity - (self._written - self._read)
        if n > free:
            self.dropped_frames += n - free
            n = free
        if n <= 0:
            return 0
        start = self._written % self._capacity
        first = min(n, self._capacity - start)
        self._buf[start : start + first] = block[:first]
        if n > first:
            self._buf[: n - first] = block[first:n]
        self._written += n
        return n

    def read_into(self, out: FloatFrames) -> int:
        """Consumer: copies up to ``len(out)`` waiting frames into ``out``; returns how many."""
        n = min(int(out.shape[0]), self._written - self._read)
        if n <= 0:
            return 0
        start = self._read % self._capacity
        first = min(n, self._capacity - start)
        out[:first] = self._buf[start : start + first]
        if n > first:
            out[first:n] = self._buf[: n - first]
        self._read += n
        return n
