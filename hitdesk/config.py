"""Feature constants shared by training, the command line and the app.

These follow the recipe the chart statistics were computed with (see the model card), so a model
trained on those statistics sees inputs computed the same way. Window length is an analysis
setting, not a feature constant.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class FeatureConfig:
    sample_rate: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    n_mfcc: int = 20
    # librosa.power_to_db(S, ref=np.max): amin and top_db are librosa's defaults.
    amin: float = 1e-10
    top_db: float = 80.0
    # librosa.filters.mel defaults (Slaney mel scale, Slaney area normalisation, 0 Hz to Nyquist).
    fmin: float = 0.0
    fmax: float = 11025.0
    htk: bool = False
    mel_norm: str = "slaney"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


FEATURES = FeatureConfig()

N_STATS = 2 * FEATURES.n_mfcc + 2
STAT_COLUMNS: tuple[str, ...] = (
    *(f"mfcc_mean_{k}" for k in range(FEATURES.n_mfcc)),
    *(f"mfcc_std_{k}" for k in range(FEATURES.n_mfcc)),
    "tempo",
    "duration",
)

# Analysis defaults.
DEFAULT_WINDOW_SECONDS = 30.0
MIN_TRACK_SECONDS = 3.0
MAX_WINDOW_SECONDS = 600.0
# The hit curve scores a window every this many seconds (hitdesk analyze --curve-hop).
DEFAULT_CURVE_HOP_S = 5.0
# A frame (n_fft samples, about 93 ms) is silent when its RMS level is more than SILENCE_REL_DB below
# the loudest frame of the track. Leading and trailing runs of silent frames are skipped when placing
# windows. Relative, so that a gain change does not move the windows.
SILENCE_REL_DB = -60.0
# A track whose loudest frame is below this level holds nothing but digital silence or dither.
DIGITAL_SILENCE_DBFS = -100.0


def check_window_seconds(value: float) -> float:
    """The one range a window length may take, wherever it is set (command line, app, training).

    Raises ValueError with the sentence a user sees.
    """
    if not MIN_TRACK_SECONDS <= value <= MAX_WINDOW_SECONDS:  # also refuses NaN
        raise ValueError(f"must be between {MIN_TRACK_SECONDS:g} and {MAX_WINDOW_SECONDS:g} seconds")
    return float(value)


def window_seconds_for(requested: float | None, model_window: float | None) -> float:
    """The window length used: the one asked for, else the one the model was trained on, else the default."""
    if requested:
        return requested
    return model_window or DEFAULT_WINDOW_SECONDS
