"""Takes: one file in the list each, its state, result, loudness, note and playback; and the list (no Qt).

A take is identified by an integer id that never changes, so a worker's late answer for a take that
was removed (or re-queued) is recognised and dropped, instead of landing on whatever row now has its
index. The state machine's steps are methods of ``Take`` and the list's bookkeeping (ids, duplicates,
inputs, sessions, exports) is ``TakeList``; only ``TakesController`` calls them, and it announces
each change by a signal. Keeping this module free of Qt keeps those rules plain Python.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path

import numpy as np
import numpy.typing as npt

from hitdesk.analysis import AnalysisDetail, Progress
from hitdesk.audio import InputProblem, expand_inputs
from hitdesk.dsp.windows import Window
from hitdesk.present import TAG_LIMIT, terminal_text
from hitdesk.results import Score, TrackResult
from hitdesk.ui.loudness import Loudness
from hitdesk.ui.play_settings import PlaySettings
from hitdesk.ui.session import ExportRow, SessionTake
from hitdesk.ui.track_picture import TrackPicture


class State(Enum):
    QUEUED = "queued"
    ANALYSING = "analysing"
    DONE = "done"
    ERROR = "error"
    CANCELLED = "cancelled"


def path_key(path: str | Path) -> str:
    """The same file reached by different spellings (relative, via a link) gets the same key."""
    return os.path.normcase(os.path.realpath(os.fspath(path)))


def missing_sentence(takes: Sequence[Take], refused: str = "") -> str:
    """What to say of takes whose files are missing: where they were, that their scores are kept, and
    how to find them; ``refused`` names what was not done ("analysed again", "played")."""
    what = f"'{takes[0].name}' is" if len(takes) == 1 else f"{len(takes)} takes are"
    where = f" at {takes[0].path}" if len(takes) == 1 else ""
    done = f", so {'it' if len(takes) == 1 else 'they'} cannot be {refused}" if refused else ""
    return f"{what} missing: the file is no longer{where}{done}. The scores are kept; Analysis ▸ Locate File… finds it."


@dataclass
class Take:
    id: int
    path: Path
    key: str
    state: State = State.QUEUED
    result: TrackResult | None = None
    detail: AnalysisDetail | None = None
    # While analysing: the windows the engine has placed, with the log-mel the model hears, by name.
    live_windows: dict[str, tuple[Window, npt.NDArray[np.float32]]] = field(default_factory=dict)
    picture: TrackPicture | None = None  # the track's log-mel as computed (kept for drawing afterwards)
    loudness: Loudness | None = None
    loudness_error: str | None = None
    note: str = ""
    message: str | None = None  # an error that is not the engine's (e.g. no model loaded)
    recording_notes: tuple[str, ...] = ()  # audio lost while recording it: kept when it is analysed again
    playback: PlaySettings = field(default_factory=PlaySettings)  # gain, offset and loop (saved in sessions)
    missing: bool = False  # the file was not there when last looked for; the scores stay until it is located

    @property
    def name(self) -> str:
        """The file's name as a label shows it: control characters (a newline, an escape) as ``\\xNN``."""
        return terminal_text(self.path.name or str(self.path))

    @property
    def error(self) -> str | None:
        if self.result is not None and self.result.error:
            return self.result.error
        return self.message

    @property
    def who(self) -> str:
        tags = self.result.tags if self.result is not None else {}
        return " – ".join(terminal_text(t, TAG_LIMIT) for t in (tags.get("artist"), tags.get("title")) if t)

    def segment(self, name: str) -> Score | None:
        if self.result is None:
            return None
        for s in self.result.segments:
            if s.name == name:
                return s.score
        return None

    @property
    def overall(self) -> Score | None:
        return None if self.result is None else self.result.overall

    # --- the state machine's steps (TakesController calls them and says what changed) --------------
    @property
    def input_problem(self) -> bool:
        """A path that could not be read when it was added (e.g. an empty folder): never analysed."""
        return self.state == State.ERROR and self.result is None and bool(self.message)

    @property
    def waiting(self) -> bool:
        return self.state in (State.QUEUED, State.ANALYSING)

    def check_file(self) -> bool:
        """Looks whether the take's file is still there; True when that changed ``missing``."""
        missing = not self.input_problem and not self.path.is_file()
        changed = missing != self.missing
        self.missing = missing
        return changed

    def forget_results(self) -> None:
        """Before analysing again: what the last analysis found goes; the note and recording notes stay."""
        self.result = None
        self.detail = None
        self.live_windows = {}
        self.loudness = None
        self.loudness_error = None

    def start(self) -> None:
        """A job began. A take that is done stays done: the job only computes the spectrogram and
        detail its result (from the cache or a session) lacks, so its row and the status bar's count
        keep saying it is analysed, and its result is not new (the session is not changed)."""
        if self.state != State.DONE:
            self.state = State.ANALYSING
        self.picture = None  # drawn anew as this job computes it
        self.live_windows = {}

    def add_progress(self, progress: Progress) -> bool:
        """New log-mel columns; True when the whole percent the row shows changed."""
        shown = self.picture.done if self.picture is not None else -1.0
        if self.picture is None:
            self.picture = TrackPicture(progress.duration_s)
        self.picture.add(progress)
        return int(100 * self.picture.done) != int(100 * shown)

    def add_window(self, window: Window, logmel: npt.NDArray[np.float32]) -> None:
        self.live_windows[window.name] = (window, logmel)

    def finish(self, result: TrackResult, detail: AnalysisDetail | None) -> bool:
        """The engine's answer; True when the take already had this result (a re-run for its detail)."""
        had_result = self.result is not None and self.state == State.DONE
        if self.recording_notes:
            notes = (*result.notes, *(n for n in self.recording_notes if n not in result.notes))
            result = replace(result, notes=notes)
        self.result = result
        if detail is not None:
            self.detail = detail
        self.live_windows = {}
        self.state = State.DONE if result.ok else State.ERROR
        return had_result

    def set_loudness(self, value: Loudness | None, message: str) -> None:
        self.loudness = value
        self.loudness_error = message or None

    def cancel(self) -> bool:
        """Queued or analysing -> cancelled (also when a job ends without an answer); True if it was."""
        if not self.waiting:
            return False
        self.state = State.CANCELLED
        return True


