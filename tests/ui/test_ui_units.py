"""The app's non-widget parts: loudness against pyloudnorm, readings, rankings, sessions, the Hz axis."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import contextlib
import csv
import io
import json
import math
from pathlib import Path

import numpy as np
import pyloudnorm
import pytest
import scipy.signal
import soundfile as sf
from ui_helpers import CLIPS, DATA

from hitdesk.present import reading
from hitdesk.ranking import rank, summary
from hitdesk.results import LOUDNESS_ORDER, Score, SegmentResult, TrackResult
from hitdesk.ui.loudness import Loudness, LoudnessMeter, iter_native_blocks, measure_file
from hitdesk.ui.session import SessionError, SessionTake, load_session, results_csv, results_json, save_session


@pytest.mark.parametrize("clip", CLIPS)
def test_loudness_matches_pyloudnorm_on_the_whole_signal(clip: str) -> None:
    path = DATA / clip
    if not path.exists():
        pytest.skip(f"{clip} missing")
    rate, _channels, blocks = iter_native_blocks(path)
    x = np.concatenate(list(blocks)).astype(np.float64)
    expected_lufs = pyloudnorm.Meter(rate).integrated_loudness(x)
    expected_peak = 20 * math.log10(float(np.max(np.abs(scipy.signal.resample_poly(x, 4, 1, axis=0)))))
    got = measure_file(path)
    assert got is not None and got.integrated_lufs is not None
    assert got.integrated_lufs == pytest.approx(expected_lufs, abs=0.01)
    assert got.true_peak_dbtp == pytest.approx(expected_peak, abs=0.05)  # a shorter filter: tests/dsp/test_loudness.py


def test_true_peak_finds_inter_sample_peaks_and_block_size_does_not_matter() -> None:
    # A sine at a quarter of the rate, phase-shifted so no sample hits the crest: sample peak < true peak.
    rate = 48000
    t = np.arange(rate * 2) / rate
    x = 0.5 * np.sin(2 * np.pi * 12000 * t + np.pi / 4)
    stereo = np.stack([x, 0.5 * x], axis=1)
    whole = LoudnessMeter(rate, 2)
    whole.feed(stereo)
    pieces = LoudnessMeter(rate, 2)
    for start in range(0, len(stereo), 7777):
        pieces.feed(stereo[start : start + 7777])
    a, b = whole.result(), pieces.result()
    assert a.true_peak_dbtp == pytest.approx(b.true_peak_dbtp, abs=1e-9)
    assert a.integrated_lufs == pytest.approx(b.integrated_lufs, abs=1e-9)
    sample_peak_db = 20 * math.log10(float(np.max(np.abs(x))))
    assert a.true_peak_dbtp > sample_peak_db + 2.5  # 0.5 * sin(pi/4) sampled vs 0.5 true: about 3 dB
    assert a.true_peak_dbtp == pytest.approx(20 * math.log10(0.5), abs=0.2)  # 4x interpolation overshoots a little


def test_silence_and_too_short(tmp_path: Path) -> None:
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros((48000, 2), dtype=np.float32), 48000)
    silent = measure_file(path)
    assert silent is not None and silent.integrated_lufs is None and silent.true_peak_dbtp == -math.inf
    assert silent.to_dict() == dict.fromkeys(LOUDNESS_ORDER)  # and no range or maxima either
    short = LoudnessMeter(48000, 1)
    short.feed(np.full(1000, 0.1))
    assert short.result().integrated_lufs is None


def _result(name: str, p: float, lo: float, hi: float) -> TrackResult:
    seg = tuple(SegmentResult(n, 0.0, 30.0, Score(p, lo, hi)) for n in ("beginning", "middle", "end"))
    return TrackResult(file=name, duration_s=60.0, segments=seg, overall=Score(p, lo, hi), model={"name": "m"})


def test_reading_says_where_a_score_stands() -> None:
    assert reading(Score(0.5, 0.4, 0.6), 0.3).startswith("Above the 30% base rate, even at the low end")
    assert reading(Score(0.35, 0.2, 0.5), 0.3) == "Above the 30% base rate, but within the model's uncertainty."
    assert reading(Score(0.25, 0.1, 0.4), 0.3) == "Below the 30% base rate, but within the model's uncertainty."
    assert reading(Score(0.1, 0.05, 0.2), 0.3).startswith("Below the 30% base rate, even at the high end")


def test_ranking_and_clear_differences() -> None:
    ranked = rank([(1, Score(0.30, 0.25, 0.35)), (2, Score(0.50, 0.45, 0.55)), (3, Score(0.47, 0.40, 0.52))])
    assert [r.key for r in ranked] == [2, 3, 1]
    assert ranked[0].text == "best"
    assert not ranked[1].clear and "no clear difference" in ranked[1].text
    assert ranked[2].clear and ranked[2].text == "-20 pts, clearly lower"
    assert "no clear difference" in summary(ranked, {1: "a", 2: "b", 3: "c"})


def test_session_round_trip_and_exports(tmp_path: Path) -> None:
    audio = tmp_path / "takes"
    audio.mkdir()
    (audio / "a.wav").write_bytes(b"x")
    results = [_result(str(audio / "a.wav"), 0.4, 0.3, 0.5), TrackResult(file=str(audio / "b.mp3"), error="Bad.")]
    takes = [
        SessionTake(audio / "a.wav", results[0], Loudness(-14.2, -0.9), "keeper"),
        SessionTake(audio / "b.mp3", results[1], None, ""),
    ]
    session = audio / "s.hitdesk.json"
    save_session(session, takes, {"name": "m", "version": "1"})
    back, model = load_session(session)
    assert model == {"name": "m", "version": "1"}
    assert [t.note for t in back] == ["keeper", ""]
    assert back[0].result == results[0] and back[0].loudness == Loudness(-14.2, -0.9)
    assert back[1].result is not None and back[1].result.error == "Bad."
    assert json.loads(results_json(results)) == [r.to_dict() for r in results]
    assert results_csv(results).splitlines()[0].startswith("file,duration_s,title,artist")
    (tmp_path / "bad.json").write_text("{nope", encoding="utf-8")
    with pytest.raises(SessionError, match="damaged or not a session"):
        load_session(tmp_path / "bad.json")


def test_exports_add_loudness_and_note_and_keep_a_results_own_loudness() -> None:
    from hitdesk.ui.session import ExportRow, export_csv, export_dict

    measured = Loudness(-14.236, -0.912)
    row = ExportRow(_result("/a.wav", 0.4, 0.3, 0.5), measured, "keeper")
    d = export_dict(row)
    unmeasured = {"lra_lu": None, "plr_db": None, "momentary_max_lufs": None, "short_term_max_lufs": None}
    assert d["loudness"] == {"lufs": -14.24, "true_peak_dbtp": -0.91, **unmeasured} and d["note"] == "keeper"
    assert d["platforms"][0] == {"name": "Spotify", "target_lufs": -14.0, "gain_db": 0.0, "true_peak_after_dbtp": -0.91}
    assert list(d)[-3:] == ["notes", "error", "note"] and d["stereo"] is None
    assert export_dict(ExportRow(_result("/a.wav", 0.4, 0.3, 0.5)))["loudness"] == {
        "lufs": None,
        "true_peak_dbtp": None,
        **unmeasured,
    }
    failed = export_dict(ExportRow(TrackResult(file="/b.mp3", error="Bad.")))
    assert failed["loudness"] is None and failed["platforms"] is None

    class Measured(TrackResult):  # a result that measures loudness itself (the engine, later)
        def to_dict(self) -> dict[str, object]:
            return {**super().to_dict(), "loudness": {"lufs": -9.5, "true_peak_dbtp": 0.3}}

    own = ExportRow(Measured(**vars(_result("/c.wav", 0.4, 0.3, 0.5))), measured, "")
    assert export_dict(own)["loudness"] == {"lufs": -9.5, "true_peak_dbtp": 0.3}  # the result's own is kept
    rows = list(csv.DictReader(io.StringIO(export_csv([row, own]))))
    assert [(r["lufs"], r["true_peak_dbtp"], r["note"]) for r in rows] == [
        ("-14.24", "-0.91", "keeper"),
        ("-9.5", "0.3", ""),
    ]


def test_hz_axis_maps_mel_bands() -> None:
    from hitdesk.ui.plot_parts import hz_to_row, row_to_hz

    rows = [hz_to_row(f) for f in (100, 500, 1000, 2000, 5000, 10000)]
    assert rows == sorted(rows) and 0 < rows[0] < rows[-1] < 128
    # Slaney's scale is linear up to 1 kHz: 500 Hz sits halfway between 0 Hz and 1 kHz.
    assert hz_to_row(500) == pytest.approx(hz_to_row(1000) / 2, abs=0.6)
    for f in (100, 500, 1000, 2000, 5000, 10000):
        assert row_to_hz(hz_to_row(f)) == pytest.approx(f, rel=1e-6)


def test_after_warm_up_workers_import_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """PySide6's import hook can crash the interpreter when a worker thread imports a new module."""
    import sys
    import threading

    from ui_helpers import clips, require_model

    from hitdesk.analysis import AnalysisOptions, analyze
    from hitdesk.audio import decode_all
    from hitdesk.cache import lookup
    from hitdesk.model.runtime import HitModel
    from hitdesk.ui.workers import warm_up

    require_model()
    monkeypatch.delenv("HITDESK_CACHE_DIR", raising=False)  # the cache's default folder comes from platformdirs
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    model = HitModel.load()
    warm_up(model)
    broken = tmp_path / "x.mp3"
    broken.write_text("not audio", encoding="utf-8")
    before = set(sys.modules)

    def work() -> None:
        for path in [*clips(), broken]:
            for fast in (False, True):
                analyze(path, model, AnalysisOptions(fast=fast))
                lookup(path, model, AnalysisOptions(fast=fast))
            for step in (measure_file, decode_all):
                with contextlib.suppress(Exception):  # the broken file: only the imports matter here
                    step(path)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    assert sorted(set(sys.modules) - before) == []


