"""The user's own tonal targets: the median and 10th-90th percentile of chosen takes' envelopes.

As in Tonal Balance Control's "create target from files", a target is built from reference takes:
each take's envelope as the model sees it (its MFCC means turned back into 128 mel bands, dB under
its loudest bin: ``TonalBalance.take_db``, the representation of the chart hits' target), and per
band their median and 10th and 90th percentiles. Each target is one small versioned JSON file in
the user's data folder (``paths.tonal_targets_dir``); a file that is damaged or of another version is
one sentence and skipped, and the others load. No Qt here: the app and the command line share it.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import tempfile
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk import paths
from hitdesk.config import FEATURES
from hitdesk.results import TrackResult

TARGET_FORMAT = "hitdesk-tonal-target"
TARGET_VERSION = 1
TARGET_SUFFIX = ".json"
NAME_MAX = 60
CURVE_KEYS = ("median_db", "p10_db", "p90_db")


class TargetError(ValueError):
    """A target that cannot be made, found or read; the message is one sentence for the user."""


@dataclass(frozen=True)
class TonalTarget:
    name: str
    median_db: tuple[float, ...]
    p10_db: tuple[float, ...]
    p90_db: tuple[float, ...]
    sources: tuple[str, ...]  # the reference takes' file names, in the order given

    def to_dict(self) -> dict[str, Any]:
        """The target as ``hitdesk analyze --json`` shows it under ``tonal_balance.target``."""
        return {"name": self.name, **{k: [round(v, 4) for v in getattr(self, k)] for k in CURVE_KEYS}}

    def to_file_dict(self) -> dict[str, Any]:
        return {"format": TARGET_FORMAT, "version": TARGET_VERSION, **self.to_dict(), "sources": list(self.sources)}


def check_name(name: str) -> str:
    """The name stripped; TargetError for an empty, overlong or unprintable one."""
    clean = name.strip()
    if not clean:
        raise TargetError("A tonal target needs a name.")
    if len(clean) > NAME_MAX:
        raise TargetError(f"A tonal target's name can be at most {NAME_MAX} characters long.")
    if any(unicodedata.category(ch).startswith("C") for ch in clean):
        raise TargetError("A tonal target's name cannot contain control characters.")
    return clean


def make_target(name: str, envelopes: Sequence[npt.ArrayLike], sources: Sequence[str]) -> TonalTarget:
    """Median and 10th-90th percentiles per band of the references' envelopes (dB, 128 bands each)."""
    clean = check_name(name)
    if len(envelopes) == 0:
        raise TargetError(f"The tonal target '{clean}' needs at least one reference take.")
    env = np.asarray([np.asarray(e, dtype=np.float64) for e in envelopes])
    if env.shape[1:] != (FEATURES.n_mels,) or not np.isfinite(env).all():
        raise TargetError(f"The references for '{clean}' are not envelopes of {FEATURES.n_mels} bands.")

    def band(q: float) -> tuple[float, ...]:
        return tuple(float(v) for v in np.percentile(env, q, axis=0))

    return TonalTarget(clean, band(50), band(10), band(90), tuple(sources))


def target_from_results(name: str, results: Sequence[tuple[str, TrackResult | None]]) -> TonalTarget:
    """A target from analysed takes ((name, result) pairs); those without a tonal balance are left out,
    and TargetError says so when none has one."""
    usable = [(n, r.tonal_balance) for n, r in results if r is not None and r.ok and r.tonal_balance is not None]
    if not usable:
        raise TargetError(
            f"None of the takes chosen for '{name.strip()}' has a tonal balance: analyse them with a model that "
            "explains its scores."
        )
    return make_target(name, [b.take_db for _, b in usable], [n for n, _ in usable])


def file_stem(name: str) -> str:
    """A file name for the target: its letters and digits, lower case, words joined by '-'."""
    words = "".join(ch.lower() if ch.isalnum() else " " for ch in name).split()
    return "-".join(words)[:NAME_MAX] or "target-" + hashlib.sha256(name.encode("utf-8")).hexdigest()[:10]


def target_path(name: str, folder: Path | None = None) -> Path:
    return (folder or paths.tonal_targets_dir()) / f"{file_stem(check_name(name))}{TARGET_SUFFIX}"


def save_target(target: TonalTarget, folder: Path | None = None) -> Path:
    """Writes the target's file (replacing one of the same name) all at once; returns its path."""
    path = target_path(target.name, folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".target-", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(target.to_file_dict(), f, indent=1)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def parse_target(raw: object, file_name: str) -> TonalTarget:
    """The target in a file's JSON; TargetError (one sentence naming the file) when it is not one."""
    bad = TargetError(f"The tonal target file '{file_name}' is damaged or of another version; it is skipped.")
    if not isinstance(raw, dict) or raw.get("format") != TARGET_FORMAT or raw.get("version") != TARGET_VERSION:
        raise bad
    try:
        name = check_name(raw["name"]) if isinstance(raw["name"], str) else ""
        curves = [tuple(_number(v) for v in raw[k]) for k in CURVE_KEYS]
        sources = tuple(str(s) for s in raw["sources"]) if isinstance(raw["sources"], list) else None
    except (KeyError, TypeError, ValueError) as exc:
        raise bad from exc
    median, p10, p90 = curves
    ok = (
        bool(name)
        and sources is not None
        and all(len(c) == FEATURES.n_mels for c in curves)
        and all(lo <= mid + 1e-6 and mid <= hi + 1e-6 for lo, mid, hi in zip(p10, median, p90, strict=True))
    )
    if not ok or sources is None:
        raise bad
    return TonalTarget(name, median, p10, p90, sources)


def _number(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(float(value)):
        raise ValueError("not a finite number")
    return float(value)


def load_targets(folder: Path | None = None) -> tuple[list[TonalTarget], list[str]]:
    """Every readable target in the folder, by name, and one sentence per file that was skipped."""
    where = folder or paths.tonal_targets_dir()
    try:
        files = sorted(p for p in where.iterdir() if p.suffix == TARGET_SUFFIX and not p.name.startswith("."))
    except FileNotFoundError:
        return [], []
    except OSError:
        return [], [f"The tonal targets folder '{where}' cannot be read."]
    targets: dict[str, TonalTarget] = {}
    problems = []
    for path in files:
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            target = parse_target(raw, path.name)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError):
            problems.append(f"The tonal target file '{path.name}' cannot be read; it is skipped.")
            continue
        except TargetError as exc:
            problems.append(str(exc))
            continue
        targets.setdefault(target.name.casefold(), target)
    return sorted(targets.values(), key=lambda t: t.name.casefold()), problems


def find_target(name: str, folder: Path | None = None) -> TonalTarget:
    """The target of that name (case does not matter); TargetError when there is none or its file is damaged."""
    targets, problems = load_targets(folder)
    wanted = name.strip().casefold()
    for t in targets:
        if t.name.casefold() == wanted:
            return t
    mine = target_path(name, folder).name if name.strip() else ""
    damaged = next((p for p in problems if f"'{mine}'" in p), None) if mine else None
    if damaged:
        raise TargetError(damaged)
    known = ", ".join(t.name for t in targets)
    there = f" (there are: {known})." if known else "."
    raise TargetError(f"There is no tonal target named '{name.strip()}'" + there)
