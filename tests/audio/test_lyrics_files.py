"""Lyrics as text, .txt or .lrc files (time tags stripped), and the file beside an audio file."""

from __future__ import annotations

from pathlib import Path

import pytest

from hitdesk.text.lyrics import LyricsError, lyrics_beside, read_lyrics, strip_lrc

LRC = "[ar:Someone]\n[ti:A Song]\n[offset:+100]\n[00:12.30]First line here\n[00:15.00][01:15.00]Chorus <00:15.20>word\n"


def test_lrc_time_tags_and_id_lines_are_stripped() -> None:
    assert strip_lrc(LRC) == "First line here\nChorus word"


def test_read_txt_and_lrc(tmp_path: Path) -> None:
    (tmp_path / "a.lrc").write_text(LRC, encoding="utf-8")
    (tmp_path / "b.txt").write_text("\ufeff  [00:01.00] kept as written\n", encoding="utf-8")
    assert read_lyrics(tmp_path / "a.lrc") == "First line here\nChorus word"
    assert read_lyrics(tmp_path / "b.txt") == "[00:01.00] kept as written"


def test_bad_lyrics_files_are_one_sentence(tmp_path: Path) -> None:
    with pytest.raises(LyricsError, match="does not exist"):
        read_lyrics(tmp_path / "none.txt")
    (tmp_path / "x.doc").write_text("x", encoding="utf-8")
    with pytest.raises(LyricsError, match=r"\.txt or \.lrc"):
        read_lyrics(tmp_path / "x.doc")
    (tmp_path / "bin.txt").write_bytes(b"\xff\xfe\x00\x80bad")
    with pytest.raises(LyricsError, match="not UTF-8"):
        read_lyrics(tmp_path / "bin.txt")


def test_lyrics_beside_prefers_lrc(tmp_path: Path) -> None:
    audio = tmp_path / "song.flac"
    audio.write_bytes(b"")
    assert lyrics_beside(audio) is None
    (tmp_path / "song.txt").write_text("t", encoding="utf-8")
    assert lyrics_beside(audio) == tmp_path / "song.txt"
    (tmp_path / "song.lrc").write_text("[00:01.00]l", encoding="utf-8")
    assert lyrics_beside(audio) == tmp_path / "song.lrc"
