"""Result cache in the user's cache folder, keyed by file content, model and analysis options.

Nothing is ever written beside the user's files. One JSON file per result, named by its key, under
``cache_dir()``. The cache must never make a result wrong, so:

* The key covers everything a result depends on: the file's content (SHA-256), its extension (it
  picks the tag reader and, in fast mode, whether excerpts are found by seeking), the model, the
  options, and ``RESULT_SCHEMA_VERSION`` (an entry written before a field was added is recomputed).
* A result is stored only when the content analysed is the content hashed. Hashing notes the file's
  identity and timestamps (``_Stamp``) and ``store`` compares them after the analysis: a file that
  grew, shrank or was rewritten meanwhile gets its result with a note, and nothing is stored. This
  costs a ``stat``, not a second read. Timestamps only move in ticks, so a write in the same tick
  as the previous one can leave them unchanged: for a file changed in the last ``SETTLE_S``
  seconds (a copy just made, a take just recorded) ``store`` hashes the file again instead.
* Entries are not trusted: anything running as the user can edit them. An entry is opened without
  blocking and without following links, read only when it is a regular file of at most
  ``MAX_ENTRY_BYTES``, and used only when it passes ``validate_result_dict`` and was made by this
  model and mode. Anything else is logged, deleted when it is our own regular file, and recomputed.
* A result names the file asked for: the entry keeps notes with the file's name and path replaced by
  placeholders, filled in for the file looked up, so a copy under another name reads as itself.
* A temporary file that cannot be written whole (a full disk) is removed; an entry appears whole or
  not at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import stat
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from hitdesk import paths
from hitdesk.analysis import AnalysisOptions
from hitdesk.audio.inputs import display_name
from hitdesk.explain import analyze_file
from hitdesk.model.runtime import HitModel
from hitdesk.result_schema import validate_result_dict
from hitdesk.results import RESULT_SCHEMA_VERSION, TrackResult
from hitdesk.take_lyrics import lyrics_fingerprint

log = logging.getLogger(__name__)

_CACHE_FORMAT = 2
_HASH_BLOCK = 1 << 20
# A result's JSON is a few kB; anything much larger was not written by ``store``.
MAX_ENTRY_BYTES = 1 << 20
# A file whose timestamps are this recent is hashed again before its result is stored (see above).
# Two seconds covers the coarsest timestamps in use (FAT's modification time).
SETTLE_S = 2.0
# Placeholders for the analysed file's name and path in stored notes. A path cannot contain NUL, so
# a filled-in note never holds one and a stored note holds none but these.
_NAME = "\0name\0"
_PATH = "\0path\0"
CHANGED_NOTE = (
    "The file changed while it was analysed, so this result may not describe what it holds now; "
    "it was not kept in the result cache."
)

_O_COMMON = os.O_RDONLY | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
# No waiting for a writer when the path is a FIFO (regular files ignore the flag).
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)


def cache_dir() -> Path:
    return paths.results_cache_dir()


@dataclass(frozen=True)
class _Stamp:
    """What changes when a file is written, replaced, grown or truncated (ctime cannot be set back)."""

    dev: int
    ino: int
    size: int
    mtime_ns: int
    ctime_ns: int

    @classmethod
    def of(cls, st: os.stat_result) -> _Stamp:
        return cls(st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@dataclass(frozen=True)
class CacheKey:
    """What ``lookup`` hands to ``store``: the entry's name and the file as it was when hashed."""

    name: str
    path: Path
    digest: str
    stamp: _Stamp
    settled: bool  # its timestamps were older than SETTLE_S when it was hashed

    @property
    def entry(self) -> Path:
        return cache_dir() / f"{self.name}.json"


