"""The manifest's optional lyrics column: text in the cell, or a .txt/.lrc file beside the manifest."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitdesk.training.manifest import ManifestError, read_manifest


def _folder(tmp_path: Path) -> Path:
    for name in ("a.wav", "b.wav", "c.wav", "d.wav"):
        (tmp_path / name).write_bytes(b"")
    (tmp_path / "words").mkdir()
    (tmp_path / "words" / "b.lrc").write_text("[ti:B]\n[00:01.00]Hello <00:01.50>there\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("Plain words\n", encoding="utf-8")
    return tmp_path


def test_lyrics_cells_are_text_or_files(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "m.csv").write_text(
        'path,label,lyrics,year\na.wav,1,"Line one\nline two",2001\nb.wav,0,words/b.lrc,2002\n'
        f"c.wav,1,{folder / 'c.txt'},2003\nd.wav,0,,2004\n",
        encoding="utf-8",
    )
    tracks = read_manifest(folder / "m.csv")
    assert [t.lyrics for t in tracks] == ["Line one\nline two", "Hello there", "Plain words", None]
    assert all(list(t.meta) == ["year"] for t in tracks)  # lyrics is never a metadata column


def test_manifests_without_lyrics_read_as_before(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "m.csv").write_text("path,label\na.wav,1\n", encoding="utf-8")
    assert read_manifest(folder / "m.csv")[0].lyrics is None


def test_a_missing_lyrics_file_is_one_sentence_naming_the_row(tmp_path: Path) -> None:
    folder = _folder(tmp_path)
    (folder / "m.csv").write_text("path,label,lyrics\na.wav,1,ok\nb.wav,0,gone.lrc\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"^Manifest 'm.csv' row 3: Lyrics file .*gone.lrc' does not exist\.$"):
        read_manifest(folder / "m.csv")
