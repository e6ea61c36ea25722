"""The audio side of playback, without Qt: a take's voice, the ring the output callback reads, the feeder.

Three threads meet here:

- The output callback (PortAudio's thread) copies from the current ``Feed``'s preallocated ring into
  the output buffer, applies the take's gain, clips (at full scale, or at a platform's ceiling),
  copies what it played into the vectorscope's ring (``hitdesk.dsp.scope``) and advances two
  counters. It takes no lock, allocates no array, logs nothing and knows no Qt, as the capture
  recorder's callback.
- The feeder thread keeps that ring topped up from the take's ``Voice``: reading the file, folding
  its channels to the output's, resampling when the device needs another rate, jumping back at the
  end of a loop. It holds ``PlayEngine.lock`` while it touches a voice.
- The GUI thread makes a new feed for a seek, a switch to another take (A/B) or a changed loop:
  under the same lock it moves the voice's reader and fills the first part of the new ring (a few
  milliseconds), then replaces the feed with one assignment, so the callback plays the old feed or
  the new one, never a mix of them.

Only about half a second of audio per playing take is decoded ahead; takes that are not playing
keep their reader open (a decoder, no samples), so switching to one is a seek, not a decode.
"""

from __future__ import annotations

import logging
import math
import threading

import numpy as np
import numpy.typing as npt
import soxr

from hitdesk.dsp.scope import ScopeRing
from hitdesk.ui.play_source import Block, PlaySource, downmix_matrix

log = logging.getLogger(__name__)

CHUNK = 4 * 1152  # native frames per read: a multiple of MP3's frame, as libsndfile likes (see decode.py)
RING_S = 0.5  # decoded ahead of the playhead
PREFILL_S = 0.08  # decoded before a new feed plays: what a seek or an A/B switch waits for
RESAMPLE_QUALITY = "HQ"
_FEEDER_SLEEP_S = 0.01


class Voice:
    """One take opened for playback: its reader, the output format, its loop and where it reads next.

    Positions are frames of the take's file at its own rate; a negative one is silence before the
    file starts (a take placed later by its time offset).
    """

    def __init__(self, source: PlaySource, out_rate: int, out_channels: int) -> None:
        self.source = source
        self.rate = source.rate
        self.loop: tuple[int, int] | None = None  # [start, end) in frames
        self.ended = False
        self._pos = 0
        self._seg_start = 0  # where the current run began (a seek or a jump back to the loop start)
        self._seg_out = 0  # output frames produced since then
        self._run_read = 0  # file frames read since then
        self._resampler: soxr.ResampleStream | None = None
        self.set_output(out_rate, out_channels)

    def set_output(self, out_rate: int, out_channels: int) -> None:
        self.out_rate, self.out_channels = out_rate, out_channels
        self.matrix = downmix_matrix(self.source.names, out_channels)

    @property
    def frames(self) -> int:
        """The take's length (a container's estimate for FFmpeg's formats; huge when it states none)."""
        return round(self.source.duration_s * self.rate) if self.source.duration_s > 0 else 1 << 62

    def start_at(self, frame: int) -> None:
        self._pos = frame
        self.source.seek(max(0, frame))
        self.ended = False
        self._seg_start, self._seg_out, self._run_read = frame, 0, 0
        self._resampler = (
            None
            if self.out_rate == self.rate
            else soxr.ResampleStream(
                self.rate, self.out_rate, self.out_channels, dtype="float32", quality=RESAMPLE_QUALITY
            )
        )

    def produce(self) -> tuple[Block, npt.NDArray[np.int64]]:
        """The next output frames, and for each the take frame playback is at once it has been heard.

        Empty with ``ended`` set after the last frame of a take that does not loop.
        """
        loop = self.loop if self.loop is not None and self._pos < self.loop[1] else None
        want = CHUNK if loop is None else min(CHUNK, loop[1] - self._pos)
        if self._pos < 0:
            native = np.zeros((min(want, -self._pos), self.source.channels), dtype=np.float32)
            at_end = False
        else:
            native = self.source.read(want)
            at_end = len(native) < want
        self._pos += len(native)
        self._run_read += len(native)
        jump = loop is not None and (at_end or self._pos >= loop[1])
        out = self._render(native, last=at_end or jump)
        first = self._seg_out + 1
        at = self._seg_start + (np.arange(first, first + len(out), dtype=np.int64) * self.rate) // self.out_rate
        self._seg_out += len(out)
        if loop is not None and jump and self._run_read > 0:
            self.start_at(loop[0])
        elif at_end or jump:  # the end, or a loop that starts after the end of the file
            self.ended = True
        return out, at

    def _render(self, native: Block, last: bool) -> Block:
        x = np.nan_to_num(native, copy=False, nan=0.0, posinf=0.0, neginf=0.0)
        if self.matrix is not None:
            x = x @ self.matrix
        if self._resampler is not None:
            x = self._resampler.resample_chunk(np.ascontiguousarray(x, dtype=np.float32), last=last)
        return np.ascontiguousarray(x, dtype=np.float32)