def _hash_file(path: Path) -> tuple[str, _Stamp] | None:
    """The SHA-256 of a regular file and its stamp; None when it cannot be read or changed meanwhile."""
    try:
        fd = os.open(path, _O_COMMON | _O_NONBLOCK)
    except OSError:
        return None
    try:
        before = os.fstat(fd)
        if not stat.S_ISREG(before.st_mode):
            return None
        digest = hashlib.sha256()
        buf = bytearray(_HASH_BLOCK)
        view = memoryview(buf)
        with open(fd, "rb", buffering=0, closefd=False) as fh:
            while n := fh.readinto(buf):
                digest.update(view[:n])
        after = os.fstat(fd)
    except OSError:
        return None
    finally:
        os.close(fd)
    stamp = _Stamp.of(before)
    if _Stamp.of(after) != stamp:
        return None  # being written while it was hashed
    return digest.hexdigest(), stamp


def content_hash(path: Path) -> str | None:
    """SHA-256 of a regular file's content; None when it cannot be read (a FIFO is not waited for)."""
    hashed = _hash_file(path)
    return None if hashed is None else hashed[0]


def cache_key(path: Path, model: HitModel, options: AnalysisOptions) -> CacheKey | None:
    """The key for this file's content as it is now; None when it cannot be hashed (nothing is cached)."""
    now_ns = time.time_ns()
    hashed = _hash_file(path)
    if hashed is None:
        return None
    digest, stamp = hashed
    parts = [
        str(_CACHE_FORMAT),
        str(RESULT_SCHEMA_VERSION),
        digest,
        path.suffix.lower(),
        model.info.name,
        model.info.version,
        repr(options),
    ]
    parts += [fp for fp in (lyrics_fingerprint(path, model.runtime),) if fp]  # lyrics models only
    name = hashlib.sha256("\0".join(parts).encode()).hexdigest()
    settled = now_ns - max(stamp.mtime_ns, stamp.ctime_ns) >= SETTLE_S * 1e9
    return CacheKey(name, path, digest, stamp, settled)


def lookup(path: Path, model: HitModel, options: AnalysisOptions) -> tuple[TrackResult | None, CacheKey | None]:
    """The cached result for this file's content, model and options (or None), and the key to store under.

    The key is None when the file cannot be read for hashing; then nothing is cached for it.
    """
    key = cache_key(path, model, options)
    if key is None:
        return None, None
    data = _read_entry(key.entry, model, options)
    if data is None:
        return None, key
    result = TrackResult.from_dict(data)
    return replace(result, file=str(path), notes=tuple(_fill(n, path) for n in result.notes)), key


def store(key: CacheKey | None, result: TrackResult) -> TrackResult:
    """Keeps a successful result under the key ``lookup`` gave, if the file still holds what was hashed.

    Returns the result to show: when the file changed during the analysis it carries a note saying
    so, and it is not stored (it may describe neither the old content nor the new). Errors are not
    cached.
    """
    if key is None or not result.ok:
        return result
    unchanged = _unchanged(key)
    if unchanged is False:
        log.warning("%s changed while it was analysed; its result is not cached", key.path)
        return replace(result, notes=(*result.notes, CHANGED_NOTE))
    if unchanged is None:
        log.info("%s cannot be read again; its result is not cached", key.path)
        return result
    data = result.to_dict()
    notes = [_template(n, key.path) for n in result.notes]
    if any(n is None for n in notes):
        log.info("a note on %s cannot be stored without its name; the result is not cached", key.path)
        return result
    data["file"], data["notes"] = _PATH, notes
    try:
        validate_result_dict(data)
        text = json.dumps(data, ensure_ascii=False, allow_nan=False)
    except ValueError as exc:
        log.warning("not caching the result for %s: %s", key.path, exc)
        return result
    _write_atomic(key.entry, text)
    return result


def analyze_cached(path: str | Path, model: HitModel, options: AnalysisOptions, use_cache: bool = True) -> TrackResult:
    p = Path(path)
    if not use_cache:
        return analyze_file(p, model, options)
    cached, key = lookup(p, model, options)
    if cached is not None:
        return cached
    return store(key, analyze_file(p, model, options))


def _unchanged(key: CacheKey) -> bool | None:
    """Whether the file at the key's path is still the one hashed; None when it cannot be told."""
    try:
        now = _Stamp.of(os.stat(key.path))
    except OSError:
        return None
    if now != key.stamp:
        return False
    if key.settled:
        return True
    hashed = _hash_file(key.path)  # changed recently: a write in the same timestamp tick looks unchanged
    if hashed is None:
        return None
    return hashed == (key.digest, key.stamp)


