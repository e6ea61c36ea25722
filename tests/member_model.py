"""Copies of the shipped model for tests of paired comparisons, in a temporary folder.

The shipped model's graphs give each ensemble member's calibrated P(hit) as a ``members`` output.
``write_member_model`` copies it under another name with no measured margin (a test writes the one it
needs); ``write_plain_model`` copies it with the ``members`` output taken out of every graph, so the
same P(hit) comes from a model without member scores (the ranges rule decides for such a model).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx

from hitdesk.model.runtime import DEFAULT_MODEL_NAME

SHIPPED = Path(__file__).resolve().parents[1] / "models" / DEFAULT_MODEL_NAME
GRAPHS = (".onnx", ".head.onnx", ".window.onnx")


def _copy(folder: Path, name: str, keep_members: bool) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for suffix in GRAPHS:
        source = SHIPPED.parent / f"{SHIPPED.name}{suffix}"
        if not source.exists():
            continue
        graph = onnx.load(str(source))
        if not keep_members:
            outputs = [o for o in graph.graph.output if o.name != "members"]
            del graph.graph.output[:]
            graph.graph.output.extend(outputs)
        onnx.save(graph, str(folder / f"{name}{suffix}"))
    card = json.loads(SHIPPED.with_suffix(".json").read_text(encoding="utf-8"))
    card["name"] = name
    card["files"] = {kind: file.replace(SHIPPED.name, name) for kind, file in card.get("files", {}).items()}
    card.pop("comparison", None)
    background = SHIPPED.parent / f"{SHIPPED.name}.background"
    if background.exists():
        shutil.copyfile(background, folder / f"{name}.background")
    stem = folder / name
    stem.with_suffix(".json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return stem


def write_member_model(folder: Path, name: str = "members") -> Path:
    """The shipped model copied into ``folder`` as ``name``, without its measured margin; its stem."""
    return _copy(folder, name, keep_members=True)


def write_plain_model(folder: Path, name: str = "plain") -> Path:
    """The shipped model copied into ``folder`` as ``name`` with no ``members`` output; its stem."""
    return _copy(folder, name, keep_members=False)
