"""QC against targets: profiles of rules on a result's meters, each giving pass, warn or fail with the reason.

A profile limits some of these measures (any it leaves out are not checked):

- ``integrated_lufs`` (LUFS), ``true_peak_dbtp`` (dBTP), ``lra_lu`` (LU), ``mono_loss_lu`` (LU, the
  loudness lost folded to mono) and ``clipping`` (places where a channel sits at full scale for
  three samples or more).

Each rule has up to four limits, ``warn_above``, ``fail_above``, ``warn_below`` and ``fail_below``;
a value beyond a fail limit fails, beyond a warn limit warns, else passes. Built in is one profile
per platform preset (``hitdesk.platforms``), named by its lowercase name (``spotify``,
``apple-music``, ...); a user's own are TOML files in the settings folder's ``qc/``
(``hitdesk.paths.qc_profiles_dir``), or any file given by path::

    [integrated_lufs]
    warn_below = -16.0
    warn_above = -12.0
    [true_peak_dbtp]
    fail_above = -1.0
    [clipping]
    fail_above = 0

A measure that was not taken (``--fast``) warns: the take is not shown to pass. Pure: works on the
result's JSON, so cached results are checked the same way.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hitdesk.errors import SettingsFileError
from hitdesk.paths import qc_profiles_dir
from hitdesk.platforms import Platform, profile_key
from hitdesk.present import plural

# Measure -> (unit, where it is in a result's JSON)
MEASURES: dict[str, tuple[str, str, str]] = {
    "integrated_lufs": ("LUFS", "loudness", "lufs"),
    "true_peak_dbtp": ("dBTP", "loudness", "true_peak_dbtp"),
    "lra_lu": ("LU", "loudness", "lra_lu"),
    "mono_loss_lu": ("LU", "stereo", "mono_loss_lu"),
    "clipping": ("spots", "clipping", "spots"),
}
LIMITS = ("warn_above", "fail_above", "warn_below", "fail_below")
NOT_MEASURED = "not measured: --fast decodes only excerpts"


@dataclass(frozen=True)
class Rule:
    measure: str
    warn_above: float | None = None
    fail_above: float | None = None
    warn_below: float | None = None
    fail_below: float | None = None

    def judge(self, value: float) -> tuple[str, str]:
        """(status, the limit broken in words, or "" when it passes)."""
        if self.fail_above is not None and value > self.fail_above:
            return "fail", f"above {self.fail_above:g}"
        if self.fail_below is not None and value < self.fail_below:
            return "fail", f"below {self.fail_below:g}"
        if self.warn_above is not None and value > self.warn_above:
            return "warn", f"above {self.warn_above:g}"
        if self.warn_below is not None and value < self.warn_below:
            return "warn", f"below {self.warn_below:g}"
        return "pass", ""

    def limits_text(self) -> str:
        parts = [f"{k.replace('_', ' ')} {getattr(self, k):g}" for k in LIMITS if getattr(self, k) is not None]
        return ", ".join(parts)


@dataclass(frozen=True)
class Profile:
    name: str
    rules: tuple[Rule, ...]


def platform_profile(platform: Platform) -> Profile:
    """The built-in profile of a platform preset: its target within 3 LU (further means turned down
    a lot, or playing quieter than others), true peak at most -1 dBTP (0 fails: it clips once
    encoded), LRA at least 3 LU, mono fold losing at most 3 LU (6 fails) and no clipping (more than
    10 spots fail)."""
    t = platform.target_lufs
    return Profile(
        platform.key,
        (
            Rule("integrated_lufs", warn_above=t + 3.0, warn_below=t - 3.0),
            Rule("true_peak_dbtp", warn_above=-1.0, fail_above=0.0),
            Rule("lra_lu", warn_below=3.0),
            Rule("mono_loss_lu", warn_above=3.0, fail_above=6.0),
            Rule("clipping", warn_above=0, fail_above=10),
        ),
    )


def load_profile(spec: str, platforms: tuple[Platform, ...], folder: Path | None = None) -> Profile:
    """``spec`` is a TOML file's path, the name of one in the user's QC folder, or a platform's
    lowercase name; raises ``SettingsFileError`` naming the choices when it is none of these."""
    path = Path(spec)
    if path.suffix.lower() == ".toml" and path.is_file():
        return read_profile(path)
    key = profile_key(spec)
    own = (qc_profiles_dir() if folder is None else folder) / f"{key}.toml"
    if own.is_file():
        return read_profile(own)
    for platform in platforms:
        if platform.key == key:
            return platform_profile(platform)
    names = sorted({p.key for p in platforms} | set(user_profiles(folder)))
    raise SettingsFileError(f"No QC profile '{spec}': choose one of {', '.join(names)}, or give a .toml file.")


def user_profiles(folder: Path | None = None) -> list[str]:
    where = qc_profiles_dir() if folder is None else folder
    return sorted(p.stem for p in where.glob("*.toml")) if where.is_dir() else []


def read_profile(path: Path) -> Profile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise SettingsFileError(f"Cannot read the QC profile '{path}': {exc}.") from exc
    name = data.pop("name", path.stem)
    if not isinstance(name, str) or not name.strip():
        raise SettingsFileError(f"The QC profile '{path}' has a name that is not text.")
    rules = []
    for measure, limits in data.items():
        if measure not in MEASURES or not isinstance(limits, dict):
            raise SettingsFileError(
                f"The QC profile '{path}' has '{measure}', which is not one of [{'], ['.join(MEASURES)}]."
            )
        unknown = sorted(set(limits) - set(LIMITS))
        if unknown:
            raise SettingsFileError(f"[{measure}] in '{path}' has unknown limits: {', '.join(unknown)}.")
        for key, value in limits.items():
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise SettingsFileError(f"[{measure}] {key} in '{path}' must be a number.")
        rules.append(Rule(measure, **{k: float(v) for k, v in limits.items()}))
    if not rules:
        raise SettingsFileError(f"The QC profile '{path}' has no rules.")
    return Profile(name.strip(), tuple(rules))


def check(result: dict[str, Any], profile: Profile) -> list[dict[str, str]] | None:
    """The ``"qc"`` list of a result's output; None for a file that failed to analyse."""
    if result.get("error"):
        return None
    return [_check_rule(result, rule) for rule in profile.rules]