class TakeList:
    """The takes in list order, with ids that are never reused and one take per file."""

    def __init__(self) -> None:
        self._takes: list[Take] = []
        self._next_id = 1

    @property
    def takes(self) -> list[Take]:
        return list(self._takes)

    def __len__(self) -> int:
        return len(self._takes)

    def by_id(self, take_id: int) -> Take | None:
        return next((t for t in self._takes if t.id == take_id), None)

    def count_finished(self, ids: set[int]) -> int:
        """How many of these takes are no longer queued or being analysed."""
        return sum(1 for t in self._takes if t.id in ids and not t.waiting)

    def _new(self, path: Path) -> Take:
        take = Take(self._next_id, path, path_key(path))
        self._next_id += 1
        return take

    def edit(self, take_id: int, *, note: str | None = None, playback: PlaySettings | None = None) -> bool:
        """Sets a take's note or playback settings; True when that changed something."""
        take = self.by_id(take_id)
        same_note = note is None or take is None or take.note == note
        if take is None or (same_note and (playback is None or take.playback == playback)):
            return False
        take.note = take.note if note is None else note
        take.playback = take.playback if playback is None else playback
        return True

    def extend(self, takes: Sequence[Take]) -> None:
        self._takes.extend(takes)

    def remove(self, ids: Iterable[int]) -> list[int]:
        """Removes the takes; returns the ids that were listed, in list order."""
        gone = set(ids)
        removed = [t.id for t in self._takes if t.id in gone]
        self._takes = [t for t in self._takes if t.id not in gone]
        return removed

    def locate(self, take: Take, path: Path) -> str | None:
        """A missing take's file found at ``path``: the take points there and keeps its scores. Returns
        why it cannot (not a file, or a file the list has already), or None."""
        new = path.absolute()
        key = path_key(new)
        if not new.is_file():
            return f"'{new.name}' is not a file that can be read."
        if any(t.key == key for t in self._takes if t is not take):
            return f"'{new.name}' is already in the list."
        take.path, take.key, take.missing = new, key, False
        if take.result is not None:
            take.result = replace(take.result, file=str(new))
        return None

    def from_inputs(self, paths: Sequence[Path]) -> tuple[list[Take], int]:
        """New takes for files and folders (error takes for inputs that cannot be read), not yet
        listed; and how many files were skipped because they are listed already."""
        new: list[Take] = []
        seen = {t.key for t in self._takes}
        skipped = 0
        for item in expand_inputs(paths):
            path = item.path if isinstance(item, InputProblem) else item
            take = self._new(path.absolute())
            if take.key in seen:
                skipped += 1
                continue
            seen.add(take.key)
            if isinstance(item, InputProblem):
                take.state = State.ERROR
                take.message = item.message
            new.append(take)
        return new, skipped

    def from_result(self, path: Path, result: TrackResult, notes: Sequence[str]) -> Take | None:
        """A new take for a file analysed already (a recording); None when the file is listed."""
        take = self._new(path.absolute())
        if take.key in {t.key for t in self._takes}:
            return None
        take.result = result
        take.recording_notes = tuple(notes)
        take.state = State.DONE if result.ok else State.ERROR
        return take

    def from_session(self, entries: Sequence[SessionTake], keep_results: bool) -> list[Take]:
        """New takes for a session's entries not listed yet, with their notes and loudness, and their
        results when ``keep_results`` (made by the model in use)."""
        new = []
        seen = {t.key for t in self._takes}
        for e in entries:
            if path_key(e.path) in seen:
                continue
            take = self._new(e.path)
            seen.add(take.key)
            take.note = e.note
            take.loudness = e.loudness
            take.playback = e.playback
            if e.result is not None and keep_results:
                take.result = replace(e.result, file=str(e.path))
                take.state = State.DONE if e.result.ok else State.ERROR
            new.append(take)
        return new

    def results(self, model: dict[str, str], mode: str) -> list[ExportRow]:
        """One row per take that has a result, in list order (input problems included), for exports:
        the result with the take's loudness and note."""
        out = []
        for t in self._takes:
            if t.result is not None:
                out.append(ExportRow(t.result, t.loudness, t.note))
            elif t.state == State.ERROR and t.message:
                error = TrackResult(file=str(t.path), model=model, mode=mode, error=t.message)
                out.append(ExportRow(error, None, t.note))
        return out

    def session_takes(self) -> list[SessionTake]:
        return [SessionTake(t.path, t.result, t.loudness, t.note, t.playback) for t in self._takes]
