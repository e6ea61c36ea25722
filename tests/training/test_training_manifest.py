"""The training manifest: columns, numbers, relative paths, artist groups and hit labels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hitdesk.training.manifest import ManifestError, Track, artist_groups, hit_labels, read_manifest


def _write(folder: Path, text: str) -> Path:
    (folder / "audio").mkdir(exist_ok=True)
    for name in ("a.ogg", "b.ogg", "c.ogg"):
        (folder / "audio" / name).write_bytes(b"x")
    path = folder / "m.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_reads_relative_paths_numbers_and_metadata(tmp_path: Path) -> None:
    csv = _write(
        tmp_path,
        "path,popularity,label,artist,title,year\n"
        "audio/a.ogg,12.5,1,Ana,Song A,2017\n"
        f"{tmp_path / 'audio' / 'b.ogg'},3,,Bo,Song B,\n"
        "audio/c.ogg,,0,,Song C,2018\n",
    )
    tracks = read_manifest(csv)
    assert [t.path for t in tracks] == [(tmp_path / "audio" / n).resolve() for n in ("a.ogg", "b.ogg", "c.ogg")]
    assert [t.popularity for t in tracks] == [12.5, 3.0, None]
    assert [t.label for t in tracks] == [1, None, 0]
    assert [t.artist for t in tracks] == ["Ana", "Bo", None]
    # 'title' is text, so it is not metadata; an empty number is NaN.
    assert set(tracks[0].meta) == {"year"} and tracks[0].meta["year"] == 2017.0
    assert np.isnan(tracks[1].meta["year"])


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("file,popularity\naudio/a.ogg,1\n", "no 'path' column"),
        ("path,artist\naudio/a.ogg,x\n", "needs a 'popularity' or a 'label'"),
        ("path,popularity\naudio/a.ogg,lots\n", "row 2: 'popularity' is 'lots'"),
        ("path,label\naudio/a.ogg,2\n", "it must be 0 or 1"),
        ("path,popularity\naudio/a.ogg,\n", "row 2 has neither"),
        ("path,popularity\naudio/zz.ogg,1\naudio/yy.ogg,2\n", "do not exist: 'audio/zz.ogg' and 1 more"),
        ("path,popularity\n", "has no rows"),
    ],
)
def test_problems_are_one_sentence(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ManifestError, match=message):
        read_manifest(_write(tmp_path, text))


def test_missing_manifest(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="does not exist"):
        read_manifest(tmp_path / "none.csv")


def _track(artist: str | None, popularity: float | None = None, label: int | None = None) -> Track:
    return Track(Path("/x.ogg"), popularity, label, artist, {})


def test_artist_groups_join_shared_artists() -> None:
    tracks = [_track("Ana"), _track("Bo; ana"), _track("Cy"), _track(None), _track(None), _track("Dr. Dre|Cy")]
    groups = artist_groups(tracks)
    assert groups[0] == groups[1]  # shared artist, case-insensitive
    assert groups[2] == groups[5]  # "Dr. Dre" stays one name; Cy links them
    assert len({groups[0], groups[2], groups[3], groups[4]}) == 4  # no artist: a group each


def test_hit_labels_prefer_label_then_quantile() -> None:
    pops = [float(p) for p in range(10)]
    tracks = [_track(None, popularity=p) for p in pops] + [_track(None, popularity=0.0, label=1)]
    hit = hit_labels(tracks)
    threshold = np.quantile([*pops, 0.0], 0.7)
    assert list(hit[:10]) == [int(p >= threshold) for p in pops]
    assert hit[10] == 1
    with pytest.raises(ValueError):
        hit_labels(tracks, 1.5)
