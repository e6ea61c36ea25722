"""The PortAudio input stream a recorder reads from, and the shape of one (tests and benchmarks pass
their own through a ``StreamFactory``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

from hitdesk.capture.devices import InputDevice, sounddevice

# Input buffering asked of PortAudio: nothing is monitored live, so latency costs nothing, while
# short buffers can cost a lot (through ALSA's PulseAudio plugin, 35-50 ms buffers kept ~40% of a
# core busy polling; 100 ms took ~1%). The device's own "high" latency is used when it is longer.
MIN_LATENCY_S = 0.1


class StreamLike(Protocol):
    """The part of ``sounddevice.InputStream`` the recorder uses (tests pass fakes)."""

    @property
    def latency(self) -> Any: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def abort(self) -> None: ...

    def close(self) -> None: ...


AudioCallback = Callable[[npt.NDArray[np.float32], int, Any, Any], None]
StreamFactory = Callable[[InputDevice, int, int, AudioCallback, Callable[[], None]], StreamLike]


def portaudio_stream(
    device: InputDevice, channels: int, samplerate: int, callback: AudioCallback, finished: Callable[[], None]
) -> StreamLike:
    """A float32 PortAudio input stream with generous buffering (see ``MIN_LATENCY_S``)."""
    sd = sounddevice()
    stream: StreamLike = sd.InputStream(
        device=device.index,
        channels=channels,
        samplerate=samplerate,
        dtype="float32",
        latency=max(MIN_LATENCY_S, device.high_latency_s),
        callback=callback,
        finished_callback=finished,
    )
    return stream
