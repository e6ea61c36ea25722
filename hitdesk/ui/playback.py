"""Playback of the selected take with sounddevice: play/pause, seek, A/B switching at the same position.

The PortAudio callback only copies from the decoded take into the output buffer and advances a
frame counter (no Qt, no logging, no allocation beyond numpy's slice); the GUI thread reads the
counter on a 30 ms timer to move the playhead. Audio is the model's signal (mono, 22,050 Hz,
``hitdesk.audio.decode_all``), decoded in a worker and kept for the last few takes so switching
between A and B is immediate. Loudness matching scales each take to the same integrated loudness.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from hitdesk.audio import decode_all
from hitdesk.config import FEATURES

log = logging.getLogger(__name__)

SAMPLE_RATE = FEATURES.sample_rate
MATCH_TARGET_LUFS = -18.0
_KEEP_DECODED = 4
_TICK_MS = 30


class _PlayState:
    """Shared between the GUI thread and the audio callback; plain attributes, replaced whole."""

    def __init__(self) -> None:
        self.samples: npt.NDArray[np.float32] = np.zeros(0, dtype=np.float32)
        self.position = 0  # next frame to play
        self.gain = 1.0
        self.playing = False


class _DecodeSignals(QObject):
    decoded = Signal(int, object, str)  # take id, samples or None, error sentence


class _DecodeJob(QRunnable):
    def __init__(self, take_id: int, path: Path, signals: _DecodeSignals) -> None:
        super().__init__()
        self.take_id, self.path, self.signals = take_id, path, signals

    def run(self) -> None:
        try:
            samples = decode_all(self.path)
            self.signals.decoded.emit(self.take_id, samples, "")
        except Exception as exc:  # shown as one sentence; playback is optional
            self.signals.decoded.emit(self.take_id, None, f"Cannot play '{self.path.name}': {exc}")


class Player(QObject):
    position_changed = Signal(float)  # seconds
    playing_changed = Signal(bool)
    message = Signal(str)  # a problem to show in the status bar
    loaded = Signal(int)  # take id now ready to play

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._state = _PlayState()
        self._lock = threading.Lock()
        self._stream: Any = None
        self._take_id: int | None = None
        self._decoded: OrderedDict[int, npt.NDArray[np.float32]] = OrderedDict()
        self._pending: int | None = None
        self._pending_play = False
        self._gain_by_take: dict[int, float] = {}
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._signals = _DecodeSignals()
        self._signals.decoded.connect(self._on_decoded)
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)

    # --- the audio callback (PortAudio thread) --------------------------------------------------
    def _callback(self, outdata: npt.NDArray[np.float32], frames: int, _time: object, _status: object) -> None:
        st = self._state
        if not st.playing:
            outdata.fill(0.0)
            return
        start = st.position
        chunk = st.samples[start : start + frames]
        n = chunk.shape[0]
        outdata[:n, 0] = chunk
        if st.gain != 1.0:
            np.multiply(outdata[:n, 0], st.gain, out=outdata[:n, 0])
            np.clip(outdata[:n, 0], -1.0, 1.0, out=outdata[:n, 0])
        outdata[n:] = 0.0
        st.position = start + n
        if n < frames:
            st.playing = False

    # --- GUI thread ---------------------------------------------------------------------------
    @property
    def take_id(self) -> int | None:
        return self._take_id

    @property
    def is_playing(self) -> bool:
        return self._state.playing

    @property
    def position_s(self) -> float:
        return self._state.position / SAMPLE_RATE

    @property
    def duration_s(self) -> float:
        return float(self._state.samples.shape[0] / SAMPLE_RATE)

    def set_gain(self, take_id: int, gain: float) -> None:
        self._gain_by_take[take_id] = gain
        if take_id == self._take_id:
            self._state.gain = gain

    def select(self, take_id: int | None, path: Path | None, play: bool | None = None) -> None:
        """Makes a take the one to play, keeping the position (A/B), decoding it first if needed.

        ``play`` None keeps playing if something was playing.
        """
        if take_id is None or path is None:
            return
        start = self._state.playing if play is None else play
        if take_id == self._take_id:
            if start and not self._state.playing:
                self.play()
            return
        if take_id in self._decoded:
            self._switch_to(take_id, start)
            return
        self._pending = take_id
        self._pending_play = start
        self.pool.start(_DecodeJob(take_id, path, self._signals))

    @Slot(int, object, str)
    def _on_decoded(self, take_id: int, samples: object, error: str) -> None:
        if error or not isinstance(samples, np.ndarray):
            if take_id == self._pending:
                self.message.emit(error or "Cannot play this take.")
            return
        self._decoded[take_id] = samples.astype(np.float32, copy=False)
        while len(self._decoded) > _KEEP_DECODED:
            self._decoded.popitem(last=False)
        if take_id == self._pending:
            self._pending = None
            self._switch_to(take_id, self._pending_play)

    def _switch_to(self, take_id: int, play: bool) -> None:
        position = self._state.position
        samples = self._decoded[take_id]
        self._decoded.move_to_end(take_id)
        new = _PlayState()
        new.samples = samples
        new.position = min(position, max(0, samples.shape[0] - 1))
        new.gain = self._gain_by_take.get(take_id, 1.0)
        new.playing = play and self._ensure_stream()
        self._state = new  # one assignment: the callback sees the old or the new state, never a mix
        self._take_id = take_id
        self.loaded.emit(take_id)
        if new.playing:
            self._timer.start()
            self.playing_changed.emit(True)
        self._tick()

    def forget(self, take_id: int) -> None:
        self._decoded.pop(take_id, None)
        if take_id == self._take_id:
            self.stop()
            self._state = _PlayState()
            self._take_id = None

    def _ensure_stream(self) -> bool:
        if self._stream is not None:
            return True
        try:
            import sounddevice as sd

            self._stream = sd.OutputStream(
                samplerate=SAMPLE_RATE, channels=1, dtype="float32", callback=self._callback, latency="low"
            )
            self._stream.start()
        except Exception as exc:  # no device, PortAudio missing: say so once, keep the app working
            log.warning("no audio output: %s", exc)
            self._stream = None
            self.message.emit(f"No audio output available ({exc}).")
            return False
        return True

    def play(self) -> None:
        st = self._state
        if st.samples.size == 0:
            return
        if st.position >= st.samples.shape[0]:
            st.position = 0
        if self._ensure_stream():
            st.playing = True
            self._timer.start()
            self.playing_changed.emit(True)

    def pause(self) -> None:
        self._state.playing = False
        self._timer.stop()
        self._tick()
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self._state.playing else self.play()

    def seek(self, seconds: float) -> None:
        old = self._state
        new = _PlayState()
        new.samples, new.gain, new.playing = old.samples, old.gain, old.playing
        new.position = int(min(max(0.0, seconds), self.duration_s) * SAMPLE_RATE)
        self._state = new  # replaced whole, so the callback cannot overwrite the new position
        self._tick()

    def stop(self) -> None:
        self._state.playing = False
        self._timer.stop()
        if self._stream is not None:
            try:
                self._stream.stop()
                self._stream.close()
            except Exception as exc:  # closing a stream whose device vanished
                log.debug("closing the audio stream: %s", exc)
            self._stream = None
        self.playing_changed.emit(False)

    def _tick(self) -> None:
        self.position_changed.emit(self.position_s)
        if not self._state.playing and self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)
