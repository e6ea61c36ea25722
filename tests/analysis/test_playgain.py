"""What playback does to a take's level (hitdesk.playgain): the A/B level match and a platform's gain."""

from __future__ import annotations

import math

import pytest

from hitdesk.platforms import BUILT_IN, Platform
from hitdesk.playgain import db_to_gain, level_match_db, match_sentence, platform_playback


def test_the_reference_is_played_at_the_takes_loudness() -> None:
    assert level_match_db(-14.0, -10.8) == pytest.approx(-3.2)
    assert match_sentence(level_match_db(-14.0, -10.8)) == "B is played 3.2 dB quieter to match"
    assert match_sentence(level_match_db(-9.0, -13.5)) == "B is played 4.5 dB louder to match"
    assert "equally loud" in match_sentence(level_match_db(-9.0, -9.01))
    for unknown in ((None, -9.0), (-9.0, None), (-80.0, -9.0), (-9.0, -math.inf)):
        assert level_match_db(*unknown) is None
    assert "not measured" in match_sentence(None)
    assert db_to_gain(-6.0) == pytest.approx(0.501, abs=1e-3)


def test_a_platform_turns_down_and_up_by_its_rule() -> None:
    spotify = next(p for p in BUILT_IN if p.name == "Spotify")
    youtube = next(p for p in BUILT_IN if p.name == "YouTube")
    loud = platform_playback(spotify, -8.0, -0.3)
    assert loud is not None and loud.gain_db == pytest.approx(-6.0) and loud.ceiling == pytest.approx(db_to_gain(-1.0))
    assert loud.sentence == "As Spotify plays it: turned down 6.0 dB"
    quiet = platform_playback(spotify, -20.0, -6.0)  # turned up until the true peak reaches -1 dBTP
    assert quiet is not None and quiet.gain_db == pytest.approx(5.0) and "turned up 5.0 dB" in quiet.sentence
    kept = platform_playback(youtube, -20.0, -6.0)  # YouTube only turns down: no ceiling of its own
    assert kept is not None and kept.gain_db == 0.0 and kept.ceiling == 1.0 and kept.sentence.endswith("as it is")
    assert platform_playback(spotify, None, None) is None
    odd = platform_playback(Platform("Loud", -6.0, turns_up=True, up_to_true_peak_dbtp=3.0), -12.0, -9.0)
    assert odd is not None and odd.ceiling == 1.0  # never above full scale
