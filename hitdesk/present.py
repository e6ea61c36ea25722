"""Results into what people and other programs read: JSON, CSV, the human table, times, percentages
and the reading of a score (the ranking of takes against each other is ``hitdesk.ranking``).

Pure: no Qt, no I/O. The command line, the app, sessions and exports all format through here, so a
score reads the same wherever it is shown, and a file exported from the app has exactly the fields
of ``hitdesk analyze --json`` / ``--csv``.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import textwrap
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from hitdesk.results import HEADS, LOUDNESS_ORDER, SEGMENT_NAMES, STEREO_ORDER, Score, TrackResult

SEGMENTS: tuple[str, str, str] = SEGMENT_NAMES
NO_VALUE = "–"
TAG_LIMIT = 200  # characters of a tag the human output shows; longer ones end in "…"
# C0 controls, DEL and C1 controls: a terminal acts on them (escape sequences set its title, move the
# cursor, recolour; a newline or carriage return breaks the table) instead of showing them.
_CONTROLS = {c: f"\\x{c:02x}" for c in (*range(0x20), *range(0x7F, 0xA0))}


def terminal_text(value: object, limit: int | None = None) -> str:
    """Text from a file (a tag, a path, a device's name) as the human output shows it: every control
    character as a visible ``\\xNN`` escape, and cut to ``limit`` characters with "…". JSON and CSV
    keep the text as it is; this is only for a terminal or a label."""
    text = str(value).translate(_CONTROLS)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


# ---------------------------------------------------------------------------------------------- numbers


def _finite(value: object) -> float | None:
    """A number to show, or None for anything else (missing, NaN, a string, a bool, a huge int)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        x = float(value)
    except OverflowError:
        return None
    return x if math.isfinite(x) else None


def mmss(seconds: object) -> str:
    """A length as m:ss, rounded to the nearest second (a 3:03.6 track is 3:04)."""
    x = _finite(seconds)
    if x is None:
        return NO_VALUE
    s = max(0, round(x))
    return f"{s // 60}:{s % 60:02d}"


def clock(seconds: object) -> str:
    """A running position as m:ss, counting whole seconds passed (as a player's counter does)."""
    x = _finite(seconds)
    if x is None:
        return NO_VALUE
    s = max(0, int(x))
    return f"{s // 60}:{s % 60:02d}"


def clock_tenths(seconds: float) -> str:
    """Elapsed recording time with tenths: 1:05.3."""
    tenths = max(0, int(seconds * 10))
    return f"{tenths // 600}:{(tenths // 10) % 60:02d}.{tenths % 10}"


def clip_times(times: Sequence[object], n: int = 5) -> str:
    """The first ``n`` distinct clipped moments to a tenth of a second ("0:08.2, 0:08.5, 0:11.0"): the
    runs of one loud hit fall within milliseconds of each other and would repeat one time."""
    out: list[str] = []
    for t in times:
        x = _finite(t)
        text = NO_VALUE if x is None else clock_tenths(x)
        if text not in out:
            out.append(text)
        if len(out) == n:
            break
    return ", ".join(out)


def plural(n: int, word: str) -> str:
    """ "1 take", "2 takes"."""
    return f"{n} {word}{'s' if n != 1 else ''}"


def pct(p: object) -> str:
    x = _finite(p)
    return NO_VALUE if x is None else f"{100.0 * x:.0f}%"


def pct_range(score: Score, dash: str = "–") -> str:
    return f"{100.0 * score.p_hit_low:.0f}{dash}{100.0 * score.p_hit_high:.0f}%"


def level_cell(value: float, signed: bool = False) -> str:
    """A measured level for a table cell, to 0.1 dB from the two decimals the JSON keeps (so a cell
    and the sentences made from the JSON never differ by a rounding: -1.3497 is -1.35, shown -1.4)."""
    return f"{round(value, 2):+.1f}" if signed else f"{round(value, 2):.1f}"


def db(value: object, unit: str) -> str:
    """A level such as -9.1 LUFS or -0.3 dBTP; a missing one is a dash."""
    x = _finite(value)
    return NO_VALUE if x is None else f"{x:.1f} {unit}"


# ---------------------------------------------------------------------------------------------- judgements


def reading(score: Score, base_rate: float) -> str:
    """One line saying where a score stands against the base rate, honest about the uncertainty."""
    base = f"{pct(base_rate)} base rate"
    if score.p_hit_low > base_rate:
        return f"Above the {base}, even at the low end of the model's range."
    if score.p_hit_high < base_rate:
        return f"Below the {base}, even at the high end of the model's range."
    if abs(score.p_hit - base_rate) < 0.005:
        return f"At the {base}; the model sees nothing that sets it apart."
    side = "Above" if score.p_hit > base_rate else "Below"
    return f"{side} the {base}, but within the model's uncertainty."


def unlike_training_data(result: TrackResult | None) -> bool:
    """Whether a result's statistics lie outside the songs the model was trained on (its numbers say little)."""
    fam = result.familiarity if result is not None else None
    return bool(fam is not None and fam.unlike_training_data)


def familiarity_warning(result: TrackResult | None) -> str | None:
    """The warning for a take unlike the training data, the same in the takes list's row and the panel."""
    if result is None or result.familiarity is None or not unlike_training_data(result):
        return None
    return (
        f"Unlike the songs the model was trained on (typicality {result.familiarity.typicality:.3f}): "
        "treat these numbers with caution."
    )


def unlike_note(names: Sequence[str]) -> str:
    """A sentence to add to a comparison's headline when some of its takes are unlike the training data
    (the compare view's hook: ``unlike_note([t.name for t in takes if unlike_training_data(t.result)])``)."""
    if not names:
        return ""
    which = f"'{names[0]}' is" if len(names) == 1 else f"{len(names)} of these takes are"
    return f"Caution: {which} unlike the songs the model was trained on, so the model's numbers say little there."


# ---------------------------------------------------------------------------------------------- outputs


class CardLike(Protocol):
    """What the human table says of the model (a ``ModelCard`` has it)."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    @property
    def label_definition(self) -> str: ...

    @property
    def base_rate(self) -> float: ...


def results_json(results: Sequence[Mapping[str, Any]]) -> str:
    """The ``hitdesk analyze --json`` document: a list, one object per file."""
    return json.dumps(list(results), indent=2, ensure_ascii=False) + "\n"


CSV_FIELDS: tuple[str, ...] = (
    "file",
    "duration_s",
    "title",
    "artist",
    "album",
    "mode",
    "model",
    "model_version",
    "p_hit",
    "p_hit_low",
    "p_hit_high",
    *LOUDNESS_ORDER,
    *STEREO_ORDER,
    "clipping_spots",
    *(f"{seg}_{key}" for seg in SEGMENTS for key in ("start_s", "end_s", "p_hit", "p_hit_low", "p_hit_high")),
    "typicality",
    "unlike_training_data",
    "notes",
    "error",
)


def results_csv(results: Sequence[Mapping[str, Any]], extra: Sequence[Mapping[str, Any]] | None = None) -> str:
    """One row per file with the fields of the JSON output, flattened.

    ``extra`` holds further columns per row (the app's own, such as a note), in the same order as
    ``results``; their names follow the standard columns and those of the rows' "platforms" and
    "qc" (``output_columns``).
    """
    outputs = [output_columns(r) for r in results]
    extra_fields: list[str] = []
    for more in [*outputs, *(extra or ())]:
        extra_fields += [k for k in more if k not in extra_fields and k not in CSV_FIELDS]
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=[*CSV_FIELDS, *extra_fields], lineterminator="\n")
    writer.writeheader()
    for i, r in enumerate(results):
        tags = r.get("tags") or {}
        overall = r.get("overall") or {}
        fam = r.get("familiarity") or {}
        model = r.get("model") or {}
        loud = r.get("loudness") or {}
        stereo = r.get("stereo") or {}
        row: dict[str, Any] = {
            "file": r["file"],
            "duration_s": r.get("duration_s"),
            "title": tags.get("title"),
            "artist": tags.get("artist"),
            "album": tags.get("album"),
            "mode": r.get("mode"),
            "model": model.get("name"),
            "model_version": model.get("version"),
            "p_hit": overall.get("p_hit"),
            "p_hit_low": overall.get("p_hit_low"),
            "p_hit_high": overall.get("p_hit_high"),
            **{key: loud.get(key) for key in LOUDNESS_ORDER},
            **{key: stereo.get(key) for key in STEREO_ORDER},
            "clipping_spots": (r.get("clipping") or {}).get("spots"),
            "typicality": fam.get("typicality"),
            "unlike_training_data": fam.get("unlike_training_data"),
            "notes": " | ".join(r.get("notes") or []),
            "error": r.get("error"),
        }
        for seg in r.get("segments") or []:
            if seg.get("name") in SEGMENTS:
                for key in ("start_s", "end_s", "p_hit", "p_hit_low", "p_hit_high"):
                    row[f"{seg['name']}_{key}"] = seg.get(key)
        row.update(outputs[i])
        if extra is not None and i < len(extra):
            row.update(extra[i])
        writer.writerow(row)
    return buf.getvalue()


def _range_cell(d: Mapping[str, Any]) -> str:
    return f"{pct(d.get('p_hit_low')).strip()}-{pct(d.get('p_hit_high')).strip()}"


def loudness_line(loudness: Mapping[str, Any] | None) -> str:
    """``loudness: -9.1 LUFS integrated, true peak -0.3 dBTP``; empty when nothing was measured (fast
    mode, whose note says why)."""
    if not loudness or (loudness.get("lufs") is None and loudness.get("true_peak_dbtp") is None):
        return ""
    lufs = loudness.get("lufs")
    integrated = f"{db(lufs, 'LUFS')} integrated" if lufs is not None else "below the -70 LUFS gate"
    return f"loudness: {integrated}, true peak {db(loudness.get('true_peak_dbtp'), 'dBTP')}"


def output_columns(r: Mapping[str, Any]) -> dict[str, Any]:
    """CSV columns of a row's "platforms" (``spotify_gain_db`` ...) and "qc" (``qc_true_peak_dbtp``
    is the status, ``qc_true_peak_dbtp_detail`` the reason)."""
    columns: dict[str, Any] = {}
    for p in r.get("platforms") or []:
        slug = "_".join(str(p.get("name", "")).lower().split())
        for key in ("target_lufs", "gain_db", "true_peak_after_dbtp"):
            columns[f"{slug}_{key}"] = p.get(key)
    for q in r.get("qc") or []:
        columns[f"qc_{q.get('rule')}"] = q.get("status")
        columns[f"qc_{q.get('rule')}_detail"] = q.get("detail")
    return columns


def with_outputs(
    row: Mapping[str, Any], platforms: list[dict[str, Any]] | None, qc: list[dict[str, str]] | None, checked: bool
) -> dict[str, Any]:
    """A result's JSON with its "platforms" (and, when a QC profile was ``checked``, "qc") after its
    meters, before its notes."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        if key == "notes":
            out["platforms"] = platforms
            if checked:
                out["qc"] = qc
        out[key] = value
    return out


def meter_lines(r: Mapping[str, Any]) -> list[str]:
    """The human table's lines for loudness over time, stereo, platforms and QC (none when not measured)."""
    lines = []
    loud = r.get("loudness") or {}
    if loud.get("momentary_max_lufs") is not None or loud.get("lra_lu") is not None:
        lines.append(
            f"range: LRA {db(loud.get('lra_lu'), 'LU')}, PLR {db(loud.get('plr_db'), 'dB')}, "
            f"max momentary {db(loud.get('momentary_max_lufs'), 'LUFS')}, "
            f"max short-term {db(loud.get('short_term_max_lufs'), 'LUFS')}"
        )
    st = r.get("stereo")
    if isinstance(st, dict):
        corr, width = _finite(st.get("correlation")), _finite(st.get("width"))
        lines.append(
            f"stereo: correlation {NO_VALUE if corr is None else f'{corr:+.2f}'}, width "
            f"{NO_VALUE if width is None else f'{width:.2f}'}, mono fold loses {db(st.get('mono_loss_lu'), 'LU')}"
        )
    clip = r.get("clipping")
    if isinstance(clip, dict) and clip.get("spots"):
        times = clip_times(clip.get("times_s") or [])
        lines.append(f"clipping: {plural(int(clip['spots']), 'spot')}" + (f", first at {times}" if times else ""))
    platforms = [p for p in r.get("platforms") or [] if isinstance(p, dict) and _finite(p.get("gain_db")) is not None]
    gains = [f"{p['name']} {p['gain_db']:+.1f} dB" for p in platforms]
    if gains:
        lines.append("platforms: " + ", ".join(gains))
    for q in r.get("qc") or []:
        lines.append(f"qc {q.get('status')}: {q.get('rule')}: {q.get('detail')}")
    return lines


def head_label(score: Mapping[str, Any]) -> str:
    """Which of the model's heads gave a score, as a short label ("" for a result that does not say)."""
    head = score.get("head")
    return f"{head} head" if head in HEADS else ""


def format_human(results: Sequence[Mapping[str, Any]], card: CardLike) -> str:
    """The table ``hitdesk analyze`` prints: one block per file, then what the model is."""
    lines: list[str] = []
    for r in results:
        file = str(r.get("file") or "?")
        name = terminal_text(os.path.basename(file) or file)
        if r.get("error"):
            lines += [f"{name}", f"  error: {terminal_text(r['error'])}", ""]
            continue
        tags = r["tags"] if isinstance(r.get("tags"), dict) else {}
        who = " - ".join(terminal_text(t, TAG_LIMIT) for t in (tags.get("artist"), tags.get("title")) if t)
        lines.append(f"{name}  ({mmss(r.get('duration_s'))}{', ' + who if who else ''})")
        lines.append(f"  {'segment':<22}{'from':>6}{'to':>7}{'P(hit)':>8}   range")
        for seg in r.get("segments") or []:
            if not isinstance(seg, dict):
                continue
            lines.append(
                f"  {seg['name']:<22}{mmss(seg.get('start_s')):>6}{mmss(seg.get('end_s')):>7}"
                f"{pct(seg.get('p_hit')):>8}   {_range_cell(seg):<9}{head_label(seg)}"
            )
        o = r.get("overall")
        label = "overall (whole track)" if r.get("mode") == "full" else "overall (excerpts)"
        if isinstance(o, dict):
            lines.append(f"  {label:<35}{pct(o.get('p_hit')):>8}   {_range_cell(o):<9}{head_label(o)}")
        else:
            lines.append(f"  {label:<35}     no score")
        loudness = loudness_line(r.get("loudness"))
        if loudness:
            lines.append(f"  {loudness}")
        lines += [f"  {terminal_text(line)}" for line in meter_lines(r)]
        fam = r.get("familiarity")
        typicality = _finite(fam.get("typicality")) if isinstance(fam, dict) else None
        if typicality is not None:
            lines.append(f"  typicality: {typicality:.2f} (share of training songs at least this unusual)")
        lines += _why_lines(r)
        style = style_line(r.get("style"))
        if style:
            lines.append(f"  {style}")
        for note in r.get("notes") or []:
            lines.append(f"  note: {terminal_text(note)}")
        lines.append("")
    lines.append(
        f"model {terminal_text(f'{card.name} {card.version}: {card.label_definition}')}; "
        f"base rate {100 * card.base_rate:.0f}%. "
        "Range = spread of the model's cross-validation ensemble; "
        "the track head scores whole tracks, the window head windows."
    )
    return "\n".join(lines) + "\n"


def style_line(style: object, top: int = 3) -> str:
    """ "sounds like: rock 0.71, guitar 0.64, metal 0.52": the tagger's most probable tags, or ""."""
    if not isinstance(style, list) or not style:
        return ""
    tags = [t for t in style[:top] if isinstance(t, dict)]
    return "sounds like: " + ", ".join(
        f"{terminal_text(str(t.get('tag')))} {float(t.get('p') or 0.0):.2f}" for t in tags
    )


def format_compare(
    takes: Sequence[Mapping[str, Any]], pairs: Sequence[Mapping[str, Any]], reasons: Sequence[str], rule: str
) -> str:
    """What ``hitdesk compare`` prints: the takes ranked (failed files last), one sentence per pair
    (``reasons[i]`` says why pair i is no clear difference), and how "clear" is decided."""
    lines = [f"{'rank':>4}  {'P(hit)':>6}  {'range':<9}  take"]
    rank = 0
    for r in takes:
        name = terminal_text(os.path.basename(str(r.get("file") or "?")) or r.get("file"))
        if r.get("error") or not isinstance(r.get("overall"), dict):
            lines.append(f"{'-':>4}  {'failed':>6}  {'':<9}  {name}: {terminal_text(r.get('error'))}")
            continue
        rank += 1
        lines.append(f"{rank:>4}  {pct(r['overall'].get('p_hit')):>6}  {_range_cell(r['overall']):<9}  {name}")
    lines.append("")
    if not pairs:
        lines.append("Fewer than two takes have a score, so there is nothing to compare.")
    for pair, reason in zip(pairs, reasons, strict=True):
        a, b = (terminal_text(os.path.basename(str(pair[k]))) for k in ("a", "b"))
        points = 100.0 * float(pair["difference"])
        said = f"'{a}' scores {points:.1f} points above '{b}'" if round(points, 1) else f"'{a}' and '{b}' score alike"
        lines.append(f"{said}: {'a clear difference' if pair['clear'] else 'no clear difference, ' + reason}.")
    return "\n".join([*lines, "", *textwrap.wrap(rule, 100)]) + "\n"


def _why_lines(r: Mapping[str, Any]) -> list[str]:
    """The hit curve's strongest part and the three largest drivers of the overall score, if present."""
    out = []
    points = (r.get("curve") or {}).get("points") if isinstance(r.get("curve"), dict) else None
    if points:
        best = max(points, key=lambda p: p["p_hit"])
        where = f"{mmss(best['start_s'])}-{mmss(best['end_s'])}"
        out.append(f"  hit curve (the model's view): strongest part {where} ({pct(best['p_hit'])})")
    parts = (r.get("explanation") or {}).get("contributions") if isinstance(r.get("explanation"), dict) else None
    if parts:
        top = ", ".join(f"{c['name']} {100 * c['value']:+.1f}" for c in parts[:3])
        out.append(f"  what drives it (the model's view, points): {top}")
    return out


def live_line(segment: str, t_s: float, start_s: float, end_s: float, score: Score) -> str:
    """One line of ``hitdesk capture``'s live output."""
    where = f"{segment} ({mmss(start_s)}-{mmss(end_s)})"
    return (
        f"  {mmss(t_s):>5}  {where:<22} P(hit) {pct(score.p_hit):>4}   {pct(score.p_hit_low)}-{pct(score.p_hit_high)}"
    )
