"""Running a block iterator on a thread of its own, so decoding overlaps with the DSP on the other core."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

from hitdesk.audio.problems import in_context

T = TypeVar("T")


def prefetched(blocks: Iterator[T], depth: int = 4) -> Iterator[T]:
    """Runs a block iterator in a thread, so decoding overlaps with the DSP on the other core.

    The decoder and numpy release the GIL for their heavy work. Stopping early closes the source.
    """
    q: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: tuple[str, object]) -> bool:
        while not stop.is_set():
            try:
                q.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for block in blocks:
                if not put(("block", block)):
                    return
            put(("end", None))
        except BaseException as exc:  # handed to the consumer, which re-raises it in its own thread
            put(("error", exc))
        finally:
            close = getattr(blocks, "close", None)
            if close is not None:
                close()

    worker = threading.Thread(target=in_context(produce), name="hitdesk-decode", daemon=True)
    worker.start()
    try:
        while True:
            kind, item = q.get()
            if kind == "block":
                yield item  # type: ignore[misc]
            elif kind == "error":
                raise item  # type: ignore[misc]
            else:
                return
    finally:
        stop.set()
        worker.join(timeout=5.0)
