"""Shared pytest fixtures, and the sandbox the whole suite runs in.

Before anything else is imported, the suite gets a HOME and XDG folders of its own in a temporary
folder (fontconfig, numba, matplotlib, PulseAudio and Qt keep their caches and settings there), and
at the end ``nothing_written_outside`` checks that the real HOME's folders, the input folders and
the repository's release folders are as they were.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

REAL_HOME = Path(os.environ.get("HOME") or Path.home())
SANDBOX = Path(tempfile.mkdtemp(prefix="hitdesk-suite-"))
_SANDBOX_HOME = SANDBOX / "home"
for _var, _sub in (
    ("HOME", ""),
    ("XDG_CACHE_HOME", ".cache"),
    ("XDG_CONFIG_HOME", ".config"),
    ("XDG_DATA_HOME", ".local/share"),
    ("XDG_STATE_HOME", ".local/state"),
):
    (_SANDBOX_HOME / _sub).mkdir(parents=True, exist_ok=True)
    os.environ[_var] = str(_SANDBOX_HOME / _sub)
os.environ["NUMBA_CACHE_DIR"] = str(SANDBOX / "numba")
os.environ["MPLCONFIGDIR"] = str(SANDBOX / "matplotlib")
os.environ.setdefault("XDG_RUNTIME_DIR", str(SANDBOX / "runtime"))
(SANDBOX / "runtime").mkdir(mode=0o700, exist_ok=True)

import numpy as np  # noqa: E402  (the sandbox above is set before anything can read HOME)
import pytest  # noqa: E402
import soundfile as sf  # noqa: E402
from badinput import encode  # noqa: E402
from shared_folder import CORPUS, SHARED  # noqa: E402

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from hitdesk.model.runtime import HitModel
    from hitdesk.ui.main_window import MainWindow

REPO_ROOT = Path(__file__).resolve().parents[1]


# Every object of ``hitdesk analyze --json`` and of a capture's final line has exactly these keys (the
# result's, and what the user's platform presets make of it): pinned here, not read from the code.
RESULT_KEYS = frozenset(
    {
        "file",
        "duration_s",
        "tags",
        "segments",
        "overall",
        "model",
        "mode",
        "familiarity",
        "loudness",
        "stereo",
        "clipping",
        "problem_spots",
        "platforms",
        "curve",
        "explanation",
        "tonal_balance",
        "style",
        "notes",
        "error",
    }
)


# --- audio: small committed clips, and the larger shared corpus next to the repository -------------


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """tests/data: the licensed clips every checkout has (see tests/data/LICENSE.md)."""
    return REPO_ROOT / "tests" / "data"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus: full-length real tracks; tests using it skip in a fresh clone.

    ``HITDESK_SHARED`` names another shared folder (as ``make``'s ``SHARED`` does), for checkouts that
    do not sit beside it, such as a second git worktree.
    """
    if not CORPUS.is_dir():
        pytest.skip("needs ../shared/corpus (not present in a fresh clone)")
    return CORPUS


