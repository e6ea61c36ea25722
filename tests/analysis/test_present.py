"""The one presentation module: times, percentages, the reading sentence and the argument rules."""

from __future__ import annotations

import argparse
import subprocess
import sys

import pytest

from hitdesk import present, ranking
from hitdesk.cli import args
from hitdesk.config import window_seconds_for
from hitdesk.results import Score


def test_times_round_lengths_and_floor_positions() -> None:
    assert present.mmss(183.6) == "3:04"  # a 3:03.6 track is shown as 3:04 everywhere
    assert present.clock(183.6) == "3:03"  # and a player at 3:03.6 has passed 3:03
    assert present.mmss(None) == present.NO_VALUE == present.mmss(float("nan"))
    assert present.mmss(-2) == "0:00"
    assert present.clock_tenths(65.31) == "1:05.3"


def test_percentages_and_ranges() -> None:
    s = Score(0.144, 0.101, 0.2)
    assert present.pct(s.p_hit) == "14%"
    assert present.pct_range(s) == "10–20%"
    assert present.pct(float("inf")) == present.NO_VALUE


def test_clear_difference_is_one_rule() -> None:
    a, b, c = Score(0.5, 0.4, 0.6), Score(0.45, 0.35, 0.55), Score(0.2, 0.1, 0.3)
    assert not ranking.clearly_different(a, b)
    assert ranking.clearly_different(a, c)
    ranked = ranking.rank([(0, b), (1, a), (2, c)])
    assert [r.key for r in ranked] == [1, 0, 2]
    assert [r.clear for r in ranked] == [False, False, True]


def test_window_length_rule() -> None:
    assert window_seconds_for(None, None) == 30.0
    assert window_seconds_for(None, 20.0) == 20.0
    assert window_seconds_for(10.0, 20.0) == 10.0


@pytest.mark.parametrize("text", ["-5", "1e9", "0", "2.9", "601"])
def test_window_seconds_out_of_range_says_the_real_range(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="between 3 and 600 seconds"):
        args.window_seconds(text)


@pytest.mark.parametrize("text", ["nan", "inf", "abc"])
def test_window_seconds_not_a_number(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match="not a"):
        args.window_seconds(text)


def test_command_line_states_the_range() -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--window-seconds", "-5", "x.wav"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 2
    assert "between 3 and 600 seconds" in proc.stderr and "24 hours" not in proc.stderr


def test_files_without_a_command_open_in_the_app() -> None:
    """``hitdesk song.wav`` is ``hitdesk gui song.wav`` (it said "invalid choice"); plain ``hitdesk`` too."""
    from hitdesk.cli import parse_args

    args = parse_args(["song.wav", "take 2.flac"])
    assert (args.command, args.files) == ("gui", ["song.wav", "take 2.flac"])
    assert parse_args([]).command == "gui"
    assert parse_args(["analyze", "x.wav"]).command == "analyze"


def test_terminal_text_escapes_every_control_character_and_cuts_long_tags() -> None:
    hostile = "\x1b]0;pwned\x07\x1b[31mRED\x1b[0m"
    assert present.terminal_text(hostile) == "\\x1b]0;pwned\\x07\\x1b[31mRED\\x1b[0m"
    controls = "".join(chr(c) for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)))
    shown = present.terminal_text(f"a{controls}b")
    assert shown.startswith("a\\x00\\x01") and shown.endswith("\\x9fb")
    assert all(ch.isprintable() for ch in shown)
    assert present.terminal_text("Señor – 東京 ♪") == "Señor – 東京 ♪"  # printable text stays as it is
    cut = present.terminal_text("x" * 200_000, present.TAG_LIMIT)
    assert len(cut) == present.TAG_LIMIT and cut.endswith("…")
    assert present.terminal_text("y" * present.TAG_LIMIT, present.TAG_LIMIT) == "y" * present.TAG_LIMIT


def test_the_human_table_shows_tags_and_names_escaped() -> None:
    class Card:
        name, version, label_definition, base_rate = "m", "1", "hit = top 40", 0.2

    row = {
        "file": "/music/bad\nname\r.wav",
        "duration_s": 12.0,
        "tags": {"artist": "\x1b]0;pwned\x07\x1b[31mRED\x1b[0m", "title": "t" * 200_000},
        "segments": [],
        "overall": {"p_hit": 0.5, "p_hit_low": 0.4, "p_hit_high": 0.6},
        "mode": "full",
        "notes": ["made from 'a\x1b[2Jb'"],
    }
    failed = {"file": "/music/x\x9b2J.mp3", "error": "Cannot decode 'x\x9b2J.mp3': the file is damaged or not audio."}
    text = present.format_human([row, failed], Card())
    assert not any((ord(ch) < 0x20 and ch != "\n") or 0x7F <= ord(ch) < 0xA0 for ch in text)
    first = text.splitlines()[0]
    assert first.startswith("bad\\x0aname\\x0d.wav  (0:12, \\x1b]0;pwned\\x07\\x1b[31mRED\\x1b[0m - ttt")
    assert first.endswith("t…)") and len(first) < 300
    assert "note: made from 'a\\x1b[2Jb'" in text and "x\\x9b2J.mp3" in text
