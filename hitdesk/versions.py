"""What this HitDesk is made of: its version, its default model's, and the libraries it runs on.

``hitdesk --version`` prints ``version_text()``, which must stay quick: it reads the default model's
card but imports neither Qt nor the decoders, and names Qt only when the app has already loaded it.
The About dialog lists ``component_versions()``, which imports each library to ask it its version
(PortAudio is initialised on the way, as recording would do). Both work in the frozen app, where
packages carry no installer metadata, by asking the modules themselves.
"""

from __future__ import annotations

import platform
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hitdesk import __version__
from hitdesk.errors import HitdeskError

LICENSES_FILE = "THIRD_PARTY_LICENSES"


def default_model_text() -> str:
    """``name version`` of the model the app and ``hitdesk analyze`` use by default, or why there is none."""
    from hitdesk.model.card import load_card
    from hitdesk.model.runtime import DEFAULT_MODEL_NAME
    from hitdesk.paths import models_dir

    path = models_dir() / f"{DEFAULT_MODEL_NAME}.json"
    try:
        card = load_card(path)
    except HitdeskError as exc:
        return f"{DEFAULT_MODEL_NAME} (not usable: {exc})"
    return f"{card.name} {card.version}"


def python_text() -> str:
    return f"{platform.python_version()} ({platform.python_implementation()}, {platform.system()} {platform.machine()})"


def qt_text() -> str | None:
    """Qt and PySide6 versions if the app has loaded Qt in this process; never imports it."""
    core = sys.modules.get("PySide6.QtCore")
    pyside = sys.modules.get("PySide6")
    if core is None:
        return None
    qt_version = str(core.qVersion())
    pyside_version = getattr(pyside, "__version__", None)
    return f"{qt_version} (PySide6 {pyside_version})" if pyside_version else qt_version


def version_text() -> str:
    lines = [
        f"hitdesk {__version__}",
        f"model {default_model_text()}",
        f"Python {python_text()}",
    ]
    qt = qt_text()
    if qt is not None:
        lines.append(f"Qt {qt}")
    return "\n".join(lines)


def _onnxruntime() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


def _numpy() -> str:
    import numpy

    return str(numpy.__version__)


def _pyav() -> str:
    import av

    return str(av.__version__)


def _ffmpeg() -> str:
    import av._core as core

    library_meta: dict[str, Any] = dict(core.library_meta)
    meta: dict[str, Any] = library_meta.get("libavcodec") or {}
    licence = meta.get("license")
    version = str(core.ffmpeg_version_info)
    return f"{version} ({licence})" if licence else version


def _libsndfile() -> str:
    import soundfile

    return str(soundfile.__libsndfile_version__)


def _portaudio() -> str:
    from hitdesk.capture.devices import sounddevice

    number, text = sounddevice().get_portaudio_version()
    return f"{int(number) >> 16}.{(int(number) >> 8) & 0xFF}.{int(number) & 0xFF} ({text})"


def _pyside6() -> str:
    import PySide6

    return str(PySide6.__version__)


def _qt() -> str:
    from PySide6 import QtCore

    return str(QtCore.qVersion())


def _pyqtgraph() -> str:
    import pyqtgraph

    return str(pyqtgraph.__version__)


def _scipy() -> str:
    import scipy

    return str(scipy.__version__)


_COMPONENTS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("Python", python_text),
    ("PySide6", _pyside6),
    ("Qt", _qt),
    ("pyqtgraph", _pyqtgraph),
    ("onnxruntime", _onnxruntime),
    ("NumPy", _numpy),
    ("SciPy", _scipy),
    ("PyAV", _pyav),
    ("FFmpeg", _ffmpeg),
    ("libsndfile", _libsndfile),
    ("PortAudio", _portaudio),
)


def component_versions() -> list[tuple[str, str]]:
    """(name, version) for HitDesk and each library; one that cannot be loaded says so instead."""
    out = [("HitDesk", __version__)]
    for name, probe in _COMPONENTS:
        try:
            out.append((name, probe()))
        except (ImportError, OSError, AttributeError, HitdeskError) as exc:
            out.append((name, f"not available ({exc})"))
    return out


def third_party_licenses_path() -> Path | None:
    """THIRD_PARTY_LICENSES beside the frozen app's files or at the top of the source tree."""
    frozen = getattr(sys, "_MEIPASS", None)
    base = Path(frozen) if frozen else Path(__file__).resolve().parents[1]
    path = base / LICENSES_FILE
    return path if path.is_file() else None
