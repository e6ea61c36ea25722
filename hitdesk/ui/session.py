"""Sessions (the takes with their results, loudness, notes and playback settings) and result exports. No Qt here.

Exports carry the fields of ``hitdesk analyze --json`` / ``--csv``, so files from the app and the
command line can be mixed, and add what the takes list shows besides: each take's loudness
(``"loudness": {"lufs", "true_peak_dbtp"}`` in JSON, columns ``lufs`` and ``true_peak_dbtp`` in CSV)
and its note (``"note"``, column ``note``). A result that carries its own loudness keeps it: the
app's measurement fills the field only where the result has none. A session stores each file's
absolute path and its path relative to the session file, so a folder moved together with its
session still opens. Version 2 added each take's playback settings (gain, offset, loop); a version 1
session opens with the defaults.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hitdesk import present
from hitdesk.errors import HitdeskError
from hitdesk.result_schema import ResultSchemaError, validate_loudness_dict, validate_saved_result
from hitdesk.results import TrackResult
from hitdesk.ui.loudness import Loudness
from hitdesk.ui.play_settings import PlaySettings

if TYPE_CHECKING:
    from hitdesk.qc import Profile

SESSION_FORMAT = "hitdesk-session"
SESSION_VERSION = 2
SESSION_SUFFIX = ".hitdesk.json"
# Names a session file may end with, longest first: what ``session_file`` keeps and ``session_name`` strips.
SESSION_ENDINGS = (SESSION_SUFFIX, ".hitdesk", ".json")
UNTITLED = "Untitled session"


def session_file(path: Path) -> Path:
    """The file a session is saved to when the user typed ``path``: "mix.hitdesk.json" and "mix.json"
    as typed, "mix.hitdesk" completed to "mix.hitdesk.json", anything else given ``SESSION_SUFFIX``.
    The ending is never doubled, so the title (``session_name``) names the file written."""
    name = path.name.lower()
    if name.endswith(".json"):
        return path
    return path.with_name(path.name + (".json" if name.endswith(".hitdesk") else SESSION_SUFFIX))


def session_name(path: Path | None) -> str:
    """A session file's name without its ending ("mix-notes" for mix-notes.hitdesk.json)."""
    if path is None:
        return UNTITLED
    name = path.name
    for ending in SESSION_ENDINGS:
        if name.lower().endswith(ending) and len(name) > len(ending):
            return name[: -len(ending)]
    return name


def is_session_path(path: Path) -> bool:
    """A file given to the app that is a session to open rather than audio to add (by its ending)."""
    return path.name.lower().endswith(SESSION_ENDINGS)


@dataclass(frozen=True)
class SessionTake:
    path: Path
    result: TrackResult | None
    loudness: Loudness | None
    note: str
    playback: PlaySettings = field(default_factory=PlaySettings)
    damaged: bool = False  # its saved result or loudness was not valid: dropped, the take is analysed again


class SessionError(Exception):
    """A session file that cannot be read; ``str()`` is one sentence for the user."""


@dataclass(frozen=True)
class ExportRow:
    """One take in an export: its result, the loudness the app measured and the user's note."""

    result: TrackResult
    loudness: Loudness | None = None
    note: str = ""


def results_json(results: Sequence[TrackResult]) -> str:
    return present.results_json([r.to_dict() for r in results])


def results_csv(results: Sequence[TrackResult]) -> str:
    return present.results_csv([r.to_dict() for r in results])


def export_dict(row: ExportRow, profile: Profile | None = None) -> dict[str, Any]:
    """The result's fields, its ``loudness``, ``stereo``, ``clipping`` and ``problem_spots`` (filled from
    the app's measurement when the result has none: no field, or one that measured nothing), the
    platforms' gains and the ``profile``'s checks as ``hitdesk analyze --qc`` adds them, and the take's
    ``note``."""
    from hitdesk.platforms import load_platforms, platform_rows
    from hitdesk.qc import check

    d = row.result.to_dict()
    own = d.get("loudness")
    has_own = isinstance(own, dict) and any(v is not None for v in own.values())
    if not has_own and row.loudness is not None and row.result.ok:
        measured = TrackResult(file=row.result.file, loudness=row.loudness).to_dict()
        for key in ("loudness", "stereo", "clipping", "problem_spots"):
            d[key] = measured[key]
    try:
        platforms = platform_rows(d.get("loudness"), load_platforms())
    except HitdeskError:  # the user's presets file is broken: the app says so in the take panel
        platforms = None
    qc = None if profile is None else check(d, profile)
    d = present.with_outputs(d, platforms, qc, profile is not None)
    d["note"] = row.note
    return d


def export_json(rows: Sequence[ExportRow], profile: Profile | None = None) -> str:
    return present.results_json([export_dict(r, profile) for r in rows])


