"""GUI speed of the real HitDesk window: start-up time and GUI-thread responsiveness during analysis.

1. Start-up: a fresh ``python`` process builds the main window the way ``run_gui`` does (QApplication,
   pyqtgraph options, dark palette, icon, ``MainWindow``), shows it, runs the event loop until the
   window is exposed and then until the loop has been idle once (a zero-delay timer posted after
   exposure has fired). Measured from just before the process is spawned. Target: under 2 s.
2. Responsiveness: the window gets 20 audio files the way a drop does (``MainWindow.add_paths``),
   with an empty result cache, while a 10 ms ``QTimer`` records the interval between its own calls.
   Runs until every take is done (or failed) and the analyser is idle. Targets: 99th percentile of
   the intervals under 100 ms, none over 250 ms.

Files come from ``../shared/corpus`` (copied into a temporary folder; when there are fewer than 20
audio files, the extra ones are re-written WAV copies with a slightly different gain, so that no
result is served from the cache). Settings, cache and data folders are temporary too.

    python bench/bench_gui.py [--files 20] [--startup-runs 3] [--xvfb] [--json out.json]

``QT_QPA_PLATFORM=offscreen`` by default; ``--xvfb`` uses the X server in ``$DISPLAY`` (e.g. under
``xvfb-run``) instead.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

AUDIO_SUFFIXES = {".wav", ".flac", ".ogg", ".oga", ".mp3", ".m4a", ".opus", ".aiff", ".aif"}
TICK_MS = 10
GAP_WARN_MS = 100.0
GAP_MAX_MS = 250.0
STARTUP_TARGET_S = 2.0
DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def isolated_env(root: Path, platform: str) -> dict[str, str]:
    """Environment for the app: temporary cache/data/config folders and the chosen Qt platform."""
    env = dict(os.environ)
    env["QT_QPA_PLATFORM"] = platform
    env["HITDESK_CACHE_DIR"] = str(root / "cache")
    env["HITDESK_DATA_DIR"] = str(root / "data")
    env["XDG_CONFIG_HOME"] = str(root / "config")
    env["XDG_CACHE_HOME"] = str(root / "xdg-cache")
    env["XDG_STATE_HOME"] = str(root / "state")
    return env


# ---------------------------------------------------------------------------------------------- 1. start-up
def startup_child(spawned_at: float) -> None:
    """Runs in a fresh process: builds and shows the window, prints a JSON line with the times."""
    t0 = time.perf_counter()
    w0 = time.time()
    import pyqtgraph as pg
    from PySide6.QtCore import QTimer

    from hitdesk.ui.app import _application
    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.theme import apply_dark_palette, window_icon
    from hitdesk.ui.workers import is_warm

    t_imported = time.perf_counter()
    app, _created = _application([sys.argv[0]])
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    apply_dark_palette(app)
    app.setWindowIcon(window_icon())
    window = MainWindow(restore=False, persist=False)
    t_built = time.perf_counter()
    window.show()
    t_shown = time.perf_counter()
    deadline = t_shown + 60.0
    while not (window.isVisible() and window.windowHandle() is not None and window.windowHandle().isExposed()):
        app.processEvents()
        if time.perf_counter() > deadline:
            break
        time.sleep(0.001)
    t_exposed = time.perf_counter()
    exposed = window.windowHandle() is not None and window.windowHandle().isExposed()
    idle: dict[str, float] = {}

    def on_idle() -> None:
        idle["t"] = time.perf_counter()
        app.quit()

    QTimer.singleShot(0, on_idle)
    QTimer.singleShot(60_000, app.quit)
    app.exec()
    t_idle = idle.get("t", float("nan"))
    w_idle = w0 + (t_idle - t0)
    out = {
        "in_process_s": {
            "imports": t_imported - t0,
            "window_built": t_built - t0,
            "shown": t_shown - t0,
            "exposed": t_exposed - t0,
            "idle": t_idle - t0,
        },
        "python_start_s": w0 - spawned_at,
        "process_start_to_idle_s": w_idle - spawned_at,
        "process_start_to_exposed_s": w0 + (t_exposed - t0) - spawned_at,
        "exposed": exposed,
        "warm_up_done_before_idle": is_warm(),
        "model_loaded": window.model is not None,
    }
    window.close()
    print("STARTUP " + json.dumps(out), flush=True)


def measure_startup(runs: int, env: dict[str, str]) -> dict[str, object]:
    results = []
    for _ in range(runs):
        spawned_at = time.time()
        proc = subprocess.run(
            [sys.executable, str(Path(__file__).resolve()), "--startup-child", repr(spawned_at)],
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=180,
        )
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("STARTUP ")]
        if proc.returncode != 0 or not lines:
            raise RuntimeError(f"start-up child failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
        results.append(json.loads(lines[-1][len("STARTUP ") :]))
    to_idle = [r["process_start_to_idle_s"] for r in results]
    to_exposed = [r["process_start_to_exposed_s"] for r in results]
    return {
        "runs": results,
        "first_to_idle_s": to_idle[0],
        "median_to_idle_s": statistics.median(to_idle),
        "median_to_exposed_s": statistics.median(to_exposed),
        "target_s": STARTUP_TARGET_S,
        "ok": statistics.median(to_idle) < STARTUP_TARGET_S,
    }


# ---------------------------------------------------------------------------------------------- 2. responsiveness
def prepare_files(corpus: Path, count: int, folder: Path) -> list[Path]:
    """Copies ``count`` corpus files into ``folder`` with distinct names and distinct contents."""
    sources = sorted(p for p in corpus.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_SUFFIXES)
    if not sources:
        raise SystemExit(f"no audio files in {corpus}")
    folder.mkdir(parents=True, exist_ok=True)
    out: list[Path] = []
    for i, src in enumerate(sources[:count]):
        dst = folder / f"{i:02d}-{src.name}"
        shutil.copyfile(src, dst)
        out.append(dst)
    extra = count - len(out)
    if extra > 0:
        import numpy as np
        import soundfile as sf

        wavs = [p for p in sources if p.suffix.lower() in {".wav", ".flac"}] or sources
        for k in range(extra):
            src = wavs[k % len(wavs)]
            data, rate = sf.read(src, dtype="float32", always_2d=True)
            dst = folder / f"{len(out):02d}-copy{k}-{src.stem}.wav"
            sf.write(dst, np.clip(data * (1.0 - 0.001 * (k + 1)), -1.0, 1.0), rate, subtype="PCM_16")
            out.append(dst)
    return out


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


class StallWatcher:
    """A thread that records the GUI thread's Python stack whenever the 10 ms timer is late by ``limit_ms``."""

    def __init__(self, ticks: list[float], limit_ms: float) -> None:
        import threading

        self.ticks = ticks
        self.limit = limit_ms / 1000.0
        self.main_id = threading.main_thread().ident
        self.stacks: list[dict[str, object]] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import traceback

        seen = -1
        while not self.stop.wait(self.limit / 3):
            if not self.ticks:
                continue
            last = self.ticks[-1]
            late = time.perf_counter() - last
            if late > self.limit and len(self.ticks) != seen:
                seen = len(self.ticks)  # one stack per stall
                frame = sys._current_frames().get(self.main_id)
                stack = traceback.format_stack(frame)[-12:] if frame is not None else []
                self.stacks.append({"late_ms": round(late * 1000, 1), "stack": [ln.rstrip() for ln in stack]})


