"""Every setting the app keeps between runs, declared once: key, type, default, range, one-line description.

The table is Qt-free so that it can be read, documented and tested without a display; the app's
settings file is a ``QSettings`` INI file (``hitdesk.ui.settings``), which this module reaches only
through the four methods of ``Store`` (``QSettings`` has them). Values are checked on the way in:
a value of the wrong type or out of its range falls back to the default, or is clamped into the
range, so a hand-edited or damaged file never stops the app from starting.

The file carries ``SETTINGS_VERSION`` under ``VERSION_KEY``; ``migrate`` brings an older file up to
date (a file written before versions existed is version 1) and keeps every value the user chose.
A file from a newer HitDesk is read as far as its keys are known and never rewritten to an older
version.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from hitdesk.config import MAX_WINDOW_SECONDS, MIN_TRACK_SECONDS

SETTINGS_VERSION = 2
VERSION_KEY = "general/settingsVersion"
MAX_RECENT = 10
# File dialogs that remember their own folder, and what each saves.
FOLDER_KINDS = {"export": "export of results", "session": "session", "png": "picture (PNG)"}
COLOUR_MAPS = ("viridis", "cividis", "magma", "inferno", "CET-L1")  # hitdesk.ui.theme names each

Kind = Literal["str", "bool", "int", "float", "paths", "names", "bytes"]


def machine_cores() -> int:
    """The cores this process may run on: its CPU affinity, which a container or ``taskset`` limits
    (``os.process_cpu_count`` from Python 3.13), else the machine's count."""
    counter = getattr(os, "process_cpu_count", None)
    if counter is not None:
        return max(1, counter() or 1)
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def folder_key(kind: str) -> str:
    return f"files/folder/{kind}"


class Store(Protocol):
    """What the settings need of ``QSettings`` (and of the dictionary a test may use instead)."""

    def value(self, key: str, /) -> Any: ...

    def setValue(self, key: str, value: Any, /) -> None: ...  # noqa: N802  (Qt's name)

    def remove(self, key: str, /) -> None: ...

    def contains(self, key: str, /) -> bool: ...


@dataclass(frozen=True)
class Setting:
    """One setting. ``default`` is a value, or a function for a default that depends on the machine;
    ``minimum``/``maximum`` bound numbers (for ``paths``, ``maximum`` is the most entries kept);
    ``choices`` lists the only values a ``str`` setting may take; ``optional`` settings may be unset
    (``None``: the analysis takes the model card's value)."""

    key: str
    kind: Kind
    default: Any
    description: str
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    optional: bool = False

    def default_value(self) -> Any:
        value = self.default() if callable(self.default) else self.default
        return list(value) if isinstance(value, list) else value

    def allowed(self) -> str:
        """The allowed values in words, for the README and the Preferences dialog."""
        if self.choices:
            return "one of " + ", ".join(self.choices)
        if self.kind in ("paths", "names"):
            return f"up to {self.maximum:g} {self.kind}" if self.maximum is not None else self.kind
        if self.kind in ("int", "float") and (self.minimum is not None or self.maximum is not None):
            low = "" if self.minimum is None else f"{self.minimum:g}"
            high = "" if self.maximum is None else f"{self.maximum:g}"
            return f"{low} to {high}" if low and high else (f"at least {low}" if low else f"at most {high}")
        return {"bool": "on or off", "bytes": "Qt's own encoding", "str": "any text"}.get(self.kind, self.kind)

    def parse(self, raw: Any) -> Any:
        """The stored ``raw`` value as this setting's type, inside its range; the default when ``raw``
        is absent or cannot be read (INI files give every scalar back as a string)."""
        if raw is None or (isinstance(raw, str) and raw == "" and self.kind != "str"):
            return None if self.optional else self.default_value()
        parsed = _PARSERS[self.kind](raw)
        if parsed is None:
            return None if self.optional else self.default_value()
        if self.choices and parsed not in self.choices:
            return self.default_value()
        if self.kind in ("int", "float"):
            if self.minimum is not None:
                parsed = max(parsed, type(parsed)(self.minimum))
            if self.maximum is not None:
                parsed = min(parsed, type(parsed)(self.maximum))
        if self.kind in ("paths", "names") and self.maximum is not None:
            parsed = parsed[: int(self.maximum)]
        return parsed

    def read(self, store: Store) -> Any:
        return self.parse(store.value(self.key))

    def write(self, store: Store, value: Any) -> None:
        """Stores ``value``; a value equal to the default is not stored, so that a default which
        follows the machine (the cores used) keeps following it until the user chooses another."""
        if value is None or value == self.default_value() or (self.kind == "bytes" and not value):
            store.remove(self.key)
        else:
            store.setValue(self.key, list(value) if self.kind in ("paths", "names") else value)


def _as_float(raw: Any) -> float | None:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) or math.isinf(value) else value


def _as_int(raw: Any) -> int | None:
    if isinstance(raw, bool):
        return None
    value = _as_float(raw)
    return None if value is None or value != int(value) else int(value)


