"""onnxruntime sessions as every model of HitDesk opens them (the hit model, the tagger, the sentence
encoder): on the CPU, with the threads asked for, and quiet (warnings and errors are HitDesk's own
one-sentence ModelErrors, not onnxruntime's log lines)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hitdesk.errors import ModelError


def session_options(threads: int) -> object:
    """Options for one session: ``threads`` threads inside an operator, one across them, no log."""
    import onnxruntime as ort  # deferred: costs start-up time in commands that need no model

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    return opts


def open_session(onnx_path: Path, what: str, threads: int) -> Any:
    """The session of ``onnx_path``; ``what`` ("The music tagger") begins the sentence of a missing or
    damaged file."""
    import onnxruntime as ort

    if not onnx_path.exists():
        raise ModelError(f"{what} '{onnx_path.name}' is missing from {onnx_path.parent}.")
    try:
        return ort.InferenceSession(
            str(onnx_path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime's own exception types for damaged files
        raise ModelError(f"{what} '{onnx_path.name}' cannot be loaded: it is damaged.") from exc