def test_qt_binding_cannot_free_none(qapp: object) -> None:
    """PySide6 6.12.0 drops a reference to None per void call; the window's guard must make that harmless."""
    import sys

    from PySide6.QtCore import QObject

    from hitdesk.ui.qt_compat import binding_drops_references, protect_singletons

    protect_singletons()
    if binding_drops_references():
        assert min(sys.getrefcount(x) for x in (None, True, False)) > 1 << 39  # headroom added
    probe = QObject()
    for _ in range(100_000):
        probe.setObjectName("x")
    assert sys.getrefcount(None) > 1000  # still alive, whichever binding


def test_a_session_edited_by_hand_keeps_no_value_an_analysis_cannot_give(tmp_path: Path) -> None:
    """Each saved result is checked as the result cache checks its entries; a bad one (and the take's
    loudness) is dropped so the take is analysed again, and one sentence names the takes."""
    from hitdesk.ui.session import damaged_sentence

    names = ["ok", "p75", "nan", "lufs500", "peakinf", "oldschema", "badtype"]
    takes = [SessionTake(tmp_path / f"{n}.wav", _result(str(tmp_path / f"{n}.wav"), 0.4, 0.3, 0.5),
                         Loudness(-14.2, -0.9), "") for n in names]  # fmt: skip
    session = tmp_path / "s.hitdesk.json"
    save_session(session, takes, {"name": "m"})
    raw = json.loads(session.read_text(encoding="utf-8"))
    entries = {Path(e["file"]).stem: e for e in raw["takes"]}
    entries["p75"]["result"]["overall"].update(p_hit=7.5, p_hit_high=9.0)  # once shown as "750% (16–900%)"
    entries["nan"]["result"]["segments"][1]["p_hit"] = float("nan")
    entries["lufs500"]["result"]["loudness"]["lufs"] = 500.0
    entries["peakinf"]["loudness"]["true_peak_dbtp"] = float("inf")  # the app's own measurement
    for key in ("loudness", "stereo", "clipping"):  # a result saved before these fields existed
        del entries["oldschema"]["result"][key]
    entries["badtype"]["result"]["duration_s"] = "60"
    session.write_text(json.dumps(raw), encoding="utf-8")  # Python's json writes NaN and Infinity
    back, _ = load_session(session)
    damaged = {t.path.stem for t in back if t.damaged}
    assert damaged == {"p75", "nan", "lufs500", "peakinf", "badtype"}
    for t in back:
        if t.damaged:
            assert t.result is None and t.loudness is None  # analysed again, file and note kept
        else:
            assert t.result == takes[names.index(t.path.stem)].result and t.loudness == Loudness(-14.2, -0.9)
    sentence = damaged_sentence(back, session)
    assert sentence is not None and "\n" not in sentence and sentence.endswith("analysed again.")
    assert "'p75.wav', 'nan.wav', 'lufs500.wav' and 2 more" in sentence and "s.hitdesk.json" in sentence
    assert damaged_sentence(back[:1], session) is None


