"""Title, artist and album from a file's tags, for display and reports only.

Tags are a convenience: a file with damaged or missing tags must still be analysed, so reading
them never raises.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

import mutagen

log = logging.getLogger(__name__)

# Easy-mode keys first, then the raw keys of formats mutagen has no easy mode for (ID3 in WAV and
# AIFF, ASF/WMA, non-easy MP4).
_KEYS = {
    "title": ("title", "TIT2", "\xa9nam", "Title"),
    "artist": ("artist", "TPE1", "\xa9ART", "Author"),
    "album": ("album", "TALB", "\xa9alb", "WM/AlbumTitle"),
}


@dataclass(frozen=True)
class Tags:
    title: str | None = None
    artist: str | None = None
    album: str | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, str | float | None]:
        return asdict(self)


def _texts(value: object) -> list[str]:
    """The strings in one tag value, whatever container mutagen wraps them in."""
    items = value if isinstance(value, list | tuple) else [value]
    texts: list[str] = []
    for item in items:
        inner = getattr(item, "text", None)  # ID3 text frames hold a list of strings
        if isinstance(inner, list):
            texts.extend(str(t) for t in inner)
        else:
            texts.append(str(getattr(item, "value", item)))
    return texts


def _field(tags: Mapping[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        try:
            value = tags.get(key)
        except (KeyError, ValueError):  # easy-mode wrappers reject keys they do not map
            continue
        if value is None:
            continue
        texts = list(dict.fromkeys(t.strip() for t in _texts(value) if t.strip()))
        if texts:
            return "; ".join(texts)
    return None


def read_tags(path: str | Path) -> Tags:
    """The file's tags, or empty ``Tags`` when it has none or they cannot be read.

    Only regular files are opened: mutagen would block for ever on a named pipe (the decoder's
    ``check_input`` then gives the sentence for it).
    """
    try:
        if not Path(path).is_file():
            return Tags()
        return _read_tags(path)
    except Exception as exc:  # mutagen's parsers raise many types on damaged input; tags are optional
        log.debug("no tags read from %s: %s", path, exc)
        return Tags()


def _read_tags(path: str | Path) -> Tags:
    audio = mutagen.File(str(path), easy=True)
    if audio is None:
        return Tags()
    length = getattr(getattr(audio, "info", None), "length", None)
    duration = float(length) if isinstance(length, int | float) and math.isfinite(length) and length > 0 else None
    tags = audio.tags
    if tags is None or not hasattr(tags, "get"):
        return Tags(duration_s=duration)
    return Tags(
        title=_field(tags, _KEYS["title"]),
        artist=_field(tags, _KEYS["artist"]),
        album=_field(tags, _KEYS["album"]),
        duration_s=duration,
    )
