"""A fake PortAudio input stream for the recorder and the record panel: the failures a virtual device
cannot produce (overflows, a stalled device, a device unplugged mid-take, a busy device); and a fake
output device for the player, whose callback a test pulls buffers from as PortAudio would (``pull``).

Used by ``tests/capture/test_capture_fakes.py``, ``tests/ui/test_ui_record.py``,
``tests/ui/test_ui_player.py``, ``tests/ui/test_ui_scope.py`` and ``tests/ui/test_ui_abref.py``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from hitdesk.capture.devices import InputDevice
from hitdesk.ui.play_output import Callback


class _Flags:
    """The status flags PortAudio hands the callback."""

    def __init__(self, overflow: bool) -> None:
        self.input_overflow = overflow


class FakeStream:
    """Plays ``signal`` (frames x channels, looped) into the callback in blocks, ``speed`` x real time."""

    def __init__(
        self,
        signal: np.ndarray,
        rate: int,
        callback: Callable[..., None],
        finished: Callable[[], None],
        block: int = 1024,
        speed: float = 20.0,
        lose_after: int | None = None,
        stall_after: int | None = None,
        overflow_blocks: tuple[int, ...] = (),
        fail_start: Exception | None = None,
    ) -> None:
        self.signal, self.rate, self.callback, self.finished = signal, rate, callback, finished
        self.block, self.speed = block, speed
        self.lose_after, self.stall_after, self.overflow_blocks = lose_after, stall_after, overflow_blocks
        self.fail_start = fail_start
        self.latency = 0.01
        self.fed = 0
        self._halt = threading.Event()
        self._ended = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.closed = False

    def start(self) -> None:
        if self.fail_start is not None:
            raise self.fail_start
        self._thread.start()

    def _run(self) -> None:
        i = 0
        while not self._halt.is_set():
            if self.lose_after is not None and self.fed >= self.lose_after:
                self._end()  # the device went away: PortAudio ends the stream by itself
                return
            if self.stall_after is not None and self.fed >= self.stall_after:
                self._halt.wait(0.05)  # no more callbacks, the stream still "runs"
                continue
            idx = (np.arange(self.block) + self.fed) % self.signal.shape[0]
            self.callback(self.signal[idx], self.block, None, _Flags(i in self.overflow_blocks))
            self.fed += self.block
            i += 1
            time.sleep(self.block / self.rate / self.speed)

    def _end(self) -> None:
        if not self._ended:
            self._ended = True
            self.finished()

    def stop(self) -> None:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(5)
        self._end()

    abort = stop

    def close(self) -> None:
        self.closed = True


def stream_factory(signal: np.ndarray, streams: list[FakeStream] | None = None, **kwargs: Any) -> Any:
    """A stream factory as the recorder takes it, making ``FakeStream``s of ``signal`` (kept in ``streams``)."""

    def make(device: InputDevice, channels: int, rate: int, callback: Any, finished: Any) -> FakeStream:
        assert signal.shape[1] >= channels
        stream = FakeStream(signal[:, :channels], rate, callback, finished, **kwargs)
        if streams is not None:
            streams.append(stream)
        return stream

    return make


class FakeOutput:
    """An output device that takes ``rates`` (None: any) and has ``channels`` outputs."""

    def __init__(
        self, rates: set[int] | None = None, channels: int = 2, default: int = 48_000, fail_open: set[int] = frozenset()
    ) -> None:
        self.rates, self.channels, self.default, self.fail_open = rates, channels, default, set(fail_open)
        self.opened: list[tuple[int, int]] = []
        self.callback: Callback | None = None
        self.refused: set[tuple[int, int]] = set()

    def max_channels(self) -> int:
        return self.channels

    def default_rate(self) -> int | None:
        return self.default

    def supports(self, rate: int, channels: int) -> bool:
        return (self.rates is None or rate in self.rates) and (rate, channels) not in self.refused

    def refuse(self, rate: int, channels: int) -> None:
        self.refused.add((rate, channels))

    def open(self, rate: int, channels: int, callback: Callback) -> Any:
        if rate in self.fail_open:
            raise RuntimeError(f"Invalid sample rate {rate}")
        self.opened.append((rate, channels))
        self.callback = callback
        return self

    def close(self) -> None:
        self.callback = None


def pull(player: Any, output: FakeOutput, frames: int) -> np.ndarray:
    """``frames`` frames from the player's real callback (as many channels as the stream opened), once
    its feeder has made them (no underrun counted)."""
    assert player.engine.feed is not None and output.callback is not None
    out = np.zeros((frames, output.opened[-1][1]), dtype=np.float32)
    done = 0
    deadline = time.monotonic() + 20
    while done < frames and time.monotonic() < deadline:
        feed = player.engine.feed
        assert feed is not None
        while feed.ahead < min(1024, frames - done) and not feed.ended:
            player.engine.top_up()
        n = min(1024, frames - done, max(feed.ahead, 1))
        output.callback(out[done : done + n], n, None, None)
        done += n
        if feed.finished:
            break
    return out[:done]