def test_a_session_files_ending_is_completed_never_doubled(tmp_path: Path) -> None:
    from hitdesk.ui.session import is_session_path, session_file, session_name

    for typed, written, title in (
        ("s1.hitdesk", "s1.hitdesk.json", "s1"),  # once s1.hitdesk.hitdesk.json, titled "s1.hitdesk"
        ("s1.hitdesk.json", "s1.hitdesk.json", "s1"),
        ("s1.HITDESK", "s1.HITDESK.json", "s1"),
        ("s1.json", "s1.json", "s1"),
        ("s1", "s1.hitdesk.json", "s1"),
        ("mix.v2", "mix.v2.hitdesk.json", "mix.v2"),
    ):
        path = session_file(tmp_path / typed)
        assert (path.name, session_name(path)) == (written, title)
        assert session_file(path) == path and is_session_path(path)
    assert not is_session_path(tmp_path / "take.wav") and session_name(None) == "Untitled session"


def test_a_take_name_shows_control_characters_as_escapes() -> None:
    """A file name may hold a newline or an escape sequence; the takes list and messages show them as
    visible escapes instead of breaking a row or acting on the widget."""
    from hitdesk.ui.takes import Take

    take = Take(1, Path("/music/mix\n\x1b[31mred.wav"), "k")
    assert take.name == "mix\\x0a\\x1b[31mred.wav"
    assert Take(2, Path("/music/plain.wav"), "k").name == "plain.wav"


def test_a_level_cell_shows_what_the_sentences_from_the_json_show() -> None:
    """The takes table formats the raw meter value; the take panel formats the JSON's two decimals. At
    a rounding edge (-1.3497 dBTP: -1.35 in the JSON) both must say -1.4."""
    from hitdesk.present import db, level_cell

    for raw in (-1.3497, -1.3503, -16.0949, 0.25, -0.04):
        assert level_cell(raw, signed=True).lstrip("+") == db(round(raw, 2), "dBTP").removesuffix(" dBTP")
    assert level_cell(-1.3497, signed=True) == "-1.4" and f"{-1.3497:+.1f}" == "-1.3"
