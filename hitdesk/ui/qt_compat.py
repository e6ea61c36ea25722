"""A guard against a reference-counting bug in PySide6 6.12.0.

In 6.12.0 every call of a ``void`` Qt method from Python (``widget.update()``, ``setText()``,
``processEvents()``…) drops one reference to ``None`` that it never took, and every
``Signal.emit()`` does the same to ``True``. On Python 3.11 these objects are reference counted like
any other, so after some tens of thousands of calls the interpreter frees ``None`` and aborts
("Fatal Python error: none_dealloc"). 6.11.3 and earlier do not do this.

The fix is a PySide6 version without the bug (the project should exclude 6.12.0). Until then,
``protect_singletons`` keeps the app alive on an affected binding: ``None``, ``True`` and ``False``
are never freed anyway, so adding a very large number to their reference counts changes nothing
except that the stray decrements can no longer reach zero.
"""

from __future__ import annotations

import ctypes
import logging
import sys

log = logging.getLogger(__name__)

_PROBE_CALLS = 50
_checked = False
_HEADROOM = 1 << 40  # far more calls than any session makes


def binding_drops_references() -> bool:
    """True when calling a void Qt method from Python loses references to ``None`` (PySide6 6.12.0)."""
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(_PROBE_CALLS):
        probe.setObjectName("probe")
    lost = before - sys.getrefcount(None)
    return lost >= _PROBE_CALLS // 2


def protect_singletons() -> bool:
    """On an affected binding, gives ``None``/``True``/``False`` headroom (once); returns whether it did."""
    global _checked
    if _checked:
        return False
    _checked = True
    if sys.implementation.name != "cpython" or sys.version_info >= (3, 12):
        return False  # 3.12+ makes these objects immortal: nothing to do
    if not binding_drops_references():
        return False
    import PySide6

    for singleton in (None, True, False):
        # CPython 3.11: ob_refcnt is the first field of every object.
        ctypes.c_ssize_t.from_address(id(singleton)).value += _HEADROOM
    log.error(
        "PySide6 %s loses references to None/True on every call (a defect of 6.12.0); the app "
        "works around it, but please install another version: pip install 'PySide6-Essentials!=6.12.0'",
        PySide6.__version__,
    )
    return True
