"""Training features of audio tracks, computed once and kept on disk.

Decoding a catalogue is the slow part of training, and every recipe (statistics, windows, the
middle 60 s) needs the same few arrays, so one pass per file computes them all with the analysis
engine's code (``hitdesk.dsp``, window placement of ``hitdesk.analysis`` in full mode) and stores
them as an ``.npz`` keyed by the file's content, the feature constants and the window length. A
damaged or half-written entry is recomputed, never trusted; nothing is pickled.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.analysis import track_mel
from hitdesk.cache import content_hash
from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES, N_STATS
from hitdesk.dsp.mel import power_to_db
from hitdesk.dsp.stats import stats_from_mel
from hitdesk.dsp.windows import frame_range, plan_windows
from hitdesk.errors import HitdeskError
from hitdesk.results import SEGMENT_NAMES
from hitdesk.training.manifest import Track

log = logging.getLogger(__name__)

# Bump when what is stored (or how it is computed) changes: old entries then stop matching.
CACHE_VERSION = 1
# Yang et al. (2017) take the middle 60 s of each song.
MIDDLE_SECONDS = 60.0


@dataclass(frozen=True)
class TrackFeatures:
    stats: np.ndarray  # (42,) float64, STAT_COLUMNS order, whole track, same code as analysis
    windows: dict[str, np.ndarray]  # "beginning","middle","end" -> (128, frames) float32 log-mel dB, 0 at own max
    window_stats: dict[str, np.ndarray]  # per-window (42,) stats, as analysis scores segments
    middle60: np.ndarray  # (128, frames) float32 log-mel dB of the middle 60 s (whole audible part if shorter)
    duration_s: float


def default_root() -> Path:
    from hitdesk.paths import training_cache_dir

    return training_cache_dir()


def compute_features(path: Path, window_seconds: float = DEFAULT_WINDOW_SECONDS) -> TrackFeatures:
    """One full decode of ``path`` by analysis's own full-mode code (``hitdesk.analysis.track_mel``)."""
    track = track_mel(path)
    mel, duration, start, end = track.mel, track.duration_s, track.start_s, track.end_s
    plan = plan_windows(start, end, window_seconds)
    n = mel.shape[1]
    windows: dict[str, np.ndarray] = {}
    window_stats: dict[str, np.ndarray] = {}
    for w in plan.windows:
        if plan.single and w.name != plan.windows[0].name:  # one window covers the track: computed once
            windows[w.name], window_stats[w.name] = windows[plan.windows[0].name], window_stats[plan.windows[0].name]
            continue
        wmel = mel[:, frame_range(w.start_s, w.end_s, n)]
        windows[w.name] = power_to_db(wmel)
        window_stats[w.name] = stats_from_mel(wmel, duration).astype(np.float64)
    middle = plan_windows(start, end, MIDDLE_SECONDS).windows[1]
    middle60 = power_to_db(mel[:, frame_range(middle.start_s, middle.end_s, n)])
    stats = stats_from_mel(mel, duration).astype(np.float64)
    return TrackFeatures(stats, windows, window_stats, middle60, duration)


def _to_arrays(f: TrackFeatures) -> dict[str, Any]:
    arrays: dict[str, Any] = {"stats": f.stats, "middle60": f.middle60, "duration_s": np.array(f.duration_s)}
    for name in SEGMENT_NAMES:
        arrays[f"window_{name}"] = f.windows[name]
        arrays[f"wstats_{name}"] = f.window_stats[name]
    return arrays


def _from_npz(path: Path) -> TrackFeatures:
    # The file is opened here so that it is closed even when numpy rejects a truncated archive.
    with path.open("rb") as fh, np.load(fh, allow_pickle=False) as z:
        stats = np.asarray(z["stats"], dtype=np.float64)
        windows = {n: np.asarray(z[f"window_{n}"], dtype=np.float32) for n in SEGMENT_NAMES}
        wstats = {n: np.asarray(z[f"wstats_{n}"], dtype=np.float64) for n in SEGMENT_NAMES}
        middle60 = np.asarray(z["middle60"], dtype=np.float32)
        duration = float(z["duration_s"])
    shapes_ok = (
        stats.shape == (N_STATS,)
        and all(w.ndim == 2 and w.shape[0] == FEATURES.n_mels and w.shape[1] > 0 for w in windows.values())
        and all(s.shape == (N_STATS,) for s in wstats.values())
        and middle60.ndim == 2
        and middle60.shape[0] == FEATURES.n_mels
    )
    if not shapes_ok:
        raise ValueError("unexpected array shapes")
    return TrackFeatures(stats, windows, wstats, middle60, duration)


