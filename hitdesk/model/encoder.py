"""The sentence encoder: all-MiniLM-L6-v2 in ONNX, turning lyrics into a 384-number embedding.

It ships in ``models/encoders/`` (the ONNX file, its card and its WordPiece vocabulary), apart from
the hit models so that ``available_models`` never lists it, and it runs offline: the tokenizer is
``hitdesk.text.wordpiece`` over the shipped vocabulary, nothing is fetched. Models that take lyrics
get ``SentenceEncoder.embed``'s output as their ``lyrics`` input.
"""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.errors import ModelError
from hitdesk.model.sessions import open_session
from hitdesk.paths import models_dir
from hitdesk.text.wordpiece import WordPiece

ENCODER_NAME = "all-minilm-l6-v2"
ENCODER_FOLDER = "encoders"
ENCODER_INPUTS = ("input_ids", "attention_mask")
ENCODER_OUTPUT = "embedding"
EMBEDDING_SIZE = 384
_BATCH = 16


def encoder_stem(directory: Path | None = None) -> Path:
    return (directory or models_dir()) / ENCODER_FOLDER / ENCODER_NAME


class SentenceEncoder:
    """One onnxruntime session and the card's tokenizer; ``embed`` is safe to call from one thread."""

    def __init__(self, stem: Path, threads: int = 1) -> None:
        card_path = stem.with_suffix(".json")
        try:
            self.card: dict[str, Any] = json.loads(card_path.read_text(encoding="utf-8"))
            tok = self.card["tokenizer"]
            self.max_tokens = int(tok["max_tokens"])
            self.tokenizer = WordPiece.from_file(stem.parent / str(tok["vocab"]), tok["unk"], tok["cls"], tok["sep"])
            if len(self.tokenizer.vocab) != int(tok["vocab_size"]):
                raise ValueError("vocabulary size")
        except FileNotFoundError as exc:
            raise ModelError(f"The sentence encoder's file '{Path(str(exc.filename)).name}' is missing.") from exc
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise ModelError(f"The sentence encoder's card or vocabulary '{stem.name}' is damaged.") from exc
        onnx_path = stem.with_suffix(".onnx")
        self._session = open_session(onnx_path, "The sentence encoder", threads)
        if tuple(i.name for i in self._session.get_inputs()) != ENCODER_INPUTS:
            raise ModelError(f"The sentence encoder '{onnx_path.name}' does not match its card.")
        self.name = stem.name

    def token_ids(self, text: str) -> list[int]:
        return self.tokenizer.encode(text, self.max_tokens)

    def embed(self, texts: Sequence[str]) -> npt.NDArray[np.float32]:
        """One unit-length row of 384 numbers per text (an empty text still has one)."""
        rows = []
        for i in range(0, len(texts), _BATCH):
            ids = [self.token_ids(t) for t in texts[i : i + _BATCH]]
            width = max(len(x) for x in ids)
            batch = np.zeros((len(ids), width), dtype=np.int64)
            mask = np.zeros_like(batch)
            for j, row in enumerate(ids):
                batch[j, : len(row)] = row
                mask[j, : len(row)] = 1
            rows.append(self._session.run([ENCODER_OUTPUT], {"input_ids": batch, "attention_mask": mask})[0])
        return np.concatenate(rows).astype(np.float32) if rows else np.zeros((0, EMBEDDING_SIZE), np.float32)


_lock = threading.Lock()


@functools.lru_cache(maxsize=2)
def _cached(stem: Path) -> SentenceEncoder:
    return SentenceEncoder(stem)


def load_encoder(directory: Path | None = None) -> SentenceEncoder:
    """The shipped encoder, loaded once per models folder (about 0.5 s and 100 MB)."""
    with _lock:
        return _cached(encoder_stem(directory))
