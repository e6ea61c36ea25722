"""The model card dialog and the "What the numbers mean" page, rendered from the card's JSON."""

from __future__ import annotations

import html
import math
from typing import Any

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTabWidget, QTextBrowser, QVBoxLayout, QWidget

from hitdesk.model.card import ModelCard
from hitdesk.ui import theme

# Card keys shown on their own pages or too technical (matrices, column lists) for people.
_OWN_PAGES = {"training_data", "metrics", "caveats", "label"}
_HIDDEN = {"familiarity", "stat_columns", "feature_config", "format", "card_format", "inputs", "outputs"}
_MAX_LIST = 40

PAGES = ("model", "training", "metrics", "caveats", "explain")


_TERMS = {
    "cv": "Cross-validation",
    "roc_auc": "ROC AUC",
    "pr_auc": "PR AUC",
    "ece": "ECE (calibration error)",
    "brier": "Brier score",
    "spearman": "Spearman (rank correlation)",
    "n_songs": "Songs",
}


def _words(key: str) -> str:
    if key in _TERMS:
        return _TERMS[key]
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value != 0 and abs(value) < 1e-3:
            return f"{value:.2e}"
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}" if abs(value) >= 10000 else str(value)
    if value is None:
        return "–"
    text = html.escape(str(value))
    if text.startswith(("http://", "https://")):
        return f'<a href="{text}">{text}</a>'
    return text


def _is_summary(value: dict[str, Any]) -> bool:
    return all(isinstance(value.get(k), int | float) and not isinstance(value.get(k), bool) for k in ("mean", "std"))


def json_to_html(value: Any, depth: int = 0) -> str:
    """Nested dicts as tables, lists of records as tables with a header, long number lists summarised."""
    if isinstance(value, dict):
        if not value:
            return "–"
        if _is_summary(value):  # a cross-validated metric: mean ± std over folds
            text = f"{value['mean']:.3f} ± {value['std']:.3f}"
            if isinstance(value.get("pooled"), int | float):
                text += f" <span style='color:{theme.DIM_TEXT.name()}'>(pooled {value['pooled']:.3f})</span>"
            return text
        rows = "".join(
            f"<tr><td style='padding:2px 12px 2px 0; vertical-align:top; color:{theme.DIM_TEXT.name()}'>"
            f"{html.escape(_words(str(k)))}</td><td style='padding:2px 0'>{json_to_html(v, depth + 1)}</td></tr>"
            for k, v in value.items()
        )
        return f"<table cellspacing='0'>{rows}</table>"
    if isinstance(value, list | tuple):
        if not value:
            return "–"
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in value) and len(value) > _MAX_LIST:
            return f"({len(value)} numbers)"
        if all(isinstance(v, dict) for v in value):
            keys: list[str] = []
            for v in value:
                keys += [k for k in v if k not in keys]
            if len(keys) <= 10 and all(not isinstance(x, dict | list) for v in value for x in v.values()):
                head = "".join(
                    f"<th align='left' style='padding-right:10px'>{html.escape(_words(k))}</th>" for k in keys
                )
                body = "".join(
                    "<tr>" + "".join(f"<td style='padding-right:10px'>{_scalar(v.get(k))}</td>" for k in keys) + "</tr>"
                    for v in value[:_MAX_LIST]
                )
                more = f"<p>… and {len(value) - _MAX_LIST} more</p>" if len(value) > _MAX_LIST else ""
                return f"<table cellspacing='0'><tr>{head}</tr>{body}</table>{more}"
        if all(not isinstance(v, dict | list) for v in value) and sum(len(str(v)) for v in value) < 120:
            return ", ".join(_scalar(v) for v in value)
        items = "".join(f"<li>{json_to_html(v, depth + 1)}</li>" for v in value[:_MAX_LIST])
        return f"<ul style='margin:0'>{items}</ul>"
    return _scalar(value)


def _page(title: str, body: str) -> str:
    return f"<h2>{html.escape(title)}</h2>{body}"


