"""One file's work, the same on every engine: a result row for ``hitdesk batch``, cache entries for
``hitdesk-train features``.

Each worker (a process of the local engine, an actor of Ray's pool) builds one of these classes once,
holding one ONNX session, and calls it per file. ``__call__`` takes and gives an Arrow table, the
batch format Ray Data hands to ``map_batches``; nothing here imports Ray.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa

from hitdesk.analysis import AnalysisOptions
from hitdesk.batch.schema import table, to_row
from hitdesk.results import TrackResult


def error_row(
    path: str, key: str, digest: str | None, options: str, model: dict[str, str], message: str
) -> dict[str, Any]:
    """The row of a file that was never analysed (a folder that cannot be read), as ``analyze`` shows it."""
    fast = json.loads(options).get("fast", False)
    result = TrackResult(file=path, mode="fast" if fast else "full", error=message).to_dict()
    result["model"] = dict(model)
    return to_row(result, key, digest, options)


class BatchScorer:
    """Analyses files into result rows with one loaded model (``hitdesk.explain.analyze_file``, as
    ``hitdesk analyze`` does: the same numbers)."""

    def __init__(self, model_spec: str | None, options: str, decode_threads: int = 1, cwd: str | None = None) -> None:
        from hitdesk.model import HitModel

        if cwd is not None and cwd != os.getcwd() and os.path.isdir(cwd):
            os.chdir(cwd)  # a Ray worker: relative paths are the driver's

        self.model = HitModel.load(model_spec)
        self.options = options
        self.analysis = AnalysisOptions(**json.loads(options), decode_threads=decode_threads)

    def row(self, item: dict[str, Any]) -> dict[str, Any]:
        from hitdesk.explain import analyze_file

        result = analyze_file(Path(item["path"]), self.model, self.analysis).to_dict()
        return to_row(result, item["key"], item["content_hash"], self.options)

    def __call__(self, batch: pa.Table) -> pa.Table:
        return table([self.row(item) for item in batch.to_pylist()])


FEATURE_SCHEMA = pa.schema(
    [("path", pa.string()), ("cached", pa.bool_()), ("error", pa.string()), ("seconds", pa.float64())]
)


class FeatureFiller:
    """Puts a track's training features into the feature cache (``hitdesk.training.featcache``)."""

    def __init__(self, root: str, window_seconds: float) -> None:
        from hitdesk.training.featcache import FeatureCache

        self.cache = FeatureCache(Path(root), window_seconds, progress=False)

    def row(self, item: dict[str, Any]) -> dict[str, Any]:
        t0 = time.perf_counter()
        cached, error = self.cache.fill(Path(item["path"]))
        return {"path": item["path"], "cached": cached, "error": error, "seconds": time.perf_counter() - t0}

    def __call__(self, batch: pa.Table) -> pa.Table:
        return pa.Table.from_pylist([self.row(item) for item in batch.to_pylist()], schema=FEATURE_SCHEMA)
