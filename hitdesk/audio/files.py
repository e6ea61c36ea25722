"""Turning command-line arguments (files and folders) into the list of files to analyse."""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

AUDIO_EXTENSIONS: frozenset[str] = frozenset(
    {
        "wav", "wave", "aif", "aiff", "aifc", "flac", "ogg", "oga", "opus", "mp3",
        "m4a", "mp4", "aac", "wma", "webm", "mka", "caf", "w64",
    }
)  # fmt: skip
"""Lower-case extensions, without the dot, that a folder is searched for."""


@dataclass(frozen=True)
class InputProblem:
    """An argument that yields no file to analyse, with the sentence to show for it."""

    path: Path
    message: str


def is_audio_name(path: Path) -> bool:
    return path.suffix[1:].lower() in AUDIO_EXTENSIONS


def expand_inputs(args: Sequence[str | Path]) -> list[Path | InputProblem]:
    """Files in argument order; a folder stands for the audio files inside it, recursively.

    A plain path passes through even when it does not exist, so the decoder reports it with the
    same message as any other unreadable file. Hidden files and folders (names starting with a dot,
    such as macOS ``._song.mp3`` resource forks) are skipped inside folders.
    """
    out: list[Path | InputProblem] = []
    for arg in args:
        path = Path(arg)
        if path.is_dir():
            out.extend(_expand_folder(path))
        else:
            out.append(path)
    return out


def _folder_name(path: Path) -> str:
    return path.name or path.resolve().name or str(path)


def _path_order(path: Path) -> tuple[list[str], str]:
    """Folder by folder, ignoring case, so 'b.wav' sorts after 'A.wav' as people expect."""
    return [part.casefold() for part in path.parts], str(path)


def _expand_folder(folder: Path) -> list[Path | InputProblem]:
    found: list[Path] = []
    errors: list[OSError] = []
    for root, dirs, files in os.walk(folder, onerror=errors.append):  # does not follow folder links
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        found.extend(Path(root, f) for f in files if not f.startswith(".") and is_audio_name(Path(f)))
    for error in errors:
        log.warning("Cannot read folder '%s': %s.", error.filename, error.strerror)
    if found:
        found.sort(key=_path_order)
        return list[Path | InputProblem](found)
    if any(os.fspath(e.filename or "") == os.fspath(folder) for e in errors):
        return [InputProblem(folder, f"Cannot read folder '{_folder_name(folder)}'.")]
    return [InputProblem(folder, f"No audio files found in folder '{_folder_name(folder)}'.")]
