"""The recordings library: naming new takes, listing, pruning and deleting the ones in the folder."""

from __future__ import annotations

import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from hitdesk.capture.markers import takes_in_progress
from hitdesk.capture.writers import RECORDING_SUFFIXES
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir

log = logging.getLogger(__name__)


_NAME_PREFIX = "take-"
_NAME_TIME = "%Y-%m-%d_%H-%M-%S"
_NAME_RE = re.compile(r"^take-(\d{4}-\d{2}-\d{2}_\d{2}-\d{2}-\d{2})")


def new_recording_path(fmt: str = "wav", folder: Path | None = None, now: datetime | None = None) -> Path:
    """A free name in the recordings folder, from the local date and time: ``take-2025-01-31_14-05-09.wav``."""
    if fmt not in RECORDING_SUFFIXES:
        raise ValueError(f"unknown recording format {fmt!r}")
    target = folder or recordings_dir()
    stamp = (now or datetime.now()).strftime(_NAME_TIME)
    ext = RECORDING_SUFFIXES[fmt]
    candidate = target / f"{_NAME_PREFIX}{stamp}{ext}"
    n = 2
    while candidate.exists():
        candidate = target / f"{_NAME_PREFIX}{stamp}-{n}{ext}"
        n += 1
    return candidate


# ---------------------------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class Recording:
    path: Path
    started: datetime  # from the file name, else its modification time
    size_bytes: int
    duration_s: float | None  # None when the header cannot be read (e.g. needs repair)
    sample_rate: int | None
    channels: int | None
    in_progress: bool  # being recorded right now (by this or another program)


def recording_files(folder: Path) -> list[Path]:
    """The WAV and FLAC files in a folder (not in its subfolders)."""
    if not folder.is_dir():
        return []
    suffixes = set(RECORDING_SUFFIXES.values())
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in suffixes)


def _started(path: Path) -> datetime:
    match = _NAME_RE.match(path.name)
    if match:
        with contextlib.suppress(ValueError):
            return datetime.strptime(match.group(1), _NAME_TIME)
    return datetime.fromtimestamp(path.stat().st_mtime)


def list_recordings(folder: Path | None = None) -> list[Recording]:
    """The takes in the recordings folder, newest first."""
    import soundfile as sf

    busy, abandoned = takes_in_progress()
    for _, fh in abandoned:
        fh.close()  # only looking: recover_unfinished deals with these
    busy_resolved = {p.resolve() for p in busy}
    out: list[Recording] = []
    for path in recording_files(folder or recordings_dir()):
        try:
            stat = path.stat()
            started = _started(path)
        except OSError:
            continue
        duration = rate = channels = None
        try:
            info = sf.info(str(path))
            rate, channels = int(info.samplerate), int(info.channels)
            if 0 <= info.frames < (1 << 62):
                duration = info.frames / info.samplerate
        except (RuntimeError, sf.LibsndfileError):
            pass
        out.append(Recording(path, started, stat.st_size, duration, rate, channels, path.resolve() in busy_resolved))
    out.sort(key=lambda r: r.started, reverse=True)
    return out


def prune_recordings(older_than_days: float, folder: Path | None = None, now: datetime | None = None) -> list[Path]:
    """Deletes takes in the recordings folder started more than ``older_than_days`` ago; returns them."""
    if older_than_days < 0:
        raise ValueError("older_than_days must not be negative")
    cutoff = (now or datetime.now()) - timedelta(days=older_than_days)
    removed: list[Path] = []
    for rec in list_recordings(folder):
        if rec.in_progress or rec.started >= cutoff:
            continue
        try:
            rec.path.unlink()
        except OSError as exc:
            log.warning("cannot delete old take %s: %s", rec.path, exc)
            continue
        removed.append(rec.path)
    if removed:
        log.info("deleted %d takes older than %g days", len(removed), older_than_days)
    return removed


def delete_recording(path: Path) -> None:
    """Deletes one take (the user asked to); refuses one being recorded."""
    busy, abandoned = takes_in_progress()
    for _, fh in abandoned:
        fh.close()
    if path.resolve() in {p.resolve() for p in busy}:
        raise CaptureError(f"'{path.name}' is being recorded; stop the recording before deleting it.")
    try:
        path.unlink()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise CaptureError(f"Cannot delete '{path.name}': {exc.strerror or exc}.") from exc
