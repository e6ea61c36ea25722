"""expand_inputs: folders stand for the audio files inside them; other paths pass through."""

from __future__ import annotations

from pathlib import Path

from hitdesk.audio import AUDIO_EXTENSIONS, InputProblem, expand_inputs


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    return path


def test_extensions() -> None:
    expected = {"wav", "wave", "aif", "aiff", "aifc", "flac", "ogg", "oga", "opus", "mp3"}
    expected |= {"m4a", "mp4", "aac", "wma", "webm", "mka", "caf", "w64"}
    assert expected == AUDIO_EXTENSIONS


def test_nested_folders_are_searched_and_sorted(tmp_path: Path) -> None:
    root = tmp_path / "takes"
    wanted = [
        touch(root / "A intro.wav"),
        touch(root / "b" / "02 verse.FLAC"),
        touch(root / "b" / "10 chorus.mp3"),
        touch(root / "b" / "c" / "deep.m4a"),
        touch(root / "zz.opus"),
    ]
    touch(root / "notes.txt")
    touch(root / "cover.jpg")
    touch(root / "b" / "session.als")
    touch(root / "._A intro.wav")  # macOS resource fork, not audio
    touch(root / ".cache" / "hidden.wav")

    result = expand_inputs([root])
    assert result == [
        root / "A intro.wav",
        root / "b" / "02 verse.FLAC",
        root / "b" / "10 chorus.mp3",
        root / "b" / "c" / "deep.m4a",
        root / "zz.opus",
    ]
    assert sorted(wanted) == sorted(p for p in result if isinstance(p, Path))


def test_folder_without_audio_gives_one_problem(tmp_path: Path) -> None:
    empty = tmp_path / "Empty Folder"
    empty.mkdir()
    touch(empty / "sub" / "readme.txt")
    assert expand_inputs([empty]) == [InputProblem(empty, "No audio files found in folder 'Empty Folder'.")]


def test_plain_paths_pass_through_in_order(tmp_path: Path) -> None:
    folder = tmp_path / "f"
    song = touch(folder / "song.ogg")
    missing = tmp_path / "missing.wav"
    odd = touch(tmp_path / "recording.xyz")  # an explicit file is taken whatever its extension
    result = expand_inputs([str(missing), folder, odd, str(song)])
    assert result == [missing, song, odd, song]
    assert all(isinstance(p, Path) for p in result)


def test_empty_argument_list() -> None:
    assert expand_inputs([]) == []
