"""The compare view's pictures of what the model heard: drawn off the GUI thread, kept in a bounded cache.

A row of the compare view shows a take's analysed windows (their log-mel, as the model hears it)
on the take's timeline, over the whole track's log-mel dimmed. Instead of a plot widget per take,
the picture is one ``QImage`` of the plot area, computed by ``render_strip`` from plain arrays
(``StripSource``, taken from the take on the GUI thread) in a ``PictureRenderer`` worker; the view's
delegate draws it with the axes and window labels. ``render_strip`` imports nothing and touches no
widget, so it is safe in a worker thread (see ``workers.warm_up`` on imports in threads).

``PictureCache`` keeps at most ``capacity`` pictures, least recently used first out, so pictures
of takes scrolled out of view are released; the view empties it when it is hidden.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal, Slot
from PySide6.QtGui import QImage

from hitdesk.ui import theme
from hitdesk.ui.spectrogram import PICTURE_UNDER_WINDOWS_OPACITY
from hitdesk.ui.takes import Take

FloatArray = npt.NDArray[np.float32]


@dataclass(frozen=True)
class StripWindow:
    name: str
    start_s: float
    end_s: float
    logmel: FloatArray | None  # n_mels x frames, dB with 0 at the window's maximum
    p_hit: float | None = None


@dataclass(frozen=True)
class StripSource:
    """What one picture is drawn from (arrays are shared with the take, never written)."""

    span_s: float  # the timeline shown, 0 .. span_s
    windows: tuple[StripWindow, ...]  # the windows drawn (one when the track is shorter than a window)
    single: bool
    picture: FloatArray | None = None  # the whole track's log-mel (n_mels x columns), full-scale dB
    column_s: float = 1.0  # seconds per column of ``picture``


def strip_source(take: Take) -> StripSource | None:
    """The take's picture as arrays, or None while its windows' log-mel is not at hand."""
    res, detail = take.result, take.detail
    if res is None or detail is None or detail.plan is None:
        return None
    scores = {seg.name: seg.score.p_hit for seg in res.segments}
    plan = detail.plan
    shown = plan.windows[:1] if plan.single else plan.windows
    windows = tuple(
        StripWindow(w.name, w.start_s, w.end_s, detail.window_logmel.get(w.name), scores.get(w.name)) for w in shown
    )
    span = max(res.duration_s or plan.content_end_s, max(w.end_s for w in windows), 1.0)
    pic = take.picture
    if pic is None:
        return StripSource(span, windows, plan.single)
    span = max(span, pic.span_s)
    return StripSource(span, windows, plan.single, pic.visible(), pic.column_s)


def _bins(n_in: int, n_out: int, offset: float = 0.0, step: float = 1.0) -> npt.NDArray[np.int64]:
    """The first input index of each of ``n_out`` output cells (cell i covers offset + i * step)."""
    starts: npt.NDArray[np.int64] = np.floor(offset + np.arange(n_out) * step).astype(np.int64)
    return np.clip(starts, 0, max(0, n_in - 1)).astype(np.int64)


def _resample(a: FloatArray, starts: npt.NDArray[np.int64], axis: int) -> FloatArray:
    """Mean of each cell's inputs along ``axis`` (a cell narrower than an input repeats it)."""
    sums = np.add.reduceat(a, starts, axis=axis)
    ends = np.append(starts[1:], a.shape[axis])
    counts = np.maximum(ends - starts, 1).astype(np.float32)
    # reduceat gives the single element where a cell's end is not past its start: count it once.
    counts = np.where(ends > starts, counts, 1.0)
    shape = [1, 1]
    shape[axis] = -1
    return (sums / counts.reshape(shape)).astype(np.float32)


def _rows(a: FloatArray, height: int) -> FloatArray:
    """Mel bands onto ``height`` pixel rows, highest band at the top."""
    n = a.shape[0]
    return _resample(a, _bins(n, height, 0.0, n / height), 0)[::-1]


def _colours(values: FloatArray, lut: npt.NDArray[np.uint8], floor: float) -> npt.NDArray[np.float32]:
    idx = np.clip((values - floor) * (255.0 / max(1e-6, -floor)), 0, 255).astype(np.uint8)
    rgb: npt.NDArray[np.float32] = lut[idx].astype(np.float32)
    return rgb


