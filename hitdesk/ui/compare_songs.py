"""Whether compared takes look like takes of one song, from their analyses' onset envelopes. No widgets.

Each compared take whose analysis kept its onset envelope is lined up against the first such take
(``hitdesk.align``); when one does not line up, the compare view says the takes do not look like the
same song instead of presenting the ranking as one of takes of one song. Alignments are kept per pair
of envelopes, so redrawing the view does not correlate again; at most ``MAX_CHECKED`` takes are
looked at (one mismatch is enough to say it).
"""

from __future__ import annotations

from collections.abc import Sequence

from hitdesk.align import SAME_SONG_MIN_CONFIDENCE, Alignment, AlignmentError, align
from hitdesk.ui.takes import Take

MAX_CHECKED = 32


def _envelope(take: Take) -> object:
    return None if take.detail is None else take.detail.onset_envelope


class SongCheck:
    def __init__(self) -> None:
        self._found: dict[tuple[int, int], Alignment | None] = {}  # by the two envelopes' ids

    def odd_pair(self, takes: Sequence[Take]) -> tuple[Take, Take, Alignment] | None:
        """The first take with an envelope and one that does not line up with it; None when all do
        (or fewer than two have an envelope yet)."""
        checked = [t for t in takes if _envelope(t) is not None][:MAX_CHECKED]
        if len(checked) < 2:
            return None
        first = checked[0]
        live = set()
        for other in checked[1:]:
            key = (id(_envelope(first)), id(_envelope(other)))
            live.add(key)
            if key not in self._found:
                try:
                    self._found[key] = align(_envelope(first), _envelope(other))  # type: ignore[arg-type]
                except AlignmentError:
                    self._found[key] = None  # too short to tell: not held against them
            found = self._found[key]
            if found is not None and not found.same_song:
                return first, other, found
        self._found = {k: v for k, v in self._found.items() if k in live}
        return None

    def sentences(self, takes: Sequence[Take]) -> tuple[str, str] | None:
        """What the compare view says when the takes are not of one song (one short line, as long as the
        line it replaces) and the pair that shows it (for its tooltip); None when they are."""
        odd = self.odd_pair(takes)
        if odd is None:
            return None
        first, other, found = odd
        return (
            "These takes do not look like the same song (their onsets do not line up), so they are ranked as "
            "separate songs.",
            f"'{first.name}' and '{other.name}' do not line up: alignment confidence {found.confidence:.2f}, "
            f"{SAME_SONG_MIN_CONFIDENCE:g} or more for one song.",
        )
