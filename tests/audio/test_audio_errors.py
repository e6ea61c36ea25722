"""Bad inputs give one plain sentence naming the file; inputs are never written; files get closed."""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from hitdesk.audio import decode_all, iter_blocks, probe, read_excerpts, read_tags
from hitdesk.errors import DecodeError, HitdeskError, InputNotFoundError

SR = 22050
READERS: dict[str, Callable[[Path], object]] = {
    "probe": probe,
    "decode_all": decode_all,
    "iter_blocks": lambda p: list(iter_blocks(p)),
    "read_excerpts": lambda p: read_excerpts(p, [0.0, 1.0], 0.5),
}


def assert_one_sentence(message: str, name: str) -> None:
    quoted = f"'{name}'"
    assert quoted in message
    rest = message.replace(quoted, "NAME")
    assert rest.endswith(".") and rest.count(".") == 1 and "\n" not in rest, message


@pytest.mark.parametrize("reader", READERS)
def test_missing_file(tmp_path: Path, reader: str) -> None:
    with pytest.raises(InputNotFoundError) as err:
        READERS[reader](tmp_path / "nope.ogg")
    assert str(err.value) == "File not found: 'nope.ogg'."


def test_missing_file_is_reported_when_iter_blocks_is_called(tmp_path: Path) -> None:
    with pytest.raises(InputNotFoundError):
        iter_blocks(tmp_path / "nope.wav")  # not only on the first next()


def _folder(tmp_path: Path) -> Path:
    folder = tmp_path / "album.flac"
    folder.mkdir()
    return folder


def _empty(tmp_path: Path) -> Path:
    path = tmp_path / "empty.wav"
    path.write_bytes(b"")
    return path


def _text_as_mp3(tmp_path: Path) -> Path:
    path = tmp_path / "notes.mp3"
    path.write_text("Shopping list: eggs, milk, a better chorus.\n" * 40)
    return path


def _random_bytes(tmp_path: Path) -> Path:
    path = tmp_path / "noise.m4a"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 50_000, dtype=np.uint8).tobytes())
    return path


def _wav_header_only(tmp_path: Path) -> Path:
    import soundfile as sf

    full = tmp_path / "full.wav"
    sf.write(full, np.zeros((1000, 2), dtype=np.float32), 44100, subtype="PCM_16")
    path = tmp_path / "header.wav"
    path.write_bytes(full.read_bytes()[:30])
    return path


def _ogg_header_only(tmp_path: Path, data_dir: Path) -> Path:
    path = tmp_path / "stub.ogg"
    path.write_bytes((data_dir / "chipdisko-12s.ogg").read_bytes()[:3000])
    return path


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (_folder, "it is a folder, not an audio file"),
        (_empty, "the file is empty"),
        (_text_as_mp3, "the file is damaged or not audio"),
        (_random_bytes, "the file is damaged or not audio"),
        (_wav_header_only, "the file is damaged or not audio"),
    ],
)
@pytest.mark.parametrize("reader", READERS)
def test_unreadable_inputs_raise_decode_error(
    tmp_path: Path, make: Callable[[Path], Path], reason: str, reader: str
) -> None:
    path = make(tmp_path)
    with pytest.raises(DecodeError) as err:
        READERS[reader](path)
    assert str(err.value) == f"Cannot decode '{path.name}': {reason}."
    assert_one_sentence(str(err.value), path.name)


def test_ogg_with_headers_only_is_an_error_or_empty(tmp_path: Path, data_dir: Path) -> None:
    path = _ogg_header_only(tmp_path, data_dir)
    try:
        y = decode_all(path)
    except DecodeError as err:
        assert_one_sentence(str(err), path.name)
    else:
        assert len(y) < SR