def _check_rule(result: dict[str, Any], rule: Rule) -> dict[str, str]:
    unit, section, key = MEASURES[rule.measure]
    block = result.get(section)
    value = block.get(key) if isinstance(block, dict) else None
    if value is None:
        status, detail = _unmeasured(result, rule.measure)
    else:
        status, broken = rule.judge(float(value))
        shown = plural(int(value), "spot") if rule.measure == "clipping" else f"{float(value):.1f} {unit}"
        detail = f"{shown}: {broken}" if broken else f"{shown}: within {rule.limits_text() or 'no limits'}"
        if rule.measure == "clipping" and value and isinstance(block, dict) and block.get("times_s"):
            detail += f" (first at {float(block['times_s'][0]):.2f} s)"
    return {"rule": rule.measure, "status": status, "detail": detail}


def _unmeasured(result: dict[str, Any], measure: str) -> tuple[str, str]:
    loud = result.get("loudness") or {}
    if all(v is None for v in loud.values()):
        return "warn", NOT_MEASURED
    if measure == "mono_loss_lu" and result.get("stereo") is None:
        return "pass", "a 1-channel file loses nothing folded to mono"
    if measure == "integrated_lufs":
        return "warn", "every 400 ms block is below the -70 LUFS gate"
    return "warn", "not measured: the track is too short or too quiet for it"


def true_peak_ceiling(profile: Profile) -> float | None:
    """The lowest true-peak limit of a profile (its warning, where it has one): the level above which a
    timeline marks peaks; None when the profile does not limit true peak."""
    limits = [
        limit
        for rule in profile.rules
        if rule.measure == "true_peak_dbtp"
        for limit in (rule.warn_above, rule.fail_above)
        if limit is not None
    ]
    return min(limits) if limits else None
