"""``models/`` holds only models a release ships: each card describes a model trained on real data."""

from __future__ import annotations

import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
MIN_SONGS = 1000


def _cards() -> list[Path]:
    return sorted(MODELS.glob("*.json"))


def test_every_card_describes_a_model_trained_on_real_data() -> None:
    cards = _cards()
    assert cards, "no model card in models/"
    for card_path in cards:
        card = json.loads(card_path.read_text(encoding="utf-8"))
        n_songs = card.get("training_data", {}).get("n_songs", 0)
        assert n_songs >= MIN_SONGS, f"{card_path.name}: trained on {n_songs} songs; models/ is for release models"


def test_every_model_file_belongs_to_a_card() -> None:
    """A stray .onnx (a test's or a demo's) would be bundled by the package build."""
    named: set[str] = set()
    for card_path in _cards():
        card = json.loads(card_path.read_text(encoding="utf-8"))
        named.add(card_path.name)
        named.update(str(v) for v in card.get("files", {}).values())
    stray = sorted(p.name for p in MODELS.iterdir() if p.is_file() and p.name not in named)
    assert stray == [], f"files in models/ that no card names: {stray}"
