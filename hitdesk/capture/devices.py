"""Audio input devices as PortAudio reports them, and choosing a device, its channels and a rate.

``sounddevice`` is imported on first use, not with this module: it initialises PortAudio at
import, which enumerates every device (slow, and noisy on ALSA), and commands that never record
should not pay for it. PortAudio enumerates devices once per process; ``rescan_devices`` starts
it again so a device plugged in later shows up (only while no stream is open).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

from hitdesk.errors import CaptureError

log = logging.getLogger(__name__)

# PortAudio error codes (portaudio.h, PaErrorCode) that have a clearer message than PortAudio's own.
PA_UNANTICIPATED_HOST_ERROR = -9999
PA_INVALID_CHANNEL_COUNT = -9998
PA_INVALID_SAMPLE_RATE = -9997
PA_INVALID_DEVICE = -9996
PA_DEVICE_UNAVAILABLE = -9985
PA_SAMPLE_FORMAT_NOT_SUPPORTED = -9994

# Rates tried after the one asked for and the device's own default, in this order.
FALLBACK_RATES = (48000, 44100)


def sounddevice() -> ModuleType:
    """The ``sounddevice`` module; a missing PortAudio library becomes a CaptureError."""
    try:
        import sounddevice as sd
    except OSError as exc:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise CaptureError("Recording needs the PortAudio library, which is not installed on this system.") from exc
    module: ModuleType = sd
    return module


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    hostapi: str
    channels: int  # maximum number of input channels
    default_samplerate: float
    is_default: bool
    high_latency_s: float = 0.0  # PortAudio's "high" input latency for the device

    @property
    def label(self) -> str:
        return f"{self.name} ({self.hostapi})"

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "name": self.name,
            "hostapi": self.hostapi,
            "channels": self.channels,
            "default_samplerate": self.default_samplerate,
            "is_default": self.is_default,
        }


@dataclass(frozen=True)
class ChannelChoice:
    """One input channel or a pair, as 0-based indices; a pair is mixed to mono for analysis."""

    channels: tuple[int, ...]

    def __post_init__(self) -> None:
        ordered = len(self.channels) == 1 or (len(self.channels) == 2 and self.channels[0] < self.channels[1])
        if not ordered or min(self.channels) < 0:
            raise ValueError(f"a channel choice is one channel or two in ascending order, not {self.channels}")

    @property
    def label(self) -> str:
        """Channel numbers as audio interfaces print them (from 1): ``"1"``, ``"1+2"``."""
        return "+".join(str(c + 1) for c in self.channels)

    @property
    def stream_channels(self) -> int:
        """How many channels the stream must open to reach these."""
        return max(self.channels) + 1

    @property
    def stream_slice(self) -> slice:
        """These channels of a stream block as a basic slice: a view, no copy (safe in an audio callback)."""
        first = self.channels[0]
        if len(self.channels) == 1:
            return slice(first, first + 1)
        step = self.channels[1] - first
        return slice(first, self.channels[1] + 1, step)


def channel_choices(device: InputDevice) -> list[ChannelChoice]:
    """Pairs (1+2, 3+4, ...) first, then each channel on its own."""
    pairs = [ChannelChoice((c, c + 1)) for c in range(0, device.channels - 1, 2)]
    singles = [ChannelChoice((c,)) for c in range(device.channels)]
    return pairs + singles


def default_channel_choice(device: InputDevice) -> ChannelChoice:
    return ChannelChoice((0, 1)) if device.channels >= 2 else ChannelChoice((0,))


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel; the system default is marked."""
    sd = sounddevice()
    try:
        devices = sd.query_devices()
        hostapis = sd.query_hostapis()
    except sd.PortAudioError as exc:
        raise CaptureError(f"The audio system cannot list its devices ({exc}).") from exc
    default_index = _default_input_index(sd)
    out: list[InputDevice] = []
    for index, d in enumerate(devices):
        if int(d["max_input_channels"]) < 1:
            continue
        api = hostapis[int(d["hostapi"])]["name"] if 0 <= int(d["hostapi"]) < len(hostapis) else "?"
        out.append(
            InputDevice(
                index=index,
                name=str(d["name"]),
                hostapi=str(api),
                channels=int(d["max_input_channels"]),
                default_samplerate=float(d["default_samplerate"]),
                is_default=index == default_index,
                high_latency_s=float(d.get("default_high_input_latency", 0.0)),
            )
        )
    if out and not any(d.is_default for d in out):
        # No system default input: preselect the first one, as a musician would pick something.
        first = out[0]
        out[0] = replace(first, is_default=True)
    return out


def _default_input_index(sd: ModuleType) -> int:
    """PortAudio's default input (or ``sd.default.device`` when the program set one); -1 if none."""
    try:
        return int(sd.query_devices(kind="input")["index"])
    except (sd.PortAudioError, ValueError, KeyError, TypeError):
        return -1


def default_input_device() -> InputDevice | None:
    return next((d for d in list_input_devices() if d.is_default), None)


# PortAudio lists devices once, when it starts. Started while the sound server (PulseAudio,
# PipeWire) is itself still starting or restarting, it sees no input through ALSA's plugins, or
# not the one named, although the device is there a moment later: capture runs that began that way
# said "No audio input device was found" for a device that existed. Before saying so, PortAudio is
# restarted and asked again a few times over about two seconds.
RESCAN_DELAYS_S = (0.25, 0.5, 1.0)


