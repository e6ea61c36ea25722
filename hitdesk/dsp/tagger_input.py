"""The music tagger's input: musicnn's log-compressed mel patches, from 22,050 Hz feature blocks.

musicnn (Pons & Serra 2019) computes ``librosa.feature.melspectrogram(y, sr=16000, hop_length=256,
n_fft=512, n_mels=96)`` of ``librosa.load(path, sr=16000)``, casts the mel power to float16, takes
``log10(10000 * x + 1)`` and cuts the frames into non-overlapping patches of 187 frames (3 s). The
same frames come from ``StreamingMel`` with the tagger's constants; the audio is the analysis's
22,050 Hz mono signal resampled once more to 16 kHz (soxr HQ, librosa's resampler), so the tagger
rides on the analysis's one decoding pass. The mel bands stop at 8 kHz, far below where the first
resampling's filter acts (about 10 kHz), so the two routes give the same tags (tests pin both).

The float16 cast and the float32 logarithm are musicnn's arithmetic under the numpy it pinned
(< 1.17), where ``float16 array * 10000`` became float32; numpy 2 keeps float16 there and overflows
to infinity for loud bands, so the steps are spelled out here.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import soxr

from hitdesk.config import FEATURES, FeatureConfig
from hitdesk.dsp.mel import FloatArray, StreamingMel

# musicnn/configuration.py: SR, FFT_SIZE, FFT_HOP, N_MELS; librosa's mel filter defaults otherwise.
TAGGER_FEATURES = FeatureConfig(sample_rate=16000, n_fft=512, hop_length=256, n_mels=96, fmax=8000.0)
# librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1, as musicnn.extractor computes it.
PATCH_FRAMES = 187
PATCH_SECONDS = 3.0
_RESAMPLE_QUALITY = "HQ"  # librosa's default res_type, "soxr_hq"


def log_compress(mel_power: npt.ArrayLike) -> FloatArray:
    """musicnn's ``log10(10000 * float16(mel) + 1)``, frames as rows (time x 96)."""
    half = np.asarray(mel_power, dtype=np.float32).T.astype(np.float16)
    out: FloatArray = np.log10(np.float32(10000.0) * half.astype(np.float32) + np.float32(1.0)).astype(np.float32)
    return out


def patches(frames: FloatArray, max_patches: int | None = None) -> FloatArray:
    """Non-overlapping 187-frame patches of log-compressed frames (n x 187 x 96), as
    ``musicnn.extractor.batch_data`` cuts them; with ``max_patches`` at most that many, evenly spaced
    over the whole (a patch's frames never move off musicnn's grid)."""
    n = (frames.shape[0] - PATCH_FRAMES) // PATCH_FRAMES + 1 if frames.shape[0] >= PATCH_FRAMES else 0
    idx = np.arange(n)
    if max_patches is not None and n > max_patches:
        idx = np.unique(np.round(np.linspace(0, n - 1, max_patches)).astype(int))
    out = np.empty((len(idx), PATCH_FRAMES, frames.shape[1]), dtype=np.float32)
    for k, i in enumerate(idx):
        out[k] = frames[i * PATCH_FRAMES : (i + 1) * PATCH_FRAMES]
    return out


class TaggerInput:
    """Feature-rate blocks in, the tagger's log-compressed frames out; any split of the blocks gives
    the same frames. Keeps only the frames (96 values each, 62.5 a second), never the audio."""

    def __init__(self, source_sr: int = FEATURES.sample_rate) -> None:
        self._resampler = (
            None
            if source_sr == TAGGER_FEATURES.sample_rate
            else soxr.ResampleStream(
                source_sr, TAGGER_FEATURES.sample_rate, 1, dtype="float32", quality=_RESAMPLE_QUALITY
            )
        )
        self._source_sr = source_sr
        self._in = 0
        self._out = 0
        self._mel = StreamingMel(TAGGER_FEATURES, keep=False)
        self._chunks: list[FloatArray] = []

    def feed(self, block: npt.ArrayLike) -> None:
        x = np.asarray(block, dtype=np.float32).reshape(-1)
        self._in += x.size
        y = x if self._resampler is None else np.asarray(self._resampler.resample_chunk(x), dtype=np.float32)
        self._push(y)

    def _push(self, y: FloatArray) -> None:
        self._out += y.size
        new = self._mel.feed(y)
        if new.shape[1]:
            self._chunks.append(log_compress(new))

    def finish(self) -> FloatArray:
        """All frames (time x 96); the 16 kHz length fixed as ``librosa.resample(fix=True)`` does."""
        if self._resampler is not None:
            tail = np.asarray(self._resampler.resample_chunk(np.zeros(0, np.float32), last=True), dtype=np.float32)
            want = -(-self._in * TAGGER_FEATURES.sample_rate // self._source_sr) - self._out
            tail = (
                tail[: max(want, 0)]
                if tail.size >= want
                else np.concatenate([tail, np.zeros(want - tail.size, np.float32)])
            )
            self._push(tail)
        last = self._mel.finish()
        if last.shape[1]:
            self._chunks.append(log_compress(last))
        return np.concatenate(self._chunks) if self._chunks else np.zeros((0, TAGGER_FEATURES.n_mels), np.float32)


def tagger_frames(samples: npt.ArrayLike, source_sr: int = FEATURES.sample_rate) -> FloatArray:
    """The log-compressed frames of one piece of audio at ``source_sr`` (an excerpt, a test signal)."""
    tap = TaggerInput(source_sr)
    tap.feed(samples)
    return tap.finish()
