"""What a result's JSON may hold: ``validate_result_dict`` is its one description.

The result cache reads entries that anything running as the user can edit, and sessions are files a
user can edit by hand: a value outside this (P(hit) 7.5, a negative duration, NaN, an ok result
without an overall score) must be refused there rather than printed or crash the output. The keys
are declared with the dataclasses in ``hitdesk.results``.
"""

from __future__ import annotations

import math
from typing import Any

from hitdesk.insights import InsightSchemaError, check_curve, check_explanation, check_tonal_balance
from hitdesk.results import (
    CLIPPING_KEYS,
    FAMILIARITY_KEYS,
    LOUDNESS_KEYS,
    LOUDNESS_ORDER,
    MEMBER_KEYS,
    MODES,
    OUTPUT_KEYS,
    PLATFORM_KEYS,
    PROBLEM_SPOTS_KEYS,
    QC_KEYS,
    QC_STATUSES,
    RESULT_KEYS,
    SCORE_KEYS,
    SEGMENT_KEYS,
    SEGMENT_NAMES,
    STEREO_KEYS,
    STYLE_KEYS,
)

# Tags a listener reads as text (the human output joins artist and title).
_TEXT_TAGS = ("title", "artist", "album")
# Times are written rounded to the millisecond; a window ending at the track's end stays within this.
_TIME_SLACK_S = 1e-3
_EXPLAINED = ("curve", "explanation", "tonal_balance")  # hitdesk.explain's
_METERS = ("loudness", "stereo", "clipping", "problem_spots")  # the loudness pass's


class ResultSchemaError(ValueError):
    """A result dict that no analysis can have produced; the message names the field."""


def validate_result_dict(d: object) -> dict[str, Any]:
    """Returns ``d`` when it is a result as ``TrackResult.to_dict`` writes it; raises ``ResultSchemaError``.

    Checks every field's type (booleans are not numbers), that numbers are finite, probabilities lie
    in [0, 1] with low <= p_hit <= high, durations and familiarity are not negative, and that an ok
    result has its duration, overall score and the three windows, in order, within the track. An
    error result carries no scores. Unknown or missing fields are refused too: they mean the dict was
    written for another version of the result.
    """
    if isinstance(d, dict) and "file_raw" in d:  # the exact bytes of a name that is not UTF-8
        raw = d["file_raw"]
        if not isinstance(raw, str) or len(raw) % 2 or any(c not in "0123456789abcdef" for c in raw):
            raise ResultSchemaError("file_raw must be hexadecimal")
        d = {k: v for k, v in d.items() if k != "file_raw"}
    r = _fields(d, RESULT_KEYS, "result", optional=OUTPUT_KEYS)
    _text(r["file"], "file")
    if r["error"] is not None:
        _text(r["error"], "error")
    if r["mode"] not in MODES:
        raise ResultSchemaError(f"mode must be one of {', '.join(MODES)}")
    model = r["model"]
    if not isinstance(model, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in model.items()):
        raise ResultSchemaError("model must map names to strings")
    _check_tags(r["tags"])
    notes = r["notes"]
    if not isinstance(notes, list) or not all(isinstance(n, str) for n in notes):
        raise ResultSchemaError("notes must be a list of strings")
    duration = r["duration_s"]
    if duration is not None:
        _number(duration, "duration_s", low=0.0)
    if not isinstance(r["segments"], list):
        raise ResultSchemaError("segments must be a list")
    segments = [_fields(s, SEGMENT_KEYS, "segment", optional=MEMBER_KEYS) for s in r["segments"]]
    for seg in segments:
        _check_score(seg, f"segment {seg['name']!r}")
    if r["overall"] is not None:
        _check_score(_fields(r["overall"], SCORE_KEYS, "overall", optional=MEMBER_KEYS), "overall")
    if r["familiarity"] is not None:
        fam = _fields(r["familiarity"], FAMILIARITY_KEYS, "familiarity")
        _number(fam["mahalanobis"], "familiarity.mahalanobis", low=0.0)
        _number(fam["typicality"], "familiarity.typicality", low=0.0, high=1.0)
        if not isinstance(fam["unlike_training_data"], bool):
            raise ResultSchemaError("familiarity.unlike_training_data must be true or false")
    _check_meters(r)
    _check_style(r["style"])
    if r["error"] is not None:
        measured = (*_METERS, "overall", "familiarity", "platforms", "qc", "style", *_EXPLAINED)
        if segments or any(r.get(key) is not None for key in measured):
            raise ResultSchemaError("a failed analysis has no scores")
        return r
    if duration is None or duration <= 0:
        raise ResultSchemaError("an analysed track has a positive duration_s")
    if r["overall"] is None:
        raise ResultSchemaError("an analysed track has an overall score")
    if r["loudness"] is None:
        raise ResultSchemaError("an analysed track has a loudness field (its values may be null)")
    _check_windows(segments, duration)
    _check_insights(r, segments, duration)
    return r