def measure_responsiveness(files: list[Path], timeout_s: float, stall_stacks_ms: float = 0.0) -> dict[str, object]:
    import pyqtgraph as pg
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from hitdesk.ui.app import _application
    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.takes import State
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

    ticks: list[float] = []
    state: dict[str, float] = {}
    terminal = {State.DONE, State.ERROR, State.CANCELLED}

    def tick() -> None:
        ticks.append(time.perf_counter())

    def check_done() -> None:
        takes = window.takes.takes
        if "added" in state and takes and all(t.state in terminal for t in takes) and not window.is_busy:
            state["done"] = time.perf_counter()
            app.quit()
        elif time.perf_counter() - state.get("added", time.perf_counter()) > timeout_s:
            state["timed_out"] = 1.0
            app.quit()

    def add() -> None:
        state["added"] = time.perf_counter()
        window.add_paths([str(p) for p in files])  # what a drop of these files calls
        state["add_returned"] = time.perf_counter()

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.timeout.connect(tick)
    poll = QTimer()
    poll.timeout.connect(check_done)
    timer.start(TICK_MS)
    poll.start(50)
    QTimer.singleShot(200, add)  # a few quiet ticks first, with the window already up
    watcher = StallWatcher(ticks, stall_stacks_ms) if stall_stacks_ms > 0 else None
    if watcher is not None:
        watcher.thread.start()
    app.exec()
    timer.stop()
    poll.stop()
    if watcher is not None:
        watcher.stop.set()
        watcher.thread.join()

    start = state["added"]
    end = state.get("done", time.perf_counter())
    window_ticks = [t for t in ticks if t >= start - TICK_MS / 1000 and t <= end + TICK_MS / 1000]
    gaps_ms = [(b - a) * 1000.0 for a, b in itertools.pairwise(window_ticks)]
    worst = sorted(
        ((g, (window_ticks[i] - start)) for i, g in enumerate(gaps_ms)),
        reverse=True,
    )[:5]
    takes = window.takes.takes
    by_state: dict[str, int] = {}
    for t in takes:
        by_state[t.state.value] = by_state.get(t.state.value, 0) + 1
    p99 = percentile(gaps_ms, 99)
    max_gap = max(gaps_ms) if gaps_ms else float("nan")
    over_warn = sum(g > GAP_WARN_MS for g in gaps_ms)
    over_max = sum(g > GAP_MAX_MS for g in gaps_ms)
    summary = {
        "files": len(files),
        "takes": len(takes),
        "take_states": by_state,
        "workers": window.prefs.workers,
        "timed_out": "timed_out" in state,
        "intervals": len(gaps_ms),
        "tick_ms": TICK_MS,
        "p50_gap_ms": percentile(gaps_ms, 50),
        "p99_gap_ms": p99,
        "max_gap_ms": max_gap,
        "p99_stall_ms": p99 - TICK_MS,
        "max_stall_ms": max_gap - TICK_MS,
        "gaps_over_100ms": over_warn,
        "gaps_over_250ms": over_max,
        "worst_gaps_ms_starting_at_s": [[round(g, 1), round(at, 3)] for g, at in worst],
        "add_paths_s": state.get("add_returned", start) - start,
        "total_analysis_s": end - start,
        "ok": p99 < GAP_WARN_MS and over_max == 0 and "timed_out" not in state,
        **({"stall_stacks": watcher.stacks} if watcher is not None else {}),
    }
    window.close()
    QApplication.processEvents()
    return summary


