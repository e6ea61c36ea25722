"""A batch from start to end: plan, skip what the results hold, run an engine, write parts, report.

Whatever stops the run (the last file, Ctrl-C, SIGTERM, an engine's failure) the rows already
finished are written as a part before it returns or raises; only the files in flight are lost, and
the next run with the same RESULTS does them.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitdesk.analysis import AnalysisOptions
from hitdesk.batch.dataset import ResultsDataset
from hitdesk.batch.plan import Item, expand_sources, options_json, plan
from hitdesk.batch.progress import BatchProgress
from hitdesk.batch.work import BatchScorer, error_row
from hitdesk.config import window_seconds_for
from hitdesk.settings_schema import machine_cores

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class BatchRequest:
    sources: Sequence[str]
    out: Path
    engine: str = "local"
    address: str | None = None
    fast: bool = False
    jobs: int | None = None  # None: every CPU this process may use (the cluster's, with --address)
    retry_failed: bool = False
    model: str | None = None
    window_seconds: float | None = None


@dataclass
class BatchOutcome:
    total: int = 0  # files named by the sources
    skipped: int = 0
    done: int = 0
    failed: int = 0
    retried: int = 0  # failed rows dropped to be redone


def engine_map(
    engine: str, address: str | None
) -> Callable[[Callable[..., Any], dict[str, Any], Sequence[dict[str, Any]], int | None], Iterator[dict[str, Any]]]:
    """The engine's map function: (work class, its arguments, items, workers) -> rows as they finish."""
    if engine == "ray":
        from hitdesk.batch.ray_engine import check_available, ray_map

        check_available()
        return lambda factory, kwargs, items, workers: ray_map(factory, kwargs, items, workers, address)
    from hitdesk.batch.local import local_map

    return lambda factory, kwargs, items, workers: local_map(factory, kwargs, items, workers or machine_cores())


def workers_for(request_jobs: int | None, engine: str, address: str | None) -> int | None:
    if request_jobs is not None:
        return request_jobs
    return None if engine == "ray" and address is not None else machine_cores()


def _model_spec(spec: str | None) -> str | None:
    """A model given as a path is passed on as an absolute one (a Ray worker may start elsewhere)."""
    return os.path.abspath(spec) if spec is not None and os.path.exists(spec) else spec


def run_batch(request: BatchRequest, progress_stream: Any = None) -> BatchOutcome:
    """Raises HitdeskError (a bad model, RESULTS unusable, Ray missing) before any file is analysed."""
    from hitdesk.model import HitModel

    model_spec = _model_spec(request.model)
    model = HitModel.load(model_spec)
    window_s = window_seconds_for(request.window_seconds, model.card.window_seconds)
    options = options_json(AnalysisOptions(window_seconds=window_s, fast=request.fast))
    info = model.info.to_dict()
    items = plan(expand_sources(request.sources), info, options)
    run = engine_map(request.engine, request.address)
    workers = workers_for(request.jobs, request.engine, request.address)
    outcome = BatchOutcome(total=len(items))
    with ResultsDataset(request.out) as dataset:
        if request.retry_failed:
            outcome.retried = dataset.drop(dataset.failed() & {i.key for i in items})
        todo = [i for i in items if i.key not in dataset.keys]
        todo = list({i.key: i for i in todo}.values())  # one path named twice is one file
        outcome.skipped = len(items) - len(todo)
        progress = BatchProgress(len(todo), outcome.skipped, progress_stream)
        interrupted = True
        try:
            for item in (i for i in todo if i.problem is not None):
                _record(dataset, progress, error_row(item.path, item.key, None, options, info, item.problem or ""))
            work = [_job(i) for i in todo if i.problem is None]
            threads = max(1, min(2, machine_cores() // max(1, workers or 1)))
            kwargs = {"model_spec": model_spec, "options": options, "decode_threads": threads, "cwd": os.getcwd()}
            for row in run(BatchScorer, kwargs, work, workers):
                _record(dataset, progress, row)
            interrupted = False
        finally:
            outcome.done, outcome.failed = progress.done, progress.failed
            dataset.flush()
            progress.finish(str(request.out), interrupted)
    return outcome


def _job(item: Item) -> dict[str, Any]:
    return {"path": item.path, "content_hash": item.content_hash, "key": item.key}


def _record(dataset: ResultsDataset, progress: BatchProgress, row: dict[str, Any]) -> None:
    if dataset.add(row):
        progress.update(row["error"] is not None)
