"""The take panel's meters in numbers: loudness range, stereo, platform gains and a QC profile's checks.

The text is ``present.meter_lines`` of the same JSON ``hitdesk analyze`` prints (the take's loudness,
stereo and clipping, ``hitdesk.platforms.platform_rows`` and ``hitdesk.qc.check``), so the app reads
exactly as the command line does.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from hitdesk.errors import HitdeskError
from hitdesk.present import loudness_line, meter_lines
from hitdesk.ui import theme
from hitdesk.ui.takes import Take

NO_PROFILE = ""
STATUS_COLOURS = {"pass": "#7bd88f", "warn": theme.WARNING_COLOUR.name(), "fail": theme.ERROR_COLOUR.name()}


def take_meters(take: Take, profile_name: str = NO_PROFILE) -> dict[str, Any]:
    """A take's meters as ``hitdesk analyze --json`` (with ``--qc profile_name``) would print them;
    raises ``HitdeskError`` when the user's presets or profile cannot be used."""
    from hitdesk.platforms import load_platforms, platform_rows
    from hitdesk.qc import check, load_profile

    lu = take.loudness
    row: dict[str, Any] = {
        "file": str(take.path),
        "loudness": None if lu is None else lu.to_dict(),
        "stereo": None if getattr(lu, "stereo", None) is None else lu.stereo.to_dict(),  # type: ignore[union-attr]
        "clipping": None if getattr(lu, "clipping", None) is None else lu.clipping.to_dict(),  # type: ignore[union-attr]
        "error": take.error,
    }
    platforms = load_platforms()
    row["platforms"] = platform_rows(row["loudness"], platforms)
    if profile_name:
        row["qc"] = check(row, load_profile(profile_name, platforms))
    return row


class MeterReadout(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.qc = QComboBox()
        self.qc.setAccessibleName("QC profile")
        self.qc.setToolTip("Check the take against a platform's targets or one of your own QC profiles")
        self.qc.currentIndexChanged.connect(lambda _i: self.show_take(self._take))
        self.text = QLabel("")
        self.text.setWordWrap(True)
        self.text.setTextFormat(Qt.TextFormat.RichText)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAccessibleName("Loudness, stereo, platforms and QC")
        row = QHBoxLayout()
        row.addWidget(QLabel("QC"))
        row.addWidget(self.qc, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.text)
        layout.addLayout(row)
        self._take: Take | None = None
        self.fill_profiles()

    def fill_profiles(self) -> None:
        """The built-in profiles and the user's own (read again: the user may have added one)."""
        from hitdesk.platforms import BUILT_IN, load_platforms
        from hitdesk.qc import user_profiles

        try:
            platforms = load_platforms()
        except HitdeskError:
            platforms = BUILT_IN
        current = self.qc.currentData()
        self.qc.blockSignals(True)
        self.qc.clear()
        self.qc.addItem("none", NO_PROFILE)
        for key in dict.fromkeys([p.key for p in platforms] + user_profiles()):
            self.qc.addItem(key, key)
        self.qc.setCurrentIndex(max(0, self.qc.findData(current)))
        self.qc.blockSignals(False)

    def profile(self) -> str:
        return str(self.qc.currentData() or NO_PROFILE)

    def ceiling_dbtp(self) -> float | None:
        """The chosen profile's true-peak ceiling (None: no profile, none in it, or it cannot be read)."""
        from hitdesk.platforms import load_platforms
        from hitdesk.qc import load_profile, true_peak_ceiling

        if not self.profile():
            return None
        try:
            return true_peak_ceiling(load_profile(self.profile(), load_platforms()))
        except HitdeskError:  # the take panel says why in its text
            return None

    def set_profile(self, name: str) -> None:
        self.qc.setCurrentIndex(max(0, self.qc.findData(name)))

    def show_take(self, take: Take | None) -> None:
        self._take = take
        if take is None or take.loudness is None:
            self.text.setText("")
            return
        try:
            row = take_meters(take, self.profile())
        except HitdeskError as exc:
            self.text.setText(f'<span style="color:{theme.ERROR_COLOUR.name()}">{html.escape(str(exc))}</span>')
            return
        lines = [loudness_line(row["loudness"]), *meter_lines(row)]
        out = []
        for line in lines:
            if not line:
                continue
            escaped = html.escape(line)
            status = line.split(":", 1)[0].removeprefix("qc ") if line.startswith("qc ") else ""
            if status in STATUS_COLOURS:
                escaped = f'<span style="color:{STATUS_COLOURS[status]}">{escaped}</span>'
            out.append(escaped)
        self.text.setText("<br>".join(out))

    def plain_text(self) -> str:
        """What the label says, without its markup (for tests and accessibility checks)."""
        doc = self.text.text().replace("<br>", "\n")
        while "<" in doc and ">" in doc:
            start = doc.index("<")
            doc = doc[:start] + doc[doc.index(">", start) + 1 :]
        return html.unescape(doc)
