"""Playback of the selected take as the file is: its channels, its sample rate, A/B at the same place.

``Player`` is the Qt side: it opens takes (in a worker), keeps the last few open, decides the
output stream's format, and moves the playhead on a 30 ms timer. What the callback plays is made in
``play_engine`` (the ring, the feeder thread) from ``play_source`` (the file's own channels and
rate); the stream is the device's, through ``play_output``. A take plays at its own rate unless the
device refuses it (then it is resampled, and ``output_changed`` says so); surround is mixed down to
stereo, mono goes to both sides.

Positions are seconds of the playing take's file. Each take has a gain (loudness matching and the
user's gain, as one factor), a time offset used when switching between takes (see
``play_settings``) and a loop region.
"""

from __future__ import annotations

import logging
from collections import OrderedDict
from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QRunnable, QThreadPool, QTimer, Signal, Slot

from hitdesk.ui.play_engine import PlayEngine, Voice
from hitdesk.ui.play_output import AudioOutput, OutputStream, SoundDeviceOutput, choose_format, describe
from hitdesk.ui.play_source import PlaySource, open_play_source

log = logging.getLogger(__name__)

MATCH_TARGET_LUFS = -18.0
_KEEP_OPEN = 4  # takes whose reader stays open, so switching back to them is a seek
_TICK_MS = 30


class _OpenSignals(QObject):
    opened = Signal(int, object, str)  # take id, PlaySource or None, error sentence


class _OpenJob(QRunnable):
    def __init__(self, take_id: int, path: Path, signals: _OpenSignals) -> None:
        super().__init__()
        self.take_id, self.path, self.signals = take_id, path, signals

    def run(self) -> None:
        try:
            source = open_play_source(self.path)
        except Exception as exc:  # shown as one sentence; playback is optional
            self.signals.opened.emit(self.take_id, None, f"Cannot play '{self.path.name}': {exc}")
            return
        self.signals.opened.emit(self.take_id, source, "")


