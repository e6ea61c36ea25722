"""Result cache in the user's cache folder, keyed by file content, model and analysis options.

Nothing is ever written beside the user's files; a damaged cache entry is ignored and replaced.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import replace
from pathlib import Path

from hitdesk import paths
from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult

log = logging.getLogger(__name__)

_CACHE_FORMAT = 1
_HASH_BLOCK = 1 << 20


def cache_dir() -> Path:
    return paths.results_cache_dir()


def content_hash(path: Path) -> str | None:
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while block := fh.read(_HASH_BLOCK):
                digest.update(block)
    except OSError:
        return None
    return digest.hexdigest()


def cache_key(path: Path, model: HitModel, options: AnalysisOptions) -> str | None:
    digest = content_hash(path)
    if digest is None:
        return None
    parts = [str(_CACHE_FORMAT), digest, model.info.name, model.info.version, repr(options)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def lookup(path: Path, model: HitModel, options: AnalysisOptions) -> tuple[TrackResult | None, str | None]:
    """The cached result for this file's content, model and options (or None), and the entry's key.

    The key is None when the file cannot be read for hashing; then nothing is cached for it.
    """
    try:
        readable = path.is_file()
    except OSError:  # e.g. inside a folder that cannot be entered: the analysis reports it
        readable = False
    key = cache_key(path, model, options) if readable else None
    if key is None:
        return None, None
    entry = cache_dir() / f"{key}.json"
    try:
        cached = TrackResult.from_dict(json.loads(entry.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return None, key
    except (OSError, ValueError, KeyError, TypeError):
        log.warning("ignoring damaged cache entry %s", entry)
        return None, key
    return replace(cached, file=str(path)), key


def store(key: str | None, result: TrackResult) -> None:
    """Keeps a successful result under the key ``lookup`` gave; errors are not cached."""
    if key is not None and result.ok:
        _write_atomic(cache_dir() / f"{key}.json", json.dumps(result.to_dict(), ensure_ascii=False))


def analyze_cached(path: str | Path, model: HitModel, options: AnalysisOptions, use_cache: bool = True) -> TrackResult:
    p = Path(path)
    cached, key = lookup(p, model, options) if use_cache else (None, None)
    if cached is not None:
        return cached
    result = analyze_file(p, model, options)
    store(key, result)
    return result


def _write_atomic(target: Path, text: str) -> None:
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, target)
    except OSError as exc:
        log.warning("cannot write the result cache %s: %s", target, exc)
