"""HitDesk: offline hit-probability analysis of mixes and takes."""

from __future__ import annotations

import os

__version__ = "0.1.0"

# onnxruntime keeps a device id and a queue of usage events in a SQLite file under the user's cache
# folder (Microsoft/DeveloperTools/.onnxruntime) as soon as it is imported; turning events off per
# session afterwards does not stop that. The variable must be set before the first import, and every
# entry point (the command line, the app, capture, training, the frozen app, worker processes) imports
# this package first, so it is set here, once, for all of them and for the processes they start.
os.environ["ORT_DISABLE_TELEMETRY"] = "1"

# numpy's OpenBLAS runs a matrix product on two threads, and afterwards its worker keeps spinning on
# the other core for about 0.1 s (2^28 cycles) in case another product follows. Analysis does a
# product every few blocks (the mel filterbank, the tempo's Gram matrix) while its decoding thread
# and the loudness meter want that core: measured on a busy machine, a track's CPU time went from
# 1.98 to 1.50 s with a worker that sleeps at once (2^4 cycles), which costs a wake-up per product
# instead. The split of the work between the threads is unchanged, so every number is unchanged
# (tested on the corpus). Like the line above, it must be set before numpy is first imported.
os.environ.setdefault("OPENBLAS_THREAD_TIMEOUT", "4")
