"""Made-up songs for the alignment tests: decaying tones at random times (a seed is a song), an optional
steady beat, written at the feature rate; and their onset envelope as the analysis computes it.

Used by ``tests/analysis/test_align.py`` and ``tests/ui/test_ui_abref.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import soundfile as sf

from hitdesk.config import FEATURES
from hitdesk.dsp.mel import melspectrogram
from hitdesk.dsp.rhythm import onset_envelope

RATE = FEATURES.sample_rate


def song(seed: int, seconds: float = 40.0, beat_s: float | None = None) -> npt.NDArray[np.float32]:
    """Three notes a second on average, each 150 ms of a decaying sine at a random pitch."""
    rng = np.random.default_rng(seed)
    y = np.zeros(round(seconds * RATE), dtype=np.float32)
    t = np.arange(round(0.15 * RATE)) / RATE
    for start in rng.uniform(0.0, seconds - 0.2, round(3 * seconds)):
        i = round(start * RATE)
        y[i : i + t.size] += (0.3 * np.sin(2 * np.pi * rng.uniform(200, 3000) * t) * np.exp(-30 * t)).astype(np.float32)
    if beat_s is not None:
        for start in np.arange(0.0, seconds - 0.2, beat_s):
            i = round(start * RATE)
            y[i : i + t.size] += (0.5 * np.sin(2 * np.pi * 60 * t) * np.exp(-40 * t)).astype(np.float32)
    return y


def with_intro(
    samples: npt.NDArray[np.float32], intro_seed: int, intro_s: float, cut_s: float
) -> npt.NDArray[np.float32]:
    """The song's first ``cut_s`` seconds replaced by ``intro_s`` seconds of another: its music is then
    ``intro_s - cut_s`` seconds later."""
    return np.concatenate([song(intro_seed, intro_s), samples[round(cut_s * RATE) :]])


def envelope(samples: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    return onset_envelope(melspectrogram(samples))


def write(path: Path, samples: npt.NDArray[np.float32], level: float = 1.0) -> Path:
    sf.write(path, np.clip(samples * level, -1.0, 1.0), RATE, subtype="FLOAT")
    return path
