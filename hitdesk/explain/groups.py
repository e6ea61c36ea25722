"""Groups of the model's 42 inputs that mean something to a musician, and how to swap one group at a time.

The model (its head) reads 20 MFCC means, 20 MFCC standard deviations, tempo and duration. The
MFCC means are the DCT of the track's mean log-mel envelope (dB under the track's loudest bin), so:

- **density** is MFCC-mean 0: the envelope's average level under the peaks;
- the four **bands** (low < 250 Hz, low-mid 250 Hz-2 kHz, high-mid 2-6 kHz, high > 6 kHz) are the
  envelope's shape around its average in those mel bands: MFCC means 1-19 turned back into 128
  bands, the band's part kept, and turned into MFCC means again;
- **movement** is the 20 MFCC standard deviations: how much the sound changes over time;
- **tempo** and **length** are the last two inputs.

Swapping a group between two tracks is linear in the statistics: the track with group set S
taken from ``x`` and the rest from ``z`` is ``z + sum of delta_g for g in S``, which is what
``group_deltas`` returns. With all groups from ``x`` the result is ``x`` itself (the four band
masks add up to one and the DCT rows are orthonormal), to float rounding.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.config import FEATURES, N_STATS
from hitdesk.dsp.mel import mel_band_centres
from hitdesk.dsp.stats import dct_matrix

N_MFCC = FEATURES.n_mfcc
TEMPO, DURATION = N_STATS - 2, N_STATS - 1
_ROOT_BANDS = float(np.sqrt(FEATURES.n_mels))  # MFCC 0 is the sum of the bands over this


@dataclass(frozen=True)
class Band:
    name: str
    label: str  # for sentences: "below 250 Hz"
    low_hz: float
    high_hz: float


BANDS = (
    Band("low band", "below 250 Hz", 0.0, 250.0),
    Band("low-mid band", "250 Hz-2 kHz", 250.0, 2000.0),
    Band("high-mid band", "2-6 kHz", 2000.0, 6000.0),
    Band("high band", "above 6 kHz", 6000.0, float("inf")),
)
GROUP_NAMES: tuple[str, ...] = ("tempo", "length", "density", *(b.name for b in BANDS), "movement")


@functools.cache
def band_masks() -> npt.NDArray[np.float64]:
    """One row per band: 1 for the mel bands whose centre lies in it (every mel band in exactly one).
    Computed once; read-only."""
    centres = mel_band_centres()
    masks = np.array([(centres >= b.low_hz) & (centres < b.high_hz) for b in BANDS], dtype=np.float64)
    masks.setflags(write=False)
    return masks


def envelope_db(stats: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """The smoothed mean log-mel envelope (128 bands, dB under the track's maximum) from the MFCC means.

    Rows of statistics give rows of envelopes. Its DCT gives the MFCC means back (orthonormal rows).
    """
    s = np.asarray(stats, dtype=np.float64)
    return np.asarray(s[..., :N_MFCC] @ dct_matrix().astype(np.float64), dtype=np.float64)


def mfcc_means_of(envelope: npt.ArrayLike) -> npt.NDArray[np.float64]:
    return np.asarray(np.asarray(envelope, dtype=np.float64) @ dct_matrix().astype(np.float64).T, dtype=np.float64)


def group_deltas(x: npt.ArrayLike, background: npt.ArrayLike) -> npt.NDArray[np.float64]:
    """[K, groups, 42]: what taking each group from ``x`` adds to each background row (see the module docstring)."""
    xv = np.asarray(x, dtype=np.float64).reshape(N_STATS)
    z = np.atleast_2d(np.asarray(background, dtype=np.float64))
    diff = xv[None, :] - z
    out = np.zeros((z.shape[0], len(GROUP_NAMES), N_STATS), dtype=np.float64)
    out[:, GROUP_NAMES.index("tempo"), TEMPO] = diff[:, TEMPO]
    out[:, GROUP_NAMES.index("length"), DURATION] = diff[:, DURATION]
    out[:, GROUP_NAMES.index("density"), 0] = diff[:, 0]
    out[:, GROUP_NAMES.index("movement"), N_MFCC : 2 * N_MFCC] = diff[:, N_MFCC : 2 * N_MFCC]
    shape_rows = dct_matrix().astype(np.float64)[1:]  # MFCC 1..19 <-> envelope shape around its mean
    shape_diff = diff[:, 1:N_MFCC] @ shape_rows  # [K, 128]
    for i, mask in enumerate(band_masks()):
        out[:, GROUP_NAMES.index(BANDS[i].name), 1:N_MFCC] = (shape_diff * mask) @ shape_rows.T
    return out


def describe(stats: npt.ArrayLike) -> dict[str, float]:
    """Each group's one number a musician can read (the sentences compare it with the chart's hits).

    tempo (BPM), length (s), density (average level in dB under the loudest bin, as a positive
    number), each band (its level in dB against the envelope's average), movement (the standard
    deviation over time of the frames' average level, dB).
    """
    return {name: float(v[0]) for name, v in describe_rows(np.asarray(stats).reshape(1, N_STATS)).items()}


def describe_rows(rows: npt.ArrayLike) -> dict[str, npt.NDArray[np.float64]]:
    """``describe`` of each row of statistics at once: group -> one value per row."""
    s = np.atleast_2d(np.asarray(rows, dtype=np.float64))
    env = envelope_db(s)
    shape = env - env.mean(axis=1, keepdims=True)
    masks = band_masks()
    band_means = shape @ (masks / masks.sum(axis=1, keepdims=True)).T  # [rows, bands]
    out = {"tempo": s[:, TEMPO], "length": s[:, DURATION], "density": -s[:, 0] / _ROOT_BANDS}
    for i, band in enumerate(BANDS):
        out[band.name] = band_means[:, i]
    out["movement"] = s[:, N_MFCC] / _ROOT_BANDS
    return out
