"""Worker processes for ``hitdesk analyze --jobs N`` that stop when the command stops.

``ProcessPoolExecutor`` on its own finishes queued work on Ctrl-C (seconds per file) and leaves its
workers running, still writing the cache, when only the main process gets SIGTERM. Here an interrupt
cancels what is queued, sends each worker SIGTERM (which a worker turns into ``SystemExit``, so its
``finally`` blocks remove temporary files), and kills any that are still there after a grace period.
On Linux a worker also gets SIGTERM when the main process dies without a chance to clean up.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # imported where used: a command on one file never starts a pool (30-40 ms of imports)
    from concurrent.futures import Future, ProcessPoolExecutor

from hitdesk.settings_schema import machine_cores

log = logging.getLogger(__name__)

GRACE_SECONDS = 2.0
AHEAD = 4  # jobs queued per worker
_PR_SET_PDEATHSIG = 1


class Terminated(BaseException):
    """SIGTERM arrived; unwinds like KeyboardInterrupt so cleanup runs (exit status 143)."""


def raise_terminated(signum: int, frame: Any) -> None:
    raise Terminated


def available_cpus() -> int:
    """CPUs this process may run on (its affinity mask, not the machine's count)."""
    return machine_cores()


def _worker_signals(initializer: Callable[..., None], initargs: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole group: the parent decides
    signal.signal(signal.SIGTERM, _exit_on_term)
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
        except (OSError, AttributeError):
            pass
        if os.getppid() == 1:  # the parent died before prctl took effect
            raise SystemExit(143)
    initializer(*initargs)


def _exit_on_term(signum: int, frame: Any) -> None:
    """The first SIGTERM unwinds the worker; later ones are ignored. A SIGTERM to the whole process
    group reaches a worker twice (from the terminal or ``kill``, then from the parent stopping its
    pool): raised again while the unwinding closes a generator, it would interrupt that cleanup and
    Python would print "Exception ignored in: <generator ...>" on stderr. The parent kills a worker
    that is still there after ``GRACE_SECONDS``."""
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise SystemExit(143)


def _guarded(fn: Callable[[Any], Any], job: Any) -> Any:
    """Runs one job in a worker. SIGTERM unwinds it as SystemExit, so its ``finally`` blocks (a
    half-written cache entry's removal) run; the worker then ends at once: the executor would take
    the exception for the job's result and wait for more work."""
    try:
        return fn(job)
    except SystemExit as stop:
        os._exit(stop.code if isinstance(stop.code, int) else 143)


def run_parallel(
    fn: Callable[[Any], Any],
    jobs: Iterable[Any],
    workers: int,
    initializer: Callable[..., None],
    initargs: tuple[Any, ...],
    mp_context: Any,
) -> Iterator[Any]:
    """``fn(job)`` for each job in ``workers`` processes, yielded in job order."""
    from concurrent.futures import ProcessPoolExecutor

    pool = ProcessPoolExecutor(
        max_workers=workers, mp_context=mp_context, initializer=_worker_signals, initargs=(initializer, initargs)
    )
    finished = False
    try:
        # At most a few jobs per worker are queued ahead: a catalogue of a million files is not a
        # million futures, and an interrupt has little queued work to cancel.
        todo = iter(jobs)
        queued: deque[Future[Any]] = deque(pool.submit(_guarded, fn, job) for job in islice(todo, workers * AHEAD))
        while queued:
            result = queued.popleft().result()
            for job in islice(todo, 1):
                queued.append(pool.submit(_guarded, fn, job))
            yield result
        finished = True
    finally:
        if finished:
            pool.shutdown(wait=True)
        else:
            _stop(pool)


def _stop(pool: ProcessPoolExecutor) -> None:
    # The executor keeps its processes in a private mapping; there is no public way to end them.
    processes = list(getattr(pool, "_processes", {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        if proc.is_alive():
            proc.terminate()
    deadline = time.monotonic() + GRACE_SECONDS
    for proc in processes:
        proc.join(max(0.0, deadline - time.monotonic()))
        if proc.is_alive():
            log.info("worker %s did not stop; killing it", proc.pid)  # stopping was asked: not a warning
            proc.kill()
            proc.join(1.0)
