"""Pictures of the meters for the README, from a corpus track in the real window (offscreen).

- ``loudness-spots.png``: the window (zoomed to ``--zoom`` if given) with the loudness strip's problem
  spots, red where clipped and purple where the true peak is over the ceiling of ``--profile``,
  chosen in the take panel;
- ``qc-PROFILE.png``: the take panel's numbers and that profile's checks, alone;
- ``vectorscope.png``: the window with View ▸ Vectorscope open while the track plays from
  ``--play-at``. No sound card is needed: the player's output device here is a thread that takes
  the callback's buffers in real time, as PortAudio would (nothing is heard).

Everything the app writes goes to a temporary folder (``HITDESK_HOME``).

    python bench/shots_meters.py --corpus ../shared/corpus [--track battle_theme.ogg]
        [--profile spotify] [--zoom FROM TO] [--play-at 75] [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]


class RealTimeOutput:
    """An output device that any rate and two channels suit; ``open`` starts a thread that pulls
    1024-frame buffers from the callback at the stream's rate."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def max_channels(self) -> int:
        return 2

    def default_rate(self) -> int | None:
        return 48_000

    def supports(self, rate: int, channels: int) -> bool:
        return True

    def refuse(self, rate: int, channels: int) -> None:
        pass

    def open(self, rate: int, channels: int, callback: Any) -> RealTimeOutput:
        self._stop.clear()

        def run() -> None:
            buf = np.zeros((1024, channels), dtype=np.float32)
            start, pulled = time.monotonic(), 0
            while not self._stop.is_set():
                callback(buf, 1024, None, None)
                pulled += 1024
                time.sleep(max(0.0, start + pulled / rate - time.monotonic()))

        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(2.0)


def pump(app: Any, seconds: float) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.01)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--track", default="battle_theme.ogg")
    parser.add_argument("--profile", default="spotify")
    parser.add_argument("--zoom", type=float, nargs=2, metavar=("FROM", "TO"), help="seconds shown (default: all)")
    parser.add_argument("--play-at", type=float, default=75.0)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args()
    track = args.corpus / args.track
    if not track.is_file():
        print(f"shots_meters: no track {track}", file=sys.stderr)
        return 2
    home = Path(tempfile.mkdtemp(prefix="hitdesk-shots-"))
    os.environ["HITDESK_HOME"] = str(home)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.theme import apply_dark_palette

    app = QApplication.instance() or QApplication([sys.argv[0]])
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    apply_dark_palette(app)
    window = MainWindow(restore=False, persist=False)
    window.player.output = RealTimeOutput()
    window.show()
    window.add_paths([track])
    if not window.wait_until_idle(15 * 60 * 1000):
        print("shots_meters: the analysis did not finish", file=sys.stderr)
        return 1
    take = window.controller.takes[0]
    window.select_ids([take.id])
    panel = window.panel
    panel.meters.set_profile(args.profile)
    args.out.mkdir(parents=True, exist_ok=True)

    if args.zoom:
        panel.spectrogram.setXRange(*args.zoom, padding=0)
    pump(app, 0.5)
    window.grab().save(str(args.out / "loudness-spots.png"))
    marks = panel.strip.marks
    print(f"spots: {len(marks.clipped)} clipped, {len(marks.over)} over {marks.applied_dbtp} dBTP")
    panel.left_scroll.ensureWidgetVisible(panel.meters.qc)
    pump(app, 0.2)
    panel.meters.grab().save(str(args.out / f"qc-{args.profile}.png"))
    print(panel.meters.plain_text())

    panel.spectrogram.reset_zoom()
    window.scope_dock.action.trigger()
    loaded = []
    window.player.loaded.connect(loaded.append)
    window.player.select(take.id, take.path, play=True)
    deadline = time.monotonic() + 20
    while not loaded and time.monotonic() < deadline:
        pump(app, 0.05)
    window.player.seek(args.play_at)
    pump(app, 1.5)
    window.grab().save(str(args.out / "vectorscope.png"))
    print(f"vectorscope: {window.scope_dock.view.readout.text()}")
    window.player.stop()
    window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
