"""HitDesk: offline hit-probability analysis of mixes and takes."""

from __future__ import annotations

__version__ = "0.1.0"
