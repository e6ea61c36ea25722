"""The model card dialog and the "What the numbers mean" page, rendered from the card's JSON.

The card reads as sections a person can follow (what the model predicts, what it learnt from, how
good it is on artists it has not seen, how sure it is, its caveats); the JSON itself is shown only
when Details is pressed."""

from __future__ import annotations

import html
import json
from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from hitdesk.config import DEFAULT_WINDOW_SECONDS
from hitdesk.model.card import ModelCard
from hitdesk.ui import theme

PAGES = ("model", "explain")


def _is_summary(value: dict[str, Any]) -> bool:
    return all(isinstance(value.get(k), int | float) and not isinstance(value.get(k), bool) for k in ("mean", "std"))


def _page(title: str, body: str) -> str:
    return f"<h2>{html.escape(title)}</h2>{body}"


def _dig(d: Any, *keys: str) -> Any:
    """``d[k1][k2]…``, or None where a key is missing or a value is not a dict."""
    for k in keys:
        if not isinstance(d, dict):
            return None
        d = d.get(k)
    return d


def _summary(value: Any) -> str | None:
    """A cross-validated metric as "0.67 ± 0.04" (None when the card has no such number)."""
    if isinstance(value, dict) and _is_summary(value):
        return f"{value['mean']:.2f} ± {value['std']:.2f}"
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:.2f}"
    return None


def _rows(rows: list[tuple[str, str]]) -> str:
    cells = "".join(
        f"<tr><td style='padding:2px 14px 2px 0; color:{theme.DIM_TEXT.name()}; vertical-align:top'>"
        f"{html.escape(k)}</td><td style='padding:2px 0'>{v}</td></tr>"
        for k, v in rows
    )
    return f"<table cellspacing='0'>{cells}</table>"


def _predicts(card: ModelCard, path: str) -> str:
    base = f"{100 * card.base_rate:.0f}%"
    window = (
        f"{DEFAULT_WINDOW_SECONDS:g} s each unless Preferences say otherwise"
        if card.window_seconds is None
        else f"{card.window_seconds:g} s each, as it was trained"
    )
    overall = "the whole track's statistics" if card.runtime.has_head else html.escape(card.runtime.overall_rule)
    heads = card.raw.get("heads")
    if isinstance(heads, dict) and {"track", "window"} <= set(heads):
        overall += (
            ". Two heads give these numbers, and each number is labelled with its own: the <b>track head</b> "
            "the overall score, the <b>window head</b> (trained on statistics moved the way windows differ "
            "from whole tracks) the windows and the hit curve"
        )
    return (
        f"<p>The probability that a song with this sound is a <b>hit</b>, where a hit is: "
        f"<i>{html.escape(card.label_definition)}</i>.</p>"
        f"<p>{base} of the songs it learnt from were hits (the <b>base rate</b>): a score above {base} means "
        "“more likely than a typical song it learnt from”, not “good”.</p>"
        f"<p>It scores three windows of each take (beginning, middle and end, {window}) and, overall, "
        f"{overall}.</p>"
        + _rows([("Model", html.escape(f"{card.name} {card.version}")), ("Files", html.escape(path or "–"))])
    )


def _trained_on(card: ModelCard) -> str:
    td = card.training_data
    if not td:
        return "<p>The card does not say.</p>"
    facts: list[tuple[str, str]] = []
    if td.get("name"):
        facts.append(("Data", html.escape(str(td["name"]))))
    counts = [f"{td['n_songs']:,} songs" if isinstance(td.get("n_songs"), int) else ""]
    if isinstance(td.get("n_artist_groups"), int):
        counts.append(f"{td['n_artist_groups']:,} groups of artists")
    if any(counts):
        facts.append(("Size", ", ".join(c for c in counts if c)))
    if td.get("market"):
        facts.append(("Market", html.escape(str(td["market"]))))
    for key, label in (("terms", "Terms"), ("audio", "Audio"), ("held_out", "Held out")):
        if _dig(td, "provenance", key):
            facts.append((label, html.escape(str(_dig(td, "provenance", key)))))
    what = f"<p>{html.escape(str(td['description']))}</p>" if td.get("description") else ""
    return what + _rows(facts)


