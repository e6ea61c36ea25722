"""The dark, plugin-style look: one palette and the few colours the meters and plots share.

Meter colours avoid a red/green contrast so they read the same with the common colour-vision
deficiencies: probability in orange, its range in blue, the base rate in light grey.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QIcon, QPalette
from PySide6.QtWidgets import QApplication

from hitdesk.settings_schema import setting

WINDOW = QColor("#2a2c31")
BASE = QColor("#1d1f23")
ALT_BASE = QColor("#24262b")
PANEL = QColor("#31343a")
TEXT = QColor("#e3e5e8")
DIM_TEXT = QColor("#9aa0a8")
HIGHLIGHT = QColor("#3b6ea8")
BORDER = QColor("#4a4e56")

P_COLOUR = QColor("#f5a524")  # the probability itself
RANGE_COLOUR = QColor("#5aa9e6")  # the low-high range
BASE_RATE_COLOUR = QColor("#d8d8d8")
WARNING_COLOUR = QColor("#f0c04a")
ERROR_COLOUR = QColor("#ff8a80")
WINDOW_MARK = QColor("#ffffff")
FOCUS = QColor("#ffe08a")  # the keyboard focus: at least 3:1 against every background it is drawn on


def luminance(colour: QColor) -> float:
    """Relative luminance (WCAG 2.1)."""

    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())


def contrast(a: QColor, b: QColor) -> float:
    """WCAG contrast ratio, 1 to 21; focus indicators and other non-text marks need 3."""
    la, lb = sorted((luminance(a), luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


COLOUR_MAPS: tuple[tuple[str, str], ...] = (
    ("viridis", "Viridis (colour-blind safe)"),
    ("cividis", "Cividis (colour-blind safe)"),
    ("magma", "Magma"),
    ("inferno", "Inferno"),
    ("CET-L1", "Greys"),
)
DEFAULT_COLOUR_MAP: str = setting("view/colourMap").default  # the names are the setting's choices


def apply_dark_palette(app: QApplication) -> None:
    app.setStyle("Fusion")
    pal = QPalette()
    role = QPalette.ColorRole
    group = QPalette.ColorGroup
    pal.setColor(role.Window, WINDOW)
    pal.setColor(role.WindowText, TEXT)
    pal.setColor(role.Base, BASE)
    pal.setColor(role.AlternateBase, ALT_BASE)
    pal.setColor(role.ToolTipBase, PANEL)
    pal.setColor(role.ToolTipText, TEXT)
    pal.setColor(role.PlaceholderText, DIM_TEXT)
    pal.setColor(role.Text, TEXT)
    pal.setColor(role.Button, PANEL)
    pal.setColor(role.ButtonText, TEXT)
    pal.setColor(role.BrightText, QColor("#ffffff"))
    pal.setColor(role.Link, RANGE_COLOUR)
    pal.setColor(role.Highlight, HIGHLIGHT)
    pal.setColor(role.HighlightedText, QColor("#ffffff"))
    pal.setColor(role.Mid, BORDER)
    pal.setColor(role.Dark, BASE)
    pal.setColor(role.Light, QColor("#454850"))
    for r in (role.WindowText, role.Text, role.ButtonText):
        pal.setColor(group.Disabled, r, QColor("#6b7078"))
    app.setPalette(pal)
    app.setStyleSheet(
        "QToolTip { color: #e3e5e8; background: #31343a; border: 1px solid #4a4e56; }"
        "QTabWidget::pane { border-top: 1px solid #4a4e56; }"
        "QFrame#banner { background: #4a3d1c; border: 1px solid #8a6d1f; border-radius: 3px; }"
        "QFrame#warning { background: #4a3d1c; border-radius: 3px; }"
        # A checkable toolbar button (Match loudness) shows when it is on.
        "QToolBar QToolButton:checked { background: #3b6ea8; border: 1px solid #5aa9e6; border-radius: 3px; }"
    )


def window_icon() -> QIcon:
    """The app's icon from resources/ (an empty icon where the file is missing)."""
    path = Path(__file__).resolve().parents[2] / "resources" / "hitdesk.svg"
    return QIcon(str(path)) if path.exists() else QIcon()