def export_csv(rows: Sequence[ExportRow], profile: Profile | None = None) -> str:
    dicts = [export_dict(r, profile) for r in rows]
    extra = []
    for d in dicts:
        extra.append({"note": d["note"]})
    return present.results_csv(dicts, extra)


def write_export(path: Path, rows: Sequence[ExportRow], qc: str = "") -> int:
    """CSV or JSON by the file's suffix: the fields of ``hitdesk analyze --csv`` / ``--json`` (with
    ``--qc qc`` when a QC profile is named), and each take's loudness and note (``export_dict``).
    Returns how many results were written; raises ``OSError``, or ``HitdeskError`` (one sentence) when
    the profile cannot be read, before anything is written."""
    profile = _qc_profile(qc) if qc else None
    text = export_csv(rows, profile) if path.suffix.lower() == ".csv" else export_json(rows, profile)
    write_text(path, text)
    return len(rows)


def _qc_profile(name: str) -> Profile:
    from hitdesk.platforms import load_platforms
    from hitdesk.qc import load_profile

    return load_profile(name, load_platforms())


def write_text(path: Path, text: str) -> None:
    """Writes next to the target first, so a failed write never leaves half a file."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8", newline="")
    os.replace(tmp, path)


def session_dict(takes: Sequence[SessionTake], session_path: Path, model: dict[str, str]) -> dict[str, Any]:
    base = session_path.resolve().parent
    entries = []
    for t in takes:
        absolute = t.path.resolve()
        try:
            relative: str | None = os.path.relpath(absolute, base)
        except ValueError:  # another drive on Windows
            relative = None
        entries.append(
            {
                "file": str(absolute),
                "relative": relative,
                "note": t.note,
                "result": None if t.result is None else t.result.to_dict(),
                "loudness": None if t.loudness is None else t.loudness.to_dict(),
                "playback": t.playback.to_dict(),
            }
        )
    return {"format": SESSION_FORMAT, "version": SESSION_VERSION, "model": model, "takes": entries}


def save_session(path: Path, takes: Sequence[SessionTake], model: dict[str, str]) -> None:
    write_text(path, json.dumps(session_dict(takes, path, model), indent=2, ensure_ascii=False) + "\n")


def load_session(path: Path) -> tuple[list[SessionTake], dict[str, str]]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SessionError(f"Session file '{path.name}' was not found.") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        raise SessionError(f"Session file '{path.name}' cannot be read: it is damaged or not a session.") from None
    if not isinstance(raw, dict) or raw.get("format") != SESSION_FORMAT:
        raise SessionError(f"'{path.name}' is not a HitDesk session.")
    if int(raw.get("version", 0)) > SESSION_VERSION:
        raise SessionError(f"Session '{path.name}' was saved by a newer HitDesk; please update.")
    base = path.resolve().parent
    takes = []
    try:
        for e in raw.get("takes") or []:
            file = Path(str(e["file"]))
            rel = e.get("relative")
            if not file.exists() and rel:
                moved = base / rel
                if moved.exists():
                    file = moved
            result, loud, damaged = _saved_measurements(e)
            if result is not None and str(file) != result.file:
                from dataclasses import replace

                result = replace(result, file=str(file))
            playback = PlaySettings.from_dict(e.get("playback"))  # absent before version 2
            takes.append(SessionTake(file, result, loud, str(e.get("note") or ""), playback, damaged))
    except (KeyError, TypeError, ValueError):
        raise SessionError(f"Session file '{path.name}' is damaged.") from None
    model = {str(k): str(v) for k, v in (raw.get("model") or {}).items()}
    return takes, model


def _saved_measurements(entry: dict[str, Any]) -> tuple[TrackResult | None, Loudness | None, bool]:
    """A session entry's result and loudness, each checked as the result cache checks its entries
    (a session file is as open to editing as the cache): a value no analysis gives (P(hit) 7.5, NaN,
    500 LUFS) drops both, and the take is analysed again. True as the third value when dropped."""
    try:
        result = entry.get("result")
        result = None if result is None else TrackResult.from_dict(validate_saved_result(result))
        loudness = entry.get("loudness")
        return result, None if loudness is None else Loudness.from_dict(validate_loudness_dict(loudness)), False
    except ResultSchemaError:
        return None, None, True


def damaged_sentence(takes: Sequence[SessionTake], session: Path) -> str | None:
    """What to say when a session's saved results were not valid (None when all were)."""
    names = [t.path.name for t in takes if t.damaged]
    if not names:
        return None
    listed = ", ".join(f"'{n}'" for n in names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    them = "it is" if len(names) == 1 else "they are"
    return f"The saved results of {listed} in '{session.name}' are not valid, so {them} analysed again."
