"""Analysis ▸ Lyrics…: paste a take's lyrics, for models that take them.

The text goes with the take's analysis jobs (``Analyser.lyrics``) in place of the ``.lrc``/``.txt``
file beside its audio file; an empty text goes back to that file. The take is analysed again when
the text changed. Models without a lyrics input ignore it.
"""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QMessageBox

from hitdesk.ui.command_context import CommandContext

PROMPT = (
    "Lyrics of {name}, used only by models that take lyrics.\n"
    "Leave empty to use the .lrc or .txt file with the same name beside the audio file, if any."
)


def set_lyrics(c: CommandContext, take_id: int, text: str) -> bool:
    """Stores (or, when empty, forgets) the take's pasted lyrics; True when that changed anything."""
    store = c.controller.analyser.lyrics
    before = store.get(take_id, "")
    text = text.strip()
    if text:
        store[take_id] = text
    else:
        store.pop(take_id, None)
    return text != before


def lyrics_dialog(c: CommandContext) -> None:
    takes = c.view.selected_takes()
    if len(takes) != 1:
        QMessageBox.information(c.window, "Lyrics", "Select one take to give it lyrics.")
        return
    take = takes[0]
    current = c.controller.analyser.lyrics.get(take.id, "")
    text, ok = QInputDialog.getMultiLineText(c.window, "Lyrics", PROMPT.format(name=take.name), current)
    if ok and set_lyrics(c, take.id, text):
        c.controller.reanalyse([take])