def validate_saved_result(d: object) -> dict[str, Any]:
    """``validate_result_dict`` for a result a session file holds, which anyone can edit: fields a
    result of an earlier version did not have take their defaults first (a session keeps the
    results of every version, where the cache recomputes). Returns the completed dict."""
    if isinstance(d, dict):
        ok = d.get("error") is None
        loudness = d.get("loudness") if "loudness" in d else {}
        if ok and isinstance(loudness, dict):  # results of schema 1 had none, of schema 2 two values
            loudness = {**dict.fromkeys(LOUDNESS_ORDER), **loudness}
        defaults: dict[str, Any] = dict.fromkeys(("familiarity", "error", *_METERS[1:], "style", *_EXPLAINED))
        defaults.update(tags={}, model={}, mode="full", notes=[])
        d = {**defaults, **d, "loudness": loudness if ok else d.get("loudness")}
        if isinstance(d.get("segments"), list):  # windows were explained later too
            d["segments"] = [{"explanation": None, **s} if isinstance(s, dict) else s for s in d["segments"]]
    return validate_result_dict(d)


def validate_loudness_dict(d: object) -> dict[str, Any]:
    """The app's own loudness measurement as a session saves it: some of ``LOUDNESS_ORDER``'s keys
    (or ``integrated_lufs``, as early sessions called "lufs"), each null or within the meters' range."""
    if not isinstance(d, dict) or not set(d) <= LOUDNESS_KEYS | {"integrated_lufs"}:
        raise ResultSchemaError("loudness fields differ")
    _check_meters({"stereo": None, "clipping": None, "loudness": {**dict.fromkeys(LOUDNESS_ORDER), **d}})
    if d.get("integrated_lufs") is not None:
        _number(d["integrated_lufs"], "loudness.integrated_lufs", -200.0, 200.0)
    return d


def _check_insights(r: dict[str, Any], segments: list[dict[str, Any]], duration: float) -> None:
    try:
        if r["curve"] is not None:
            check_curve(r["curve"], duration)
        if r["explanation"] is not None:
            check_explanation(r["explanation"], "explanation")
        for seg in segments:
            if seg["explanation"] is not None:
                check_explanation(seg["explanation"], f"segment {seg['name']!r} explanation")
        if r["tonal_balance"] is not None:
            check_tonal_balance(r["tonal_balance"])
    except InsightSchemaError as exc:
        raise ResultSchemaError(str(exc)) from exc


def _check_meters(r: dict[str, Any]) -> None:
    """The "loudness", "stereo", "clipping" and "problem_spots" objects, and the output's "platforms" and
    "qc" when present."""
    if r["loudness"] is not None:
        loud = _fields(r["loudness"], LOUDNESS_KEYS, "loudness")
        for key in LOUDNESS_ORDER:
            if loud[key] is not None:
                _number(loud[key], f"loudness.{key}", low=0.0 if key == "lra_lu" else -200.0, high=200.0)
    if r["stereo"] is not None:
        stereo = _fields(r["stereo"], STEREO_KEYS, "stereo")
        _number(stereo["correlation"], "stereo.correlation", -1.0, 1.0)
        _number(stereo["width"], "stereo.width", 0.0, 1.0)
        if stereo["mono_loss_lu"] is not None:
            _number(stereo["mono_loss_lu"], "stereo.mono_loss_lu", 0.0, 200.0)
    if r["clipping"] is not None:
        clip = _fields(r["clipping"], CLIPPING_KEYS, "clipping")
        if isinstance(clip["spots"], bool) or not isinstance(clip["spots"], int) or clip["spots"] < 0:
            raise ResultSchemaError("clipping.spots must be a whole number, not negative")
        if not isinstance(clip["times_s"], list) or len(clip["times_s"]) > clip["spots"]:
            raise ResultSchemaError("clipping.times_s must list at most one time per spot")
        for t in clip["times_s"]:
            _number(t, "clipping.times_s", low=0.0)
    if r.get("problem_spots") is not None:
        _check_spots(_fields(r["problem_spots"], PROBLEM_SPOTS_KEYS, "problem_spots"))
    for platform in _list_or_none(r.get("platforms"), "platforms"):
        p = _fields(platform, PLATFORM_KEYS, "platform")
        _text(p["name"], "platform name")
        for key in ("target_lufs", "gain_db"):
            _number(p[key], f"platform {key}", -200.0, 200.0)
        if p["true_peak_after_dbtp"] is not None:
            _number(p["true_peak_after_dbtp"], "platform true_peak_after_dbtp", -400.0, 400.0)
    for check in _list_or_none(r.get("qc"), "qc"):
        q = _fields(check, QC_KEYS, "qc check")
        _text(q["rule"], "qc rule")
        _text(q["detail"], "qc detail")
        if q["status"] not in QC_STATUSES:
            raise ResultSchemaError(f"qc status must be one of {', '.join(QC_STATUSES)}")


