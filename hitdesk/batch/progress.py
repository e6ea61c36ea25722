"""Progress of a batch on stderr: files done, failed and skipped, the rate and the time left.

On a terminal one line is redrawn in place; otherwise (a log, a pipe) a line is written at most every
``interval`` seconds, so a catalogue's log stays readable. The summary at the end is always written.
"""

from __future__ import annotations

import contextlib
import sys
import time
from typing import TextIO


def hms(seconds: float) -> str:
    """h:mm:ss, since a catalogue runs for hours."""
    s = max(0, int(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"


class BatchProgress:
    def __init__(
        self, total: int, skipped: int, stream: TextIO | None = None, interval: float = 5.0, label: str = "batch"
    ) -> None:
        self.label = label
        self.total = total  # files to do in this run (skipped ones not counted)
        self.skipped = skipped
        self.done = 0
        self.failed = 0
        self.stream = stream if stream is not None else sys.stderr
        self.interval = interval
        self.start = time.monotonic()
        self._last = -float("inf")
        self._tty = bool(self.stream is not None and getattr(self.stream, "isatty", lambda: False)())

    def update(self, failed: bool) -> None:
        self.done += 1
        self.failed += int(failed)
        now = time.monotonic()
        if self._tty or self.done == 1 or now - self._last >= self.interval or self.done == self.total:
            self._last = now
            self._write(self.line(), end="\r" if self._tty else "\n")

    def rate(self) -> float:
        """Files per minute so far."""
        elapsed = time.monotonic() - self.start
        return 60.0 * self.done / elapsed if elapsed > 0 else 0.0

    def line(self) -> str:
        rate = self.rate()
        left = self.total - self.done
        eta = hms(60.0 * left / rate) if rate > 0 else "?"
        return (
            f"{self.label}: {self.done}/{self.total} done, {self.failed} failed, {self.skipped} skipped, "
            f"{rate:.1f} files/min, ETA {eta}"
        )

    def summary(self, results: str, interrupted: bool = False) -> str:
        elapsed = time.monotonic() - self.start
        how = "stopped after" if interrupted else "finished in"
        text = (
            f"{self.label} {how} {hms(elapsed)}: {self.done - self.failed} done, {self.failed} failed, "
            f"{self.skipped} skipped (already there)"
        )
        if self.done:
            text += f", {self.rate():.1f} files/min"
        return f"{text}; written to {results}"

    def finish(self, results: str, interrupted: bool = False) -> None:
        if self._tty and self.done:
            self._write("", end="\n")
        self._write(self.summary(results, interrupted), end="\n")

    def _write(self, text: str, end: str) -> None:
        with contextlib.suppress(OSError, ValueError, AttributeError):
            self.stream.write(text + end)
            self.stream.flush()
