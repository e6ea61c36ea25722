"""A small synthetic data set in the zalo format, for smoke tests of the training commands.

Tests must run in a fresh clone, where the real chart data (kept outside the repository) is
absent. These files have the same columns, quirks (a failed all-zero row, multi-artist ids) and
value ranges as the real ones, with a planted signal so that the models have something to find.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from hitdesk.config import FEATURES, STAT_COLUMNS

log = logging.getLogger(__name__)

_MEAN0 = np.array([-512.0, 92.0, 14.0, 18.0, 8.0, 1.0, 2.4, 0.0, -4.3, 0.6] + [-2.0] * 10)
_SD0 = np.array([44.0, 18.0, 10.0, 8.0, 5.8, 5.4, 4.9, 5.1, 4.9, 4.0] + [3.0] * 10)
_MEAN1 = np.array([89.0, 33.0, 21.5, 17.5, 14.2, 12.6, 11.6, 10.9, 11.2, 10.8] + [9.3] * 10)
_SD1 = np.array([20.0, 5.4, 3.3, 2.3, 2.0, 1.9, 1.5, 1.5, 1.6, 1.4] + [1.3] * 10)
GENRES = ("Nhạc Trẻ", "Nhạc Trữ Tình", "Nhạc Dance", "Rap Việt")


def synthetic_stats(n: int, rng: np.random.Generator) -> np.ndarray:
    """[n, 42] statistics in ``STAT_COLUMNS`` order with realistic scales."""
    means = _MEAN0 + _SD0 * rng.standard_normal((n, FEATURES.n_mfcc))
    stds = np.abs(_MEAN1 + _SD1 * rng.standard_normal((n, FEATURES.n_mfcc)))
    tempo = rng.uniform(75.0, 185.0, n)
    duration = rng.gamma(9.0, 32.0, n) + 30.0
    return np.column_stack([means, stds, tempo, duration])


def write_synthetic_zalo(out_dir: str | Path, n_songs: int = 400, n_artists: int = 60, seed: int = 0) -> Path:
    """Write features.csv, ranks.csv, info.tsv and metadata.csv; one song's MFCC stats are all zero."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    ids = np.arange(1_073_700_000, 1_073_700_000 + n_songs, dtype=np.int64)
    stats = synthetic_stats(n_songs, rng)
    artist = rng.integers(0, n_artists, n_songs)
    artist_effect = rng.normal(0.0, 0.5, n_artists)[artist]
    # Planted signal: a wider loudness spread (mfcc_std_0) and a darker timbre (mfcc_mean_3) rank better.
    z = (stats[:, STAT_COLUMNS.index("mfcc_std_0")] - 89.0) / 20.0 - (stats[:, 3] - 18.0) / 8.0
    quality = 0.8 * z + artist_effect + rng.normal(0.0, 1.0, n_songs)
    rank = 10 - np.floor(10 * (np.argsort(np.argsort(quality)) / n_songs)).astype(np.int64)
    artist_ids = [str(a) for a in artist]
    for i in range(0, n_songs, 17):  # a few duets, written the way info.tsv joins them
        artist_ids[i] = f"{artist[i]}.{(artist[i] + 1) % n_artists}"
    stats[5, : 2 * FEATURES.n_mfcc] = 0.0  # a failed extraction
    features = pd.DataFrame(stats, columns=list(STAT_COLUMNS))
    features.insert(0, "id", ids)
    features.to_csv(out / "features.csv", index=False)
    pd.DataFrame({"ID": ids, "label": rank}).to_csv(out / "ranks.csv", index=False)
    pd.DataFrame(
        {
            "ID": ids,
            "title": [f"Song {i}" for i in range(n_songs)],
            "artist_name": [f"Artist {a}" for a in artist_ids],
            "artist_id": artist_ids,
            "composers_name": "",
            "composers_id": "",
            "release_time": "2017-10-01 20:00:00",
        }
    ).to_csv(out / "info.tsv", sep="\t", index=False)
    genre = np.asarray(GENRES, dtype=object)[rng.integers(0, len(GENRES), n_songs)]
    pd.DataFrame({"id": ids, "album": "", "genre": genre, "duration": stats[:, -1]}).to_csv(
        out / "metadata.csv", index=False
    )
    log.info("wrote a synthetic zalo data set of %d songs to %s", n_songs, out)
    return out
