"""``hitdesk-train features``: a manifest's training features into the feature cache, on an engine.

``fit`` then reads every track from the cache (``hitdesk.training.featcache``), so a catalogue is
decoded once, by as many workers as the engine has. On a cluster the cache folder (``--cache-dir``)
must be one that every node writes to (a shared file system).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitdesk.batch.progress import BatchProgress
from hitdesk.batch.run import engine_map, workers_for
from hitdesk.batch.work import FeatureFiller


@dataclass
class FeatureOutcome:
    tracks: int = 0
    cached: int = 0  # already in the cache
    computed: int = 0
    errors: tuple[str, ...] = ()


def fill_features(
    paths: Sequence[Path],
    root: Path,
    window_seconds: float,
    engine: str = "local",
    address: str | None = None,
    jobs: int | None = None,
    progress_stream: Any = None,
) -> FeatureOutcome:
    """Each file's features computed unless the cache has them; one error sentence per failed file."""
    unique = list(dict.fromkeys(str(p) for p in paths))
    run = engine_map(engine, address)
    kwargs = {"root": str(Path(root).resolve()), "window_seconds": float(window_seconds)}
    progress = BatchProgress(len(unique), 0, progress_stream, label="features")
    outcome = FeatureOutcome(tracks=len(unique))
    errors: list[str] = []
    interrupted = True
    try:
        for row in run(FeatureFiller, kwargs, [{"path": p} for p in unique], workers_for(jobs, engine, address)):
            if row["error"] is not None:
                errors.append(row["error"])
            elif row["cached"]:
                outcome.cached += 1
            else:
                outcome.computed += 1
            progress.update(row["error"] is not None)
        interrupted = False
    finally:
        outcome.errors = tuple(errors)
        progress.finish(str(root), interrupted)
    return outcome