class Feed:
    """What the callback plays: a ring of output frames with the take position of each. Replaced whole."""

    def __init__(self, voice: Voice, start: int, gain: float, playing: bool, ceiling: float = 1.0) -> None:
        self.voice = voice
        self.capacity = max(CHUNK, math.ceil(RING_S * voice.out_rate))
        self.buf = np.zeros((self.capacity, voice.out_channels), dtype=np.float32)
        self.at = np.zeros(self.capacity, dtype=np.int64)
        self.written = 0  # frames the feeder put in the ring (only the feeder changes it)
        self.read = 0  # frames the callback took out (only the callback changes it)
        self.position = start  # take frame of the next frame to be heard
        self.gain = gain
        self.ceiling = ceiling  # samples are held within +-ceiling: full scale, or a platform's true-peak rule
        self.playing = playing
        self.ended = False  # the take's last frame is in the ring
        self.finished = False  # ... and the callback has played it
        self.error: str | None = None  # why the feeder stopped early
        self._spill: tuple[Block, npt.NDArray[np.int64]] | None = None  # produced, not yet in the ring

    @property
    def ahead(self) -> int:
        return self.written - self.read

    def put(self, out: Block, at: npt.NDArray[np.int64]) -> int:
        """Copies what fits into the ring; keeps the rest for the next call."""
        n = min(len(out), self.capacity - self.ahead)
        i = self.written % self.capacity
        k = min(n, self.capacity - i)
        self.buf[i : i + k] = out[:k]
        self.at[i : i + k] = at[:k]
        self.buf[: n - k] = out[k:n]
        self.at[: n - k] = at[k:n]
        self._spill = (out[n:], at[n:]) if n < len(out) else None
        self.written += n
        return n

    def step(self) -> bool:
        """One read of the voice into the ring (or the spill of the last one); False when there was nothing."""
        if self._spill is not None:
            return self.put(*self._spill) > 0
        if self.voice.ended:
            self.ended = True
            return False
        out, at = self.voice.produce()
        wrote = self.put(out, at) > 0
        if self.voice.ended and self._spill is None:
            self.ended = True
        return wrote or not self.ended


class PlayEngine:
    """The current feed, the callback that plays it and the thread that fills it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.feed: Feed | None = None
        self.scope = ScopeRing()  # what the callback played, for the vectorscope
        self._running = False
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    # --- the output callback (PortAudio's thread) -------------------------------------------------
    def callback(self, outdata: npt.NDArray[np.float32], frames: int, _time: object, _status: object) -> None:
        feed = self.feed
        if feed is None or not feed.playing or feed.buf.shape[1] != outdata.shape[1]:
            outdata.fill(0.0)
            return
        r = feed.read
        n = min(frames, feed.written - r)
        i = r % feed.capacity
        k = min(n, feed.capacity - i)
        outdata[:k] = feed.buf[i : i + k]
        outdata[k:n] = feed.buf[: n - k]
        outdata[n:] = 0.0
        if feed.gain != 1.0:
            np.multiply(outdata[:n], feed.gain, out=outdata[:n])
        np.clip(outdata[:n], -feed.ceiling, feed.ceiling, out=outdata[:n])
        if n:
            self.scope.write(outdata[:n], feed.voice.source.channels)
            feed.position = int(feed.at[(r + n - 1) % feed.capacity])
            feed.read = r + n
        elif feed.ended:
            feed.playing = False
            feed.finished = True

    # --- the GUI thread ----------------------------------------------------------------------------
    def install(
        self,
        voice: Voice,
        start: int,
        *,
        gain: float,
        playing: bool,
        loop: tuple[int, int] | None,
        ceiling: float = 1.0,
    ) -> Feed:
        """A new feed for ``voice`` from take frame ``start``, filled enough to play, made current."""
        with self.lock:
            voice.loop = loop
            voice.start_at(start)
            feed = Feed(voice, start, gain, playing, ceiling)
            prefill = round(PREFILL_S * voice.out_rate)
            try:
                while feed.ahead < prefill and not feed.ended and feed.step():
                    pass
            except Exception as exc:  # a file that fails here fails to play, not the app
                log.warning("cannot read the take for playback: %s", exc)
                feed.ended, feed.error = True, str(exc)
            self.feed = feed
        self._wake.set()
        return feed

    def clear(self) -> None:
        with self.lock:
            self.feed = None

    def top_up(self) -> bool:
        """One step of the feeder when the ring has room; True when it wrote something."""
        with self.lock:
            feed = self.feed
            if feed is None or feed.ended or feed.capacity - feed.ahead < min(feed.capacity // 4, CHUNK):
                return False
            try:
                return feed.step()
            except Exception as exc:
                log.warning("playback stopped: the take cannot be read further: %s", exc)
                feed.ended, feed.error = True, str(exc)
                return False

    # --- the feeder thread ---------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        self._running = True
        self._thread = threading.Thread(target=self._run, name="hitdesk-playback", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._running = False
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None

    def _run(self) -> None:
        while self._running:
            if not self.top_up():
                self._wake.wait(_FEEDER_SLEEP_S)
                self._wake.clear()
