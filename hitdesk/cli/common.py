"""Exit statuses, the error line and the output writer every ``hitdesk`` command uses."""

from __future__ import annotations

import contextlib
import errno
import os
import sys

from hitdesk.present import terminal_text

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT
EXIT_TERMINATED = 143  # 128 + SIGTERM
EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a reader that went away


_failed: list[int] = []  # the exit statuses of writes to stdout that failed in this process


class OutputClosedError(Exception):
    """Standard output cannot take what the command prints; ``status`` is the exit status to end with.

    ``reason`` is why, as the end of a sentence ("No space left on device"); None for a reader that
    went away, which ends the command quietly.
    """

    def __init__(self, status: int, reason: str | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.reason = reason


def error(message: str) -> None:
    """One sentence on stderr, after the program's name (never fails: stderr may be gone too). The
    file names and tags it quotes are shown with their control characters escaped."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        print(f"hitdesk: {terminal_text(message)}", file=sys.stderr, flush=True)


def emit(text: str, utf8: bool = False, say: bool = True) -> None:
    """Writes a command's whole output to stdout at once.

    JSON and CSV (``utf8``) go out as UTF-8 bytes whatever the locale, so other programs always read
    valid UTF-8; text for people goes through the terminal's encoding, replacing what it cannot show.
    A reader that went away (``| head``) ends the command quietly with 141; a closed stdout or a full
    disk with one sentence and 1. Raises ``OutputClosedError`` for the caller to return its status;
    with ``say=False`` the caller says the sentence (``OutputClosedError.reason``), e.g. to add to it.
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
        _failed.append(EXIT_BROKEN_PIPE)
        drop_stdout()
        raise OutputClosedError(EXIT_BROKEN_PIPE) from None
    except (OSError, ValueError) as exc:
        _failed.append(EXIT_FAILED)
        drop_stdout()
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        if say:
            error(f"cannot write the output: {reason}.")
        raise OutputClosedError(EXIT_FAILED, reason) from None


def finish_output() -> None:
    """Flushes what a command printed; raises ``OutputClosedError`` (after its sentence) when it cannot.
    A closed stdout is only an error for a command that had something to print (through ``emit``), and
    an output that already failed has been reported."""
    if sys.stdout is not None and not _failed:
        emit("")


def reset_output() -> None:
    """A command starts with no failed output (``main`` may run several in one process, as tests do)."""
    _failed.clear()


def guard_standard_fds() -> None:
    """Opens the null device on a standard descriptor that was closed at start (``hitdesk ... >&-``).

    Python then has no ``sys.stdout`` (``emit`` says the output is closed), and the lowest free
    descriptor stays taken: whatever the command opens later (a recorded take, a connection to the
    sound server) could otherwise become descriptor 1 and be pointed at the null device by
    ``drop_stdout`` or receive what a library prints.
    """
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            try:
                opened = os.open(os.devnull, os.O_RDWR)
            except OSError:
                return
            if opened != fd:  # a lower one was free after all; this one is not needed
                os.close(opened)


def drop_stdout() -> None:
    """Points stdout at the null device, so the interpreter's own flush at exit cannot fail again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
    except OSError:
        pass