def _cut(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def _garble(src: Path, dst: Path, seed: int) -> Path:
    data = bytearray(src.read_bytes())
    rng = np.random.default_rng(seed)
    for pos in rng.integers(len(data) // 10, len(data), 300):
        data[pos] = int(rng.integers(0, 256))
    dst.write_bytes(bytes(data))
    return dst


@pytest.mark.timeout(60)
@pytest.mark.parametrize("damage", ["cut", "garble"])
@pytest.mark.parametrize("clip", ["chipdisko-12s.ogg", "elvish-theme-3s-24bit.flac", "forest-sprint-6s.m4a"])
def test_damaged_files_decode_partly_or_raise(
    tmp_path: Path, data_dir: Path, clip: str, damage: str, caplog: pytest.LogCaptureFixture
) -> None:
    src = data_dir / clip
    dst = tmp_path / f"damaged-{clip}"
    _cut(src, dst, 0.4) if damage == "cut" else _garble(src, dst, seed=len(clip))
    for name, read in READERS.items():
        try:
            result = read(dst)
        except HitdeskError as err:
            assert isinstance(err, DecodeError), name
            assert_one_sentence(str(err), dst.name)
            continue
        if name == "decode_all":
            assert isinstance(result, np.ndarray)
            assert np.isfinite(result).all()
            assert len(result) <= len(decode_all(src)) + SR


@pytest.mark.parametrize("name", ["cut.wav", "cut.flac", "cut.mp3"])
def test_truncated_file_returns_what_decodes_with_a_warning(
    audio_factory, name: str, caplog: pytest.LogCaptureFixture
) -> None:
    if name.endswith(".mp3"):
        whole = audio_factory.encoded("whole-" + name, "libmp3lame", seconds=4.0)
    else:
        whole = audio_factory.sndfile("whole-" + name, sr=44100, seconds=4.0, subtype="PCM_24")
    path = _cut(whole, audio_factory.folder / name, 0.5)
    with caplog.at_level(logging.WARNING, logger="hitdesk.audio"):
        y = decode_all(path)
    assert 1.6 * SR < len(y) < 2.4 * SR  # about half of the 4 s, up to where the cut is
    full = decode_all(whole)
    n = len(y) - 2000  # the resampler's tail differs where the file ends
    assert np.corrcoef(y[:n], full[:n])[0, 1] > 0.999
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(path.name in w and "truncated" in w for w in warnings), warnings


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="needs file permissions that apply")
def test_unreadable_file(data_dir: Path, tmp_path: Path) -> None:
    path = tmp_path / "locked.ogg"
    path.write_bytes((data_dir / "chipdisko-12s.ogg").read_bytes())
    path.chmod(0)
    try:
        with pytest.raises(DecodeError) as err:
            probe(path)
        assert str(err.value) == "Cannot read 'locked.ogg': permission denied."
    finally:
        path.chmod(0o600)


# --- inputs are only read ---------------------------------------------------------------------------


def _fingerprint(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return hashlib.sha256(path.read_bytes()).hexdigest(), st.st_size, st.st_mtime_ns


def test_inputs_are_not_modified(data_dir: Path, audio_factory) -> None:
    paths = [
        data_dir / "chipdisko-12s.ogg",
        data_dir / "elvish-theme-3s-24bit.flac",
        data_dir / "forest-sprint-6s.m4a",
        audio_factory.sndfile("f.wav", subtype="FLOAT"),
        audio_factory.encoded("e.mp3", "libmp3lame"),
    ]
    before = {p: _fingerprint(p) for p in paths}
    neighbours = {p.parent: sorted(os.listdir(p.parent)) for p in paths}
    for p in paths:
        probe(p)
        decode_all(p)
        read_excerpts(p, [0.5, 1.5], 0.5)
        read_tags(p)
        blocks = iter_blocks(p, block_seconds=0.5)
        next(blocks)
        blocks.close()
    assert {p: _fingerprint(p) for p in paths} == before
    assert {d: sorted(os.listdir(d)) for d in neighbours} == neighbours  # nothing written beside them


# --- files are closed ----------------------------------------------------------------------------------

linux_only = pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc/self/fd (Linux)")


def open_descriptors(path: Path) -> list[int]:
    """This process's file descriptors open on ``path``."""
    target = os.path.realpath(path)
    found = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}") == target:
                found.append(int(fd))
        except OSError:
            continue
    return found


def access_mode(fd: int) -> int:
    for line in Path(f"/proc/self/fdinfo/{fd}").read_text().splitlines():
        if line.startswith("flags:"):
            return int(line.split()[1], 8) & os.O_ACCMODE
    raise AssertionError("no flags in fdinfo")


CLIPS = ["chipdisko-12s.ogg", "elvish-theme-3s-24bit.flac", "forest-sprint-6s.m4a"]


@linux_only
@pytest.mark.parametrize("clip", CLIPS)
def test_generator_opens_read_only_and_closes_when_stopped_early(data_dir: Path, clip: str) -> None:
    path = data_dir / clip
    blocks = iter_blocks(path, block_seconds=0.5)
    assert open_descriptors(path) == []  # nothing is opened before the first block is asked for
    next(blocks)
    fds = open_descriptors(path)
    assert fds, "the file should be open while blocks are being read"
    assert all(access_mode(fd) == os.O_RDONLY for fd in fds)
    blocks.close()
    assert open_descriptors(path) == []


@linux_only
@pytest.mark.parametrize("clip", CLIPS)
def test_files_are_closed_after_every_call(data_dir: Path, clip: str) -> None:
    path = data_dir / clip
    for read in READERS.values():
        read(path)
        assert open_descriptors(path) == []
    abandoned = iter_blocks(path, block_seconds=0.5)
    next(abandoned)
    del abandoned
    gc.collect()
    assert open_descriptors(path) == []


@linux_only
def test_files_are_closed_after_errors(tmp_path: Path, data_dir: Path) -> None:
    for path in (_text_as_mp3(tmp_path), _random_bytes(tmp_path), _garble(data_dir / CLIPS[2], tmp_path / "g.m4a", 1)):
        for read in READERS.values():
            with contextlib.suppress(DecodeError):
                read(path)
            assert open_descriptors(path) == [], (path.name, read)
