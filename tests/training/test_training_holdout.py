"""``hitdesk-train split-artists``: two folders in the chart data's format with no artist on both sides."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from training_data import write_synthetic_zalo

from hitdesk.training.cli import main
from hitdesk.training.zalo import load_zalo


def test_split_keeps_every_artist_on_one_side(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_synthetic_zalo(tmp_path / "zalo", n_songs=300, n_artists=40)
    info = pd.read_csv(data / "info.tsv", sep="\t", dtype={"artist_id": str})
    info.loc[0, "artist_id"] = f"{info.loc[0, 'artist_id']}.{info.loc[150, 'artist_id']}"  # a collaboration
    info.to_csv(data / "info.tsv", sep="\t", index=False)
    assert main(["split-artists", "--data", str(data), "--out", str(tmp_path / "split"), "--share", "0.25"]) == 0
    assert "held-out:" in capsys.readouterr().out
    train, held = load_zalo(tmp_path / "split" / "train"), load_zalo(tmp_path / "split" / "held-out")
    assert train.n + held.n == load_zalo(data).n and 0 < held.n < train.n
    assert not set(train.ids) & set(held.ids)
    artists = [{a for ids in d.artist_ids for a in str(ids).split(".")} for d in (train, held)]
    assert not artists[0] & artists[1]


def test_split_refuses_a_share_outside_zero_and_one(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_synthetic_zalo(tmp_path / "zalo", n_songs=50, n_artists=10)
    assert main(["split-artists", "--data", str(data), "--out", str(tmp_path / "s"), "--share", "1.5"]) == 2
    assert "--share must be between 0 and 1" in capsys.readouterr().err
