"""Tonal balance: the track's envelope as the model sees it, against the training songs' envelopes."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from hitdesk.dsp.mel import mel_band_centres
from hitdesk.explain.background import Background
from hitdesk.explain.groups import envelope_db
from hitdesk.insights import TonalBalance


def tonal_balance(stats: npt.ArrayLike, background: Background) -> TonalBalance:
    """The take's MFCC means turned back into 128 mel bands (dB under the track's loudest bin, on the
    bands' centre frequencies) beside the median and 10th-90th percentiles of the chart's hits and
    the median of the other training songs, all computed the same way from their MFCC means."""
    env = background.envelopes

    def values(a: npt.ArrayLike) -> tuple[float, ...]:
        return tuple(float(v) for v in np.asarray(a, dtype=np.float64))

    return TonalBalance(
        bands_hz=values(mel_band_centres()),
        take_db=values(envelope_db(stats)),
        hits_db=values(env["hits_p50"]),
        hits_p10_db=values(env["hits_p10"]),
        hits_p90_db=values(env["hits_p90"]),
        others_db=values(env["others_p50"]),
    )
