"""Loading the Zalo AI 2019 chart data and its artist-disjoint cross-validation folds.

The chart data is the only real, labelled hit data available offline. Its statistics were computed
with the same recipe as ``hitdesk.dsp`` (see the data README), so a model trained here sees inputs
computed like the app's. Songs by one artist resemble each other and share an audience, so every
split here keeps artists on one side only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupKFold

from hitdesk.config import STAT_COLUMNS

log = logging.getLogger(__name__)

HIT_MAX_RANK = 3
N_FOLDS = 5
MFCC_COLUMNS: tuple[str, ...] = tuple(c for c in STAT_COLUMNS if c.startswith("mfcc_"))


@dataclass(frozen=True)
class ChartData:
    """Songs with their 42 statistics (``STAT_COLUMNS`` order) and chart labels, aligned by row."""

    ids: np.ndarray  # int64 [n]
    stats: np.ndarray  # float64 [n, 42]
    rank: np.ndarray  # int64 [n], 1 (best) .. 10
    n_dropped: int
    genre: np.ndarray | None = None  # object [n]
    artist_ids: np.ndarray | None = None  # object [n], ids joined with '.'
    groups: np.ndarray | None = None  # int64 [n], connected components of shared artists

    @property
    def hit(self) -> np.ndarray:
        return (self.rank <= HIT_MAX_RANK).astype(np.int64)

    @property
    def n(self) -> int:
        return int(self.stats.shape[0])


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, key: str) -> str:
        self.parent.setdefault(key, key)
        root = key
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[key] != root:  # path compression
            self.parent[key], key = root, self.parent[key]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def artist_groups(artist_ids: list[str] | np.ndarray) -> np.ndarray:
    """Group songs so that any two songs sharing an artist id end up in the same group.

    Grouping on the raw ``artist_id`` string would put "455" and "455.306" in different groups and
    leak artist 455 across a split; union-find over the individual ids closes that gap, including
    chains (a.b, b.c -> one group). Group numbers follow first appearance, so they are deterministic.
    """
    uf = _UnionFind()
    song_artists: list[list[str]] = []
    for i, raw in enumerate(artist_ids):
        parts = [p.strip() for p in str(raw).split(".") if p.strip() and str(raw) != "nan"]
        if not parts:
            parts = [f"__song_{i}"]  # unknown artist: the song is its own group
        song_artists.append(parts)
        for other in parts[1:]:
            uf.union(parts[0], other)
    numbering: dict[str, int] = {}
    groups = np.empty(len(song_artists), dtype=np.int64)
    for i, parts in enumerate(song_artists):
        groups[i] = numbering.setdefault(uf.find(parts[0]), len(numbering))
    return groups


def _read_stats(data_dir: Path) -> tuple[pd.DataFrame, int]:
    features = pd.read_csv(data_dir / "features.csv")
    missing = [c for c in ("id", *STAT_COLUMNS) if c not in features.columns]
    if missing:
        raise ValueError(f"{data_dir / 'features.csv'} lacks columns {missing}")
    features = features[["id", *STAT_COLUMNS]].copy()
    features["id"] = features["id"].astype(np.int64)
    # A failed extraction leaves every MFCC statistic at zero (tempo and duration may still be set).
    failed = (features[list(MFCC_COLUMNS)] == 0).all(axis=1) | features[list(STAT_COLUMNS)].isna().any(axis=1)
    n_dropped = int(failed.sum())
    if n_dropped:
        log.info("dropping %d songs whose MFCC statistics are all zero or missing", n_dropped)
    return features.loc[~failed].reset_index(drop=True), n_dropped


def _read_ranks(data_dir: Path) -> pd.DataFrame:
    ranks = pd.read_csv(data_dir / "ranks.csv")
    ranks = ranks.rename(columns={"ID": "id"})[["id", "label"]]
    ranks["id"] = ranks["id"].astype(np.int64)
    return ranks.rename(columns={"label": "rank"})


def load_scored(data_dir: str | Path) -> ChartData:
    """Statistics and ranks only: what ``evaluate`` needs from a directory in the zalo format."""
    data_dir = Path(data_dir)
    features, n_dropped = _read_stats(data_dir)
    table = features.merge(_read_ranks(data_dir), on="id", how="inner", validate="one_to_one")
    log.info("%s: %d songs with statistics and rank", data_dir, len(table))
    return ChartData(
        ids=table["id"].to_numpy(np.int64, copy=True),
        stats=table[list(STAT_COLUMNS)].to_numpy(np.float64, copy=True),
        rank=table["rank"].to_numpy(np.int64, copy=True),
        n_dropped=n_dropped,
    )


def load_zalo(data_dir: str | Path) -> ChartData:
    """Join features, ranks, artists (info.tsv) and genre (metadata.csv) on the song id."""
    data_dir = Path(data_dir)
    features, n_dropped = _read_stats(data_dir)
    info = pd.read_csv(data_dir / "info.tsv", sep="\t", dtype={"artist_id": str})[["ID", "artist_id"]]
    info = info.rename(columns={"ID": "id"})
    meta = pd.read_csv(data_dir / "metadata.csv")[["id", "genre"]]
    table = (
        features.merge(_read_ranks(data_dir), on="id", how="inner", validate="one_to_one")
        .merge(info, on="id", how="inner", validate="one_to_one")
        .merge(meta, on="id", how="left", validate="one_to_one")
    )
    table["genre"] = table["genre"].fillna("unknown").astype(str)
    artists = table["artist_id"].fillna("").astype(str).to_numpy(object, copy=True)
    groups = artist_groups(artists)
    log.info(
        "%s: %d songs, %d dropped, %d artist groups, hit rate %.3f",
        data_dir,
        len(table),
        n_dropped,
        len(np.unique(groups)),
        float((table["rank"] <= HIT_MAX_RANK).mean()),
    )
    return ChartData(
        ids=table["id"].to_numpy(np.int64, copy=True),
        stats=table[list(STAT_COLUMNS)].to_numpy(np.float64, copy=True),
        rank=table["rank"].to_numpy(np.int64, copy=True),
        n_dropped=n_dropped,
        genre=table["genre"].to_numpy(object, copy=True),
        artist_ids=artists,
        groups=groups,
    )


def cv_folds(groups: np.ndarray, n_splits: int = N_FOLDS) -> list[tuple[np.ndarray, np.ndarray]]:
    """Artist-disjoint folds; GroupKFold is deterministic, so every model sees the same folds."""
    splitter = GroupKFold(n_splits=n_splits)
    dummy = np.zeros((len(groups), 1))
    return [(train, test) for train, test in splitter.split(dummy, groups=groups)]


def fold_index(groups: np.ndarray, n_splits: int = N_FOLDS) -> np.ndarray:
    """For each song, the fold in which it is held out."""
    index = np.full(len(groups), -1, dtype=np.int64)
    for k, (_, test) in enumerate(cv_folds(groups, n_splits)):
        index[test] = k
    return index
