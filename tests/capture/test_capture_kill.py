"""A real SIGKILL in the middle of ``python -m hitdesk capture``, then the next start offers the take back.

Recorded through the virtual microphone (tests/pulse.py) into the app's recordings folder, as a user
would (no ``--out``), in both formats. The next ``hitdesk capture`` repairs the take and says so; the
take then holds the audio up to about the last second before the kill, which is the clip that was
playing, and it analyses like any file. (tests/capture/test_capture_live.py covers ``--out`` with the
recovery API called directly.)
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import scipy.signal
import soundfile as sf
from pulse import VirtualMic, hitdesk_env, missing_reason, virtual_mic, write_source_wav

KILL_AFTER_S = 6.5

_MISSING = missing_reason()
pytestmark = pytest.mark.skipif(_MISSING is not None, reason=_MISSING or "")


@pytest.fixture(scope="module")
def mic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[VirtualMic]:
    with virtual_mic(tmp_path_factory.mktemp("pulse")) as m:
        yield m


@pytest.fixture(scope="module")
def source(mic: VirtualMic, data_dir: Path) -> tuple[Path, np.ndarray]:
    path = mic.root / "clip.wav"
    mono, _ = write_source_wav(data_dir / "chipdisko-12s.ogg", path, repeats=3)
    return path, mono


def _best_correlation(part: np.ndarray, source: np.ndarray) -> float:
    """Correlation of ``part`` with the best-matching stretch of ``source``."""
    xc = scipy.signal.correlate(source, part, mode="valid", method="fft")
    lag = int(np.argmax(np.abs(xc)))
    return float(np.corrcoef(source[lag : lag + part.size], part)[0, 1])


@pytest.mark.parametrize("fmt", ["wav", "flac"])
def test_killed_capture_is_offered_back_on_the_next_start(
    needs_model: None, mic: VirtualMic, source: tuple[Path, np.ndarray], tmp_path: Path, fmt: str
) -> None:
    clip, mono = source
    data = tmp_path / "data"
    env = hitdesk_env(mic, data)
    mic.play(clip)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hitdesk", "capture", "--seconds", "120", "--format", fmt],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert proc.stderr is not None
        first = proc.stderr.readline()  # "Recording 'default (ALSA)' input 1+2 at 44100 Hz to PATH for 120 s ..."
        started = time.monotonic()
        match = re.search(r" to (.+\.(?:wav|flac)) for ", first)
        assert match, first + proc.stderr.read()
        take = Path(match.group(1))
        assert take.parent == data / "recordings"
        time.sleep(KILL_AFTER_S)
        proc.send_signal(signal.SIGKILL)
        killed_after = time.monotonic() - started
        proc.communicate(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        assert take.exists()
        assert list((data / "recordings" / ".unfinished").glob("*.json")), "no marker left by the killed take"

        # The next start: a short new take, and the killed one offered back on stderr.
        again = subprocess.run(
            [sys.executable, "-m", "hitdesk", "capture", "--seconds", "1", "--json", "--window-seconds", "3"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        mic.stop_playing()
    assert again.returncode in (0, 1), again.stderr  # 1: the 1 s take is too short to score, as it says
    offered = [line for line in again.stderr.splitlines() if "recovered an unfinished take" in line]
    assert offered == [f"hitdesk: recovered an unfinished take: {take} ({offered[0].rsplit('(', 1)[1]}"], again.stderr
    assert list((data / "recordings" / ".unfinished").glob("*.json")) == []

    y, rate = sf.read(str(take), dtype="float32", always_2d=True)
    seconds = y.shape[0] / rate
    # Everything up to about the last second before the kill. The clock starts at the "Recording"
    # line, and the PulseAudio stream delivers its first block up to about a second after it (on a
    # busy machine), so up to two seconds fewer than killed_after can be in the file.
    assert killed_after - 2.0 <= seconds <= killed_after + 0.1, (seconds, killed_after)
    take_mono = y.mean(axis=1)
    assert _best_correlation(take_mono[:rate], mono) > 0.95  # the beginning is the clip
    assert _best_correlation(take_mono[-rate:], mono) > 0.95  # and so is the last second kept

    # The recovered take is an ordinary file now: it analyses, and nothing is left to recover.
    analysed = subprocess.run(
        [sys.executable, "-m", "hitdesk", "analyze", "--json", "--window-seconds", "3", str(take)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert analysed.returncode == 0, analysed.stderr
    row = json.loads(analysed.stdout)[0]
    assert row["error"] is None and row["duration_s"] == pytest.approx(seconds, abs=0.01)
    third = subprocess.run(
        [sys.executable, "-m", "hitdesk", "capture", "--seconds", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "recovered" not in third.stderr, third.stderr
