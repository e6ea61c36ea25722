"""Scoring an exported model on a labelled manifest of audio files, through the app's own analysis.

``evaluate --head`` checks a head on precomputed statistics; this checks what a user would see:
each file is decoded and analysed by ``hitdesk.analysis`` with the model loaded by
``hitdesk.model.runtime``, and the overall P(hit) is compared with the manifest's labels. No
training code runs, so the numbers cannot come from a different feature path.
"""

from __future__ import annotations

import logging
import math
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.analysis import AnalysisOptions, analyze_file
from hitdesk.config import window_seconds_for
from hitdesk.model.runtime import HitModel
from hitdesk.results import TrackResult
from hitdesk.training.manifest import hit_labels, read_manifest
from hitdesk.training.metrics import binary_metrics

log = logging.getLogger(__name__)


def evaluate_manifest(
    model_spec: str | Path,
    manifest: Path,
    window_seconds: float | None = None,
    jobs: int = 1,
    hit_quantile: float = 0.7,
    progress: bool | None = None,
) -> dict[str, Any]:
    """n, failures and ``binary_metrics`` of the overall P(hit) against the manifest's hit labels.

    The window length is the model card's when it records one, as the app does.
    """
    from tqdm import tqdm

    tracks = read_manifest(manifest)
    model = HitModel.load(model_spec)
    options = AnalysisOptions(window_seconds=window_seconds_for(window_seconds, model.card.window_seconds))
    hit = hit_labels(tracks, hit_quantile)
    disable = None if progress is None else not progress
    with tqdm(total=len(tracks), desc="analysis", unit="track", file=sys.stderr, disable=disable) as bar:

        def one(path: Path) -> TrackResult:
            result = analyze_file(path, model, options)
            bar.update(1)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            results = list(pool.map(one, [t.path for t in tracks]))
    ok = np.array([r.ok and r.overall is not None for r in results])
    pairs = list(zip(results, ok, strict=True))
    errors = [r.error or f"'{Path(r.file).name}': no overall score." for r, good in pairs if not good]
    prob = np.array([r.overall.p_hit for r, good in pairs if good and r.overall is not None])
    pops = [t.popularity for t, good in zip(tracks, ok, strict=True) if good]
    popularity = np.array(pops, dtype=np.float64) if pops and all(p is not None for p in pops) else None
    out: dict[str, Any] = {
        "model": model.info.to_dict(),
        "n": int(ok.sum()),
        "n_failed": int((~ok).sum()),
        "errors": errors,
        "hit_rate": float(hit[ok].mean()) if ok.any() else None,
        "ranking_against": "popularity" if popularity is not None else "label",
        "window_seconds": options.window_seconds,
    }
    if ok.any():
        metrics = binary_metrics(hit[ok], prob, popularity)
        out.update({k: (None if math.isnan(v) else v) for k, v in metrics.items()})  # NaN is not valid JSON
    return out
