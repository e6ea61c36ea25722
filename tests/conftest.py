"""Shared pytest fixtures."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pytest
import soundfile as sf
from badinput import encode

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from hitdesk.ui.main_window import MainWindow

REPO_ROOT = Path(__file__).resolve().parents[1]


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
    corpus = Path(os.environ.get("HITDESK_SHARED") or REPO_ROOT.parent / "shared") / "corpus"
    if not corpus.is_dir():
        pytest.skip("needs ../shared/corpus (not present in a fresh clone)")
    return corpus


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


@pytest.fixture
def needs_model() -> None:
    """Skips a test that runs the CLI with the default model when there is none."""
    from hitdesk.model.runtime import available_models, resolve_model_path

    if not resolve_model_path(None).with_suffix(".json").exists() and not available_models():
        pytest.skip("no model in models/ (it has to be trained first: make model)")


# --- the app: a real main window with the real model, its settings, cache and logs in tmp ---------
# (Qt is imported only by the tests that use these.)


@pytest.fixture
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> QSettings:
    from ui_helpers import isolate, require_model

    require_model()
    return isolate(tmp_path, monkeypatch)


@pytest.fixture
def window(qtbot: object, settings: QSettings) -> Iterator[MainWindow]:
    from ui_helpers import make_window

    yield from make_window(qtbot, settings, restore=False)  # type: ignore[misc]


# --- every app folder of every test lives in that test's temporary folder ----------------------------


@pytest.fixture(autouse=True)
def hitdesk_home(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``HITDESK_HOME`` for each test (and the processes it starts): cache, recordings, settings and
    logs never reach the real user's folders, and no test sees another's."""
    home = tmp_path_factory.mktemp("hitdesk-home")
    monkeypatch.setenv("HITDESK_HOME", str(home))
    return home


# --- the repository's release folders are never written by a test ------------------------------------

_RELEASE_FOLDERS = ("models", "reports")


def _release_listing() -> dict[str, tuple[int, int]]:
    out: dict[str, tuple[int, int]] = {}
    for name in _RELEASE_FOLDERS:
        for path in sorted((REPO_ROOT / name).rglob("*")):
            if path.is_file():
                stat = path.stat()
                out[str(path.relative_to(REPO_ROOT))] = (stat.st_size, stat.st_mtime_ns)
    return out


@pytest.fixture(scope="session", autouse=True)
def release_folders_untouched() -> Iterator[None]:
    """``models/`` holds only the models a release ships and ``reports/`` their reports: a test that
    fits or evaluates a model writes to its temporary folder, and this fails the run otherwise."""
    before = _release_listing()
    yield
    after = _release_listing()
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert not changed, f"tests wrote into the repository's release folders: {changed}"
