"""Streaming normalisation preview: the gain each platform would apply to a take, and its true peak after.

A platform plays every track at its target loudness: a louder take is turned down by the
difference; a quieter one is turned up only where the platform does that, and only as far as its
rule allows (Spotify stops where the true peak would pass -1 dBTP). The built-in presets are the
published targets (sources in the README); the user's ``platforms.toml`` in the settings folder
(``hitdesk.paths.platforms_file``) changes them or adds more::

    [[platform]]
    name = "Spotify"             # same name (any case): replaces the built-in preset
    target_lufs = -14.0
    turns_up = true              # turns quieter takes up (default false: only down)
    up_to_true_peak_dbtp = -1.0  # ... at most until the true peak reaches this (optional)

Pure: no numpy, no Qt; reads only that file.
"""

from __future__ import annotations

import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitdesk.errors import SettingsFileError
from hitdesk.paths import platforms_file


@dataclass(frozen=True)
class Platform:
    name: str
    target_lufs: float
    turns_up: bool = False
    up_to_true_peak_dbtp: float | None = None

    @property
    def key(self) -> str:
        """The lowercase name a QC profile goes by: "Apple Music" -> "apple-music"."""
        return profile_key(self.name)

    def gain_db(self, lufs: float, true_peak_dbtp: float) -> float:
        """The gain this platform applies to a take of integrated loudness ``lufs``."""
        gain = self.target_lufs - lufs
        if gain <= 0:
            return gain
        if not self.turns_up:
            return 0.0
        if self.up_to_true_peak_dbtp is not None and math.isfinite(true_peak_dbtp):
            gain = min(gain, max(0.0, self.up_to_true_peak_dbtp - true_peak_dbtp))
        return gain


BUILT_IN: tuple[Platform, ...] = (
    Platform("Spotify", -14.0, turns_up=True, up_to_true_peak_dbtp=-1.0),
    Platform("Apple Music", -16.0, turns_up=True, up_to_true_peak_dbtp=-1.0),
    Platform("YouTube", -14.0),
    Platform("Tidal", -14.0),
    Platform("Amazon Music", -14.0),
    Platform("Deezer", -15.0),
)
_SETTINGS = {"name", "target_lufs", "turns_up", "up_to_true_peak_dbtp"}


def profile_key(name: str) -> str:
    return "-".join(name.lower().replace("_", " ").split())


def load_platforms(path: Path | None = None) -> tuple[Platform, ...]:
    """The built-in presets with the user's file applied (``path``, default the settings folder's);
    raises ``SettingsFileError`` with one sentence when the file cannot be used."""
    file = platforms_file() if path is None else path
    if not file.is_file():
        return BUILT_IN
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(f"Cannot read the platform presets in '{file}': {exc}.") from exc
    entries = data.get("platform", [])
    if set(data) - {"platform"} or not isinstance(entries, list):
        raise SettingsFileError(f"'{file}' must hold only [[platform]] tables.")
    presets = {p.key: p for p in BUILT_IN}
    for entry in entries:
        preset = _preset(entry, file)
        presets[preset.key] = preset
    return tuple(presets.values())


def _preset(entry: Any, file: Path) -> Platform:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"].strip():
        raise SettingsFileError(f"Every [[platform]] in '{file}' needs a name.")
    name = entry["name"].strip()
    unknown = sorted(set(entry) - _SETTINGS)
    if unknown:
        raise SettingsFileError(f"Platform '{name}' in '{file}' has unknown settings: {', '.join(unknown)}.")
    target = _level(entry.get("target_lufs"), name, "target_lufs", file, -60.0, 0.0)
    if target is None:
        raise SettingsFileError(f"Platform '{name}' in '{file}' needs a target_lufs.")
    turns_up = entry.get("turns_up", False)
    if not isinstance(turns_up, bool):
        raise SettingsFileError(f"Platform '{name}' in '{file}': turns_up must be true or false.")
    ceiling = _level(entry.get("up_to_true_peak_dbtp"), name, "up_to_true_peak_dbtp", file, -60.0, 6.0)
    return Platform(name, target, turns_up, ceiling)


def _level(value: Any, name: str, key: str, file: Path, low: float, high: float) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise SettingsFileError(f"Platform '{name}' in '{file}': {key} must be a number from {low:g} to {high:g}.")
    return float(value)


def platform_rows(loudness: dict[str, Any] | None, presets: tuple[Platform, ...]) -> list[dict[str, Any]] | None:
    """The ``"platforms"`` list of a result's output from its ``"loudness"`` object; None when its
    integrated loudness was not measured (fast mode, a failed file, a track below the gate)."""
    lufs = (loudness or {}).get("lufs")
    if lufs is None:
        return None
    peak = loudness.get("true_peak_dbtp") if loudness else None
    peak_db = -math.inf if peak is None else float(peak)
    rows = []
    for p in presets:
        gain = p.gain_db(float(lufs), peak_db)
        rows.append(
            {
                "name": p.name,
                "target_lufs": p.target_lufs,
                "gain_db": round(gain, 2) + 0.0,  # no -0.0
                "true_peak_after_dbtp": None if peak is None else round(peak_db + gain, 2),
            }
        )
    return rows
