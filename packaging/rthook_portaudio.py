"""PyInstaller runtime hook: sounddevice loads the PortAudio library bundled with the app.

sounddevice asks ``ctypes.util.find_library("portaudio")`` for the library on Linux, which consults
the system's linker cache only: on a machine without libportaudio2 recording would fail although
the library sits in the bundle, and on one with it the system's copy would be used instead of the
one the bundle was tested with. This hook answers that one question with the bundled file and
leaves every other look-up to the original function. It runs before the app imports sounddevice.
"""

from __future__ import annotations

import ctypes.util
import glob
import os
import sys

_BUNDLED = {"portaudio": ("libportaudio.so.*", "libportaudio.so", "libportaudio*.dylib")}


def _install() -> None:
    base = getattr(sys, "_MEIPASS", None)
    if not base:
        return
    original = ctypes.util.find_library

    def find_library(name: str) -> str | None:
        for pattern in _BUNDLED.get(name, ()):
            matches = sorted(glob.glob(os.path.join(base, pattern)))
            if matches:
                return matches[0]
        return original(name)

    ctypes.util.find_library = find_library


_install()
