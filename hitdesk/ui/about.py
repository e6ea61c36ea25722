"""Help ▸ About: what this HitDesk is, what it runs on, where its model's data came from, and licences.

Studios are asked what a tool is built from and under which terms; this dialog answers without a
network: the versions the running process actually loaded, the default (or loaded) model's card
with its training data's provenance and terms, and THIRD_PARTY_LICENSES as shipped in the bundle.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hitdesk import __version__
from hitdesk.model.card import ModelCard
from hitdesk.ui import theme
from hitdesk.versions import component_versions, third_party_licenses_path

# What the card's provenance keys mean, in the order a reader wants them.
_PROVENANCE = (
    ("challenge", "Source"),
    ("labels_and_metadata", "Labels and metadata"),
    ("features", "Audio statistics"),
    ("terms", "Terms"),
    ("audio", "Audio"),
    ("held_out", "Held-out data"),
)


def _rows(pairs: list[tuple[str, str]]) -> str:
    dim = theme.DIM_TEXT.name()
    body = "".join(
        f"<tr><td style='padding:2px 14px 2px 0; color:{dim}; vertical-align:top'>{html.escape(k)}</td>"
        f"<td style='padding:2px 0'>{html.escape(v)}</td></tr>"
        for k, v in pairs
    )
    return f"<table cellspacing='0'>{body}</table>"


def about_page() -> str:
    return (
        f"<h2>HitDesk {html.escape(__version__)}</h2>"
        "<p>Offline hit-probability analysis of mixes and takes.</p>"
        "<p>Everything runs on this computer: HitDesk makes no network connections, sends no telemetry, and "
        "opens your audio files only for reading.</p>"
        "<p>HitDesk is free software under the GNU General Public License, version 3 or later. It is "
        "distributed without any warranty. The third-party software it is built on keeps its own licences "
        "(the Licences tab).</p>"
    )


def components_page(versions: list[tuple[str, str]]) -> str:
    return "<h2>Versions</h2>" + _rows(versions)


def model_page(card: ModelCard | None) -> str:
    if card is None:
        return "<h2>No model loaded</h2><p>Choose one in the Model menu to see its card here.</p>"
    data: dict[str, Any] = card.training_data
    provenance = data.get("provenance") if isinstance(data.get("provenance"), dict) else {}
    facts = [
        ("Model", f"{card.name} {card.version}"),
        ("What “hit” means", card.label_definition),
        ("Base rate", f"{100 * card.base_rate:.1f}% of the training songs are hits"),
    ]
    if data.get("name"):
        facts.append(("Training data", str(data["name"])))
    if data.get("market"):
        facts.append(("Market", str(data["market"])))
    if data.get("n_songs"):
        facts.append(("Songs", f"{int(data['n_songs']):,}"))
    if data.get("description"):
        facts.append(("Contents", str(data["description"])))
    body = f"<h2>Model and training data</h2>{_rows(facts)}"
    prov = [(label, str(provenance[key])) for key, label in _PROVENANCE if provenance and provenance.get(key)]
    prov += [
        (key.replace("_", " ").capitalize(), str(value))
        for key, value in (provenance or {}).items()
        if key not in dict(_PROVENANCE)
    ]
    if prov:
        body += f"<h3>Provenance and terms</h3>{_rows(prov)}"
    body += (
        "<p>The chart data itself is not part of HitDesk; only the model trained on it is shipped. "
        "Help ▸ Model Card has the model's cross-validated metrics and caveats.</p>"
    )
    return body


def licences_text() -> str:
    path = third_party_licenses_path()
    if path is None:
        return "THIRD_PARTY_LICENSES was not found beside this copy of HitDesk."
    return path.read_text(encoding="utf-8")


class AboutDialog(QDialog):
    def __init__(self, card: ModelCard | None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("About HitDesk")
        self.resize(760, 560)
        self.versions = component_versions()
        self.tabs = QTabWidget()
        self.pages: dict[str, QWidget] = {}

        def add_html(key: str, title: str, text: str) -> None:
            browser = QTextBrowser()
            browser.setOpenLinks(False)
            browser.setHtml(text)
            self.pages[key] = browser
            self.tabs.addTab(browser, title)

        add_html("about", "HitDesk", about_page())
        add_html("versions", "Versions", components_page(self.versions))
        add_html("model", "Model data", model_page(card))
        licences = QPlainTextEdit()
        licences.setReadOnly(True)
        licences.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        licences.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        licences.setPlainText(licences_text())
        self.pages["licences"] = licences
        self.tabs.addTab(licences, "Licences")

        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def page_text(self, key: str) -> str:
        """The plain text of a tab (for tests and accessibility checks)."""
        page = self.pages[key]
        if isinstance(page, QTextBrowser | QPlainTextEdit):
            return page.toPlainText()
        return ""

    def open_page(self, key: str) -> None:
        if key in self.pages:
            self.tabs.setCurrentWidget(self.pages[key])