def scan_input_devices(spec: str | int | None) -> list[InputDevice]:
    """The input devices, rescanned after a pause while none is there or none matches ``spec``."""
    devices = list_input_devices()
    for delay in RESCAN_DELAYS_S:
        if devices and (spec is None or _matches(devices, spec)):
            break
        log.info(
            "no input device%s seen yet; asking PortAudio again in %.2f s", "" if spec is None else " matching", delay
        )
        time.sleep(delay)
        try:
            rescan_devices()
        except Exception as exc:  # PortAudio refuses to restart while a stream is open elsewhere in this process
            log.info("cannot restart PortAudio: %s", exc)
            break
        devices = list_input_devices()
    return devices


def _matches(devices: list[InputDevice], spec: str | int) -> bool:
    """Whether ``spec`` names one or more of these devices (several is the user's to resolve)."""
    text = str(spec).strip()
    if isinstance(spec, int) or text.lstrip("-").isdigit():
        return any(d.index == int(text) for d in devices)
    return any(text.lower() in d.label.lower() for d in devices)


def find_input_device(spec: str | int | None = None) -> InputDevice:
    """The default input (``None``), a device index, or a device named exactly or by a unique part."""
    if isinstance(spec, str) and not spec.strip():
        spec = None
    devices = scan_input_devices(spec)
    if not devices:
        raise CaptureError("No audio input device was found: connect a microphone or audio interface.")
    return _pick(devices, spec)


def _pick(devices: list[InputDevice], spec: str | int | None) -> InputDevice:
    if spec is None:
        return next(d for d in devices if d.is_default)
    text = str(spec).strip()
    if isinstance(spec, int) or text.lstrip("-").isdigit():
        index = int(text)
        for d in devices:
            if d.index == index:
                return d
        raise CaptureError(f"There is no input device number {index}; 'hitdesk devices' lists them.")
    lowered = text.lower()
    exact = [d for d in devices if d.name.lower() == lowered or d.label.lower() == lowered]
    if exact:
        return exact[0]
    partial = [d for d in devices if lowered in d.label.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise CaptureError(f"No input device is called '{text}'; 'hitdesk devices' lists them.")
    names = ", ".join(f"'{d.label}'" for d in partial[:4])
    raise CaptureError(f"'{text}' matches several input devices ({names}); give its number instead.")


def rescan_devices() -> None:
    """Restarts PortAudio so devices plugged in (or out) since start-up are seen. No stream may be open."""
    sd = sounddevice()
    sd._terminate()
    sd._initialize()


def candidate_rates(device: InputDevice, requested: int | None) -> list[int]:
    rates = [requested, round(device.default_samplerate), *FALLBACK_RATES]
    out: list[int] = []
    for r in rates:
        if r is not None and r > 0 and r not in out:
            out.append(int(r))
    return out


def supported_rates(device: InputDevice, stream_channels: int, requested: int | None) -> list[int]:
    """The candidate rates PortAudio accepts for this device, best first (requested, default, 48k, 44.1k)."""
    sd = sounddevice()
    if stream_channels > device.channels:
        raise CaptureError(
            f"'{device.label}' has {device.channels} input channel{'s' if device.channels != 1 else ''}; "
            f"channel {stream_channels} cannot be recorded from it."
        )
    ok: list[int] = []
    for rate in candidate_rates(device, requested):
        try:
            sd.check_input_settings(device=device.index, channels=stream_channels, dtype="float32", samplerate=rate)
        except sd.PortAudioError as exc:
            log.info("%s does not accept %d Hz: %s", device.label, rate, exc)
            continue
        except ValueError as exc:  # sounddevice's own checks (e.g. a device that vanished)
            log.info("%s does not accept %d Hz: %s", device.label, rate, exc)
            continue
        ok.append(rate)
    if not ok:
        tried = ", ".join(str(r) for r in candidate_rates(device, requested))
        raise CaptureError(f"'{device.label}' accepts none of the sample rates tried ({tried} Hz).")
    if requested is not None and ok[0] != requested:
        log.info("%s cannot record at %d Hz; using %d Hz", device.label, requested, ok[0])
    return ok


def portaudio_error_message(exc: BaseException, device: InputDevice) -> str:
    """One sentence for a PortAudio failure to open or start a stream on ``device``."""
    code = exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None
    detail = str(exc.args[0]) if exc.args else str(exc)
    host = exc.args[2] if len(exc.args) > 2 and isinstance(exc.args[2], tuple) else None
    busy = host is not None and len(host) == 3 and ("busy" in str(host[2]).lower() or host[1] in (-16, 16))
    if code == PA_DEVICE_UNAVAILABLE or busy or "busy" in detail.lower():
        return f"The input device '{device.label}' is busy or unavailable: close other programs that use it."
    if code == PA_INVALID_SAMPLE_RATE:
        return f"The input device '{device.label}' does not support this sample rate."
    if code == PA_INVALID_CHANNEL_COUNT:
        return f"The input device '{device.label}' does not offer that many input channels."
    if code == PA_INVALID_DEVICE:
        return f"The input device '{device.label}' is no longer available; it may have been unplugged."
    return f"The input device '{device.label}' cannot be opened ({detail})."
