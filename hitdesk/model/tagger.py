"""The music tagger: musicnn's MSD model in ONNX, with its card, kept apart from the hit models.

It lives in ``models/taggers/`` so that ``available_models`` (which lists ``models/*.json``) never
offers it as a hit model. ``Tagger.probabilities`` gives the 50 tag probabilities per 3 s patch;
``hitdesk.style`` averages them over a track's patches, which a result's ``style`` ranks and a
tag-based recipe can use as its features (in the card's ``tags`` order).
"""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.tagger_input import PATCH_FRAMES, TAGGER_FEATURES
from hitdesk.errors import ModelError
from hitdesk.model.sessions import open_session
from hitdesk.paths import models_dir

TAGGER_NAME = "musicnn-msd"
TAGGER_INPUT = "melspec"
TAGGER_OUTPUT = "tags"
TAGGER_FOLDER = "taggers"
# Patches run through the network at a time: bounds the activations (about 10 MB a patch).
_BATCH = 8
_CHECKED = ("sample_rate", "n_fft", "hop_length", "n_mels", "patch_frames")


def tagger_stem(directory: Path | None = None) -> Path:
    return (directory or models_dir()) / TAGGER_FOLDER / TAGGER_NAME


class Tagger:
    """One onnxruntime session (one thread, like the hit model's) and the card's tag names."""

    def __init__(self, stem: Path, threads: int = 1) -> None:
        card_path = stem.with_suffix(".json")
        try:
            self.card: dict[str, Any] = json.loads(card_path.read_text(encoding="utf-8"))
            self.tags: tuple[str, ...] = tuple(str(t) for t in self.card["tags"])
            pre = self.card["preprocessing"]
            want = {**{k: getattr(TAGGER_FEATURES, k) for k in _CHECKED[:-1]}, "patch_frames": PATCH_FRAMES}
            if any(float(pre[k]) != float(want[k]) for k in _CHECKED):
                raise ModelError(
                    f"The music tagger '{stem.name}' expects other input features than this version computes."
                )
        except FileNotFoundError as exc:
            raise ModelError(f"The music tagger's card '{card_path.name}' is missing from {card_path.parent}.") from exc
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"The music tagger's card '{card_path.name}' is damaged.") from exc
        onnx_path = stem.with_suffix(".onnx")
        self._session = open_session(onnx_path, "The music tagger", threads)
        outputs = self._session.get_outputs()
        if [i.name for i in self._session.get_inputs()] != [TAGGER_INPUT] or outputs[0].shape[-1] != len(self.tags):
            raise ModelError(f"The music tagger '{onnx_path.name}' does not match its card.")
        self.name = stem.name

    def probabilities(self, patches: npt.ArrayLike) -> npt.NDArray[np.float32]:
        """(n, 187, 96) patches -> (n, 50) probabilities."""
        x = np.asarray(patches, dtype=np.float32)
        out = [
            self._session.run([TAGGER_OUTPUT], {TAGGER_INPUT: x[i : i + _BATCH]})[0] for i in range(0, len(x), _BATCH)
        ]
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, len(self.tags)), np.float32)


_LOCK = threading.Lock()


@functools.cache
def _load(stem: Path) -> Tagger:
    return Tagger(stem)


def shared_tagger(directory: Path | None = None) -> Tagger:
    """The process's tagger, loaded on first use (the app's workers and the CLI share one)."""
    with _LOCK:
        return _load(tagger_stem(directory))
