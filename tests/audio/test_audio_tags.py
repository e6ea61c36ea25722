"""read_tags: title, artist, album and duration from tags, never raising."""

from __future__ import annotations

from pathlib import Path

import mutagen
import pytest
from mutagen.easyid3 import EasyID3
from mutagen.easymp4 import EasyMP4
from mutagen.flac import FLAC
from mutagen.oggvorbis import OggVorbis

from hitdesk.audio import Tags, read_tags


def test_flac_tags(audio_factory) -> None:
    path = audio_factory.sndfile("tagged.flac", subtype="PCM_16", seconds=2.0)
    audio = FLAC(path)
    audio["title"] = "Golden Hour"
    audio["artist"] = ["Ana", "Bo"]
    audio["album"] = "Demos"
    audio.save()

    tags = read_tags(path)
    assert tags == Tags(title="Golden Hour", artist="Ana; Bo", album="Demos", duration_s=pytest.approx(2.0))
    assert tags.to_dict() == {
        "title": "Golden Hour",
        "artist": "Ana; Bo",
        "album": "Demos",
        "duration_s": tags.duration_s,
    }


def test_ogg_tags_from_the_committed_clip(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "clip.ogg"
    path.write_bytes((data_dir / "chipdisko-12s.ogg").read_bytes())
    audio = OggVorbis(path)
    audio["title"] = "Mortimer's Chipdisko"
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album) == ("Mortimer's Chipdisko", None, None)
    assert tags.duration_s == pytest.approx(12.0, abs=0.01)


def test_mp3_tags(audio_factory) -> None:
    path = audio_factory.encoded("tagged.mp3", "libmp3lame")
    audio = mutagen.File(path, easy=True)
    assert isinstance(audio.tags, EasyID3) or audio.tags is None
    if audio.tags is None:
        audio.add_tags()
    audio["title"] = "Näher"
    audio["artist"] = "Zoë"
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album) == ("Näher", "Zoë", None)
    assert tags.duration_s == pytest.approx(3.0, abs=0.1)


def test_m4a_tags(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "clip.m4a"
    path.write_bytes((data_dir / "forest-sprint-6s.m4a").read_bytes())
    audio = EasyMP4(path)
    audio["title"] = "Forest Sprint"
    audio["album"] = "SuperTux"
    audio.save()
    tags = read_tags(path)
    assert (tags.title, tags.artist, tags.album) == ("Forest Sprint", None, "SuperTux")
    assert tags.duration_s == pytest.approx(6.0, abs=0.1)


def test_untagged_wav_has_duration_only(audio_factory) -> None:
    tags = read_tags(audio_factory.sndfile("plain.wav", seconds=1.5))
    assert tags == Tags(duration_s=pytest.approx(1.5))


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 100, b"ID3\x04\x00\x00\xff\xff\xff\xff garbage"])
def test_unreadable_tags_give_empty_tags(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "broken.mp3"
    path.write_bytes(content)
    assert read_tags(path) == Tags()


def test_missing_file_gives_empty_tags(tmp_path: Path) -> None:
    assert read_tags(tmp_path / "nope.flac") == Tags()
    assert read_tags(tmp_path) == Tags()
