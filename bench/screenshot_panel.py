"""Draws the take view's meters' column whole (README: docs/screenshots/explain-panel.png).

The window shows only part of that column at its default size (``hitdesk gui --view explain`` scrolls
it to What drives it); this grabs the whole column, from the score down to What if, as the app draws
it (its dark palette, offscreen), after analysing FILE. Each ``--whatif CONTROL=AMOUNT`` moves one
What-if control (as the user would), so the readout shows the model's answer to the setting.

    python bench/screenshot_panel.py ../shared/corpus/forest-sprint.ogg docs/screenshots/explain-panel.png \\
        [--whatif "tempo=6" --whatif "high band=3"]
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("out")
    ap.add_argument(
        "--whatif", action="append", default=[], help="a What-if control and its amount (e.g. 'high band=3')"
    )
    args = ap.parse_args()

    import pyqtgraph as pg
    from PySide6.QtWidgets import QApplication

    from hitdesk.ui.app import _application
    from hitdesk.ui.main_window import MainWindow
    from hitdesk.ui.theme import apply_dark_palette

    app, _created = _application([sys.argv[0]])
    pg.setConfigOptions(antialias=True, imageAxisOrder="row-major")
    apply_dark_palette(app)  # type: ignore[arg-type]
    window = MainWindow(restore=False, persist=False, ask_to_save=False)
    window.show()
    (take,) = window.add_paths([args.file])
    if not window.controller.wait_until_idle(600_000):
        print("analysis did not finish", file=sys.stderr)
        return 1
    window.select_ids([take.id])
    window.controller.wait_until_idle(600_000)
    whatif = window.panel.whatif
    for setting in args.whatif:
        name, _, amount = setting.partition("=")
        whatif.set_amount(name.strip(), float(amount))
    QApplication.processEvents()
    ok = window.panel.left_scroll.widget().grab().save(args.out, "PNG")
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
