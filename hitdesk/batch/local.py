"""The local engine: the files in worker processes on this machine, with no Ray.

The processes are ``hitdesk analyze --jobs``'s own (``hitdesk.cli.pool``): Ctrl-C and SIGTERM stop
them at once, and the rows already finished are still written. Each worker builds the work object
(``hitdesk.batch.work``) once and hands back one row per file, in the files' order.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from hitdesk.cli.pool import run_parallel

_worker: Any = None


def _init(factory: Callable[..., Any], kwargs: dict[str, Any]) -> None:
    global _worker
    _worker = factory(**kwargs)


def _one(item: dict[str, Any]) -> dict[str, Any]:
    row: dict[str, Any] = _worker.row(item)
    return row


def local_map(
    factory: Callable[..., Any], kwargs: dict[str, Any], items: Sequence[dict[str, Any]], workers: int
) -> Iterator[dict[str, Any]]:
    """``factory(**kwargs).row(item)`` for each item, in ``workers`` processes (in this one for 1)."""
    if not items:
        return
    if workers <= 1 or len(items) == 1:
        _init(factory, kwargs)
        for item in items:
            yield _one(item)
        return
    yield from run_parallel(_one, items, min(workers, len(items)), _init, (factory, kwargs), _mp_context())


def _mp_context() -> Any:
    import multiprocessing

    # fork, as ``hitdesk analyze`` does: the parent has started no threads of its own when the pool starts
    # (the hashing threads have ended).
    return multiprocessing.get_context("fork" if sys.platform.startswith("linux") else "spawn")
