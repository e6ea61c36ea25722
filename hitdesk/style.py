"""What a track sounds like: the music tagger's tags, from the audio the analysis already has.

Full mode hands every 22,050 Hz block of its one decoding pass to a ``StyleListener``, which keeps
only the tagger's log-mel frames (``hitdesk.dsp.tagger_input``); fast mode gives the pieces it read.
Of the track's 3 s patches (musicnn's grid: non-overlapping, from the start of each piece) at most
``MAX_PATCHES`` evenly spaced ones are tagged and their probabilities averaged, as musicnn's
``top_tags`` averages its patches. Tagging every patch of a 3-minute song costs about 60 network
runs; bench/style_agreement.py measures the evenly spaced ones against all of them.

A recipe that learns from the tags (issue 17's ``tags-linear``) reads every tag's probability in the
card's order from ``AnalysisDetail.style``, or, decoding a file once as training does, passes
``StyleListener(max_patches=None)`` to ``hitdesk.analysis.track_mel`` for the mean over all patches.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.mel import FloatArray
from hitdesk.dsp.tagger_input import PATCH_FRAMES, PATCH_SECONDS, TaggerInput, patches, tagger_frames
from hitdesk.errors import ModelError
from hitdesk.model.tagger import Tagger, shared_tagger
from hitdesk.results import StyleTag

# Patches tagged per track (3 s each): 16 spread over the track, or over fast mode's pieces.
MAX_PATCHES = 16
# Tags a result keeps, most probable first.
TOP_TAGS = 10


@dataclass(frozen=True)
class Style:
    """The tagger's mean probability of each of its tags over the patches heard."""

    probabilities: npt.NDArray[np.float32]  # in the tagger card's ``tags`` order
    tags: tuple[str, ...]
    n_patches: int

    def top(self, k: int = TOP_TAGS) -> tuple[StyleTag, ...]:
        order = np.argsort(-self.probabilities, kind="stable")[:k]
        return tuple(StyleTag(self.tags[i], float(self.probabilities[i])) for i in order)


def _style(patch_stack: FloatArray, tagger: Tagger | None) -> Style | None:
    if not len(patch_stack):
        return None
    t = tagger or shared_tagger()
    return Style(t.probabilities(patch_stack).mean(axis=0), t.tags, len(patch_stack))


def tagged(make: Callable[[], Style | None]) -> tuple[Style | None, str | None]:
    """The style, or None and a note: a missing or damaged tagger costs a take its tags, not its scores."""
    try:
        return make(), None
    except ModelError as exc:
        return None, f"{exc} The tags are left out; the scores are not affected."


class StyleListener:
    """Rides on full mode's pass: ``feed`` each feature-rate block, ``finish`` for the style."""

    def __init__(self, tagger: Tagger | None = None, max_patches: int | None = MAX_PATCHES) -> None:
        self._input = TaggerInput()
        self._tagger = tagger
        self._max = max_patches

    def feed(self, block: npt.ArrayLike) -> None:
        self._input.feed(block)

    def finish(self) -> Style | None:
        return _style(patches(self._input.finish(), self._max), self._tagger)


def style_of_pieces(
    pieces: Sequence[tuple[float, npt.ArrayLike]], tagger: Tagger | None = None, max_patches: int | None = MAX_PATCHES
) -> Style | None:
    """The style of separate pieces of a track, (start in seconds, 22,050 Hz samples) each, as fast
    mode reads them: their patches in time order, at most ``max_patches`` evenly spaced ones."""
    found: list[tuple[float, FloatArray]] = []
    for start, samples in pieces:
        for i, p in enumerate(patches(tagger_frames(samples))):
            found.append((start + i * PATCH_SECONDS, p))
    found.sort(key=lambda item: item[0])
    stack = np.stack([p for _, p in found]) if found else np.zeros((0, PATCH_FRAMES, 96), np.float32)
    if max_patches is not None and len(stack) > max_patches:
        stack = stack[np.unique(np.round(np.linspace(0, len(stack) - 1, max_patches)).astype(int))]
    return _style(stack, tagger)
