"""The batch dataset's row: an ``analyze --json`` object, flattened where people filter and sort.

One row per input file. The scores, loudness, model and error a catalogue query needs are flat
columns; the rest of the result keeps its shape as Arrow structs and lists (``tags``, ``segments``
with their explanations, ``loudness``, ``stereo``, ``clipping``, ``curve``, ``explanation``,
``tonal_balance``, ``familiarity``, ``problem_spots``, ``style``), so pandas, polars and DuckDB
read the files as they are and ``from_row`` gives back the very object ``hitdesk analyze --json``
prints (without "platforms" and "qc", which come from the user's presets, not from the file). The
schema's version is in every part's metadata (``SCHEMA_VERSION_KEY``); bump ``SCHEMA_VERSION`` when
a column is added, dropped or changes meaning.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from hitdesk.insights import TONAL_KEYS
from hitdesk.results import LOUDNESS_ORDER, RESULT_SCHEMA_VERSION, SEGMENT_NAMES, STEREO_ORDER

SCHEMA_VERSION = 2  # 2: "problem_spots", "style", each score's "head" and "members"
SCHEMA_VERSION_KEY = b"hitdesk.batch_schema"
RESULT_VERSION_KEY = b"hitdesk.result_schema"

_F64 = pa.float64()
_STR = pa.string()
_SCORE = ("p_hit", "p_hit_low", "p_hit_high")
_EXPLANATION = pa.struct(
    [
        ("baseline", _F64),
        ("contributions", pa.list_(pa.struct([("name", _STR), ("value", _F64), ("text", _STR)]))),
    ]
)
_NESTED: dict[str, pa.DataType] = {
    "tags": pa.struct([("title", _STR), ("artist", _STR), ("album", _STR), ("duration_s", _F64)]),
    "segments": pa.list_(
        pa.struct(
            [
                ("name", _STR),
                ("start_s", _F64),
                ("end_s", _F64),
                *((key, _F64) for key in _SCORE),
                ("head", _STR),
                ("members", pa.list_(_F64)),  # null for a model without member scores
                ("explanation", _EXPLANATION),
            ]
        )
    ),
    "familiarity": pa.struct([("mahalanobis", _F64), ("typicality", _F64), ("unlike_training_data", pa.bool_())]),
    "loudness": pa.struct([(key, _F64) for key in LOUDNESS_ORDER]),
    "stereo": pa.struct([(key, _F64) for key in STEREO_ORDER]),
    "clipping": pa.struct([("spots", pa.int64()), ("times_s", pa.list_(_F64))]),
    "curve": pa.struct(
        [
            ("window_s", _F64),
            ("hop_s", _F64),
            ("points", pa.list_(pa.struct([("start_s", _F64), ("end_s", _F64), ("p_hit", _F64)]))),
        ]
    ),
    "explanation": _EXPLANATION,
    "tonal_balance": pa.struct([(key, pa.list_(_F64)) for key in sorted(TONAL_KEYS)]),
    "problem_spots": pa.struct(
        [
            ("true_peak_floor_dbtp", _F64),
            ("clipped", pa.list_(pa.list_(_F64))),  # [start_s, end_s]
            ("true_peak", pa.list_(pa.list_(_F64))),  # [start_s, end_s, peak_dbtp]
            ("left_off", pa.int64()),
        ]
    ),
    "style": pa.list_(pa.struct([("tag", _STR), ("p", _F64)])),  # with --style
}
# The columns of the row's identity: what a re-run compares to skip a file (see hitdesk.batch.plan).
KEY_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("key", _STR),  # SHA-256 of path, content hash, model name and version, options
    ("path", _STR),  # the result's "file"
    ("file_raw", _STR),  # the path's bytes in hex, only when "path" had to replace some (see results.py)
    ("content_hash", _STR),  # SHA-256 of the file; null when it could not be read
    ("options", _STR),  # the analysis options, as JSON
]
FLAT_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("duration_s", _F64),
    *((f"{seg}_{key}", _F64) for seg in SEGMENT_NAMES for key in _SCORE),
    *((f"overall_{key}", _F64) for key in _SCORE),
    ("overall_head", _STR),  # which of the model's heads gave the overall score
    ("overall_members", pa.list_(_F64)),  # each ensemble member's P(hit); null without member scores
    ("lufs", _F64),
    ("true_peak_dbtp", _F64),
    ("model_name", _STR),
    ("model_version", _STR),
    ("mode", _STR),
    ("notes", pa.list_(_STR)),
    ("error", _STR),
]
SCHEMA = pa.schema(
    [*KEY_COLUMNS, *FLAT_COLUMNS, *_NESTED.items()],
    metadata={
        SCHEMA_VERSION_KEY: str(SCHEMA_VERSION).encode(),
        RESULT_VERSION_KEY: str(RESULT_SCHEMA_VERSION).encode(),
    },
)
COLUMNS = tuple(SCHEMA.names)


def to_row(result: dict[str, Any], key: str, content_hash: str | None, options: str) -> dict[str, Any]:
    """The row of one ``TrackResult.to_dict()`` (errors included), under its key."""
    row: dict[str, Any] = {
        "key": key,
        "path": result["file"],
        "file_raw": result.get("file_raw"),
        "content_hash": content_hash,
        "options": options,
        "duration_s": result.get("duration_s"),
    }
    segments = {s["name"]: s for s in result.get("segments") or ()}
    overall = result.get("overall") or {}
    for seg in SEGMENT_NAMES:
        for k in _SCORE:
            row[f"{seg}_{k}"] = segments.get(seg, {}).get(k)
    for k in _SCORE:
        row[f"overall_{k}"] = overall.get(k)
    row["overall_head"], row["overall_members"] = overall.get("head"), overall.get("members")
    loudness = result.get("loudness") or {}
    model = result.get("model") or {}
    row.update(
        lufs=loudness.get("lufs"),
        true_peak_dbtp=loudness.get("true_peak_dbtp"),
        model_name=model.get("name"),
        model_version=model.get("version"),
        mode=result.get("mode"),
        notes=list(result.get("notes") or ()),
        error=result.get("error"),
    )
    for name in _NESTED:
        value = result.get(name)
        row[name] = value if value or name == "segments" else None  # an empty "tags" ({}) is null
    row["segments"] = list(row["segments"] or ())
    return row


def from_row(row: dict[str, Any]) -> dict[str, Any]:
    """The ``analyze --json`` object a row was made from (``to_pylist()`` of a table read back)."""
    overall = None if row["overall_p_hit"] is None else _score(row, "overall_")
    model = {} if row["model_name"] is None else {"name": row["model_name"], "version": row["model_version"]}
    out: dict[str, Any] = {
        "file": row["path"],
        "duration_s": row["duration_s"],
        "tags": row["tags"] or {},
        "segments": [_without_null_members(seg) for seg in row["segments"] or ()],
        "overall": overall,
        "model": model,
        "mode": row["mode"],
    }
    for name in _NESTED.keys() - {"tags", "segments"}:
        out[name] = row[name]
    out["notes"] = list(row["notes"] or ())
    out["error"] = row["error"]
    if row.get("file_raw") is not None:
        out["file_raw"] = row["file_raw"]
    return out


def _score(row: dict[str, Any], prefix: str) -> dict[str, Any]:
    score = {k: row[f"{prefix}{k}"] for k in _SCORE}
    score["head"] = row[f"{prefix}head"]
    return _without_null_members(score | {"members": row[f"{prefix}members"]})


def _without_null_members(score: dict[str, Any]) -> dict[str, Any]:
    """A score as the JSON has it: "members" only where the model gives member scores."""
    return {k: v for k, v in score.items() if k != "members" or v is not None}


def table(rows: list[dict[str, Any]]) -> pa.Table:
    """Rows as a table of ``SCHEMA`` (every part has the same schema, so the parts read as one dataset)."""
    return pa.Table.from_pylist(rows, schema=SCHEMA)
