"""A track's log-mel at a bounded resolution, filled in while the engine computes it.

The engine hands over mel columns as it decodes (all of the track in full mode, the pieces it reads
in fast mode). A take keeps this picture after its analysis, under the windows the model scored, so
the whole track stays visible; pooling to at most ``MAX_COLUMNS`` columns (loudest wins) bounds its
memory at about 1 MB a take whatever the track's length. A stream of unknown length (or longer than
probed) is pooled coarser as it grows: never more than ``2 * MAX_COLUMNS`` columns (2 MB).
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from hitdesk.analysis import PROGRESS_FLOOR_DB, Progress
from hitdesk.config import FEATURES

MAX_COLUMNS = 2048
_HOP_S = FEATURES.hop_length / FEATURES.sample_rate
# Before the duration is known (a stream the prober could not size) room is made this many seconds at a time.
_GROW_S = 600.0


class TrackPicture:
    def __init__(self, duration_s: float) -> None:
        self.duration_s = max(0.0, float(duration_s))
        span = self.duration_s if self.duration_s > 0 else _GROW_S
        self.factor = max(1, math.ceil(span / _HOP_S / MAX_COLUMNS))
        self.column_s = self.factor * _HOP_S
        self.image: npt.NDArray[np.float32] = np.full(
            (FEATURES.n_mels, math.ceil(span / self.column_s) + 1), PROGRESS_FLOOR_DB, dtype=np.float32
        )
        self.done = 0.0
        self.head_s = 0.0  # the end of the latest piece added
        self.end_s = 0.0  # the end of everything added so far

    def add(self, progress: Progress) -> None:
        columns = np.asarray(progress.columns, dtype=np.float32)
        self.done = max(self.done, progress.done)
        k = columns.shape[1]
        if k == 0:
            return
        first = progress.start_s / _HOP_S
        while (first + k - 1) // self.factor >= 2 * MAX_COLUMNS:
            self._coarsen()
        index = ((first + np.arange(k)) // self.factor).astype(np.int64)
        index = np.clip(index, 0, None)
        if index[-1] >= self.image.shape[1]:
            more = max(int(index[-1]) + 1 - self.image.shape[1], math.ceil(_GROW_S / self.column_s))
            more = min(more, max(2 * MAX_COLUMNS, int(index[-1]) + 1) - self.image.shape[1])
            self.image = np.pad(self.image, ((0, 0), (0, more)), constant_values=PROGRESS_FLOOR_DB)
        cols, starts = np.unique(index, return_index=True)
        pooled = np.maximum.reduceat(columns, starts, axis=1)
        self.image[:, cols] = np.maximum(self.image[:, cols], pooled)
        self.head_s = progress.start_s + k * _HOP_S
        self.end_s = max(self.end_s, self.head_s)

    def _coarsen(self) -> None:
        """Half the resolution: each column becomes the louder of two (the frames they cover together)."""
        if self.image.shape[1] % 2:
            self.image = np.pad(self.image, ((0, 0), (0, 1)), constant_values=PROGRESS_FLOOR_DB)
        self.image = np.maximum(self.image[:, 0::2], self.image[:, 1::2])
        self.factor *= 2
        self.column_s = self.factor * _HOP_S

    @property
    def span_s(self) -> float:
        """The timeline the picture covers: the probed duration, or what has arrived if longer."""
        return max(self.duration_s, self.end_s)

    def visible(self) -> npt.NDArray[np.float32]:
        """The columns covering ``span_s``."""
        n = min(self.image.shape[1], max(1, math.ceil(self.span_s / self.column_s)))
        return self.image[:, :n]
