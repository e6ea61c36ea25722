"""The output device for playback: which rate and channels to ask for, and the PortAudio stream. No Qt.

A take plays at its own sample rate whenever the device takes that rate (PulseAudio, PipeWire and
most interfaces take any common one); only when it refuses is the take resampled, to the device's
default rate, else 48 or 44.1 kHz. Output is stereo, mono files on both sides, unless the device
has a single channel. The player talks to an ``AudioOutput``, so tests can hand it a fake device
and pull the buffers the callback produces.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

log = logging.getLogger(__name__)

Callback = Callable[[npt.NDArray[np.float32], int, Any, Any], None]
FALLBACK_RATES = (48_000, 44_100)
LATENCY_S = 0.04  # PortAudio's buffer: what an A/B switch and a seek add to their own few milliseconds


class OutputStream(Protocol):
    def close(self) -> None:
        """Stops at once (no draining) and lets the device go."""
        ...


class AudioOutput(Protocol):
    def max_channels(self) -> int: ...

    def default_rate(self) -> int | None: ...

    def supports(self, rate: int, channels: int) -> bool: ...

    def refuse(self, rate: int, channels: int) -> None:
        """The device would not open at this rate after all: do not offer it again."""
        ...

    def open(self, rate: int, channels: int, callback: Callback) -> OutputStream:
        """A started stream; raises when the device cannot be opened so."""
        ...


def choose_format(file_rate: int, output: AudioOutput) -> tuple[int, int]:
    """(rate, channels) of the stream for a take at ``file_rate``: its own rate when the device takes it."""
    channels = 2 if output.max_channels() >= 2 else 1
    for rate in (file_rate, output.default_rate(), *FALLBACK_RATES):
        if rate and output.supports(rate, channels):
            return rate, channels
    return file_rate, channels  # nothing checked out: try the file's rate and report the device's answer


def describe(out_rate: int, out_channels: int, file_rate: int, file_channels: int) -> tuple[str, str]:
    """How the take reaches the speakers: a few words for the window, and the whole sentence."""
    short = f"Out {out_rate / 1000:g} kHz {'stereo' if out_channels == 2 else 'mono'}"
    full = f"Output at {out_rate / 1000:g} kHz, {'stereo' if out_channels == 2 else 'mono'}"
    if out_rate == file_rate:
        full += ": the take's own rate"
    else:
        short += ", resampled"
        full += f": the take ({file_rate / 1000:g} kHz) is resampled, as the device does not take its rate"
    if file_channels > out_channels:
        short += ", mixed down"
        full += f"; its {file_channels} channels are mixed down"
    return short, full + "."


class _SoundDeviceStream:
    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def close(self) -> None:
        try:
            self._stream.abort()  # stop() would wait for PortAudio's buffers to drain (1.6 s with PulseAudio)
            self._stream.close()
        except Exception as exc:  # a device that went away
            log.debug("closing the audio stream: %s", exc)


class SoundDeviceOutput:
    """PortAudio's default output device, through sounddevice (imported when first needed)."""

    def __init__(self) -> None:
        self._answers: dict[tuple[int, int], bool] = {}

    def _device(self) -> dict[str, Any] | None:
        try:
            import sounddevice as sd

            info = sd.query_devices(kind="output")
        except Exception as exc:  # no PortAudio, no device
            log.debug("no output device: %s", exc)
            return None
        return dict(info) if info else None

    def max_channels(self) -> int:
        device = self._device()
        return 2 if device is None else int(device.get("max_output_channels", 2))

    def default_rate(self) -> int | None:
        device = self._device()
        rate = None if device is None else device.get("default_samplerate")
        return round(rate) if rate else None

    def supports(self, rate: int, channels: int) -> bool:
        key = (rate, channels)
        if key not in self._answers:
            try:
                import sounddevice as sd

                sd.check_output_settings(channels=channels, dtype="float32", samplerate=rate)
                self._answers[key] = True
            except Exception as exc:
                log.debug("the output device does not take %d Hz, %d channels: %s", rate, channels, exc)
                self._answers[key] = False
        return self._answers[key]

    def refuse(self, rate: int, channels: int) -> None:
        self._answers[(rate, channels)] = False

    def open(self, rate: int, channels: int, callback: Callback) -> OutputStream:
        import sounddevice as sd

        stream = sd.OutputStream(
            samplerate=rate, channels=channels, dtype="float32", callback=callback, latency=LATENCY_S
        )
        stream.start()
        return _SoundDeviceStream(stream)