class AudioFactory:
    """Writes synthetic test audio into a temporary folder, in any format the tests need.

    Formats other than the committed clips are generated, so a fresh clone can test them: libsndfile
    writes WAV, AIFF, FLAC and Ogg; FFmpeg (PyAV) encodes MP3, Opus and AAC.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    @staticmethod
    def signal(sr: int, seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
        """Tones that move in pitch and level, plus a little noise, different in each channel.

        Shape ``(frames, channels)``, float32, peak below 0.6; rich enough that a misaligned excerpt
        or a wrong channel mix shows up in a correlation.
        """
        rng = np.random.default_rng(seed)
        t = np.arange(round(sr * seconds)) / sr
        out = np.empty((len(t), channels), dtype=np.float32)
        for ch in range(channels):
            f0 = 110.0 * (1 + ch * 0.25)
            sweep = np.sin(2 * np.pi * (f0 * t + 40.0 * t**2 / max(seconds, 1e-9)))
            chord = 0.5 * np.sin(2 * np.pi * 2.5 * f0 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 0.7 * t + ch))
            pulses = (np.sin(2 * np.pi * 2.0 * t) > 0.95) * np.sin(2 * np.pi * 1800.0 * t)
            noise = 0.02 * rng.standard_normal(len(t))
            out[:, ch] = 0.25 * sweep + 0.15 * chord + 0.1 * pulses + noise
        return out

    def sndfile(
        self,
        name: str,
        sr: int = 44100,
        seconds: float = 3.0,
        channels: int = 2,
        subtype: str | None = None,
        fmt: str | None = None,
    ) -> Path:
        path = self.folder / name
        sf.write(path, self.signal(sr, seconds, channels), sr, subtype=subtype, format=fmt)
        return path

    def encoded(
        self,
        name: str,
        codec: str,
        sr: int = 44100,
        seconds: float = 3.0,
        channels: int = 2,
        container: str | None = None,
        bit_rate: int = 128_000,
    ) -> Path:
        """Encode with FFmpeg through PyAV (mp3 -> libmp3lame, opus -> libopus, aac -> FFmpeg's AAC)."""
        path = self.folder / name
        data = self.signal(sr, seconds, channels)
        return encode(path, codec, data.astype(np.float32), sr, container, bit_rate)


@pytest.fixture
def audio_factory(tmp_path: Path) -> AudioFactory:
    return AudioFactory(tmp_path)


def _skip_without_model() -> None:
    from hitdesk.model.runtime import available_models, resolve_model_path

    if not resolve_model_path(None).with_suffix(".json").exists() and not available_models():
        pytest.skip("no model in models/ (it has to be trained first: make model)")


@pytest.fixture
def needs_model() -> None:
    """Skips a test that runs the CLI with the default model when there is none."""
    _skip_without_model()


@pytest.fixture(scope="session")
def model() -> HitModel:
    """The default model, loaded once for the whole run (an ONNX session is read-only once made);
    tests that need it skip when there is none."""
    from hitdesk.model.runtime import HitModel

    _skip_without_model()
    return HitModel.load()


# --- the app: a real main window with the real model, its settings, cache and logs in tmp ---------
# (Qt is imported only by the tests that use these.)


@pytest.fixture
def settings(app_folders: AppFolders) -> QSettings:
    """The app's settings file, in the test's own app folders; skips without a model."""
    from ui_helpers import isolate

    _skip_without_model()
    return isolate()


@pytest.fixture
def window(qtbot: object, settings: QSettings) -> Iterator[MainWindow]:
    from ui_helpers import make_window

    yield from make_window(qtbot, settings, restore=False)  # type: ignore[misc]


# --- every app folder of every test lives in that test's temporary folder ----------------------------


@dataclass(frozen=True)
class AppFolders:
    """The app's folders for one test, all under its own ``HITDESK_HOME``; each property asks
    ``hitdesk.paths``, so a test sees exactly the folder the code under test uses."""

    home: Path

    @property
    def cache(self) -> Path:
        from hitdesk import paths

        return paths.results_cache_dir()

    @property
    def data(self) -> Path:
        from hitdesk import paths

        return paths.data_dir()

    @property
    def recordings(self) -> Path:
        from hitdesk import paths

        return paths.recordings_dir()

    @property
    def settings(self) -> Path:
        from hitdesk import paths

        return paths.settings_dir()

    @property
    def log_file(self) -> Path:
        from hitdesk import paths

        return paths.log_file()


@pytest.fixture(autouse=True)
def app_folders(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> AppFolders:
    """``HITDESK_HOME`` for each test (and the processes it starts): cache, recordings, settings and
    logs never reach the real user's folders, and no test sees another's. The folder-specific
    overrides are cleared so that nothing from the calling shell leaks in."""
    home = tmp_path_factory.mktemp("hitdesk-home")
    monkeypatch.setenv("HITDESK_HOME", str(home))
    for var in ("HITDESK_CACHE_DIR", "HITDESK_DATA_DIR"):
        monkeypatch.delenv(var, raising=False)
    return AppFolders(home)


# --- nothing is written outside the suite's temporary folders --------------------------------------

# The real HOME's own folders where programs keep caches, settings and data, the inputs the tests
# read, and the repository's release folders (``models/`` holds only the models a release ships).
WATCHED = (
    REAL_HOME / ".cache",
    REAL_HOME / ".config",
    REAL_HOME / ".local" / "share",
    REAL_HOME / ".local" / "state",
    REAL_HOME / ".asoundrc",
    REAL_HOME / ".pulse",
    REAL_HOME / ".pulse-cookie",
    REPO_ROOT / "tests" / "data",
    REPO_ROOT / "models",
    REPO_ROOT / "reports",
    SHARED / "corpus",
    SHARED / "data",
)
_SKIP = {REAL_HOME / ".cache" / "pip"}  # the installer's, written before the suite starts


def listing(roots: tuple[Path, ...] = WATCHED) -> dict[str, tuple[int, int]]:
    """Every file and folder under ``roots`` with its size and modification time."""
    out: dict[str, tuple[int, int]] = {}
    for root in roots:
        pending = [root]
        while pending:
            path = pending.pop()
            if path in _SKIP:
                continue
            try:
                st = path.lstat()
            except OSError:
                continue
            out[str(path)] = (st.st_size, st.st_mtime_ns)
            if path.is_dir() and not path.is_symlink():
                try:
                    pending.extend(path.iterdir())
                except OSError:
                    continue
    return out


@pytest.fixture(scope="session", autouse=True)
def nothing_written_outside() -> Iterator[None]:
    """Fails the run when any test wrote outside its temporary folders: into the real user's cache,
    settings or data folders, the input folders, or ``models/`` and ``reports/``."""
    before = listing()
    yield
    after = listing()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"the suite wrote outside its temporary folders: {changed[:20]}"
