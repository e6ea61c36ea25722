"""An artist-disjoint split of a chart-data folder into two folders of the same format.

The chart data's other songs were kept aside by the challenge, so a check on "songs of artists the
model never saw" needs a split made here: ``train/`` to fit a model on, ``held-out/`` for
``hitdesk-train evaluate --head ... --data held-out``. Songs sharing any artist id stay on one side
(the connected artist groups of ``zalo.artist_groups``); which groups are held out is drawn with a
fixed seed, so the split is the same on every machine.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.model_selection import GroupShuffleSplit

from hitdesk.training.zalo import artist_groups

log = logging.getLogger(__name__)

FILES = {"features.csv": ("id", ","), "ranks.csv": ("ID", ","), "info.tsv": ("ID", "\t"), "metadata.csv": ("id", ",")}
TRAIN, HELD_OUT = "train", "held-out"


def split_artists(data_dir: Path, out_dir: Path, share: float = 0.2, seed: int = 0) -> dict[str, Any]:
    """Writes ``out_dir/train`` and ``out_dir/held-out`` (``share`` of the artist groups); returns the counts."""
    if not 0.0 < share < 1.0:
        raise ValueError("--share must be between 0 and 1")
    info = pd.read_csv(data_dir / "info.tsv", sep="\t", dtype={"artist_id": str})
    groups = artist_groups(info["artist_id"].fillna("").astype(str).to_numpy(object))
    splitter = GroupShuffleSplit(n_splits=1, test_size=share, random_state=seed)
    train_idx, held_idx = next(splitter.split(np.zeros((len(info), 1)), groups=groups))
    parts = {TRAIN: set(info["ID"].to_numpy()[train_idx]), HELD_OUT: set(info["ID"].to_numpy()[held_idx])}
    for name, (key, sep) in FILES.items():
        table = pd.read_csv(data_dir / name, sep=sep, dtype=str, keep_default_na=False)
        ids = pd.to_numeric(table[key], errors="coerce")
        for part, keep in parts.items():
            folder = out_dir / part
            folder.mkdir(parents=True, exist_ok=True)
            table[ids.isin(keep)].to_csv(folder / name, sep=sep, index=False)
    result = {
        "seed": seed,
        "share": share,
        TRAIN: {"songs": len(train_idx), "artist_groups": len(np.unique(groups[train_idx]))},
        HELD_OUT: {"songs": len(held_idx), "artist_groups": len(np.unique(groups[held_idx]))},
    }
    log.info("split %s: %s", data_dir, result)
    return result