def render_strip(source: StripSource, width: int, height: int, lut: npt.NDArray[np.uint8], db_floor: float) -> QImage:
    """The plot area of a strip, ``width`` x ``height`` pixels: the track dimmed, its windows on top."""
    width, height = max(1, int(width)), max(1, int(height))
    base = np.array([theme.BASE.red(), theme.BASE.green(), theme.BASE.blue()], dtype=np.float32)
    canvas = np.empty((height, width, 3), dtype=np.float32)
    canvas[:] = base
    px_s = source.span_s / width  # seconds per pixel column
    drawn = [w for w in source.windows if w.logmel is not None and w.logmel.size and w.end_s > w.start_s]
    if source.picture is not None and source.picture.size:
        pic = source.picture
        covered = min(width, int(np.ceil(pic.shape[1] * source.column_s / px_s)))
        if covered > 0:
            cols = _resample(pic, _bins(pic.shape[1], covered, 0.0, px_s / source.column_s), 1)
            alpha = PICTURE_UNDER_WINDOWS_OPACITY if drawn else 1.0
            rgb = _colours(_rows(cols, height), lut, db_floor)
            canvas[:, :covered] = base * (1.0 - alpha) + rgb * alpha
    for w in drawn:
        assert w.logmel is not None
        x0 = max(0, int(np.floor(w.start_s / px_s)))
        x1 = min(width, max(x0 + 1, int(np.ceil(w.end_s / px_s))))
        if x1 <= x0:
            continue
        frames = w.logmel.shape[1]
        frame_s = (w.end_s - w.start_s) / frames
        first = (x0 * px_s - w.start_s) / frame_s
        cols = _resample(w.logmel, _bins(frames, x1 - x0, first, px_s / frame_s), 1)
        canvas[:, x0:x1] = _colours(_rows(cols, height), lut, db_floor)
    rgb8 = np.ascontiguousarray(np.clip(canvas + 0.5, 0, 255).astype(np.uint8))
    image = QImage(rgb8.data, width, height, 3 * width, QImage.Format.Format_RGB888)
    return image.copy()  # owns its pixels once rgb8 is gone


# ---------------------------------------------------------------------------------------------- cache


@dataclass(frozen=True)
class PictureKey:
    """A picture is valid for one take's data (``version``), size, colour map and dB floor."""

    take_id: int
    version: int
    width: int
    height: int
    colour_map: str
    db_floor: float


class PictureCache:
    """At most ``capacity`` pictures, one per take; the least recently used goes first."""

    def __init__(self, capacity: int = 24) -> None:
        self.capacity = max(1, capacity)
        self._items: OrderedDict[int, tuple[PictureKey, QImage]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, take_id: object) -> bool:
        return take_id in self._items

    def get(self, take_id: int) -> tuple[PictureKey, QImage] | None:
        item = self._items.get(take_id)
        if item is not None:
            self._items.move_to_end(take_id)
        return item

    def put(self, key: PictureKey, image: QImage) -> None:
        self._items[key.take_id] = (key, image)
        self._items.move_to_end(key.take_id)
        self._trim()

    def set_capacity(self, capacity: int) -> None:
        self.capacity = max(1, capacity)
        self._trim()

    def _trim(self) -> None:
        while len(self._items) > self.capacity:
            self._items.popitem(last=False)

    def discard(self, take_id: int) -> None:
        self._items.pop(take_id, None)

    def keep_only(self, take_ids: set[int]) -> None:
        for take_id in [t for t in self._items if t not in take_ids]:
            del self._items[take_id]

    def clear(self) -> None:
        self._items.clear()

    def ids(self) -> list[int]:
        return list(self._items)


# ---------------------------------------------------------------------------------------------- rendering


class _RenderSignals(QObject):
    """Lives in the GUI thread; a worker's emit is queued to it."""

    done = Signal(object, object)  # PictureKey, QImage


class _RenderJob(QRunnable):
    def __init__(
        self,
        key: PictureKey,
        source: StripSource,
        lut: npt.NDArray[np.uint8],
        signals: _RenderSignals,
        cancelled: threading.Event,
    ) -> None:
        super().__init__()
        self.key, self.source, self.lut, self.signals, self.cancelled = key, source, lut, signals, cancelled

    def run(self) -> None:
        if self.cancelled.is_set():
            return
        k = self.key
        image = render_strip(self.source, k.width, k.height, self.lut, k.db_floor)
        if not self.cancelled.is_set():
            self.signals.done.emit(k, image)


class PictureRenderer(QObject):
    """Draws pictures on its own thread pool (one thread: a picture takes milliseconds) and says when each
    is done; ``cancel_all`` drops pictures not started yet, and late answers of cancelled ones."""

    done = Signal(object, object)  # PictureKey, QImage

    def __init__(self, threads: int = 1, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(max(1, threads))
        self._signals = _RenderSignals()
        self._signals.done.connect(self._on_done)
        self._pending: dict[PictureKey, threading.Event] = {}
        self.started = 0  # pictures started since this renderer was made (for tests and the benchmark)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def is_pending(self, key: PictureKey) -> bool:
        return key in self._pending

    def render(self, key: PictureKey, source: StripSource, lut: npt.NDArray[np.uint8]) -> None:
        if key in self._pending:
            return
        flag = threading.Event()
        self._pending[key] = flag
        self.started += 1
        self.pool.start(_RenderJob(key, source, lut, self._signals, flag))

    def cancel(self, keep: Callable[[PictureKey], bool]) -> None:
        """Cancels the pending pictures for which ``keep`` says no."""
        for key in [k for k in self._pending if not keep(k)]:
            self._pending.pop(key).set()

    def cancel_all(self) -> None:
        self.cancel(lambda _k: False)

    def wait(self, msecs: int = 5_000) -> bool:
        return bool(self.pool.waitForDone(msecs))

    @Slot(object, object)
    def _on_done(self, key: object, image: object) -> None:
        if isinstance(key, PictureKey) and self._pending.pop(key, None) is not None and isinstance(image, QImage):
            self.done.emit(key, image)
