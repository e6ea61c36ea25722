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
