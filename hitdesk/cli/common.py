"""Exit statuses, the error line and the output writer every ``hitdesk`` command uses."""

from __future__ import annotations

import contextlib
import errno
import os
import sys

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that went away


class OutputClosedError(Exception):
    """Standard output cannot take what the command prints; ``status`` is the exit status to end with."""

    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def error(message: str) -> None:
    """One sentence on stderr, after the program's name (never fails: stderr may be gone too)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(f"hitdesk: {message}", file=sys.stderr, flush=True)


def emit(text: str, utf8: bool = False) -> None:
    """Writes a command's whole output to stdout at once.

    JSON and CSV (``utf8``) go out as UTF-8 bytes whatever the locale, so other programs always read
    valid UTF-8; text for people goes through the terminal's encoding, replacing what it cannot show.
    A reader that went away (``| head``) ends the command quietly with 141; a closed stdout or a full
    disk with one sentence and 1. Raises ``OutputClosedError`` for the caller to return its status.
    """
    out = sys.stdout
    try:
        if out is None:
            raise OSError(errno.EBADF, "standard output is closed")
        if utf8:
            out.flush()
            out.buffer.write(text.encode("utf-8"))
        else:
            out.write(text.encode(out.encoding or "utf-8", "replace").decode(out.encoding or "utf-8"))
        out.flush()
    except BrokenPipeError:
        drop_stdout()
        raise OutputClosedError(EXIT_BROKEN_PIPE) from None
    except (OSError, ValueError) as exc:
        drop_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        error(f"cannot write the output: {reason}.")
        raise OutputClosedError(EXIT_FAILED) from None


def drop_stdout() -> None:
    """Points stdout at the null device, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
