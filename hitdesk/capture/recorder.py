"""Recording from an input device to a file, without losing audio and without stopping on problems.

Three threads take part:

- PortAudio's callback thread runs ``_callback``: it copies the block into a preallocated ring,
  counts overflows and sets an event that wakes the writer. Nothing else (no logging, no buffers
  allocated, no model; the event's own lock is only ever held for a few instructions).
- The writer thread drains the ring into the file, flushing at least once a second, and hands the
  audio, mixed to mono, to ``on_audio`` (the live analysis). It also notices a device that stopped
  delivering audio, and ends the take cleanly when asked, when the length asked for is reached, or
  when something goes wrong.
- The caller's thread (the app's GUI thread or the command line) only calls ``start``, ``stop``
  and ``status``; none of them blocks for long, so a GUI can poll ``status`` from a timer.

This module knows nothing of the model: ``capture.live`` and ``capture.session`` add the scoring on top.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from hitdesk.capture.devices import (
    PA_INVALID_SAMPLE_RATE,
    ChannelChoice,
    InputDevice,
    default_channel_choice,
    find_input_device,
    portaudio_error_message,
    sounddevice,
    supported_rates,
)
from hitdesk.capture.library import new_recording_path
from hitdesk.capture.markers import TakeMarker
from hitdesk.capture.ring import RingBuffer
from hitdesk.capture.stream import StreamFactory, StreamLike, portaudio_stream
from hitdesk.capture.writers import RecordingWriter, open_writer, recording_format
from hitdesk.dsp.scope import ScopeRing
from hitdesk.errors import CaptureError
from hitdesk.present import mmss

log = logging.getLogger(__name__)

FLUSH_SECONDS = 1.0  # at most this much audio is only in memory (or in the OS cache) at any time
# The writer sleeps until the callback says a block has arrived, and wakes at least this often to
# notice a stop or a device that has gone quiet.
_WAKE_SECONDS = 0.1


class RecorderState(StrEnum):
    IDLE = "idle"
    RECORDING = "recording"
    STOPPING = "stopping"
    FINISHED = "finished"


@dataclass(frozen=True)
class RecorderSettings:
    device: str | int | None = None  # None: the system's default input
    channels: tuple[int, ...] | None = None  # 0-based channel or ascending pair; None: 1+2, or 1 on a mono device
    sample_rate: int | None = None  # None: the device's default rate
    path: Path | None = None  # None: a new name in the recordings folder
    file_format: str = "wav"  # when ``path`` is None: "wav" or "flac"
    max_seconds: float | None = None  # stop after exactly this many seconds of audio (counted in frames)
    ring_seconds: float = 10.0  # how long the writer thread may stall before audio is dropped
    stall_seconds: float = 3.0  # no audio for this long (after the first block) means the device is gone
    first_block_seconds: float = 8.0  # opening some devices takes a while


@dataclass(frozen=True)
class RecorderStatus:
    state: RecorderState
    path: Path | None
    device: str  # label of the device
    sample_rate: int
    channels: tuple[int, ...]
    frames: int  # written to the file
    input_overflows: int  # callbacks PortAudio flagged with an input overflow (audio lost before us)
    dropped_frames: int  # frames lost because the ring was full (the writer fell behind)
    peak: tuple[float, ...]  # per recorded channel, linear, the loudest sample since the previous status()
    latency_s: float | None
    device_lost: bool
    problem: str | None  # one sentence for the user, set when the take ended early or lost audio

    @property
    def seconds(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


class Recorder:
    """One take from one input device to one file. ``open`` (optional) then ``start``, ``stop``."""

    def __init__(
        self,
        settings: RecorderSettings | None = None,
        on_audio: Callable[[npt.NDArray[np.float32]], None] | None = None,
        on_finished: Callable[[RecorderStatus], None] | None = None,
        stream_factory: StreamFactory | None = None,
    ) -> None:
        self.settings = settings or RecorderSettings()
        self._on_audio = on_audio
        self._on_finished = on_finished
        self._factory: StreamFactory = stream_factory or portaudio_stream
        self._state = RecorderState.IDLE
        self._device: InputDevice | None = None
        self._choice: ChannelChoice | None = None
        self._rate = 0
        self._max_frames: int | None = None
        self._stream: StreamLike | None = None
        self._ring: RingBuffer | None = None
        self.scope = ScopeRing()  # the newest input frames, for the vectorscope (written by the writer thread)
        self._select = slice(0, 1)
        self._writer: RecordingWriter | None = None
        self._marker: TakeMarker | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._done = threading.Event()
        self._stream_ended = threading.Event()
        self._arrived = threading.Event()  # set by the callback after each block, and by stop()
        self._overflows = 0  # written by the callback only
        self._lock = threading.Lock()  # guards the fields below, shared by the writer and status()
        self._peak: npt.NDArray[np.float32] = np.zeros(1, dtype=np.float32)
        self._problem: str | None = None
        self._device_lost = False
        self._final: RecorderStatus | None = None

    # ------------------------------------------------------------------------------------ caller's thread

    @property
    def sample_rate(self) -> int:
        return self._rate

    @property
    def path(self) -> Path | None:
        return None if self._writer is None else self._writer.path

    def open(self) -> RecorderStatus:
        """Chooses the device, channels and rate, opens the stream and creates the file; no audio yet.

        Raises CaptureError with a sentence for the user (no device, busy, no usable rate, file exists).
        """
        if self._stream is not None:
            return self.status()
        s = self.settings
        if s.path is not None:
            recording_format(s.path)  # a wrong file name is found before the device is touched
            if s.path.exists():
                raise CaptureError(f"'{s.path}' already exists; choose another file name.")
        device = find_input_device(s.device)
        try:
            choice = ChannelChoice(tuple(s.channels)) if s.channels is not None else default_channel_choice(device)
        except ValueError as exc:
            raise CaptureError(f"Cannot record channels {s.channels}: {exc}.") from exc
        rates = supported_rates(device, choice.stream_channels, s.sample_rate)
        self._device, self._choice, self._select = device, choice, choice.stream_slice
        self._stream = self._open_stream(device, choice, rates)
        try:
            path = s.path or new_recording_path(s.file_format)
            self._writer = open_writer(path, self._rate, len(choice.channels))
            try:
                self._marker = TakeMarker(path, self._writer.take_id)
            except (CaptureError, OSError) as exc:
                log.warning("cannot mark %s as being recorded (%s); a crash would not be recovered", path, exc)
        except BaseException:
            self.close()  # the stream, and the file if it was created
            raise
        self._peak = np.zeros(len(choice.channels), dtype=np.float32)
        if s.max_seconds is not None:
            self._max_frames = max(0, round(s.max_seconds * self._rate))
        log.info("recording %s channels %s at %d Hz to %s", device.label, choice.label, self._rate, self._writer.path)
        return self.status()

    def _open_stream(self, device: InputDevice, choice: ChannelChoice, rates: list[int]) -> StreamLike:
        sd = sounddevice()
        last: BaseException | None = None
        for rate in rates:
            # The ring must exist before the stream can call back; it is sized for this rate.
            ring = RingBuffer(max(1, round(self.settings.ring_seconds * rate)), len(choice.channels))
            self._ring = ring
            try:
                stream = self._factory(device, choice.stream_channels, rate, self._callback, self._stream_ended.set)
            except sd.PortAudioError as exc:
                last = exc
                code = exc.args[1] if len(exc.args) > 1 else None
                if code == PA_INVALID_SAMPLE_RATE:
                    log.info("%s refused %d Hz when opening; trying the next rate", device.label, rate)
                    continue
                raise CaptureError(portaudio_error_message(exc, device)) from exc
            except ValueError as exc:  # sounddevice's own checks, e.g. a device index that has gone
                raise CaptureError(f"The input device '{device.label}' cannot be opened ({exc}).") from exc
            self._rate = rate
            return stream
        assert last is not None
        raise CaptureError(portaudio_error_message(last, device)) from last

    def start(self) -> None:
        """Starts recording (opening first if needed). Raises CaptureError when the stream cannot start."""
        if self._state is not RecorderState.IDLE:
            return
        self.open()
        assert self._stream is not None and self._device is not None
        try:
            # The stream starts before the writer: until the writer runs, the ring holds the audio.
            self._stream.start()
        except Exception as exc:
            sd = sounddevice()
            message = (
                portaudio_error_message(exc, self._device)
                if isinstance(exc, sd.PortAudioError)
                else f"The input device '{self._device.label}' cannot start recording ({exc})."
            )
            self.close()  # removes the empty file
            raise CaptureError(message) from exc
        self._state = RecorderState.RECORDING
        self._thread = threading.Thread(target=self._run, name="hitdesk-capture-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Asks the take to end; returns at once. ``wait`` or ``status().state`` tell when it has."""
        self._stop.set()
        self._arrived.set()

    def wait(self, timeout: float | None = None) -> bool:
        """True once the file is finished (always the case after an open that never started)."""
        if self._thread is None:
            return True
        return self._done.wait(timeout)

    def status(self) -> RecorderStatus:
        with self._lock:
            peak = tuple(float(p) for p in self._peak)
            self._peak[:] = 0.0
            problem, lost = self._problem, self._device_lost
        ring = self._ring
        latency: float | None = None
        if self._stream is not None:
            try:
                latency = float(self._stream.latency)
            except (TypeError, ValueError, AttributeError):
                latency = None
        return RecorderStatus(
            state=self._state,
            path=self.path,
            device=self._device.label if self._device is not None else "",
            sample_rate=self._rate,
            channels=self._choice.channels if self._choice is not None else (),
            frames=self._writer.frames if self._writer is not None else 0,
            input_overflows=self._overflows,
            dropped_frames=ring.dropped_frames if ring is not None else 0,
            peak=peak,
            latency_s=latency,
            device_lost=lost,
            problem=problem,
        )

    def close(self) -> None:
        """Stops and waits; for an opened but never started recorder, closes the stream and removes the empty file."""
        if self._thread is not None:
            self.stop()
            self._done.wait()
            return
        self._close_stream(abort=True)
        if self._writer is not None:
            self._writer.close()
            self._writer.path.unlink(missing_ok=True)
            self._writer = None
        if self._marker is not None:
            self._marker.release()
            self._marker = None

    # ------------------------------------------------------------------------------------ audio thread

    def _callback(self, indata: npt.NDArray[np.float32], frames: int, time_info: Any, status: Any) -> None:
        if status.input_overflow:
            self._overflows += 1
        ring = self._ring
        if ring is not None:
            ring.write(indata[:, self._select])
        self._arrived.set()

    # ------------------------------------------------------------------------------------ writer thread

    def _run(self) -> None:
        ring, writer = self._ring, self._writer
        assert ring is not None and writer is not None
        scratch = np.empty((max(1, min(ring.capacity, self._rate // 4)), ring.channels), dtype=np.float32)
        last_flush = last_progress = time.monotonic()
        seen = 0
        stream_stopped = False
        try:
            while True:
                n = ring.read_into(scratch)
                if n:
                    self._consume(scratch[:n], writer)
                now = time.monotonic()
                if now - last_flush >= FLUSH_SECONDS:
                    writer.flush()
                    last_flush = now
                progress = ring.frames_written + ring.dropped_frames
                if progress != seen:
                    seen, last_progress = progress, now
                if not stream_stopped:
                    if self._stream_ended.is_set() and not self._stop.is_set():
                        self._lost(f"The input device stopped delivering audio after {self._clock(writer.frames)}")
                    elif not self._stop.is_set():
                        limit = self.settings.stall_seconds if seen else self.settings.first_block_seconds
                        if now - last_progress > limit:
                            self._lost(f"The input device sent no audio for {limit:g} s")
                    if self._stop.is_set():
                        self._state = RecorderState.STOPPING
                        self._close_stream(abort=self._device_lost)
                        stream_stopped = True
                        continue  # drain what the stream delivered before it stopped
                elif ring.available() == 0:
                    break
                if n < scratch.shape[0] and not self._stop.is_set():
                    # Cleared before the ring is read again, so a block that arrives meanwhile is
                    # either read now or sets the event again.
                    self._arrived.wait(_WAKE_SECONDS)
                    self._arrived.clear()
        except OSError as exc:
            self._fail(
                f"Writing the take failed ({exc.strerror or exc}); it was stopped at {self._clock(writer.frames)}."
            )
        except Exception as exc:  # keep the take whatever went wrong; the log has the details
            log.exception("capture writer failed")
            self._fail(f"Recording stopped at {self._clock(writer.frames)} after an unexpected error ({exc}).")
        finally:
            self._finish(writer, stream_stopped)

    def _consume(self, block: npt.NDArray[np.float32], writer: RecordingWriter) -> None:
        if self._max_frames is not None:
            block = block[: max(0, self._max_frames - writer.frames)]
        left = writer.frames_left
        if left is not None and block.shape[0] > left:
            block = block[:left]
            self._fail("The take reached the largest size a WAV file can hold (4 GB) and was stopped.")
        if block.shape[0]:
            writer.write(block)
            self.scope.write(block, block.shape[1])
            peak = np.max(np.abs(block), axis=0)
            with self._lock:
                np.maximum(self._peak, peak, out=self._peak)
            if self._on_audio is not None:
                mono: npt.NDArray[np.float32] = (
                    block[:, 0].copy() if block.shape[1] == 1 else np.mean(block, axis=1, dtype=np.float32)
                )
                try:
                    self._on_audio(mono)
                except Exception:  # the take matters more than its live analysis
                    log.exception("live analysis failed; recording goes on without it")
                    self._on_audio = None
        if self._max_frames is not None and writer.frames >= self._max_frames:
            self._stop.set()

    def _lost(self, what: str) -> None:
        with self._lock:
            self._device_lost = True
            self._problem = f"{what}; it may have been unplugged. The take so far is kept."
        log.info("%s", self._problem)  # the caller shows it (status().problem); not said twice
        self._stop.set()

    def _fail(self, message: str) -> None:
        with self._lock:
            if self._problem is None:
                self._problem = message
        log.info("%s", message)
        self._stop.set()

    def _clock(self, frames: int) -> str:
        return mmss(frames / self._rate if self._rate else 0)

    def _close_stream(self, abort: bool) -> None:
        stream, self._stream = self._stream, None
        if stream is None:
            return
        try:
            if abort:
                stream.abort()
            else:
                stream.stop()
        except Exception as exc:  # a vanished device can fail to stop; closing still frees it
            log.info("stopping the input stream failed: %s", exc)
        try:
            stream.close()
        except Exception as exc:
            log.info("closing the input stream failed: %s", exc)

    def _finish(self, writer: RecordingWriter, stream_stopped: bool) -> None:
        if not stream_stopped:
            self._close_stream(abort=True)
        try:
            writer.close()
        except OSError as exc:
            self._fail(f"Finishing the take's file failed ({exc.strerror or exc}).")
        if self._marker is not None:
            self._marker.release()
            self._marker = None
        self._state = RecorderState.FINISHED
        final = self.status()
        overflows, dropped = final.input_overflows, final.dropped_frames
        if overflows or dropped:
            log.info("take %s: %d input overflows, %d frames dropped", writer.path, overflows, dropped)
        self._final = final
        try:
            if self._on_finished is not None:
                self._on_finished(final)
        finally:
            self._done.set()

    @property
    def final_status(self) -> RecorderStatus | None:
        """The status when the file was finished (its ``peak`` is that of the last stretch)."""
        return self._final
