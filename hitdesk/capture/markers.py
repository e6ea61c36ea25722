"""Markers of takes being recorded: a file per take in ``recordings/.unfinished/``, held locked by the
recording process for as long as it writes.

The lock (not a PID) tells a live recording from a dead one, and works for takes written outside the
folder (``hitdesk capture --out``). The marker holds the take's id and the file's inode, which is what
lets recovery prove that the file at a marked path is still that take: the user may have moved the
take away and saved something else under its name.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sys
from datetime import datetime
from pathlib import Path
from typing import IO

from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir

log = logging.getLogger(__name__)


_MARKERS = ".unfinished"


# ---------------------------------------------------------------------------------------------- markers


def _markers_dir() -> Path:
    return recordings_dir() / _MARKERS


def _try_lock(fh: IO[str]) -> bool:
    """An exclusive, non-blocking lock that the OS drops when the holder dies."""
    try:
        if sys.platform == "win32":
            import msvcrt

            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


MARKER_VERSION = 2  # 1 (no version field): path, pid and start time only


class TakeMarker:
    """Says "this file is being recorded" for as long as the recording process holds it.

    Made just after the file: it records the take's id and the file's device and inode, which
    recovery checks before it touches the file at that path again.
    """

    def __init__(self, audio_path: Path, take_id: str) -> None:
        folder = _markers_dir()
        folder.mkdir(parents=True, exist_ok=True)
        absolute = audio_path.resolve()
        digest = hashlib.sha1(str(absolute).encode(), usedforsecurity=False).hexdigest()[:10]
        self.path = folder / f"{audio_path.name}.{digest}.json"
        self._fh: IO[str] | None = self.path.open("a+", encoding="utf-8")
        if not _try_lock(self._fh):
            self._fh.close()
            raise CaptureError(f"'{audio_path}' is already being recorded by another program.")
        try:
            st: os.stat_result | None = os.stat(absolute)
        except OSError:
            st = None  # not created yet: recovery will never repair it
        info = {
            "version": MARKER_VERSION,
            "path": str(absolute),
            "take": take_id,
            "dev": None if st is None else st.st_dev,
            "ino": None if st is None else st.st_ino,
            "pid": os.getpid(),
            "started": datetime.now().isoformat(timespec="seconds"),
        }
        self._fh.seek(0)
        self._fh.truncate()
        self._fh.write(json.dumps(info))
        self._fh.flush()
        with contextlib.suppress(OSError):
            os.fsync(self._fh.fileno())  # the id must survive a power cut as well as a crash

    def release(self) -> None:
        """The take was finished properly: the marker goes."""
        if self._fh is None:
            return
        with contextlib.suppress(OSError):
            self.path.unlink()
        self._fh.close()
        self._fh = None


def takes_in_progress() -> tuple[set[Path], list[tuple[Path, IO[str]]]]:
    """Paths being recorded right now, and the abandoned markers (locked by us now, to be handled).

    The caller closes the abandoned markers' handles, which unlocks them.
    """
    busy: set[Path] = set()
    abandoned: list[tuple[Path, IO[str]]] = []
    folder = _markers_dir()
    if not folder.is_dir():
        return busy, abandoned
    for marker in sorted(folder.glob("*.json")):
        try:
            fh = marker.open("r+", encoding="utf-8")
        except OSError:
            continue
        if not _try_lock(fh):
            with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
                busy.add(Path(json.loads(fh.read())["path"]))
            fh.close()
            continue
        abandoned.append((marker, fh))
    return busy, abandoned
