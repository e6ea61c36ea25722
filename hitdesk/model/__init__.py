"""ONNX model runtime and model cards (no torch, no Qt)."""

from __future__ import annotations

from hitdesk.model.card import ModelCard, load_card
from hitdesk.model.runtime import DEFAULT_MODEL_NAME, HitModel, available_models, resolve_model_path

__all__ = [
    "DEFAULT_MODEL_NAME",
    "HitModel",
    "ModelCard",
    "available_models",
    "load_card",
    "resolve_model_path",
]