def model_page(card: ModelCard, path: str) -> str:
    base = f"{100 * card.base_rate:.1f}%"
    window = "any (set in Preferences)" if card.window_seconds is None else f"{card.window_seconds:g} s"
    facts = {
        "name": card.name,
        "version": card.version,
        "what “hit” means": card.label_definition,
        "base rate (share of hits in the training data)": base,
        "window length the model was trained on": window,
        "files": path,
    }
    rows = "".join(
        f"<tr><td style='padding:3px 14px 3px 0; color:{theme.DIM_TEXT.name()}; vertical-align:top'>"
        f"{html.escape(k[:1].upper() + k[1:])}</td><td>{html.escape(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    label = card.raw.get("label")
    extra_label = (
        {k: v for k, v in label.items() if k not in {"definition", "base_rate"}} if isinstance(label, dict) else {}
    )
    other = {k: v for k, v in card.raw.items() if k not in _OWN_PAGES | _HIDDEN | {"name", "version", "window_seconds"}}
    body = f"<table cellspacing='0'>{rows}</table>"
    if extra_label:
        body += "<h3>Label</h3>" + json_to_html(extra_label)
    if other:
        body += "<h3>More from the card</h3>" + json_to_html(other)
    return _page(f"Model {card.name} {card.version}", body)


def explain_page(card: ModelCard | None) -> str:
    base = "the base rate" if card is None else f"the base rate ({100 * card.base_rate:.0f}%)"
    definition = "" if card is None else f" Here a “hit” means: <i>{html.escape(card.label_definition)}</i>."
    window = "30 s" if card is None or card.window_seconds is None else f"{card.window_seconds:g} s"
    measured = ((card.raw.get("uncertainty") or {}).get("p_hit_low_high") if card is not None else None) or ""
    if measured:
        spread = f"is measured, not guessed: {html.escape(measured)}"
    else:
        spread = (
            "is the spread of the model's cross-validation ensemble: several copies\nof the model trained on "
            "different parts of the data. A wide range means the copies disagree"
        )
    if card is None or card.runtime.has_head:
        overall = (
            "scores the statistics of the\nwhole track (in fast mode: of the three windows plus evenly spaced excerpts)"
        )
    else:
        overall = f"is the {html.escape(card.runtime.overall_rule)}, as this model was trained"
    return _page(
        "What the numbers mean",
        f"""
<p><b>P(hit)</b> (orange) is the model's estimate of the probability that a song with this sound is a
hit, calibrated on songs like those it was trained on: of 100 songs scored 40%, about 40 were hits.{definition}</p>
<p><b>Base rate</b> (dashed line) is the share of hits among the training songs. A score above {base} means
“more likely than a typical song of the training data”; it is not a verdict on quality.</p>
<p><b>Range</b> (blue band, “low–high”) {spread}. When the ranges
of two takes overlap, the model cannot tell them apart, and HitDesk says <b>no clear difference</b>.</p>
<p><b>Beginning, middle and end</b> are {window} windows placed on the audible part of the track (leading and
trailing silence skipped): the first, the central and the last. <b>Overall</b> {overall}.</p>
<p><b>Unlike the training data</b>: the track's statistics lie further from the training songs than 99% of
them. The model was never shown music like it, so its numbers say little.</p>
<p><b>LUFS</b> is integrated loudness (ITU-R BS.1770-4) and <b>dBTP</b> the true peak (4x oversampled); they
describe the file and do not enter the model.</p>
<p>The model hears only the sound: not lyrics, artist, promotion, release timing or luck, all of which decide
real charts. Use it to compare your own takes and mixes, not to judge music.</p>
""",
    )


class ModelCardDialog(QDialog):
    def __init__(self, card: ModelCard | None, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model card" if card is None else f"Model card – {card.name} {card.version}")
        self.resize(720, 560)
        self.tabs = QTabWidget()
        self.pages: dict[str, QTextBrowser] = {}

        def add(key: str, title: str, text: str) -> None:
            browser = QTextBrowser()
            browser.setOpenExternalLinks(False)
            browser.setOpenLinks(False)
            browser.setHtml(text)
            self.pages[key] = browser
            self.tabs.addTab(browser, title)

        if card is None:
            add("model", "Model", _page("No model loaded", "<p>Choose a model in the Model menu.</p>"))
        else:
            add("model", "Model", model_page(card, path))
            add("training", "Training data", _page("Training data and provenance", json_to_html(card.training_data)))
            add("metrics", "Metrics", _page("Cross-validated metrics", json_to_html(card.metrics)))
            caveats = "".join(f"<li>{html.escape(c)}</li>" for c in card.caveats) or "<li>None listed.</li>"
            add("caveats", "Caveats", _page("Caveats", f"<ul>{caveats}</ul>"))
        add("explain", "What the numbers mean", explain_page(card))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def open_page(self, key: str) -> None:
        if key in self.pages:
            self.tabs.setCurrentWidget(self.pages[key])
