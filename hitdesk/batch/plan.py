"""What a batch has to do: the sources expanded to files, each keyed, and the keys already done left out.

A row's key is (path, content hash, model name and version, analysis options): the same file under
another name, a changed file, another model or other options is new work; the same one is skipped,
failed ones included unless they are to be retried. Hashing reads every file once, in a few threads
(hashlib and the reads release the GIL), before any decoding: a re-run of a finished catalogue
then starts no worker at all.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

from hitdesk.analysis import AnalysisOptions
from hitdesk.audio import InputProblem, expand_inputs
from hitdesk.cache import content_hash
from hitdesk.errors import HitdeskError

LIST_SUFFIXES = (".txt", ".csv", ".lst", ".m3u", ".m3u8")
HASH_THREADS = 4


class SourceError(HitdeskError):
    """A list of paths that cannot be read."""


@dataclass(frozen=True)
class Item:
    """One file to analyse: its path as the results name it, its content hash (None: unreadable) and key."""

    path: str
    content_hash: str | None
    key: str
    problem: str | None = field(default=None, compare=False)  # a sentence when there is no file to analyse


def options_json(options: AnalysisOptions) -> str:
    """The options that change a result, as the key and the ``options`` column hold them."""
    fields = {k: v for k, v in asdict(options).items() if k != "decode_threads"}
    return json.dumps(fields, sort_keys=True)


def row_key(path: str, digest: str | None, model: dict[str, str], options: str) -> str:
    parts = [path, digest or "", model.get("name", ""), model.get("version", ""), options]
    return hashlib.sha256("\0".join(parts).encode("utf-8", "surrogateescape")).hexdigest()


def _read_list(path: Path) -> list[str]:
    """Paths in a text file (one a line; blank lines and ``#`` comments skipped) or a CSV (its ``path``
    column, else its first); relative ones are relative to the list's folder."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else "it is not UTF-8 text"
        raise SourceError(f"Cannot read the list of files '{path}': {reason}.") from None
    if path.suffix.lower() == ".csv":
        rows = list(csv.reader(text.splitlines()))
        column = 0
        if rows and "path" in [c.strip().lower() for c in rows[0]]:
            column = [c.strip().lower() for c in rows[0]].index("path")
            rows = rows[1:]
        names = [r[column].strip() for r in rows if len(r) > column]
    else:
        names = [line.strip() for line in text.splitlines()]
    base = path.parent
    return [str(base / n) if not os.path.isabs(n) else n for n in names if n and not n.startswith("#")]


def expand_sources(sources: Sequence[str]) -> list[Path | InputProblem]:
    """Files, folders (recursively) and lists of paths, each file once, in the order given."""
    args: list[str] = []
    for source in sources:
        p = Path(source)
        if p.suffix.lower() in LIST_SUFFIXES and p.is_file():
            args.extend(_read_list(p))
        else:
            args.append(source)
    seen: set[str] = set()
    out: list[Path | InputProblem] = []
    for item in expand_inputs(args):
        name = str(item.path if isinstance(item, InputProblem) else item)
        if name not in seen:
            seen.add(name)
            out.append(item)
    return out


def plan(inputs: Sequence[Path | InputProblem], model: dict[str, str], options: str) -> list[Item]:
    """Every input keyed (files hashed in ``HASH_THREADS`` threads)."""

    def one(entry: Path | InputProblem) -> Item:
        if isinstance(entry, InputProblem):
            return Item(str(entry.path), None, row_key(str(entry.path), None, model, options), entry.message)
        digest = content_hash(entry)
        return Item(str(entry), digest, row_key(str(entry), digest, model, options))

    if len(inputs) < 2:
        return [one(e) for e in inputs]
    with ThreadPoolExecutor(max_workers=HASH_THREADS, thread_name_prefix="hitdesk-hash") as pool:
        return list(pool.map(one, inputs))