_SKILL = (
    ("roc_auc", "ROC AUC", "how often a hit is ranked above a song that was not: 0.5 is chance, 1 is perfect"),
    ("spearman", "Spearman", "how well the scores follow the songs' chart ranks: 0 is none, 1 is perfect"),
    ("pr_auc", "PR AUC", "precision over recall for the hits; chance is the base rate"),
    ("brier", "Brier score", "squared error of the probabilities: lower is better"),
    ("ece", "Calibration error", "how far the probabilities lie from the hit rates seen: lower is better"),
)


def _skill(card: ModelCard) -> str:
    cv = _dig(card.metrics, "cv")
    scores = _dig(cv, "default") or cv
    rows = [
        (name, f"<b>{value}</b> <span style='color:{theme.DIM_TEXT.name()}'>({html.escape(meaning)})</span>")
        for key, name, meaning in _SKILL
        if (value := _summary(_dig(scores, key))) is not None
    ]
    if not rows:
        return "<p>The card reports no cross-validated measurements.</p>"
    scheme = _dig(cv, "scheme")
    how = f" ({html.escape(str(scheme))})" if scheme else ""
    text = (
        f"<p>Measured by cross-validation{how}: each song was scored by a copy of the model that never saw "
        "any song of its artists, so these numbers are what to expect on new artists.</p>" + _rows(rows)
    )
    baselines = _dig(card.metrics, "baselines")
    if isinstance(baselines, dict) and baselines:
        lines = [("This model", _summary(_dig(scores, "roc_auc")) or "–", _summary(_dig(scores, "spearman")) or "–")]
        lines += [
            (str(n), _summary(_dig(b, "roc_auc")) or "–", _summary(_dig(b, "spearman")) or "–")
            for n, b in baselines.items()
        ]
        head = "<tr><th align='left'>Compared with</th><th align='left'>ROC AUC</th><th align='left'>Spearman</th></tr>"
        body = "".join(
            f"<tr><td style='padding-right:14px'>{html.escape(n)}</td><td style='padding-right:14px'>{a}</td>"
            f"<td>{sp}</td></tr>"
            for n, a, sp in lines
        )
        text += (
            f"<p>Simpler models on the same data, measured the same way:</p><table cellspacing='0'>{head}{body}</table>"
        )
    windows = _dig(cv, "simulated_windows")
    if isinstance(windows, dict) and windows.get("description"):
        text += f"<p>On windows rather than whole songs: {html.escape(str(windows['description']))}.</p>"
    return text


def _uncertainty(card: ModelCard) -> str:
    u = card.raw.get("uncertainty")
    if not isinstance(u, dict):
        return "<p>The range (low–high) is the spread of the model's ensemble.</p>"
    text = f"<p>{html.escape(str(u.get('description') or u.get('method') or ''))}</p>"
    widths = u.get("width_percentiles_training_songs")
    if isinstance(widths, dict) and all(k in widths for k in ("5", "50", "95")):
        text += (
            f"<p>On the songs it learnt from, the range is typically {100 * widths['50']:.0f} points wide "
            f"({100 * widths['5']:.0f} for the narrowest 5%, {100 * widths['95']:.0f} for the widest 5%). "
            "When two takes' ranges overlap, HitDesk says there is no clear difference.</p>"
        )
    return text