class Player(QObject):
    position_changed = Signal(float)  # seconds of the playing take
    playing_changed = Signal(bool)
    message = Signal(str)  # a problem to show in the status bar
    loaded = Signal(int)  # take id now ready to play
    output_changed = Signal(str, str)  # how the output stream runs: a few words, and the whole sentence

    def __init__(self, parent: QObject | None = None, output: AudioOutput | None = None) -> None:
        super().__init__(parent)
        self.engine = PlayEngine()
        self.output: AudioOutput = output if output is not None else SoundDeviceOutput()
        self._stream: OutputStream | None = None
        self._stream_format: tuple[int, int] | None = None
        self._take_id: int | None = None
        self._voices: OrderedDict[int, Voice] = OrderedDict()
        self._pending: int | None = None
        self._pending_play = False
        self._gain_by_take: dict[int, float] = {}
        self._ceiling_by_take: dict[int, float] = {}  # sample ceiling (1.0: full scale)
        self._offset_by_take: dict[int, float] = {}  # seconds
        self._loop_by_take: dict[int, tuple[float, float]] = {}  # seconds
        self._reported: object = None  # the feed whose error was shown
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(1)
        self._signals = _OpenSignals()
        self._signals.opened.connect(self._on_opened)
        self._timer = QTimer(self)
        self._timer.setInterval(_TICK_MS)
        self._timer.timeout.connect(self._tick)

    # --- reading -----------------------------------------------------------------------------------
    @property
    def take_id(self) -> int | None:
        return self._take_id

    @property
    def is_playing(self) -> bool:
        feed = self.engine.feed
        return feed is not None and feed.playing

    @property
    def position_s(self) -> float:
        feed = self.engine.feed
        return 0.0 if feed is None else feed.position / feed.voice.rate

    @property
    def duration_s(self) -> float:
        feed = self.engine.feed
        return 0.0 if feed is None else feed.voice.source.duration_s

    @property
    def stream_format(self) -> tuple[int, int] | None:
        """(rate, channels) of the open output stream."""
        return self._stream_format

    def voice(self, take_id: int) -> Voice | None:
        return self._voices.get(take_id)

    # --- each take's settings --------------------------------------------------------------------
    def set_gain(self, take_id: int, gain: float) -> None:
        """The take's whole gain as a factor: loudness matching times the user's gain."""
        self._gain_by_take[take_id] = gain
        feed = self.engine.feed
        if take_id == self._take_id and feed is not None:
            feed.gain = gain  # read by the callback at its next buffer

    def set_ceiling(self, take_id: int, ceiling: float) -> None:
        """The level the take's samples are held within (a platform's true-peak rule; 1.0: full scale)."""
        self._ceiling_by_take[take_id] = ceiling
        feed = self.engine.feed
        if take_id == self._take_id and feed is not None:
            feed.ceiling = ceiling

    def set_offset(self, take_id: int, seconds: float) -> None:
        """Where the take's file stands against the others when switching between them."""
        self._offset_by_take[take_id] = seconds

    def set_loop(self, take_id: int, loop: tuple[float, float] | None) -> None:
        """A region of the take's file (seconds) that playback repeats once in it; None: no loop."""
        if loop == self._loop_by_take.get(take_id):
            return
        if loop is None:
            self._loop_by_take.pop(take_id, None)
        else:
            self._loop_by_take[take_id] = loop
        feed = self.engine.feed
        if take_id == self._take_id and feed is not None:
            self._install(feed.voice, feed.position, feed.playing)  # from where it is, with the new loop

    def _loop_frames(self, take_id: int, voice: Voice) -> tuple[int, int] | None:
        loop = self._loop_by_take.get(take_id)
        if loop is None:
            return None
        start, end = (round(s * voice.rate) for s in loop)
        return (start, end) if end > start else None

    # --- choosing and opening takes --------------------------------------------------------------
    def select(self, take_id: int | None, path: Path | None, play: bool | None = None) -> None:
        """Makes a take the one to play, at the same place (A/B, through the offsets), opening it if needed.

        ``play`` None keeps playing if something was playing.
        """
        if take_id is None or path is None:
            return
        start = self.is_playing if play is None else play
        if take_id == self._take_id:
            if start and not self.is_playing:
                self.play()
            return
        if take_id in self._voices:
            self._switch_to(take_id, start)
            return
        self._pending = take_id
        self._pending_play = start
        self.pool.start(_OpenJob(take_id, path, self._signals))

    @Slot(int, object, str)
    def _on_opened(self, take_id: int, source: object, error: str) -> None:
        if error or source is None:
            if take_id == self._pending:
                self.message.emit(error or "Cannot play this take.")
            return
        opened = cast(PlaySource, source)
        if take_id in self._voices:  # opened twice (asked again while opening): keep the first
            opened.close()
        else:
            self._voices[take_id] = Voice(opened, *choose_format(opened.rate, self.output))
            self._close_extra()
        if take_id == self._pending:
            self._pending = None
            self._switch_to(take_id, self._pending_play)

    def _close_extra(self) -> None:
        while len(self._voices) > _KEEP_OPEN:
            oldest = next(t for t in self._voices if t != self._take_id)
            voice = self._voices.pop(oldest)
            with self.engine.lock:
                voice.source.close()

    def _switch_to(self, take_id: int, play: bool) -> None:
        voice = self._voices[take_id]
        self._voices.move_to_end(take_id)
        feed = self.engine.feed
        start = 0
        if feed is not None and self._take_id is not None:
            at = feed.position / feed.voice.rate - self._offset_by_take.get(self._take_id, 0.0)
            start = min(round((at + self._offset_by_take.get(take_id, 0.0)) * voice.rate), voice.frames)
        self._take_id = take_id
        self._install(voice, start, play)
        self.loaded.emit(take_id)
        self._tick()

    def _install(self, voice: Voice, start: int, play: bool) -> None:
        """A new feed from ``start``; the stream is (re)opened first when the take needs another format."""
        take_id = self._take_id
        assert take_id is not None
        same_format = self._stream is not None and self._stream_format == (voice.out_rate, voice.out_channels)
        if play and not same_format:
            self._close_stream()
        self.engine.install(
            voice,
            start,
            gain=self._gain_by_take.get(take_id, 1.0),
            playing=play and same_format,  # playing at once: not one buffer of silence at an A/B switch
            loop=self._loop_frames(take_id, voice),
            ceiling=self._ceiling_by_take.get(take_id, 1.0),
        )
        if play:
            self._start()

    def forget(self, take_id: int) -> None:
        voice = self._voices.pop(take_id, None)
        if take_id == self._take_id:
            self.stop()
            self.engine.clear()
            self._take_id = None
        if voice is not None:
            with self.engine.lock:
                voice.source.close()
        for settings in (self._gain_by_take, self._ceiling_by_take, self._offset_by_take, self._loop_by_take):
            settings.pop(take_id, None)

    # --- the output stream --------------------------------------------------------------------------
    def _ensure_stream(self, voice: Voice) -> bool:
        """The stream open in the voice's format; a rate the device refuses is resampled instead."""
        while True:
            wanted = (voice.out_rate, voice.out_channels)
            if self._stream is not None and self._stream_format == wanted:
                return True
            self._close_stream()
            try:
                self._stream = self.output.open(*wanted, self.engine.callback)
            except Exception as exc:  # no device, PortAudio missing, a rate refused on opening
                self.output.refuse(*wanted)
                other = choose_format(voice.rate, self.output)
                if other != wanted and self.output.supports(*other):
                    log.info("the output refused %s Hz (%s); trying %s Hz", wanted[0], exc, other[0])
                    voice.set_output(*other)
                    self._reinstall()
                    continue
                log.warning("no audio output: %s", exc)
                self.message.emit(f"No audio output available ({exc}).")
                return False
            self._stream_format = wanted
            short, full = describe(*wanted, voice.rate, voice.source.channels)
            log.info("%s", full)
            self.output_changed.emit(short, full)
            return True

    def _reinstall(self) -> None:
        feed = self.engine.feed
        if feed is not None and self._take_id is not None:
            self.engine.install(
                feed.voice,
                feed.position,
                gain=feed.gain,
                playing=False,
                loop=self._loop_frames(self._take_id, feed.voice),
                ceiling=feed.ceiling,
            )

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
        self._stream = None
        self._stream_format = None

    # --- transport ----------------------------------------------------------------------------------
    def play(self) -> None:
        feed = self.engine.feed
        if feed is None or self._take_id is None:
            return
        if feed.finished or feed.position >= feed.voice.frames:  # at the end: again from the start
            loop = self._loop_frames(self._take_id, feed.voice)
            self._install(feed.voice, loop[0] if loop else 0, True)
        else:
            self._start()

    def _start(self) -> None:
        feed = self.engine.feed
        if feed is None or not self._ensure_stream(feed.voice):
            return
        feed = self.engine.feed  # a new one when the stream needs another rate than the device took
        assert feed is not None
        feed.playing = True
        self.engine.start()
        self._timer.start()
        self.playing_changed.emit(True)

    def pause(self) -> None:
        feed = self.engine.feed
        if feed is not None:
            feed.playing = False
        self._timer.stop()
        self._tick()
        self.playing_changed.emit(False)

    def toggle(self) -> None:
        self.pause() if self.is_playing else self.play()

    def seek(self, seconds: float) -> None:
        feed = self.engine.feed
        if feed is None or self._take_id is None:
            return
        voice = feed.voice
        self._install(voice, min(max(0, round(seconds * voice.rate)), voice.frames), feed.playing)
        self._tick()

    def stop(self) -> None:
        feed = self.engine.feed
        if feed is not None:
            feed.playing = False
        self._timer.stop()
        self._close_stream()
        self.engine.stop()
        self.playing_changed.emit(False)

    def close(self) -> None:
        """Closing the window: the stream, the feeder thread and every open take."""
        self.stop()
        self.pool.waitForDone(5_000)
        self.engine.clear()
        with self.engine.lock:
            for voice in self._voices.values():
                voice.source.close()
        self._voices.clear()
        self._take_id = None

    def _tick(self) -> None:
        self.position_changed.emit(self.position_s)
        feed = self.engine.feed
        if feed is not None and feed.error is not None and feed is not self._reported:
            self._reported = feed
            self.message.emit(f"Playback stopped: {feed.error}")
        if not self.is_playing and self._timer.isActive():
            self._timer.stop()
            self.playing_changed.emit(False)
