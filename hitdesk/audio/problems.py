"""Problems met while decoding a file, kept for the result's notes as well as logged.

A truncated or partly damaged file still gets a result from the part that decodes; the listener
should read that beside the numbers, not only in a log. The decoders call ``report`` wherever they
log such a problem; ``collecting`` gathers what is reported in its context, including on the
threads the decoding starts (they run in a copy of the caller's context, see ``in_context``).
"""

from __future__ import annotations

import contextvars
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_found: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("hitdesk_decode_problems", default=None)


@contextmanager
def collecting() -> Iterator[list[str]]:
    """The sentences reported while the block runs, each once, in order."""
    found: list[str] = []
    token = _found.set(found)
    try:
        yield found
    finally:
        _found.reset(token)


def report(log: logging.Logger, message: str) -> None:
    """Logs one sentence about the file being decoded and keeps it for whoever is collecting."""
    log.warning("%s", message)
    found = _found.get()
    if found is not None and message not in found:
        found.append(message)


def in_context(fn: Callable[P, R]) -> Callable[P, R]:
    """``fn`` bound to a copy of the current context, for running on another thread."""
    ctx = contextvars.copy_context()

    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return ctx.run(fn, *args, **kwargs)

    return run
