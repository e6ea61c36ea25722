"""Lyrics of a track: pasted text, a ``.txt`` file, or an ``.lrc`` file whose time tags are stripped.

An ``.lrc`` line looks like ``[01:12.30]words`` (several time tags may lead one line, and enhanced
LRC puts ``<01:12.45>`` before single words); lines that are only an ID tag (``[ar:Artist]``,
``[ti:Title]``, ``[offset:+200]``) carry no lyrics and are dropped. ``lyrics_beside`` finds the
``.txt`` or ``.lrc`` file with the audio file's stem, which is how a take carries lyrics.
"""

from __future__ import annotations

import re
from pathlib import Path

from hitdesk.errors import HitdeskError

LYRICS_SUFFIXES = (".lrc", ".txt")
MAX_LYRICS_BYTES = 1_000_000  # lyrics are a few kB; a larger file is not lyrics
_TIME_TAG = re.compile(r"\[\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?\]")
_WORD_TAG = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")
_ID_TAG = re.compile(r"^\s*\[[A-Za-z#]+:[^\]]*\]\s*$")


class LyricsError(HitdeskError):
    """A lyrics file cannot be read."""


def strip_lrc(text: str) -> str:
    """The words of an LRC text: time tags and ID-tag lines removed, line breaks kept."""
    lines = []
    for line in text.splitlines():
        if _ID_TAG.match(line):
            continue
        lines.append(_WORD_TAG.sub("", _TIME_TAG.sub("", line)).strip())
    return "\n".join(lines).strip()


def read_lyrics(path: Path) -> str:
    """The lyrics in a ``.txt`` or ``.lrc`` file (UTF-8), time tags stripped from ``.lrc``."""
    path = Path(path)
    if path.suffix.lower() not in LYRICS_SUFFIXES:
        raise LyricsError(f"Lyrics file '{path.name}' must be a .txt or .lrc file.")
    try:
        if path.stat().st_size > MAX_LYRICS_BYTES:
            raise LyricsError(f"Lyrics file '{path.name}' is over 1 MB, which is not lyrics.")
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise LyricsError(f"Lyrics file '{path}' does not exist.") from None
    except UnicodeDecodeError:
        raise LyricsError(f"Lyrics file '{path.name}' is not UTF-8 text.") from None
    except OSError as exc:
        raise LyricsError(f"Lyrics file '{path.name}' cannot be read ({exc.strerror or exc}).") from None
    return strip_lrc(text) if path.suffix.lower() == ".lrc" else text.strip()


def lyrics_beside(audio: Path) -> Path | None:
    """The ``.lrc`` or ``.txt`` file next to ``audio`` with the same stem (``.lrc`` first), if any."""
    audio = Path(audio)
    for suffix in LYRICS_SUFFIXES:
        for candidate in (audio.with_suffix(suffix), audio.with_suffix(suffix.upper())):
            if candidate.is_file():
                return candidate
    return None
