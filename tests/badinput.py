"""A corpus of awkward and broken inputs, generated into a temporary folder (nothing committed).

Each ``Case`` says what a correct outcome is: ``"error"`` (one plain sentence naming the file; the
sentence must contain one of ``hints``) or ``"result"`` (scores in range, a duration near
``duration_s``). Cases whose outcome legitimately depends on timing (a file deleted while it is
analysed) accept either. Used by the CLI and app tests (tests/project/test_bad_input.py) and as fuzzing
seeds (tests/project/test_fuzz_decode.py, bench/fuzz_decode.py).
"""

from __future__ import annotations

import hashlib
import os
import stat
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import av
import numpy as np
import soundfile as sf

DATA = Path(__file__).resolve().parent / "data"


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: str  # "error", "result" or "either"
    hints: tuple[str, ...] = ()  # for errors: the sentence names one of these reasons
    duration_s: float | None = None  # for results: the duration the file really holds
    hashable: bool = True  # False for folders and files that are meant to disappear


@dataclass
class Corpus:
    root: Path
    cases: list[Case] = field(default_factory=list)

    def add(self, case: Case) -> Case:
        self.cases.append(case)
        return case

    def by_name(self, name: str) -> Case:
        return next(c for c in self.cases if c.name == name)

    def paths(self) -> list[Path]:
        return [c.path for c in self.cases]

    def hashes(self) -> dict[Path, str]:
        return {c.path: sha256(c.path) for c in self.cases if c.hashable and c.path.is_file()}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def music(sr: int, seconds: float, channels: int = 2, seed: int = 0) -> np.ndarray:
    """Beats, a bass line and chords with a little noise: enough for tempo and MFCCs to be ordinary.

    Shape ``(frames, channels)``, float32, peak about 0.7.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(round(sr * seconds)) / sr
    beat = 0.5  # 120 bpm
    phase = (t % beat) / beat
    kick = np.exp(-phase * 30) * np.sin(2 * np.pi * 60 * t)
    bar = (t // (4 * beat)).astype(int) % 4
    root = np.array([110.0, 146.8, 130.8, 98.0])[bar]
    bass = 0.3 * np.sin(2 * np.pi * root * t)
    chord = sum(0.08 * np.sin(2 * np.pi * root * k * t) for k in (2, 2.52, 3))
    out = np.empty((len(t), channels), dtype=np.float32)
    for ch in range(channels):
        noise = 0.02 * rng.standard_normal(len(t))
        out[:, ch] = 0.4 * kick + bass + chord * (1 + 0.1 * ch) + noise
    return out


def encode(
    path: Path, codec: str, data: np.ndarray, sr: int, container: str | None = None, bit_rate: int = 128_000
) -> Path:
    """Encodes ``data`` (frames, 1 or 2 channels) with FFmpeg through PyAV (e.g. libmp3lame, libopus, aac)."""
    layout = {1: "mono", 2: "stereo"}[data.shape[1]]
    with av.open(str(path), "w", format=container) as out:
        stream = out.add_stream(codec, rate=sr, layout=layout)
        stream.bit_rate = bit_rate
        ctx = stream.codec_context
        supported = [f.name for f in ctx.codec.audio_formats or ()]
        fmt = next(f for f in ("fltp", "flt", "s16p", "s16") if f in supported)
        ctx.format = fmt
        step = ctx.frame_size or 1024
        for pos in range(0, len(data), step):
            block = data[pos : pos + step]
            if fmt.startswith("s16"):
                block = np.clip(np.round(block * 32767), -32768, 32767).astype(np.int16)
            arr = block.T.copy() if fmt.endswith("p") else block.reshape(1, -1).copy()
            frame = av.AudioFrame.from_ndarray(arr, format=fmt, layout=layout)
            frame.sample_rate = sr
            frame.pts = pos
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def pcm_matroska(path: Path, data: np.ndarray, sr: int) -> Path:
    """16-bit PCM in Matroska: a file only FFmpeg reads, with any channel count (12 here: 7.1.4)."""
    layout = {12: "7.1.4", 2: "stereo", 1: "mono"}[data.shape[1]]
    with av.open(str(path), "w") as out:
        stream = out.add_stream("pcm_s16le", rate=sr, layout=layout)
        for pos in range(0, len(data), 4096):
            block = np.round(data[pos : pos + 4096] * 32767).astype(np.int16).reshape(1, -1)
            frame = av.AudioFrame.from_ndarray(block, format="s16", layout=layout)
            frame.sample_rate = sr
            frame.pts = pos
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return path


def truncate(src: Path, dst: Path, keep: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * keep)])
    return dst


def _wav_data_offset(raw: bytes) -> int:
    """Offset of the ``data`` chunk's size field in a RIFF WAV."""
    pos = 12
    while pos + 8 <= len(raw):
        cid, size = raw[pos : pos + 4], struct.unpack("<I", raw[pos + 4 : pos + 8])[0]
        if cid == b"data":
            return pos + 4
        pos += 8 + size + (size & 1)
    raise ValueError("no data chunk")


