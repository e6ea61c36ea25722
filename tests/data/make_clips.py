"""Recreate the test clips in this folder from ../shared/corpus (see LICENSE.md for the sources).

Run from the repository root: ``python tests/data/make_clips.py``. The clips are committed, so this
is needed only to change them; it documents exactly how they were cut.
"""

from __future__ import annotations

import sys
from pathlib import Path

import av
import numpy as np
import soundfile as sf

HERE = Path(__file__).resolve().parent
CORPUS = HERE.parents[1].parent / "shared" / "corpus"


def cut_ogg(src: Path, dst: Path, start_s: float, seconds: float) -> None:
    """Re-encode a slice as Ogg Vorbis with libsndfile (FFmpeg here has no Vorbis encoder worth using)."""
    with sf.SoundFile(src) as f:
        f.seek(round(start_s * f.samplerate))
        x = f.read(round(seconds * f.samplerate), dtype="float32")
        sr = f.samplerate
    sf.write(dst, x, sr, format="OGG", subtype="VORBIS")


def cut_flac24(src: Path, dst: Path, start_s: float, seconds: float, significant_bits: int) -> None:
    """A 24-bit FLAC slice; the low bits are zeroed so FLAC's wasted-bits coding keeps it small."""
    with sf.SoundFile(src) as f:
        f.seek(round(start_s * f.samplerate))
        x = f.read(round(seconds * f.samplerate), dtype="int32")
        sr = f.samplerate
    shift = 32 - significant_bits
    x = (x >> shift) << shift
    sf.write(dst, x.astype(np.int32), sr, format="FLAC", subtype="PCM_24")


def cut_m4a(src: Path, dst: Path, start_s: float, seconds: float) -> None:
    """Copy the AAC packets of a slice into a new MP4 without re-encoding (real encoder output)."""
    with av.open(str(src)) as inp, av.open(str(dst), "w", format="ipod") as out:
        ist = inp.streams.audio[0]
        ost = out.add_stream_from_template(ist)
        tb = ist.time_base
        assert tb is not None
        first = round(start_s / tb)
        last = round((start_s + seconds) / tb)
        inp.seek(first, stream=ist)
        for packet in inp.demux(ist):
            if packet.pts is None or packet.dts is None or packet.pts < first:
                continue
            if packet.pts >= last:
                break
            packet.pts -= first
            packet.dts -= first
            packet.stream = ost
            out.mux(packet)


def main() -> int:
    if not CORPUS.is_dir():
        print(f"needs {CORPUS}", file=sys.stderr)
        return 1
    cut_ogg(CORPUS / "chipdisko.ogg", HERE / "chipdisko-12s.ogg", 30.0, 12.0)
    cut_flac24(CORPUS / "elvish-theme-60s.flac", HERE / "elvish-theme-3s-24bit.flac", 20.0, 3.0, 16)
    cut_m4a(CORPUS / "forest-sprint.m4a", HERE / "forest-sprint-6s.m4a", 60.0, 6.0)
    return 0


if __name__ == "__main__":
    sys.exit(main())