def _check_spots(spots: dict[str, Any]) -> None:
    """Spans in order within the track: ``[start_s, end_s]`` clipped, ``[start_s, end_s, peak_dbtp]``
    over the floor, and a count of the runs left off."""
    _number(spots["true_peak_floor_dbtp"], "problem_spots.true_peak_floor_dbtp", -200.0, 200.0)
    left = spots["left_off"]
    if isinstance(left, bool) or not isinstance(left, int) or left < 0:
        raise ResultSchemaError("problem_spots.left_off must be a whole number, not negative")
    for kind, size in (("clipped", 2), ("true_peak", 3)):
        for span in _list_or_none(spots[kind], f"problem_spots.{kind}"):
            if not isinstance(span, list) or len(span) != size:
                raise ResultSchemaError(f"problem_spots.{kind} holds lists of {size} numbers")
            start = _number(span[0], f"problem_spots.{kind}", low=0.0)
            _number(span[1], f"problem_spots.{kind}", low=start)
            if size == 3:
                _number(span[2], "problem_spots.true_peak", -200.0, 200.0)


def _check_style(style: object) -> None:
    """The tagger's tags: null, or tags with probabilities, most probable first."""
    previous = 1.0
    for item in _list_or_none(style, "style"):
        t = _fields(item, STYLE_KEYS, "style tag")
        _text(t["tag"], "style tag")
        p = _number(t["p"], f"style {t['tag']!r} p", 0.0, 1.0)
        if p > previous:
            raise ResultSchemaError("style must list its tags most probable first")
        previous = p


def _list_or_none(value: object, name: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise ResultSchemaError(f"{name} must be a list or null")
    return value


def _fields(d: object, keys: frozenset[str], what: str, optional: frozenset[str] = frozenset()) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise ResultSchemaError(f"{what} must be an object")
    if not keys <= set(d) <= keys | optional:
        missing, extra = sorted(keys - set(d)), sorted(str(k) for k in set(d) - keys - optional)
        raise ResultSchemaError(f"{what} fields differ (missing {missing}, unexpected {extra})")
    return d


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value:
        raise ResultSchemaError(f"{name} must be a non-empty string")
    return value


def _number(value: object, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResultSchemaError(f"{name} must be a number")
    try:
        x = float(value)
    except OverflowError:  # an integer beyond any float
        x = math.inf
    if not math.isfinite(x):
        raise ResultSchemaError(f"{name} must be finite")
    if (low is not None and x < low) or (high is not None and x > high):
        raise ResultSchemaError(f"{name} = {x!r} is outside [{low}, {high}]")
    return x


def _check_score(d: dict[str, Any], what: str) -> None:
    p, lo, hi = (_number(d[k], f"{what} {k}", 0.0, 1.0) for k in ("p_hit", "p_hit_low", "p_hit_high"))
    if not lo <= p <= hi:
        raise ResultSchemaError(f"{what}: p_hit_low <= p_hit <= p_hit_high does not hold")
    members = d.get("members")
    if members is not None or "members" in d:
        if not isinstance(members, list) or not members:
            raise ResultSchemaError(f"{what} members must be a non-empty list of probabilities")
        for i, m in enumerate(members):
            _number(m, f"{what} members[{i}]", 0.0, 1.0)


def _check_tags(tags: object) -> None:
    if not isinstance(tags, dict) or not all(isinstance(k, str) for k in tags):
        raise ResultSchemaError("tags must be an object")
    for key, value in tags.items():
        if key in _TEXT_TAGS:
            if value is not None and not isinstance(value, str):
                raise ResultSchemaError(f"tags.{key} must be a string or null")
        elif value is not None and not isinstance(value, str):
            _number(value, f"tags.{key}")


def _check_windows(segments: list[dict[str, Any]], duration: float) -> None:
    names = tuple(s["name"] for s in segments)
    if names != SEGMENT_NAMES:
        raise ResultSchemaError(f"an analysed track has the segments {', '.join(SEGMENT_NAMES)} in that order")
    previous_start = 0.0
    for seg in segments:
        start = _number(seg["start_s"], f"{seg['name']} start_s", low=0.0)
        end = _number(seg["end_s"], f"{seg['name']} end_s")
        if not previous_start <= start <= end <= duration + _TIME_SLACK_S:
            raise ResultSchemaError(f"segment {seg['name']!r} ({start}-{end} s) is out of order or beyond the track")
        previous_start = start
