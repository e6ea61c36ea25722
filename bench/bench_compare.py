"""The compare view with many takes: GUI-thread stalls and memory of the real window (offscreen).

1. ``--takes`` files (120 by default) are made in a temporary folder: copies of the corpus's audio
   files under distinct names. Copies of the same track
   share their content, so only the first of each is analysed in full; the others are answered
   from the result cache, without the log-mel detail the compare view draws (as for takes of a
   session), and the view has to ask for it.
2. The window gets the files the way a drop does and analyses them (not measured).
3. Measured from here: all takes are selected and the compare view opened (``show_compare``); the
   view is left to fill until the app is idle, then scrolled to the end a page every 0.3 s (as a
   person paging through it), left to fill again, and finally hidden (the "Selected take" tab).
   A 10 ms ``QTimer`` records the intervals between its own calls on the GUI thread, and a thread
   samples the process's resident memory every 20 ms.

Reported: the interval distribution (p50, p99, max, counts over 100 and 250 ms), how long
``show_compare`` took to return, resident memory before opening compare, its peak while compare
was open, and after compare was hidden. Targets: 99% of intervals under 100 ms, none over 250 ms,
peak memory under 1.2 GB with 120 takes.

    python bench/bench_compare.py [--corpus DIR] [--takes 120] [--runs 1] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import itertools
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_gui import AUDIO_SUFFIXES, DEFAULT_CORPUS, StallWatcher, isolated_env, percentile

TICK_MS = 10
GAP_WARN_MS = 100.0
GAP_MAX_MS = 250.0
RSS_TARGET_MB = 1200.0
PAGE_EVERY_S = 0.3


def prepare_takes(corpus: Path, count: int, folder: Path) -> list[Path]:
    """``count`` files named apart, cycling through the corpus's audio files (copies)."""
    sources = sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not sources:
        raise SystemExit(f"no audio files in {corpus}")
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i, src in zip(range(count), itertools.cycle(sources), strict=False):
        dst = folder / f"take{i:03d}-{src.name}"
        shutil.copyfile(src, dst)
        out.append(dst)
    return out


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


class GcPauses:
    """Python's garbage collections longer than ``limit_ms``, with the thread that ran them."""

    def __init__(self, limit_ms: float = 30.0) -> None:
        self.limit = limit_ms / 1000.0
        self.began: dict[int, float] = {}
        self.pauses: list[dict[str, Any]] = []

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        now = time.perf_counter()
        thread = threading.get_ident()
        if phase == "start":
            self.began[thread] = now
        elif thread in self.began:
            took = now - self.began.pop(thread)
            if took > self.limit:
                name = threading.current_thread().name
                self.pauses.append({"ms": round(took * 1000, 1), "generation": info.get("generation"), "thread": name})


class AllThreadsStallWatcher(StallWatcher):
    """Also keeps the innermost frames of the other threads: one of them may hold the GIL the GUI waits for."""

    def _run(self) -> None:
        import traceback

        seen, samples = -1, 0
        while not self.stop.wait(self.limit / 3):
            if not self.ticks:
                continue
            late = time.perf_counter() - self.ticks[-1]
            if late <= self.limit:
                continue
            if len(self.ticks) != seen:
                seen, samples = len(self.ticks), 0
            if samples >= 8:  # a few samples over one stall, not hundreds over a long one
                continue
            samples += 1
            frames = sys._current_frames()
            names = {t.ident: t.name for t in threading.enumerate()}
            stacks = {
                names.get(ident, str(ident)): [ln.strip() for ln in traceback.format_stack(f)[-4:]]
                for ident, f in frames.items()
                if ident != threading.get_ident()
            }
            self.stacks.append({"late_ms": round(late * 1000, 1), "threads": stacks})


class RssSampler:
    def __init__(self, every_s: float = 0.02) -> None:
        self.every = every_s
        self.peak = rss_mb()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self.stop.wait(self.every):
            self.peak = max(self.peak, rss_mb())


def _round(x: float, digits: int | None = None) -> float | None:
    """A figure for the report; None for one not measured (NaN)."""
    return None if math.isnan(x) else round(x, digits)


