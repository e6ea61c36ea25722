"""Giving memory that numpy has freed back to the system after a long decoding pass.

glibc keeps freed memory in its heaps for reuse. After the pass over an hour-long file, the blocks
that crossed from the decoding thread to the mel thread (the loudness meter's) leave enough freed
heap that the statistics computed next stack their arrays on top of it: 450-475 MB peak for a
60-minute file instead of about 370 MB. ``malloc_trim`` returns it. Elsewhere than on glibc this
does nothing.
"""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable

log = logging.getLogger(__name__)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc (musl has no malloc_trim)
        return None
    return trim


def release_free_memory() -> None:
    """Hands freed heap memory back to the system (glibc only; a few milliseconds)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
