"""What playback does to a take's level: matching a reference for A/B, and playing it as a platform would. No Qt.

A/B against a reference is fair only at the same loudness (the louder one sounds better), so the
reference (B) is played at the take's (A's) integrated loudness: its gain is A's LUFS minus B's.
"Hear it as a platform plays it" applies the platform's normalisation gain (``Platform.gain_db``:
turned down to its target, turned up only where the platform does, and only as far as its true-peak
rule allows) and, where the platform has that rule, holds the samples under its ceiling, so what
is heard never passes it even where the file's own true peak was measured lower than a sample peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hitdesk.platforms import Platform

SILENT_LUFS = -70.0  # BS.1770's absolute gate: below it there is no loudness to match


@dataclass(frozen=True)
class Played:
    """How a take is played: its gain (a factor), where it stands for switching, its loop, its ceiling."""

    gain: float = 1.0
    offset_s: float = 0.0
    loop: tuple[float, float] | None = None
    ceiling: float = 1.0  # samples are held within +-ceiling (1.0: full scale)


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def measured(lufs: float | None) -> bool:
    return lufs is not None and math.isfinite(lufs) and lufs > SILENT_LUFS


def level_match_db(take_lufs: float | None, reference_lufs: float | None) -> float | None:
    """The gain (dB) that plays the reference at the take's integrated loudness; None when either
    loudness is unknown or below the gate."""
    if not measured(take_lufs) or not measured(reference_lufs):
        return None
    assert take_lufs is not None and reference_lufs is not None
    return float(take_lufs - reference_lufs)


def match_sentence(gain_db: float | None) -> str:
    """The bar's words for the reference's gain (quieter or louder), or for nothing to match."""
    if gain_db is None:
        return "B is played as it is: the loudness of both is not measured yet"
    if abs(gain_db) < 0.05:
        return "A and B are equally loud: B is played as it is"
    return f"B is played {abs(gain_db):.1f} dB {'quieter' if gain_db < 0 else 'louder'} to match"


@dataclass(frozen=True)
class PlatformPlayback:
    platform: str
    gain_db: float
    ceiling_dbtp: float | None  # the platform's true-peak rule, when it has one

    @property
    def ceiling(self) -> float:
        return 1.0 if self.ceiling_dbtp is None else min(1.0, db_to_gain(self.ceiling_dbtp))

    @property
    def sentence(self) -> str:
        if abs(self.gain_db) < 0.05:
            return f"As {self.platform} plays it: as it is"
        way = "turned down" if self.gain_db < 0 else "turned up"
        return f"As {self.platform} plays it: {way} {abs(self.gain_db):.1f} dB"


def platform_playback(platform: Platform, lufs: float | None, true_peak_dbtp: float | None) -> PlatformPlayback | None:
    """The platform's gain for a take and its ceiling; None when the take's loudness is not measured."""
    if not measured(lufs):
        return None
    assert lufs is not None
    peak = -math.inf if true_peak_dbtp is None else float(true_peak_dbtp)
    ceiling = platform.up_to_true_peak_dbtp if platform.turns_up else None
    return PlatformPlayback(platform.name, platform.gain_db(lufs, peak), ceiling)
