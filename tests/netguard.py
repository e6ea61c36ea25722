"""A socket guard: every Internet connection and name lookup fails and is written to a log.

Unix-domain sockets stay allowed (PulseAudio, D-Bus). ``install`` works in this process (the app's
tests); ``wrap`` gives a command line that installs it in a new interpreter before running
``python -m hitdesk``. The guard is Python-level; ``kernel_prefix`` adds what the machine offers
below it: a network namespace with no interfaces (``unshare -n``: the kernel refuses every
connection, C libraries included) and ``strace`` (every ``connect`` the process makes is logged,
so an attempt from C code is seen too).
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import socket
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

_ORIGINAL: dict[str, Any] = {}


def _refuse(log: Path, what: str, target: object) -> OSError:
    with open(log, "a", encoding="utf-8") as fh:
        fh.write(f"{what} {target!r}\n")
    return OSError(errno.ENETUNREACH, f"network access refused by the test guard ({what} {target!r})")


def install(log: Path) -> None:
    """Patches the socket module so that any non-Unix connection or lookup raises and is logged."""
    if _ORIGINAL:
        return
    log.touch()
    for name in ("connect", "connect_ex", "sendto"):
        _ORIGINAL[f"socket.{name}"] = getattr(socket.socket, name)
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "create_connection"):
        _ORIGINAL[name] = getattr(socket, name)

    def method(name: str) -> Callable[..., Any]:
        original = _ORIGINAL[f"socket.{name}"]

        def guarded(self: socket.socket, *args: Any) -> Any:
            if self.family == socket.AF_UNIX:
                return original(self, *args)
            raise _refuse(log, f"socket.{name}", args[-1] if args else None)

        return guarded

    def function(name: str) -> Callable[..., Any]:
        def guarded(*args: Any, **kwargs: Any) -> Any:
            raise _refuse(log, name, args[0] if args else kwargs)

        return guarded

    for name in ("connect", "connect_ex", "sendto"):
        setattr(socket.socket, name, method(name))
    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "create_connection"):
        setattr(socket, name, function(name))


def uninstall() -> None:
    for key, value in _ORIGINAL.items():
        if key.startswith("socket."):
            setattr(socket.socket, key.split(".", 1)[1], value)
        else:
            setattr(socket, key, value)
    _ORIGINAL.clear()


@contextmanager
def guarded(log: Path) -> Iterator[Path]:
    install(log)
    try:
        yield log
    finally:
        uninstall()


def wrap(log: Path, *hitdesk_args: str) -> list[str]:
    """``python -c`` that installs the guard, then runs ``python -m hitdesk ARGS`` in the same process."""
    code = (
        "import sys, runpy; "
        f"sys.path.insert(0, {str(HERE)!r}); "
        "import netguard; "
        f"netguard.install(netguard.Path({str(log)!r})); "
        "sys.argv = ['hitdesk', *sys.argv[1:]]; "
        "runpy.run_module('hitdesk', run_name='__main__', alter_sys=True)"
    )
    return [sys.executable, "-c", code, *hitdesk_args]


def _works(cmd: list[str]) -> bool:
    try:
        return subprocess.run(cmd, capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def kernel_prefix(strace_log: Path) -> list[str]:
    """``unshare -n`` and ``strace`` where they work here (either may be missing or not permitted)."""
    prefix: list[str] = []
    if shutil.which("unshare") and _works(["unshare", "-n", "true"]):
        prefix += ["unshare", "-n"]
    if shutil.which("strace") and _works(["strace", "-f", "-o", os.devnull, "true"]):
        prefix += ["strace", "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(strace_log)]
    return prefix


_INET = re.compile(r"sa_family=AF_INET6?\b")


def inet_attempts(strace_log: Path) -> list[str]:
    """System calls in an strace log that addressed an Internet socket."""
    if not strace_log.exists():
        return []
    return [line for line in strace_log.read_text(errors="replace").splitlines() if _INET.search(line)]