# (features, error sentence, seconds spent on audio, cache hit)
_Outcome = tuple[TrackFeatures | None, str | None, float, bool]


class FeatureCache:
    """Features of many tracks, from the disk cache where possible, computed (in parallel) otherwise."""

    def __init__(
        self, root: Path | None = None, window_seconds: float = DEFAULT_WINDOW_SECONDS, progress: bool | None = None
    ) -> None:
        self.root = Path(root) if root is not None else default_root()
        self.window_seconds = float(window_seconds)
        self.progress = progress  # None: a bar only when stderr is a terminal
        self.audio_seconds = 0.0  # seconds spent decoding and computing features in the last features() call
        self.hits = 0
        self.misses = 0
        config = {
            "version": CACHE_VERSION,
            "features": FEATURES.to_dict(),
            "window_seconds": self.window_seconds,
            "middle_seconds": MIDDLE_SECONDS,
        }
        self._config_digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()

    def key(self, path: Path) -> str | None:
        digest = content_hash(path)
        if digest is None:
            return None
        return hashlib.sha256(f"{self._config_digest}\0{digest}".encode()).hexdigest()

    def entry(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.npz"

    def _load(self, key: str) -> TrackFeatures | None:
        entry = self.entry(key)
        if not entry.is_file():
            return None
        try:
            return _from_npz(entry)
        except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as exc:
            log.warning("recomputing damaged feature cache entry %s (%s)", entry, exc)
            return None

    def _store(self, key: str, feats: TrackFeatures) -> None:
        target = self.entry(key)
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                np.savez(fh, **_to_arrays(feats))
            os.replace(tmp, target)  # readers see the whole entry or none of it
        except OSError as exc:
            log.warning("cannot write the feature cache %s: %s", target, exc)

    def _one(self, track: Track) -> _Outcome:
        """(features, error sentence, seconds spent on audio, cache hit)."""
        path = track.path
        key = self.key(path)
        if key is not None:
            cached = self._load(key)
            if cached is not None:
                return cached, None, 0.0, True
        t0 = time.perf_counter()
        try:
            feats = compute_features(path, self.window_seconds)
        except HitdeskError as exc:
            text = str(exc)
            return None, text if f"'{path.name}'" in text else f"'{path.name}': {text}", time.perf_counter() - t0, False
        except MemoryError:
            return None, f"'{path.name}': not enough memory to compute its features.", time.perf_counter() - t0, False
        except Exception as exc:  # a decoder failure on odd input must not stop a catalogue
            log.exception("features of %s failed", path)
            message = f"'{path.name}': unexpected {type(exc).__name__} ({exc})."
            return None, message, time.perf_counter() - t0, False
        seconds = time.perf_counter() - t0
        if key is not None:
            self._store(key, feats)
        return feats, None, seconds, False

    def fill(self, path: Path) -> tuple[bool, str | None]:
        """Makes sure the cache holds ``path``'s features (``hitdesk-train features`` on an engine):
        (they were there already, error sentence or None)."""
        _, error, _, hit = self._one(Track(path, None, None, None))
        return hit, error

    def features(self, tracks: Sequence[Track], jobs: int = 1) -> tuple[list[TrackFeatures | None], list[str]]:
        """Features per track (None where it failed) and one sentence per failed track.

        ``jobs`` > 1 uses a thread pool: decoding and the FFTs release the GIL.
        """
        from tqdm import tqdm

        self.audio_seconds, self.hits, self.misses = 0.0, 0, 0
        results: list[TrackFeatures | None] = [None] * len(tracks)
        errors: list[str] = []
        disable = None if self.progress is None else not self.progress
        with tqdm(total=len(tracks), desc="features", unit="track", file=sys.stderr, disable=disable) as bar:
            if jobs <= 1:
                outcomes = (self._one(t) for t in tracks)
                self._collect(outcomes, results, errors, bar)
            else:
                with ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="hitdesk-features") as pool:
                    self._collect(pool.map(self._one, tracks), results, errors, bar)
        log.info(
            "features of %d tracks: %d from the cache, %d computed in %.1f s, %d failed",
            len(tracks),
            self.hits,
            self.misses,
            self.audio_seconds,
            len(errors),
        )
        return results, errors

    def _collect(
        self,
        outcomes: Iterable[_Outcome],
        results: list[TrackFeatures | None],
        errors: list[str],
        bar: Any,
    ) -> None:
        for i, (feats, error, seconds, hit) in enumerate(outcomes):
            results[i] = feats
            self.audio_seconds += seconds
            self.hits += int(hit)
            self.misses += int(not hit)
            if error is not None:
                errors.append(error)
            bar.update(1)
