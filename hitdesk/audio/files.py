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
        try:
            is_folder = path.is_dir()
        except OSError:  # e.g. inside a folder that cannot be entered: reported when it is read
            is_folder = False
        if is_folder:
            out.extend(_expand_folder(path))
        else:
            out.append(path)
    return out


def _folder_name(path: Path) -> str:
    return path.name or path.resolve().name or str(path)


def _path_order(path: Path) -> tuple[list[str], str]:
    """Folder by folder, ignoring case, so 'b.wav' sorts after 'A.wav' as people expect."""
    return [part.casefold() for part in path.parts], str(path)


def _walk(folder: Path) -> tuple[list[Path], list[OSError]]:
    """Audio files below ``folder`` and the folders that could not be read, without recursion.

    ``os.walk`` recurses once per level (Python 3.11), so a tree a thousand folders deep ended the
    whole run with a RecursionError; a stack of folders to visit has no such limit. Folder links are
    not followed, so a link loop cannot make the walk endless.
    """
    found: list[Path] = []
    errors: list[OSError] = []
    pending = [folder]
    while pending:
        current = pending.pop()
        try:
            with os.scandir(current) as entries:
                for entry in entries:
                    if entry.name.startswith("."):
                        continue
                    try:
                        if entry.is_dir(follow_symlinks=False):
                            pending.append(Path(entry.path))
                        elif is_audio_name(Path(entry.name)):
                            found.append(Path(entry.path))
                    except OSError as exc:
                        errors.append(exc)
        except OSError as exc:
            if exc.filename is None:
                exc.filename = os.fspath(current)
            errors.append(exc)
    return found, errors


def _expand_folder(folder: Path) -> list[Path | InputProblem]:
    found, errors = _walk(folder)
    found.sort(key=_path_order)
    out = list[Path | InputProblem](found)
    for error in errors:
        where = Path(os.fsdecode(error.filename)) if error.filename is not None else folder
        reason = error.strerror or "the system refused"
        out.append(InputProblem(where, f"Cannot read folder '{_folder_name(where)}': {reason}."))
    if not out:
        out.append(InputProblem(folder, f"No audio files found in folder '{_folder_name(folder)}'."))
    return out