# ---------------------------------------------------------------------------------------------- entries


def _read_entry(entry: Path, model: HitModel, options: AnalysisOptions) -> dict[str, Any] | None:
    """The entry's result dict when it is one this model and these options could have stored."""
    try:
        fd = os.open(entry, _O_COMMON | _O_NONBLOCK | _O_NOFOLLOW)
    except FileNotFoundError:
        return None
    except OSError as exc:  # a symbolic link (ELOOP), a folder one cannot read, ...
        log.warning("ignoring cache entry %s: %s", entry, exc)
        return None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            log.warning("ignoring cache entry %s: not a regular file", entry)
            return None
        raw = b"" if st.st_size > MAX_ENTRY_BYTES else _read_at_most(fd, MAX_ENTRY_BYTES + 1)
    except OSError as exc:
        log.warning("ignoring cache entry %s: %s", entry, exc)
        return None
    finally:
        os.close(fd)
    try:
        if not raw or len(raw) > MAX_ENTRY_BYTES:
            raise ValueError("empty or too large")
        data = validate_result_dict(json.loads(raw.decode("utf-8"), parse_constant=_no_constant))
        _check_entry(data, model, options)
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        log.warning("dropping invalid cache entry %s: %s", entry, exc)
        _drop(entry, st)
        return None
    return data


def _read_at_most(fd: int, limit: int) -> bytes:
    chunks: list[bytes] = []
    left = limit
    while left > 0 and (chunk := os.read(fd, min(left, 1 << 16))):
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a result can hold")


def _check_entry(data: dict[str, Any], model: HitModel, options: AnalysisOptions) -> None:
    """What only the cache knows: entries hold successful results of this model in a possible mode."""
    if data["error"] is not None:
        raise ValueError("failed analyses are not cached")
    if data["model"] != model.info.to_dict():
        raise ValueError("made by another model")
    if data["mode"] != "full" and not options.fast:
        raise ValueError("a fast-mode result for a full analysis")
    for note in data["notes"]:
        if "\0" in note.replace(_NAME, "").replace(_PATH, ""):
            raise ValueError("a note holds a NUL character")


def _drop(entry: Path, st: os.stat_result) -> None:
    """Deletes an invalid entry when it is still the regular file read and belongs to this user."""
    geteuid = getattr(os, "geteuid", None)
    if geteuid is not None and st.st_uid != geteuid():
        return
    with contextlib.suppress(OSError):
        now = os.stat(entry, follow_symlinks=False)
        if stat.S_ISREG(now.st_mode) and (now.st_dev, now.st_ino) == (st.st_dev, st.st_ino):
            entry.unlink()


def _template(note: str, path: Path) -> str | None:
    """The note with the file's quoted path and name as placeholders (as the decoders quote them).

    None when the name is still in it some other way, or the placeholders would not give the note
    back: such a note cannot be told apart from text that merely looks like the name, so the
    result is not stored rather than shown with another file's name.
    """
    if "\0" in note:
        return None
    name, full = display_name(path), str(path)
    out = note.replace(f"'{full}'", f"'{_PATH}'") if full != name else note
    out = out.replace(f"'{name}'", f"'{_NAME}'")
    if name in out or _fill(out, path) != note:
        return None
    return out


def _fill(note: str, path: Path) -> str:
    return note.replace(_PATH, str(path)).replace(_NAME, display_name(path))


def _write_atomic(target: Path, text: str) -> None:
    """Writes through a temporary file in the same folder, so readers see the whole entry or none.

    The temporary file is removed whatever stops the write (a full disk, an interrupt).
    """
    tmp: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".entry-", suffix=".tmp")
        with os.fdopen(fd, "wb") as fh:
            fh.write(text.encode("utf-8"))
        os.replace(tmp, target)
        tmp = None
    except OSError as exc:
        log.warning("cannot write the result cache %s: %s", target, exc)
    finally:
        if tmp is not None:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