def summarise(
    window: Any,
    state: dict[str, Any],
    ticks: list[float],
    rss_peak: float,
    rss_before: float,
    analysed_s: float,
    watcher: StallWatcher | None,
    now: float | None = None,
) -> dict[str, Any]:
    """The figures of a run; with ``now`` (the watchdog), the stall still going on counts up to then."""
    start_t = state["start"]
    end_t = state.get("end", now if now is not None else time.perf_counter())
    window_ticks = [t for t in list(ticks) if start_t - TICK_MS / 1000 <= t <= end_t + TICK_MS / 1000]
    if now is not None:
        window_ticks.append(now)
    gaps = [(b - a) * 1000.0 for a, b in itertools.pairwise(window_ticks)]
    worst = sorted(((g, window_ticks[i] - start_t) for i, g in enumerate(gaps)), reverse=True)[:5]
    p99 = percentile(gaps, 99)
    max_gap = max(gaps) if gaps else float("nan")
    over_max = sum(g > GAP_MAX_MS for g in gaps)
    counts = getattr(window.compare, "counts", None) if now is None else None
    timed_out = bool(state.get("timed_out")) or now is not None
    return {
        "takes": len(window.controller.takes) if now is None else state.get("takes"),
        "analysis_before_compare_s": _round(analysed_s, 1),
        "timed_out": timed_out,
        "intervals": len(gaps),
        "p50_gap_ms": _round(percentile(gaps, 50), 1),
        "p99_gap_ms": _round(p99, 1),
        "max_gap_ms": _round(max_gap, 1),
        "gaps_over_100ms": sum(g > GAP_WARN_MS for g in gaps),
        "gaps_over_250ms": over_max,
        "worst_gaps_ms_at_s": [[round(g, 1), round(at, 2)] for g, at in worst],
        "show_compare_returned_s": _round(state.get("open_returned_s", float("nan")), 3),
        "open_filled_s": _round(state.get("open_filled_s", float("nan")), 1),
        "phase_reached": state["phase"],
        "pages_scrolled": state["pages"],
        "compare_widgets_when_filled": state.get("widgets"),
        "compare_s": _round(end_t - start_t, 1),
        "rss_before_compare_mb": _round(rss_before),
        "rss_peak_mb": _round(rss_peak),
        "rss_compare_shown_end_mb": _round(state.get("rss_shown_mb", float("nan"))),
        "view_counts": counts() if callable(counts) else None,
        "ok": p99 < GAP_WARN_MS and over_max == 0 and rss_peak < RSS_TARGET_MB and not timed_out,
        **({"stall_stacks": watcher.stacks} if watcher is not None else {}),
    }


