"""Where the beginning, middle and end windows of a track sit.

Windows are placed on the non-silent part of the track: the beginning starts at the first
non-silent frame, the end finishes at the last one, the middle is centred between them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.config import DIGITAL_SILENCE_DBFS, FEATURES, MIN_TRACK_SECONDS, SILENCE_REL_DB, FeatureConfig
from hitdesk.results import SEGMENT_NAMES


@dataclass(frozen=True)
class Window:
    name: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class WindowPlan:
    windows: tuple[Window, Window, Window]
    content_start_s: float
    content_end_s: float
    overlapping: bool
    single: bool  # the track is shorter than one window: one window covers it, reported three times

    def notes(self, window_s: float) -> list[str]:
        if self.single:
            return [
                f"The track's audible part ({self.content_end_s - self.content_start_s:.1f} s) is shorter than one "
                f"{window_s:g} s window: the whole track is scored once and reported for all three segments."
            ]
        if self.overlapping:
            return [
                f"The track's audible part ({self.content_end_s - self.content_start_s:.1f} s) is shorter than three "
                f"{window_s:g} s windows: the beginning, middle and end windows overlap."
            ]
        return []


def silent_frames(
    frame_rms: npt.ArrayLike, peak: float | None = None, rel_db: float = SILENCE_REL_DB
) -> npt.NDArray[np.bool_]:
    """Frames more than ``rel_db`` below ``peak`` (by default the loudest of these frames)."""
    rms = np.asarray(frame_rms, dtype=np.float64)
    if rms.size == 0:
        return np.zeros(0, dtype=bool)
    peak = float(rms.max()) if peak is None else peak
    if peak <= 0.0:
        return np.ones(rms.size, dtype=bool)
    silent: npt.NDArray[np.bool_] = rms < peak * 10.0 ** (rel_db / 20.0)
    return silent


def is_digital_silence(frame_rms: npt.ArrayLike) -> bool:
    rms = np.asarray(frame_rms, dtype=np.float64)
    return rms.size == 0 or float(rms.max()) < 10.0 ** (DIGITAL_SILENCE_DBFS / 20.0)


def content_extent(
    frame_rms: npt.ArrayLike, n_samples: int, peak: float | None = None, cfg: FeatureConfig = FEATURES
) -> tuple[float, float]:
    """Start and end seconds of the non-silent part, from per-frame RMS of centred frames.

    ``peak`` is the track's loudest frame when these frames are only part of it.
    """
    silent = silent_frames(frame_rms, peak)
    loud = np.flatnonzero(~silent)
    duration = n_samples / cfg.sample_rate
    if loud.size == 0:
        return 0.0, duration
    start = max(0.0, (loud[0] * cfg.hop_length - cfg.n_fft // 4) / cfg.sample_rate)
    end = min(duration, (loud[-1] * cfg.hop_length + cfg.n_fft // 4) / cfg.sample_rate)
    return start, end


def plan_windows(content_start_s: float, content_end_s: float, window_s: float) -> WindowPlan:
    if window_s <= 0:
        raise ValueError("window length must be positive")
    length = content_end_s - content_start_s
    if length < MIN_TRACK_SECONDS:
        raise ValueError("content shorter than the minimum track length")
    if length <= window_s:
        whole = (content_start_s, content_end_s)
        wins = tuple(Window(name, *whole) for name in SEGMENT_NAMES)
        return WindowPlan(wins, content_start_s, content_end_s, overlapping=True, single=True)  # type: ignore[arg-type]
    mid = 0.5 * (content_start_s + content_end_s)
    wins = (
        Window("beginning", content_start_s, content_start_s + window_s),
        Window("middle", mid - 0.5 * window_s, mid + 0.5 * window_s),
        Window("end", content_end_s - window_s, content_end_s),
    )
    return WindowPlan(wins, content_start_s, content_end_s, overlapping=length < 3 * window_s, single=False)


def frame_range(start_s: float, end_s: float, n_frames: int, cfg: FeatureConfig = FEATURES) -> slice:
    """The frames whose centres fall in [start_s, end_s)."""
    a = int(np.ceil(start_s * cfg.sample_rate / cfg.hop_length - 1e-9))
    b = int(np.ceil(end_s * cfg.sample_rate / cfg.hop_length - 1e-9))
    a = min(max(a, 0), n_frames)
    b = min(max(b, a + 1), n_frames)
    return slice(a, b)