def model_page(card: ModelCard, path: str) -> str:
    """The card as a person reads it: what it predicts, what it learnt from, how good it is on artists
    it has not seen, how sure it is, and its caveats. The card's JSON itself is behind Details."""
    caveats = "".join(f"<li>{html.escape(c)}</li>" for c in card.caveats) or "<li>None listed.</li>"
    sections = (
        ("What it predicts", _predicts(card, path)),
        ("What it learnt from", _trained_on(card)),
        ("How good it is on artists it has not seen", _skill(card)),
        ("How sure it is", _uncertainty(card)),
        ("Caveats", f"<ul>{caveats}</ul>"),
    )
    body = "".join(f"<h3>{html.escape(title)}</h3>{text}" for title, text in sections)
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
{_explanations_text(card)}""",
    )


def _explanations_text(card: ModelCard | None) -> str:
    """The hit curve and "What drives it": what they are and what they are not (the card's words where it has them)."""
    section = (card.raw.get("explanation") or {}) if card is not None else {}
    background = section.get("background") or {}
    made = ""
    if background:
        made = (
            f" The training songs are summarised as {background.get('centroids', '?')} weighted centroids of "
            f"{background.get('n_songs', '?')} songs' statistics (no song's own numbers), in "
            f"<i>{html.escape(str(background.get('file', '')))}</i> beside the model."
        )
    is_not = html.escape(
        str(
            section.get("what_it_is_not")
            or "These describe the model's arithmetic, not causes of success and not advice."
        )
    )
    return f"""
<p><b>Hit curve</b> (under the spectrogram): the model's score of windows as long as the segments, every few
seconds across the take (full mode only; the first is the beginning window, the last the end window). The shaded
part is the window the model scores highest. It says where the model hears its inputs most like the chart's hits,
not which part of a song listeners like.</p>
<p><b>What drives it</b>: the score split into eight groups of the model's inputs (tempo, length, density, four
bands of the tonal balance, movement) by exact Shapley values. Each bar is how far that group moves the score from
the baseline, the model's score of the training songs' summary, averaged over every order of swapping the groups
in; the baseline plus the bars is the score.{made}</p>
<p><b>Compare</b>: why the first take scores higher than the second is the same split, with the second take in
place of the training songs: exact Shapley values of each group of the first take's inputs against the second's,
which add up to the difference of their scores.</p>
<p><b>Tonal balance</b>: the take's average spectrum as the model sees it (its MFCC means turned back into mel bands)
against the chart hits' median and middle 80%, or against one of your own targets: the median and middle 80% of
reference takes you chose (Analysis &gt; Tonal Target from Selected Takes, Files or Folder). A target describes your
references, not what makes a hit.</p>
<p><b>What if</b>: the model's score with the take's statistics edited, every control at once (tempo +/-15%,
length, density and the four bands +/-6 dB, movement). Each control shows the model's score along it, the others
held, with the part where 98% of the training songs lie shaded; settings outside it are refused. It edits
numbers, not sound: what the model would say, never advice.</p>
<p><b>What these are not</b>: {is_not}</p>
"""


class ModelCardDialog(QDialog):
    def __init__(self, card: ModelCard | None, path: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model card" if card is None else f"Model card – {card.name} {card.version}")
        self.resize(760, 600)
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
        add("explain", "What the numbers mean", explain_page(card))
        # The card as the model ships it, for those who want every number: out of the way until asked for.
        self.details = QPlainTextEdit(json.dumps(card.raw, indent=2, ensure_ascii=False) if card is not None else "")
        self.details.setReadOnly(True)
        self.details.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.details.setAccessibleName("The model card's JSON")
        self.details.hide()
        self.details_button = QPushButton("Details")
        self.details_button.setCheckable(True)
        self.details_button.setEnabled(card is not None)
        self.details_button.setToolTip("Show the model card's JSON, as the model ships it")
        self.details_button.toggled.connect(self._show_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.details_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        buttons.accepted.connect(self.accept)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.details, 1)
        layout.addWidget(buttons)

    def _show_details(self, shown: bool) -> None:
        self.details.setVisible(shown)
        self.tabs.setVisible(not shown)
        self.details_button.setText("Hide Details" if shown else "Details")

    def open_page(self, key: str) -> None:
        if self.details_button.isChecked():
            self.details_button.setChecked(False)
        if key in self.pages:
            self.tabs.setCurrentWidget(self.pages[key])
