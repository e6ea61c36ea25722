"""Takes cut off by a crash, a killed program or a power cut, found at start-up, repaired and
offered back.

Recovery changes a file only when it can prove the file is its own unfinished take, because the
file at a take's path may since have become something else: the user moved the take away and saved
another file under its name, or copied a WAV into the recordings folder. For a take named by an
abandoned marker, the file must be an ordinary file with the inode the marker recorded and the take
id the marker recorded written inside it; in the recordings folder, a file must carry a take id
(only HitDesk writes one). Anything else is reported and left exactly as it is: it is not even
opened for writing. Files from versions that wrote no take id are never repaired.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hitdesk.capture.library import recording_files
from hitdesk.capture.markers import takes_in_progress
from hitdesk.capture.repair import RepairOutcome, TakeIdentity, needs_repair, repair_recording, take_identity
from hitdesk.capture.writers import TAKE_ID_RE
from hitdesk.errors import CaptureError
from hitdesk.paths import recordings_dir

log = logging.getLogger(__name__)


# ---------------------------------------------------------------------------------------------- recovery


@dataclass(frozen=True)
class RecoveredTake:
    """A take whose recording was cut off (crash, killed program, power loss), made readable again."""

    path: Path
    repaired: bool
    duration_s: float | None
    problem: str | None  # set when the take could not be made readable, or the file was left untouched


def recover_unfinished(folder: Path | None = None) -> list[RecoveredTake]:
    """Repairs takes left unfinished by a program that died, and returns them to offer back.

    Covers takes named by an abandoned marker (wherever they were written) and any take in the
    folder whose header does not cover its audio; each only once it is proven to be that take (see
    the module's docstring). Takes being recorded now are left alone. Files at a marked path that
    are not the take are reported (as a problem) and not touched.
    """
    target = folder or recordings_dir()
    busy, abandoned = takes_in_progress()
    out: list[RecoveredTake] = []
    seen: set[Path] = set()
    for marker, fh in abandoned:
        try:
            audio, take = _recover_marked(marker, fh)
            if audio is not None:
                with contextlib.suppress(OSError, RuntimeError):
                    seen.add(audio.resolve())
            if take is not None:
                out.append(take)
            with contextlib.suppress(OSError):
                marker.unlink()
        finally:
            fh.close()
    busy_resolved = {p.resolve() for p in busy}
    for path in recording_files(target):
        resolved = path.resolve()
        if resolved in seen or resolved in busy_resolved:
            continue
        if (take := _recover_in_folder(path)) is not None:
            out.append(take)
    for take in out:
        if take.problem:
            log.info("%s", take.problem)  # callers show it (the command line) or not (the app)
        else:
            log.info("recovered unfinished take %s (%.1f s)", take.path, take.duration_s or 0.0)
    return out


def _recover_marked(marker: Path, fh: IO[str]) -> tuple[Path | None, RecoveredTake | None]:
    """The take an abandoned marker names, repaired if it is still that take."""
    try:
        info = json.loads(fh.read())
        audio = Path(info["path"])
    except (ValueError, KeyError, TypeError):
        log.warning("ignoring unreadable capture marker %s", marker)
        return None, None
    try:
        st = os.lstat(audio)
    except FileNotFoundError:
        log.info("unfinished take %s no longer exists", audio)
        return audio, None
    except OSError as exc:
        return audio, _untouched(audio, f"'{audio}' cannot be checked ({exc.strerror or exc}); it was left untouched.")
    take_id, ino, dev = info.get("take"), info.get("ino"), info.get("dev")
    if not isinstance(take_id, str) or not TAKE_ID_RE.fullmatch(take_id):
        return audio, _untouched(
            audio,
            f"'{audio}' was being recorded by an older version of HitDesk, which did not mark its takes, "
            "so it cannot be told from another file; it was left untouched.",
        )
    if not isinstance(ino, int) or isinstance(ino, bool):
        return audio, _untouched(
            audio, f"'{audio}' did not exist yet when its recording was marked, so it was left untouched."
        )
    if not stat.S_ISREG(st.st_mode):
        return audio, _untouched(
            audio, f"'{audio}' is no longer an ordinary file (something else took its place); it was left untouched."
        )
    expect = TakeIdentity(take_id, ino, dev if isinstance(dev, int) else None)
    return audio, _recovered(repair_recording(audio, expect))


def _recover_in_folder(path: Path) -> RecoveredTake | None:
    """A take in the recordings folder that needs repair and carries a take id, repaired."""
    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) or not needs_repair(path):
            return None
        identity = take_identity(path)
    except (OSError, CaptureError):
        return None
    if identity is None:
        log.info("%s looks cut off, but HitDesk did not write it (no take id): it is left as it is", path)
        return None
    return _recovered(repair_recording(path, identity))


def _untouched(path: Path, problem: str) -> RecoveredTake:
    return RecoveredTake(path, False, None, problem)


def _recovered(outcome: RepairOutcome) -> RecoveredTake:
    return RecoveredTake(outcome.path, outcome.repaired, outcome.duration_s, outcome.problem)
