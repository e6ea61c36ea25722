"""Clipping: places where a channel sits at full scale for at least three samples in a row.

One sample at full scale is a peak normalised to 0 dBFS; three or more in a row are a flattened
waveform, which is what a clipped converter or an over-driven bounce leaves. Each such run counts
once, at the time it starts, whatever its length. Runs are looked for only in blocks whose largest
sample reaches full scale, so a block that does not costs two reductions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.spots import RunLog

# 32767/32768: a 16-bit file's largest positive sample reads as clipped too.
FULL_SCALE = 32767.0 / 32768.0
RUN = 3
MAX_TIMES = 100  # the first runs' start times kept for marking on a timeline


@dataclass(frozen=True)
class Clipping:
    """How many clipped runs a track has and when the first ``MAX_TIMES`` of them start (seconds)."""

    spots: int
    times_s: tuple[float, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        return {"spots": self.spots, "times_s": [round(t, 3) for t in self.times_s]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Clipping:
        return cls(int(d["spots"]), tuple(float(t) for t in d.get("times_s") or ()))


class ClipCounter:
    """Feed ``(frames, channels)`` float32 blocks in order; ``result()`` counts the runs."""

    def __init__(self, rate: int, channels: int) -> None:
        self.rate = rate
        # The last RUN samples of each channel (at full scale or not), before the next block.
        self._carry = np.zeros((RUN, channels), dtype=bool)
        self._fed = 0
        self._spots = 0
        self._times: list[float] = []
        self.spots: RunLog | None = None  # every run's start, merged into spans for a timeline

    def feed(self, block: npt.NDArray[np.float32]) -> None:
        n = block.shape[0]
        if n == 0:
            return
        if max(float(block.max()), -float(block.min())) < FULL_SCALE:
            self._carry[:] = False
            self._fed += n
            return
        full = np.abs(block) >= FULL_SCALE
        ext = np.concatenate([self._carry, full])  # row RUN is the block's first sample
        # A run starts at row k when k is at full scale for RUN rows and k - 1 is not.
        starts = ~ext[:-RUN] & ext[1 : n + 1] & ext[2 : n + 2] & ext[RUN : n + RUN]
        frames = np.flatnonzero(starts.any(axis=1))
        self._spots += int(starts.sum())
        if self.spots is not None and frames.size:
            self.spots.add(self._fed + frames.astype(np.int64) + 1 - RUN)
        room = MAX_TIMES - len(self._times)
        if room > 0 and frames.size:
            self._times.extend(float(self._fed + k + 1 - RUN) / self.rate for k in frames[:room])
        self._carry = ext[-RUN:].copy()
        self._fed += n

    def result(self) -> Clipping:
        return Clipping(self._spots, tuple(self._times))
