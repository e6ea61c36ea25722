"""How one take is played: its gain, its time offset, its loop, and whether it is a reference (what
takes are A/B'd against). Kept with the take and in sessions. No Qt.

The gain comes on top of loudness matching. The offset lines takes up for A/B switching: it is the
time in this take's file that stands where the others' zero is, so switching from a take at 0:10.000
goes to 0:10.120 of a take whose offset is 120 ms more. The loop is a region of the take's own file;
playback that enters it repeats it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

GAIN_RANGE_DB = (-24.0, 24.0)
OFFSET_RANGE_MS = (-60_000.0, 60_000.0)
MIN_LOOP_S = 0.05


@dataclass(frozen=True)
class PlaySettings:
    gain_db: float = 0.0
    offset_ms: float = 0.0
    loop: tuple[float, float] | None = None  # seconds in the take's file, start < end
    reference: bool = False  # a take others are A/B'd against (hitdesk.ui.ab_compare)

    def __post_init__(self) -> None:
        for value in (self.gain_db, self.offset_ms, *(self.loop or ())):
            if not math.isfinite(value):
                raise ValueError(f"not a finite number: {value!r}")
        object.__setattr__(self, "gain_db", min(max(float(self.gain_db), GAIN_RANGE_DB[0]), GAIN_RANGE_DB[1]))
        object.__setattr__(self, "offset_ms", min(max(float(self.offset_ms), OFFSET_RANGE_MS[0]), OFFSET_RANGE_MS[1]))
        if self.loop is not None:
            start, end = sorted(float(v) for v in self.loop)
            start = max(0.0, start)
            object.__setattr__(self, "loop", (start, max(end, start + MIN_LOOP_S)))

    @property
    def gain(self) -> float:
        """The gain as a factor."""
        return float(10.0 ** (self.gain_db / 20.0))

    @property
    def offset_s(self) -> float:
        return self.offset_ms / 1000.0

    def to_dict(self) -> dict[str, Any]:
        """``"reference": true`` only for a reference: other takes are saved as before references existed."""
        d: dict[str, Any] = {
            "gain_db": round(self.gain_db, 2),
            "offset_ms": round(self.offset_ms, 3),
            "loop": None if self.loop is None else [round(self.loop[0], 4), round(self.loop[1], 4)],
        }
        if self.reference:
            d["reference"] = True
        return d

    @classmethod
    def from_dict(cls, d: object) -> PlaySettings:
        """Raises ``ValueError`` or ``TypeError`` for what is not settings (a damaged session)."""
        if d is None:
            return cls()
        if not isinstance(d, dict):
            raise TypeError("playback settings must be an object")
        loop = d.get("loop")
        if loop is not None and (not isinstance(loop, list | tuple) or len(loop) != 2):
            raise ValueError("a loop is [start, end]")
        reference = d.get("reference", False)  # absent from sessions saved before references
        if not isinstance(reference, bool):
            raise TypeError("reference is true or false")
        return cls(
            float(d.get("gain_db", 0.0)),
            float(d.get("offset_ms", 0.0)),
            None if loop is None else (float(loop[0]), float(loop[1])),
            reference,
        )