def _as_bool(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    return True if text in ("1", "true", "yes") else False if text in ("0", "false", "no") else None


def _as_paths(raw: Any) -> list[str] | None:
    if isinstance(raw, str):
        return [raw] if raw else []
    if isinstance(raw, Iterable):
        return [str(v) for v in raw if str(v)]
    return None


_PARSERS: dict[str, Callable[[Any], Any]] = {
    "str": lambda raw: str(raw),
    "bool": _as_bool,
    "int": _as_int,
    "float": _as_float,
    "paths": _as_paths,
    "names": _as_paths,  # a list of texts, read the same way
    "bytes": lambda raw: raw,
}

SETTINGS: tuple[Setting, ...] = (
    Setting(
        "model/spec",
        "str",
        "",
        "The model that scores takes: empty for the default model, else a name in models/ or a path.",
    ),
    Setting(
        "analysis/windowSeconds",
        "float",
        None,
        "How much of the take each scored window (beginning, middle, end) covers; unset, the model's own.",
        minimum=MIN_TRACK_SECONDS,
        maximum=MAX_WINDOW_SECONDS,
        optional=True,
    ),
    Setting("analysis/fast", "bool", False, "Fast mode: the overall score from excerpts instead of the whole take."),
    Setting(
        "analysis/style",
        "bool",
        False,
        "Sounds like: the music tagger's most probable tags for each take (about a second more per take).",
    ),
    Setting(
        "analysis/cores",
        "int",
        machine_cores,
        "How many takes are analysed at the same time; fewer leave room for recording and other programs.",
        minimum=1,
    ),
    Setting("view/colourMap", "str", COLOUR_MAPS[0], "The colours of the spectrogram.", choices=COLOUR_MAPS),
    Setting("view/dbRange", "int", 80, "The spectrogram's range below each window's loudest point, in dB.", 20, 120),
    Setting(
        "view/hiddenStrips",
        "names",
        [],
        "The strips under the spectrogram the user hid (loudness, correlation, curve; View menu).",
        maximum=3,
    ),
    Setting(
        "view/qcProfile",
        "str",
        "",
        "The QC profile chosen in the take panel (empty for none); exported results carry its checks.",
    ),
    Setting("files/lastFolder", "str", "", "The folder audio was last opened from, where Open starts."),
    Setting(
        "files/recent", "paths", [], "The files opened last, newest first (File > Open Recent).", maximum=MAX_RECENT
    ),
    *(
        Setting(
            folder_key(kind),
            "str",
            "",
            f"Where the last {what} was saved, where the next starts; unset, the audio folder.",
        )
        for kind, what in FOLDER_KINDS.items()
    ),
    Setting("record/device", "str", "", "The input recorded from, as 'name (host API)'; empty for the system default."),
    Setting(
        "record/channels",
        "str",
        "",
        "The input channels recorded, such as 1+2 or 1; empty for 1+2, or 1 on a mono input.",
    ),
    Setting(
        "record/pruneDays",
        "int",
        0,
        "Takes recorded longer ago than this many days are deleted at start-up; 0 keeps them all.",
        minimum=0,
        maximum=3650,
    ),
    Setting("window/geometry", "bytes", None, "The main window's size and place on the screen."),
    Setting("window/state", "bytes", None, "Where the main window's docks and toolbars are."),
    Setting("window/splitter", "bytes", None, "The split between the takes list and the take's panel."),
)
_BY_KEY = {s.key: s for s in SETTINGS}


def setting(key: str) -> Setting:
    """The declared setting under ``key``; a key that is not in the table is a programming error."""
    return _BY_KEY[key]


def markdown_table() -> str:
    """The table as the README shows it (a test keeps the two the same)."""
    rows = ["| key | type | default | allowed | what it is |", "|---|---|---|---|---|"]
    for s in SETTINGS:
        if callable(s.default):
            default = "this computer's cores"
        elif s.default is None or s.default in ("", []):
            default = "unset"
        elif isinstance(s.default, bool):
            default = "on" if s.default else "off"
        else:
            default = f"`{s.default}`"
        rows.append(f"| `{s.key}` | {s.kind} | {default} | {s.allowed()} | {s.description} |")
    return "\n".join(rows)


# --- versions -----------------------------------------------------------------------------------


def stored_version(store: Store) -> int:
    """The version the file was written with; 1 for a file from before versions were kept (or
    none at all, which then has nothing to migrate)."""
    version = _as_int(store.value(VERSION_KEY))
    return version if version is not None and version >= 1 else 1


def _v1_to_v2(store: Store) -> None:
    """Version 1 (HitDesk up to 0.x, no version key) stored every setting on every save, unset
    values as empty strings, and the cores used under ``analysis/workers``. Version 2 stores only
    what differs from the default: the cores used move to ``analysis/cores``, and are dropped when
    they equal this machine's cores (a value the user never chose, which now follows the machine);
    empty strings for an unset window length and for unused dialog folders are dropped."""
    workers = store.value("analysis/workers")
    if workers is not None:
        store.remove("analysis/workers")
        cores = _as_int(workers)
        if cores is not None and cores >= 1 and cores != machine_cores():
            store.setValue("analysis/cores", cores)
    for key in ("analysis/windowSeconds", *(folder_key(k) for k in FOLDER_KINDS)):
        if store.contains(key) and store.value(key) in ("", None):
            store.remove(key)


MIGRATIONS: dict[int, Callable[[Store], None]] = {1: _v1_to_v2}  # from version N to N + 1


def migrate(store: Store) -> int:
    """Brings the file up to ``SETTINGS_VERSION``; returns the version it had. A newer file is left
    as it is (its known keys are still read; the others are kept)."""
    found = stored_version(store)
    version = found
    while version < SETTINGS_VERSION:
        MIGRATIONS[version](store)
        version += 1
    if found < SETTINGS_VERSION or not store.contains(VERSION_KEY):  # an up-to-date file is not touched
        store.setValue(VERSION_KEY, SETTINGS_VERSION)
    return found
