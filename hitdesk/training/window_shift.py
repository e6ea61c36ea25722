"""How the statistics of a 30 s window differ from those of its whole track, measured on real music.

The chart data holds whole-track statistics, but the app also scores windows. Training the head on
chart rows shifted by draws from the measured window-minus-track differences makes it robust to
that shift. The measurement is written to ``window_shift.json`` beside this module, with its source.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES, STAT_COLUMNS
from hitdesk.dsp.mel import StreamingMel
from hitdesk.dsp.stats import stats_from_mel

log = logging.getLogger(__name__)

SHIFT_FILE = Path(__file__).with_name("window_shift.json")
# Windows start every STRIDE seconds, so each track gives many (overlapping) windows.
STRIDE_SECONDS = 10.0


def window_differences(path: Path, window_s: float = DEFAULT_WINDOW_SECONDS) -> np.ndarray:
    """Rows of (window stats - track stats) for windows every STRIDE_SECONDS across one track."""
    from hitdesk.audio import iter_blocks

    stream = StreamingMel()
    for block in iter_blocks(path):
        stream.feed(block)
    stream.finish()
    mel = stream.mel_power()
    duration = stream.n_samples / FEATURES.sample_rate
    track = stats_from_mel(mel, duration)
    fps = FEATURES.sample_rate / FEATURES.hop_length
    width = round(window_s * fps)
    step = round(STRIDE_SECONDS * fps)
    rows = []
    for a in range(0, mel.shape[1] - width + 1, step):
        rows.append(stats_from_mel(mel[:, a : a + width], duration) - track)
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(STAT_COLUMNS))


def measure(paths: Sequence[Path], window_s: float = DEFAULT_WINDOW_SECONDS) -> dict[str, Any]:
    diffs = []
    used = []
    for p in paths:
        d = window_differences(p, window_s)
        if d.size:
            diffs.append(d)
            used.append(p.name)
    if not diffs:
        raise ValueError("no track long enough to measure window differences")
    all_d = np.concatenate(diffs)
    all_d[:, -1] = 0.0  # a segment is scored with its track's duration
    return {
        "columns": list(STAT_COLUMNS),
        "window_seconds": window_s,
        "stride_seconds": STRIDE_SECONDS,
        "n": int(all_d.shape[0]),
        "n_tracks": len(used),
        "tracks": used,
        "source": "windows of real, freely licensed music (the project's test corpus), window minus whole track",
        "mean": all_d.mean(axis=0).tolist(),
        "std": all_d.std(axis=0).tolist(),
        "cov": np.cov(all_d, rowvar=False).tolist(),
    }


# The corpus holds some tracks twice (other codec, excerpt); its full-length originals are these.
ORIGINAL_SUFFIXES = (".ogg", ".opus")


def write_measurement(corpus: Path, out: Path = SHIFT_FILE) -> dict[str, Any]:
    paths = sorted(p for p in corpus.iterdir() if p.suffix.lower() in ORIGINAL_SUFFIXES)
    result = measure(paths)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    return result