# ---------------------------------------------------------------------------------------------- main
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--files", type=int, default=20)
    parser.add_argument("--startup-runs", type=int, default=3)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds to wait for the analysis")
    parser.add_argument("--xvfb", action="store_true", help="use the X server in $DISPLAY instead of offscreen")
    parser.add_argument("--skip-startup", action="store_true")
    parser.add_argument("--skip-responsiveness", action="store_true")
    parser.add_argument(
        "--stall-stacks",
        type=float,
        default=0.0,
        metavar="MS",
        help="record the GUI thread's stack whenever the timer is this late (diagnosis; 0 = off)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the summary here")
    parser.add_argument("--startup-child", type=float, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.startup_child is not None:
        startup_child(args.startup_child)
        return 0

    if args.xvfb and not os.environ.get("DISPLAY"):
        parser.error("--xvfb needs $DISPLAY (run under xvfb-run)")
    platform = "xcb" if args.xvfb else "offscreen"

    summary: dict[str, object] = {"platform": platform, "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory(prefix="hitdesk-bench-gui-") as tmp:
        root = Path(tmp)
        env = isolated_env(root, platform)
        if not args.skip_startup:
            startup = measure_startup(args.startup_runs, env)
            summary["startup"] = startup
            print(
                f"start-up: process start -> window exposed {startup['median_to_exposed_s']:.3f} s, "
                f"-> event loop idle {startup['median_to_idle_s']:.3f} s (median of {args.startup_runs}; "
                f"first {startup['first_to_idle_s']:.3f} s; target < {STARTUP_TARGET_S} s)",
                flush=True,
            )
        if not args.skip_responsiveness:
            os.environ.update(env)  # before hitdesk or Qt are imported in this process
            files = prepare_files(args.corpus, args.files, root / "files")
            resp = measure_responsiveness(files, args.timeout, args.stall_stacks)
            summary["responsiveness"] = resp
            print(
                f"responsiveness: {resp['intervals']} intervals, p99 {resp['p99_gap_ms']:.1f} ms, "
                f"max {resp['max_gap_ms']:.1f} ms, >100 ms: {resp['gaps_over_100ms']}, "
                f">250 ms: {resp['gaps_over_250ms']}, analysis {resp['total_analysis_s']:.2f} s "
                f"({resp['takes']} takes: {resp['take_states']})",
                flush=True,
            )
    text = json.dumps(summary, indent=2)
    print(text)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
