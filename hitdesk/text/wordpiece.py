"""BERT's uncased WordPiece tokenizer in plain Python, as the sentence encoder's ``tokenizer.json`` sets it.

The steps are those of the reference (Hugging Face ``BertNormalizer``, ``BertPreTokenizer`` and the
``WordPiece`` model): drop control characters and turn whitespace into spaces, put spaces around CJK
ideographs, lowercase and strip accents, split on whitespace and punctuation, then cut every word into
the longest pieces in the vocabulary (``##`` marks a piece inside a word; a word that cannot be cut, or
is over 100 characters, is ``[UNK]``). tests/model/test_sentence_encoder.py compares the ids with the
reference tokenizer's on texts with accents, punctuation, CJK and symbols.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from pathlib import Path

MAX_WORD_CHARS = 100
_CJK = (
    (0x4E00, 0x9FFF),
    (0x3400, 0x4DBF),
    (0x20000, 0x2A6DF),
    (0x2A700, 0x2B73F),
    (0x2B740, 0x2B81F),
    (0x2B820, 0x2CEAF),
    (0xF900, 0xFAFF),
    (0x2F800, 0x2FA1F),
)


def _is_whitespace(ch: str) -> bool:
    return ch in " \t\n\r" or unicodedata.category(ch) == "Zs"


def _is_control(ch: str) -> bool:
    return ch not in "\t\n\r" and unicodedata.category(ch).startswith("C")


def _is_punctuation(ch: str) -> bool:
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK)


def normalise(text: str) -> str:
    """Cleaned, CJK-spaced, accent-stripped, lowercased text."""
    out = []
    for ch in text:
        if ch in ("\x00", "\ufffd") or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(ch):
            out.extend((" ", ch, " "))
        else:
            out.append(ch)
    decomposed = unicodedata.normalize("NFD", "".join(out))
    return "".join(ch for ch in decomposed if unicodedata.category(ch) != "Mn").lower()


def words(text: str) -> list[str]:
    """Whitespace- and punctuation-separated words of the normalised text (each punctuation mark alone)."""
    out: list[str] = []
    for chunk in normalise(text).split():
        current = ""
        for ch in chunk:
            if _is_punctuation(ch):
                if current:
                    out.append(current)
                out.append(ch)
                current = ""
            else:
                current += ch
        if current:
            out.append(current)
    return out


class WordPiece:
    """The vocabulary (one piece per line, the line number is its id) and the tokenizer over it."""

    def __init__(self, pieces: Iterable[str], unk: str = "[UNK]", cls: str = "[CLS]", sep: str = "[SEP]") -> None:
        self.vocab = {p: i for i, p in enumerate(pieces)}
        self.unk_id, self.cls_id, self.sep_id = self.vocab[unk], self.vocab[cls], self.vocab[sep]

    @classmethod
    def from_file(cls, path: Path, unk: str = "[UNK]", cls_token: str = "[CLS]", sep: str = "[SEP]") -> WordPiece:
        return cls(path.read_text(encoding="utf-8").split("\n")[:-1], unk, cls_token, sep)

    def _word_ids(self, word: str) -> list[int]:
        if len(word) > MAX_WORD_CHARS:
            return [self.unk_id]
        ids, start = [], 0
        while start < len(word):
            end = len(word)
            while end > start:
                piece = word[start:end] if start == 0 else "##" + word[start:end]
                if piece in self.vocab:
                    ids.append(self.vocab[piece])
                    break
                end -= 1
            if end == start:
                return [self.unk_id]
            start = end
        return ids

    def encode(self, text: str, max_tokens: int) -> list[int]:
        """``[CLS] pieces... [SEP]``, the pieces cut to ``max_tokens - 2``."""
        ids: list[int] = []
        for word in words(text):
            ids.extend(self._word_ids(word))
            if len(ids) >= max_tokens - 2:
                break
        return [self.cls_id, *ids[: max_tokens - 2], self.sep_id]
