"""Renders resources/hitdesk.svg to the PNG sizes desktops and installers ask for.

Writes resources/icons/hicolor/<n>x<n>/apps/hitdesk.png (the freedesktop icon theme layout, which
packaging/appimage.sh and a system install copy as they are). The 256 px image is also what the
PyInstaller spec hands to Windows and macOS builds, converted to .ico/.icns by PyInstaller.
Run with ``QT_QPA_PLATFORM=offscreen`` where there is no display; ``make icons`` does.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QSize
from PySide6.QtGui import QGuiApplication, QIcon

ROOT = Path(__file__).resolve().parents[1]
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    icon = QIcon(str(ROOT / "resources" / "hitdesk.svg"))
    if icon.isNull():
        print("make_icons: Qt cannot read the SVG (is its svg image format plugin installed?)", file=sys.stderr)
        return 1
    for n in SIZES:
        out = ROOT / "resources" / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "hitdesk.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        image = icon.pixmap(QSize(n, n)).toImage()
        if image.width() != n or not image.save(str(out)):  # format from the suffix
            print(f"make_icons: cannot write {out}", file=sys.stderr)
            return 1
        print(out.relative_to(ROOT))
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
