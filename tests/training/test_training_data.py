"""Chart data loading, artist grouping and folds: the parts every reported number rests on."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from shared_folder import ZALO
from training_data import write_synthetic_zalo

from hitdesk.config import N_STATS, STAT_COLUMNS
from hitdesk.training.zalo import artist_groups, cv_folds, fold_index, load_scored, load_zalo


def _artists_per_fold(artist_ids: np.ndarray, fold: np.ndarray) -> list[set[str]]:
    return [{a for ids in artist_ids[fold == k] for a in str(ids).split(".")} for k in np.unique(fold)]


def test_union_find_joins_songs_that_share_any_artist() -> None:
    groups = artist_groups(["1", "2", "1.3", "3.4", "5", "4", "", "2"])
    assert groups[0] == groups[2] == groups[3] == groups[5]  # 1 - 1.3 - 3.4 - 4: one chain
    assert groups[1] == groups[7]
    assert len({groups[0], groups[1], groups[4], groups[6]}) == 4  # unknown artist: its own group
    assert groups.tolist() == artist_groups(["1", "2", "1.3", "3.4", "5", "4", "", "2"]).tolist()


def test_loader_joins_files_and_drops_failed_rows(tmp_path: Path) -> None:
    data = load_zalo(write_synthetic_zalo(tmp_path, n_songs=200, n_artists=30))
    assert data.n == 199 and data.n_dropped == 1
    assert data.stats.shape == (199, N_STATS)
    assert not np.any(np.all(data.stats[:, :40] == 0, axis=1))
    assert set(np.unique(data.hit)) == {0, 1}
    assert np.array_equal(data.hit, (data.rank <= 3).astype(int))
    assert data.genre is not None and data.groups is not None
    scored = load_scored(tmp_path)
    assert scored.n == 199 and scored.n_dropped == 1 and np.array_equal(scored.ids, data.ids)


def test_folds_are_artist_disjoint_and_deterministic(tmp_path: Path) -> None:
    data = load_zalo(write_synthetic_zalo(tmp_path, n_songs=300, n_artists=40))
    assert data.groups is not None and data.artist_ids is not None
    fold = fold_index(data.groups)
    assert set(fold.tolist()) == set(range(5))
    seen = _artists_per_fold(data.artist_ids, fold)
    for i in range(5):
        for j in range(i + 1, 5):
            assert not seen[i] & seen[j]
    again = cv_folds(data.groups)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(cv_folds(data.groups), again, strict=True))


@pytest.mark.zalo
def test_real_chart_data() -> None:
    if not (ZALO / "features.csv").is_file():
        pytest.skip(f"needs the chart data in {ZALO} (kept outside the repository)")
    data = load_zalo(ZALO)
    assert data.n_dropped == 1
    assert data.n == 7675
    assert 0.28 < data.hit.mean() < 0.32
    assert data.stats.shape[1] == len(STAT_COLUMNS)
    assert -530 < data.stats[:, 0].mean() < -490  # mfcc_mean_0, as in the README
    assert data.groups is not None and data.artist_ids is not None
    seen = _artists_per_fold(data.artist_ids, fold_index(data.groups))
    assert all(not seen[i] & seen[j] for i in range(5) for j in range(i + 1, 5))
