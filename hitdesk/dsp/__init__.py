"""The one feature code path: log-mel, MFCC statistics and tempo, shared by training and runtime."""

from __future__ import annotations

from hitdesk.dsp.frames import MelFrames
from hitdesk.dsp.mel import StreamingMel, mel_basis, melspectrogram, power_to_db
from hitdesk.dsp.stats import (
    dct_matrix,
    mfcc_stats,
    onset_envelope,
    stats_from_frames,
    stats_from_mel,
    tempo_bpm,
    tempo_from_envelope,
    track_statistics,
)

__all__ = [
    "MelFrames",
    "StreamingMel",
    "dct_matrix",
    "mel_basis",
    "melspectrogram",
    "mfcc_stats",
    "onset_envelope",
    "power_to_db",
    "stats_from_frames",
    "stats_from_mel",
    "tempo_bpm",
    "tempo_from_envelope",
    "track_statistics",
]
