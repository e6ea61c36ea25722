"""Checks on an input path made before any decoder touches it, so users get a plain sentence.

Decoders report a missing file, a folder or an empty file with library-specific messages (or, for a
FIFO, not at all: they block). Checking first keeps those cases out of libsndfile and FFmpeg.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from hitdesk.errors import DecodeError, InputNotFoundError


def display_name(path: Path) -> str:
    """The name users recognise in messages: the file name, or the whole path when it has none."""
    return path.name or str(path)


def damaged_error(path: Path) -> DecodeError:
    return DecodeError(f"Cannot decode '{display_name(path)}': the file is damaged or not audio.")


def check_input(path: str | Path) -> Path:
    """Return ``path`` as a Path when it names a readable, non-empty regular file; raise otherwise."""
    p = Path(path)
    name = display_name(p)
    try:
        st = p.stat()
    except (FileNotFoundError, NotADirectoryError):
        raise InputNotFoundError(f"File not found: '{name}'.") from None
    except PermissionError:
        raise DecodeError(f"Cannot read '{name}': permission denied.") from None
    except OSError as exc:
        raise DecodeError(f"Cannot read '{name}': {exc.strerror or 'the system refused'}.") from None
    if stat.S_ISDIR(st.st_mode):
        raise DecodeError(f"Cannot decode '{name}': it is a folder, not an audio file.")
    if not stat.S_ISREG(st.st_mode):
        raise DecodeError(f"Cannot decode '{name}': it is not a regular file.")
    if st.st_size == 0:
        raise DecodeError(f"Cannot decode '{name}': the file is empty.")
    if not os.access(p, os.R_OK):
        raise DecodeError(f"Cannot read '{name}': permission denied.")
    return p
