"""The shared folder beside the repository (``../shared``: the corpus of real music and the chart
data), or the one ``HITDESK_SHARED`` names, as ``make``'s ``SHARED`` does, for a checkout that does
not sit beside it (a second git worktree). Tests that need it skip when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("HITDESK_SHARED") or REPO.parent / "shared").absolute()
CORPUS = SHARED / "corpus"
ZALO = SHARED / "data" / "zalo2019"