def lying_wav(path: Path, data: np.ndarray, sr: int, claimed_frames: int) -> Path:
    """A 16-bit WAV whose RIFF and data sizes claim ``claimed_frames`` frames."""
    sf.write(path, data, sr, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    at = _wav_data_offset(bytes(raw))
    claimed = claimed_frames * data.shape[1] * 2
    raw[at : at + 4] = struct.pack("<I", claimed)
    raw[4:8] = struct.pack("<I", at + 4 + claimed - 8)
    path.write_bytes(bytes(raw))
    return path


def wav_with_rate(path: Path, data: np.ndarray, rate: int) -> Path:
    """A 16-bit WAV whose fmt chunk states ``rate`` (and the matching byte rate)."""
    sf.write(path, data, 44100, subtype="PCM_16")
    raw = bytearray(path.read_bytes())
    assert raw[12:16] == b"fmt "
    raw[24:28] = struct.pack("<I", rate)
    raw[28:32] = struct.pack("<I", rate * data.shape[1] * 2 & 0xFFFFFFFF)
    path.write_bytes(bytes(raw))
    return path


def long_flac(path: Path, minutes: float, sr: int = 8000) -> Path:
    """A cheap hour: 8 kHz mono FLAC of a repeating 8-second phrase, written a phrase at a time."""
    phrase = music(sr, 8.0, channels=1, seed=3)
    with sf.SoundFile(path, "w", samplerate=sr, channels=1, format="FLAC", subtype="PCM_16") as f:
        for _ in range(round(minutes * 60 / 8.0)):
            f.write(phrase)
    return path


def build(root: Path, *, long_minutes: float | None = None) -> Corpus:
    """Writes every case under ``root`` (created); ``long_minutes`` adds the long FLAC."""
    root.mkdir(parents=True, exist_ok=True)
    c = Corpus(root)
    sr = 44100
    good = music(sr, 20.0)

    # Not audio at all.
    (root / "zero bytes.wav").write_bytes(b"")
    c.add(Case("zero-byte", root / "zero bytes.wav", "error", ("empty",)))
    (root / "letter.mp3").write_text("Dear producer, the chorus needs work.\n" * 50, encoding="utf-8")
    c.add(Case("text-as-mp3", root / "letter.mp3", "error", ("not audio", "damaged")))
    os.mkfifo(root / "pipe.wav")  # opening it for reading would block until someone writes
    c.add(Case("named-pipe", root / "pipe.wav", "error", ("not a regular file",), hashable=False))
    folder = root / "folder.wav"
    folder.mkdir()
    c.add(Case("directory", folder, "error", ("folder",), hashable=False))

    # Truncated compressed files: what decodes is scored (with a note) or it is a decode error.
    ogg = root / "whole.ogg"
    sf.write(ogg, good, sr, format="OGG", subtype="VORBIS")
    c.add(Case("truncated-ogg", truncate(ogg, root / "cut.ogg", 0.55), "either", ("damaged", "not audio")))
    flac = root / "whole.flac"
    sf.write(flac, good, sr, format="FLAC")
    c.add(Case("truncated-flac", truncate(flac, root / "cut.flac", 0.55), "either", ("damaged", "not audio")))
    mp3 = encode(root / "whole.mp3", "mp3", good, sr)
    c.add(Case("truncated-mp3", truncate(mp3, root / "cut.mp3", 0.55), "either", ("damaged", "not audio")))
    ogg.unlink()
    flac.unlink()
    mp3.unlink()
    c.add(Case("truncated-m4a", truncate(DATA / "forest-sprint-6s.m4a", root / "cut.m4a", 0.5), "either", ("damaged",)))
    c.add(Case("header-only-flac", truncate(DATA / "elvish-theme-3s-24bit.flac", root / "stub.flac", 0.02), "error"))

    # WAV headers that lie about the length: the data that is really there counts.
    ten = music(sr, 10.0, seed=1)
    c.add(Case("wav-claims-longer", lying_wav(root / "claims longer.wav", ten, sr, 30 * sr), "result", duration_s=10))
    c.add(Case("wav-claims-shorter", lying_wav(root / "claims shorter.wav", ten, sr, 5 * sr), "result", duration_s=5))

    # Headers stating sample rates no recording has: resampling from them hung or filled the memory.
    c.add(Case("rate-2-Hz", wav_with_rate(root / "two hertz.wav", ten, 2), "error", ("sample rate",)))
    c.add(Case("rate-800-MHz", wav_with_rate(root / "800 MHz.wav", ten, 800_000_000), "error", ("sample rate",)))

    # Odd sample values.
    bad = music(sr, 10.0, seed=2)
    bad[sr : sr + 50, 0] = np.nan
    bad[3 * sr : 3 * sr + 20, 1] = np.inf
    bad[5 * sr, :] = -np.inf
    sf.write(root / "nan inf.wav", bad, sr, subtype="FLOAT")
    c.add(Case("nan-inf", root / "nan inf.wav", "either", ("not a number", "NaN", "infinite", "damaged")))
    huge = music(sr, 10.0, seed=2)
    huge[2 * sr : 2 * sr + 100, :] = 3e38  # finite, but adding two channels or squaring overflows
    sf.write(root / "huge values.wav", huge, sr, subtype="FLOAT")
    c.add(Case("huge-float-values", root / "huge values.wav", "result", duration_s=10))
    allnan = np.full((sr * 5, 1), np.nan, dtype=np.float32)
    sf.write(root / "all nan.wav", allnan, sr, subtype="FLOAT")
    c.add(Case("all-nan", root / "all nan.wav", "error"))
    sf.write(root / "silence.wav", np.zeros((sr * 10, 2), dtype=np.float32), sr, subtype="PCM_16")
    c.add(Case("silence", root / "silence.wav", "error", ("silence",)))
    sf.write(root / "dc offset.wav", music(sr, 10.0, seed=4) * 0.3 + 0.6, sr, subtype="PCM_16")
    c.add(Case("dc-offset", root / "dc offset.wav", "result", duration_s=10))
    sf.write(root / "clipped.wav", np.clip(music(sr, 10.0, seed=5) * 8, -1, 1), sr, subtype="PCM_16")
    c.add(Case("clipping", root / "clipped.wav", "result", duration_s=10))

    # Layouts and rates.
    sf.write(root / "mono.flac", music(sr, 8.0, channels=1), sr)
    c.add(Case("mono", root / "mono.flac", "result", duration_s=8))
    sf.write(root / "eight channels.wav", music(48000, 8.0, channels=8), 48000, subtype="PCM_24")
    c.add(Case("8-channels", root / "eight channels.wav", "result", duration_s=8))
    # More than 8 channels through FFmpeg: PyAV reads planar frames of those out of bounds.
    sf.write(root / "twelve.ogg", music(sr, 6.0, channels=12), sr, format="OGG", subtype="VORBIS")
    c.add(Case("12-channels-vorbis", root / "twelve.ogg", "result", duration_s=6))
    c.add(
        Case(
            "12-channels-matroska",
            pcm_matroska(root / "twelve.mka", music(sr, 6.0, channels=12), sr),
            "result",
            duration_s=6,
        )
    )
    sf.write(root / "8k.wav", music(8000, 8.0), 8000, subtype="PCM_16")
    c.add(Case("8kHz", root / "8k.wav", "result", duration_s=8))
    sf.write(root / "192k.flac", music(192000, 6.0), 192000, subtype="PCM_24")
    c.add(Case("192kHz", root / "192k.flac", "result", duration_s=6))
    sf.write(root / "three seconds.ogg", music(sr, 3.0), sr, format="OGG", subtype="VORBIS")
    c.add(Case("3-seconds", root / "three seconds.ogg", "result", duration_s=3))
    sf.write(root / "two seconds.wav", music(sr, 2.0), sr, subtype="PCM_16")
    c.add(Case("too-short", root / "two seconds.wav", "error", ("at least",)))

    # Names and places.
    sf.write(root / "Демо — バラード 第2版.flac", music(sr, 6.0, seed=6), sr)
    c.add(Case("non-latin-name", root / "Демо — バラード 第2版.flac", "result", duration_s=6))
    locked = root / "read only"
    locked.mkdir()
    sf.write(locked / "take 1.wav", music(sr, 6.0, seed=7), sr, subtype="PCM_16")
    locked.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    c.add(Case("read-only-folder", locked / "take 1.wav", "result", duration_s=6))
    c.add(Case("missing", root / "gone before.wav", "error", ("not found",), hashable=False))
    sf.write(root / "vanishing.wav", music(sr, 60.0, seed=8), sr, subtype="PCM_16")
    c.add(Case("deleted-while-analysed", root / "vanishing.wav", "either", ("not found",), 60, hashable=False))

    if long_minutes:
        c.add(Case("60-minutes", long_flac(root / "hour.flac", long_minutes), "result", duration_s=long_minutes * 60))
    return c


def unlock(corpus: Corpus) -> None:
    """Makes the read-only folder writable again so the temporary folder can be removed."""
    for case in corpus.cases:
        parent = case.path.parent
        if parent != corpus.root and parent.exists():
            parent.chmod(stat.S_IRWXU)


def open_by(pid: int, path: Path) -> bool:
    """Whether process ``pid`` has ``path`` open (Linux /proc)."""
    target = os.path.realpath(path)
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") == target:
                return True
        except OSError:
            continue
    return False


SEED_NAMES = ("seed.wav", "seed-float.wav", "seed.flac", "seed.ogg", "seed.aiff", "seed.mp3", "seed.m4a")


def seeds(root: Path) -> Iterator[Path]:
    """Small valid files of every container, for mutation by the fuzzers."""
    root.mkdir(parents=True, exist_ok=True)
    sr = 22050
    clip = music(sr, 1.5, seed=9)
    sf.write(root / "seed.wav", clip, sr, subtype="PCM_16")
    sf.write(root / "seed-float.wav", clip, sr, subtype="FLOAT")
    sf.write(root / "seed.flac", clip, sr)
    sf.write(root / "seed.ogg", clip, sr, format="OGG", subtype="VORBIS")
    sf.write(root / "seed.aiff", clip, sr, subtype="PCM_16")
    encode(root / "seed.mp3", "mp3", clip, sr)
    encode(root / "seed.m4a", "aac", clip, sr, container="mp4")
    yield from sorted(root.iterdir())
