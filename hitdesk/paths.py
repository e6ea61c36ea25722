"""Every folder HitDesk reads or writes besides the user's own files, decided in one place.

``HITDESK_HOME``, when set, holds all of them (``cache/``, ``data/`` with ``recordings/`` and
``tonal-targets/``, ``config/``, ``logs/``, ``tmp/``): a portable install, a second profile, and the
test suite, which sets it for every test so that no run touches the real user's folders. Without it,
each folder is the platform's own (platformdirs: ~/.cache/hitdesk, ~/.local/share/hitdesk, ... on
Linux). The older single-folder overrides (``HITDESK_CACHE_DIR``, ``HITDESK_DATA_DIR``,
``HITDESK_MODELS_DIR``) still win where set.

Models are not a user folder: the ones a release ships sit in the source tree's ``models/`` or in
the frozen app's bundle, and are only read.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP_NAME = "hitdesk"
HOME_ENV = "HITDESK_HOME"


def home() -> Path | None:
    """The one folder everything lives under, when ``HITDESK_HOME`` is set."""
    env = os.environ.get(HOME_ENV)
    return Path(env) if env else None


def _platformdirs() -> object:
    import platformdirs  # deferred: costs start-up time in commands that never need a folder

    return platformdirs


def _folder(override_env: str | None, under_home: str, platform_kind: str) -> Path:
    if override_env:
        env = os.environ.get(override_env)
        if env:
            return Path(env)
    root = home()
    if root is not None:
        return root / under_home
    pd = _platformdirs()
    return Path(getattr(pd, platform_kind)(APP_NAME, appauthor=False))


def cache_root() -> Path:
    """Caches that can be thrown away at any time (results, training features)."""
    return _folder(None, "cache", "user_cache_dir")


def results_cache_dir() -> Path:
    """One JSON file per analysed file; ``HITDESK_CACHE_DIR`` names this folder itself."""
    env = os.environ.get("HITDESK_CACHE_DIR")
    return Path(env) if env else cache_root() / "results"


def training_cache_dir() -> Path:
    env = os.environ.get("HITDESK_CACHE_DIR")
    return Path(env) / "training-features" if env else cache_root() / "training-features"


def data_dir() -> Path:
    """The user's own data that HitDesk made: recordings."""
    return _folder("HITDESK_DATA_DIR", "data", "user_data_dir")


def recordings_dir() -> Path:
    return data_dir() / "recordings"


def tonal_targets_dir() -> Path:
    """The user's own tonal targets, one JSON file each (see hitdesk.explain.targets)."""
    return data_dir() / "tonal-targets"


def settings_dir() -> Path:
    """Where the app keeps its settings file (Qt's INI format)."""
    return _folder(None, "config", "user_config_dir")


def platforms_file() -> Path:
    """The user's streaming platform presets (TOML, see hitdesk.platforms); absent until they write one."""
    return settings_dir() / "platforms.toml"


def qc_profiles_dir() -> Path:
    """The user's own QC profiles, one TOML file each (see hitdesk.qc)."""
    return settings_dir() / "qc"


def log_dir() -> Path:
    return _folder(None, "logs", "user_log_dir")


def log_file() -> Path:
    return log_dir() / "hitdesk.log"


def temp_dir() -> Path | None:
    """Where temporary files go: under ``HITDESK_HOME`` when set, else the system's (None)."""
    root = home()
    if root is None:
        return None
    folder = root / "tmp"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def models_dir() -> Path:
    """The models a release ships: ``HITDESK_MODELS_DIR``, the frozen app's bundle, or the source tree."""
    env = os.environ.get("HITDESK_MODELS_DIR")
    if env:
        return Path(env)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "models"
    return Path(__file__).resolve().parents[1] / "models"
