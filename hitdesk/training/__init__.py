"""Training, evaluation and ONNX export of HitDesk's models.

This is the only package that may import torch; keep this file free of heavy imports so that
``hitdesk-train evaluate`` (onnxruntime only) and the test collection stay fast.
"""

from __future__ import annotations