def run_once(
    files: list[Path],
    timeout_s: float,
    stall_stacks_ms: float,
    json_path: Path | None = None,
    cleanup: Callable[[], None] | None = None,
) -> dict[str, Any]:
    import pyqtgraph as pg
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QAbstractScrollArea, QApplication, QWidget

    from hitdesk.ui.app import _application
    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.theme import apply_dark_palette, window_icon

    app, _created = _application([sys.argv[0]])
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    apply_dark_palette(app)
    app.setWindowIcon(window_icon())
    window = MainWindow(restore=False, persist=False)
    window.show()
    while not (window.windowHandle() is not None and window.windowHandle().isExposed()):
        app.processEvents()
        time.sleep(0.001)
    t0 = time.perf_counter()
    window.add_paths([str(p) for p in files])
    window.wait_until_idle(int(timeout_s * 1000))
    analysed_s = time.perf_counter() - t0
    for _ in range(20):
        app.processEvents()
    gc.collect()
    rss_before = rss_mb()

    ticks: list[float] = []
    state: dict[str, Any] = {"phase": "open", "phase_at": {}, "pages": 0}
    compare = window.compare

    def view_busy() -> bool:
        busy = getattr(compare, "busy", None)
        return bool(busy()) if callable(busy) else False

    def idle() -> bool:
        return not window.is_busy and not view_busy()

    def scroll_bar() -> Any:
        areas = [a for a in compare.findChildren(QAbstractScrollArea) if a.isVisible()]
        areas.sort(key=lambda a: -a.height())
        return areas[0].verticalScrollBar() if areas else None

    def tick() -> None:
        ticks.append(time.perf_counter())

    def step() -> None:
        now = time.perf_counter()
        if now - state["start"] > timeout_s:
            state["timed_out"] = True
            app.quit()
            return
        phase = state["phase"]
        since = now - state["phase_at"].get(phase, now)
        if phase == "open" and idle() and since > 1.0:
            state["open_filled_s"] = now - state["start"]
            state["widgets"] = len(compare.findChildren(QWidget))
            state["phase"] = "scroll"
            state["phase_at"]["scroll"] = now
            state["next_page"] = now
        elif phase == "scroll" and now >= state["next_page"]:
            bar = scroll_bar()
            if bar is None or bar.value() >= bar.maximum():
                state["phase"] = "settle"
                state["phase_at"]["settle"] = now
            else:
                bar.setValue(min(bar.maximum(), bar.value() + bar.pageStep()))
                state["pages"] += 1
                state["next_page"] = now + PAGE_EVERY_S
        elif phase == "settle" and idle() and since > 1.0:
            state["rss_shown_mb"] = rss_mb()
            state["phase"] = "hide"
            state["phase_at"]["hide"] = now
            window.show_take_tab()
        elif phase == "hide" and since > 1.5:
            state["end"] = now
            app.quit()

    def start() -> None:
        state["start"] = time.perf_counter()
        state["phase_at"]["open"] = state["start"]
        window.select_ids([t.id for t in window.controller.takes])
        window.show_compare()
        state["open_returned_s"] = time.perf_counter() - state["start"]

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    poll = QTimer()
    poll.timeout.connect(step)
    sampler = RssSampler()
    watcher = AllThreadsStallWatcher(ticks, stall_stacks_ms) if stall_stacks_ms > 0 else None
    gc_pauses = GcPauses()
    gc.callbacks.append(gc_pauses)
    sampler.thread.start()
    if watcher is not None:
        watcher.thread.start()
    state["takes"] = len(window.controller.takes)

    def watchdog() -> None:
        """A stall longer than the timeout cannot be ended from the GUI thread: report what was seen."""
        while not stop_watchdog.wait(1.0):
            begun = state.get("start")
            if begun is not None and time.perf_counter() - begun > timeout_s + 30 and "end" not in state:
                now = time.perf_counter()
                out = summarise(window, state, ticks, sampler.peak, rss_before, analysed_s, watcher, now)
                print("TIMED OUT " + json.dumps(out), flush=True)
                if json_path is not None:
                    json_path.write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
                if cleanup is not None:
                    cleanup()  # os._exit skips the temporary folder's own clean-up
                os._exit(2)

    stop_watchdog = threading.Event()
    threading.Thread(target=watchdog, daemon=True).start()
    timer.start(TICK_MS)
    QTimer.singleShot(300, start)
    QTimer.singleShot(310, lambda: poll.start(50))
    app.exec()
    stop_watchdog.set()
    timer.stop()
    poll.stop()
    sampler.stop.set()
    sampler.thread.join()
    if watcher is not None:
        watcher.stop.set()
        watcher.thread.join()
    gc.collect()
    for _ in range(20):
        app.processEvents()
    rss_hidden = rss_mb()

    out = summarise(window, state, ticks, sampler.peak, rss_before, analysed_s, watcher)
    out["rss_after_hidden_mb"] = _round(rss_hidden)
    gc.callbacks.remove(gc_pauses)
    out["gc_pauses_over_30ms"] = gc_pauses.pauses
    window.close()
    QApplication.processEvents()
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--takes", type=int, default=120)
    parser.add_argument("--timeout", type=float, default=1200.0, help="seconds for the compare part")
    parser.add_argument("--stall-stacks", type=float, default=0.0, metavar="MS", help="diagnosis: stacks of stalls")
    parser.add_argument("--json", type=Path, metavar="PATH")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hitdesk-bench-compare-") as tmp:
        root = Path(tmp)
        os.environ.update(isolated_env(root, "offscreen"))  # before hitdesk or Qt are imported
        os.environ["HITDESK_HOME"] = str(root / "home")
        files = prepare_takes(args.corpus, args.takes, root / "files")
        result = run_once(
            files, args.timeout, args.stall_stacks, args.json, lambda: shutil.rmtree(root, ignore_errors=True)
        )
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    print(
        f"compare, {result['takes']} takes: p99 {result['p99_gap_ms']} ms, max {result['max_gap_ms']} ms, "
        f">100 ms: {result['gaps_over_100ms']}, >250 ms: {result['gaps_over_250ms']}; show_compare returned "
        f"after {result['show_compare_returned_s']} s; RSS {result['rss_before_compare_mb']} MB before, "
        f"peak {result['rss_peak_mb']} MB, {result['rss_after_hidden_mb']} MB hidden "
        f"(load {result['load_average']})",
        flush=True,
    )
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
