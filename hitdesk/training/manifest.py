"""A training manifest: one CSV row per track with its popularity and/or hit label.

Labels and producers keep their catalogue figures in spreadsheets, so the manifest is a plain CSV
rather than a project-specific format: a ``path`` column, a ``popularity`` number and/or a 0/1
``label``, an optional ``artist`` (so that splits keep an artist on one side), optional ``lyrics``
(the text itself, or a path to a ``.txt`` or ``.lrc`` file, relative like ``path``) and any other
numeric columns, which become metadata features. Every problem is reported as one sentence naming the row.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from hitdesk.errors import HitdeskError

log = logging.getLogger(__name__)

PATH_COLUMN = "path"
POPULARITY_COLUMN = "popularity"
LABEL_COLUMN = "label"
ARTIST_COLUMN = "artist"
LYRICS_COLUMN = "lyrics"
# Several artists of one track are joined with one of these; any shared artist links two tracks.
ARTIST_SEPARATORS = (";", "|")
_RESERVED = (PATH_COLUMN, POPULARITY_COLUMN, LABEL_COLUMN, ARTIST_COLUMN, LYRICS_COLUMN)


class ManifestError(HitdeskError):
    """The manifest cannot be used as it is (missing column, bad number, missing file...)."""


@dataclass(frozen=True)
class Track:
    path: Path  # absolute; relative paths in the CSV are relative to the CSV's folder
    popularity: float | None
    label: int | None  # 0/1 when a ``label`` column is given
    artist: str | None
    meta: dict[str, float] = field(default_factory=dict)  # other numeric columns, by column name
    lyrics: str | None = None  # the text (files read, .lrc time tags stripped); None when not given


def _number(text: str, where: str, column: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ManifestError(f"{where}: '{column}' is '{text}', which is not a number.") from None
    if not math.isfinite(value):
        raise ManifestError(f"{where}: '{column}' is '{text}'; it must be a finite number.")
    return value


def _label(text: str, where: str) -> int:
    value = _number(text, where, LABEL_COLUMN)
    if value not in (0.0, 1.0):
        raise ManifestError(f"{where}: 'label' is '{text}'; it must be 0 or 1.")
    return int(value)


def _lyrics(text: str, base: Path, where: str) -> str | None:
    """A ``lyrics`` cell: a path ending in .txt or .lrc is read (relative to the manifest), else the text."""
    from hitdesk.text.lyrics import LYRICS_SUFFIXES, LyricsError, read_lyrics

    if not text:
        return None
    if "\n" not in text and text.lower().endswith(LYRICS_SUFFIXES):
        file = Path(text).expanduser()
        try:
            return read_lyrics(file if file.is_absolute() else base / file) or None
        except LyricsError as exc:
            raise ManifestError(f"{where}: {exc}") from None
    return text


def _numeric_columns(rows: list[dict[str, str]], columns: list[str]) -> list[str]:
    """Other columns whose every non-empty value is a number (titles, genres as text are left out)."""
    numeric = []
    for col in columns:
        values = [(r.get(col) or "").strip() for r in rows]
        filled = [v for v in values if v]
        try:
            if filled and all(math.isfinite(float(v)) for v in filled):
                numeric.append(col)
        except ValueError:
            continue
    return numeric


def read_manifest(path: Path) -> list[Track]:
    """Read and check a manifest; needs ``path`` and at least one of ``popularity`` and ``label``."""
    path = Path(path)
    name = path.name
    try:
        with path.open(encoding="utf-8-sig", newline="") as fh:
            reader = csv.DictReader(fh)
            header = [h.strip() for h in (reader.fieldnames or [])]
            raw_rows = list(reader)
    except FileNotFoundError:
        raise ManifestError(f"Manifest '{path}' does not exist.") from None
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ManifestError(f"Manifest '{name}' cannot be read as a UTF-8 CSV file ({exc}).") from None
    rows = [{(k or "").strip().lower(): (v or "").strip() for k, v in r.items() if k is not None} for r in raw_rows]
    columns = [h.lower() for h in header]
    if PATH_COLUMN not in columns:
        raise ManifestError(f"Manifest '{name}' has no 'path' column (its columns: {', '.join(header) or 'none'}).")
    if POPULARITY_COLUMN not in columns and LABEL_COLUMN not in columns:
        raise ManifestError(f"Manifest '{name}' needs a 'popularity' or a 'label' column, and has neither.")
    if not rows:
        raise ManifestError(f"Manifest '{name}' has no rows.")
    meta_columns = _numeric_columns(rows, [c for c in columns if c not in _RESERVED])
    base = path.resolve().parent
    tracks: list[Track] = []
    missing: list[str] = []
    for i, row in enumerate(rows, start=2):  # row 1 is the header
        where = f"Manifest '{name}' row {i}"
        text_path = row.get(PATH_COLUMN, "")
        if not text_path:
            raise ManifestError(f"{where} has an empty 'path'.")
        track_path = Path(text_path).expanduser()
        track_path = track_path if track_path.is_absolute() else base / track_path
        if not track_path.is_file():
            missing.append(text_path)
        pop_text, label_text = row.get(POPULARITY_COLUMN, ""), row.get(LABEL_COLUMN, "")
        if not pop_text and not label_text:
            raise ManifestError(f"{where} has neither a popularity nor a label.")
        meta = {c: (_number(row[c], where, c) if row.get(c) else math.nan) for c in meta_columns}
        tracks.append(
            Track(
                path=track_path.resolve(),
                popularity=_number(pop_text, where, POPULARITY_COLUMN) if pop_text else None,
                label=_label(label_text, where) if label_text else None,
                artist=row.get(ARTIST_COLUMN) or None,
                meta=meta,
                lyrics=_lyrics(row.get(LYRICS_COLUMN, ""), base, where),
            )
        )
    if missing:
        more = f" and {len(missing) - 1} more" if len(missing) > 1 else ""
        raise ManifestError(f"Manifest '{name}' lists files that do not exist: '{missing[0]}'{more}.")
    log.info("%s: %d tracks, metadata columns %s", path, len(tracks), meta_columns)
    return tracks


def _artist_names(artist: str | None) -> list[str]:
    if not artist:
        return []
    text = artist
    for sep in ARTIST_SEPARATORS[1:]:
        text = text.replace(sep, ARTIST_SEPARATORS[0])
    return [a.strip().casefold() for a in text.split(ARTIST_SEPARATORS[0]) if a.strip()]


def artist_groups(tracks: Sequence[Track]) -> np.ndarray:
    """An int group per track: tracks sharing any artist share a group; no artist -> a group of its own.

    The grouping is the chart data's (``zalo.artist_groups``, connected components of shared
    artists), fed with artist numbers so that names containing dots stay whole.
    """
    from hitdesk.training.zalo import artist_groups as connected_groups

    numbers: dict[str, int] = {}
    joined = [".".join(str(numbers.setdefault(a, len(numbers))) for a in _artist_names(t.artist)) for t in tracks]
    return connected_groups(joined)


def grouped_kfold(groups: np.ndarray, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """``k`` (train, test) index pairs; every group sits in exactly one test part.

    Groups are shuffled with ``seed`` and then placed largest first into the currently smallest
    fold, so folds have similar sizes and each seed gives another deterministic split.
    """
    groups = np.asarray(groups)
    values, inverse, counts = np.unique(groups, return_inverse=True, return_counts=True)
    if len(values) < k:
        raise ValueError(f"{len(values)} groups cannot fill {k} folds")
    order = np.random.default_rng(seed).permutation(len(values))
    order = order[np.argsort(-counts[order], kind="stable")]
    fold_of_group = np.empty(len(values), dtype=np.int64)
    sizes = np.zeros(k, dtype=np.int64)
    for g in order:
        f = int(np.argmin(sizes))
        fold_of_group[g] = f
        sizes[f] += counts[g]
    fold = fold_of_group[inverse.reshape(-1)]
    all_idx = np.arange(len(groups))
    return [(all_idx[fold != f], all_idx[fold == f]) for f in range(k)]


def hit_labels(tracks: Sequence[Track], hit_quantile: float = 0.7) -> np.ndarray:
    """0/1 per track: its label if given, else popularity at or above the ``hit_quantile`` of the popularities.

    The default 0.7 makes the top 30% hits, the chart data's definition (rank <= 3 of 10).
    """
    if not 0.0 < hit_quantile < 1.0:
        raise ValueError(f"hit_quantile must be between 0 and 1, not {hit_quantile}")
    pops = np.array([t.popularity for t in tracks if t.popularity is not None], dtype=np.float64)
    threshold = float(np.quantile(pops, hit_quantile)) if pops.size else math.nan
    out = np.empty(len(tracks), dtype=np.int64)
    for i, t in enumerate(tracks):
        if t.label is not None:
            out[i] = t.label
        elif t.popularity is not None:
            out[i] = int(t.popularity >= threshold)
        else:
            raise ManifestError(f"Track '{t.path.name}' has neither a label nor a popularity.")
    return out
