"""A copy of the shipped model whose head gives each ensemble member's score as a ``members`` output.

hitdesk-zalo-v1's head already computes its five members' calibrated P(hit), under the output name
``p_members``, which the runtime does not read; renamed ``members`` (the name models from version 2 on
give it), the same graph is a real model with member scores, for tests of paired comparisons.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import onnx

SHIPPED = Path(__file__).resolve().parents[1] / "models" / "hitdesk-zalo-v1"


def write_member_model(folder: Path, name: str = "members-v1") -> Path:
    """The shipped model copied into ``folder`` as ``name`` with a ``members`` head output; its stem."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = folder / name
    shutil.copyfile(SHIPPED.with_suffix(".onnx"), folder / f"{name}.onnx")
    head = onnx.load(str(SHIPPED.parent / f"{SHIPPED.name}.head.onnx"))
    for node in head.graph.node:
        node.input[:] = ["members" if i == "p_members" else i for i in node.input]
        node.output[:] = ["members" if o == "p_members" else o for o in node.output]
    for out in head.graph.output:
        if out.name == "p_members":
            out.name = "members"
    onnx.save(head, str(folder / f"{name}.head.onnx"))
    card = json.loads(SHIPPED.with_suffix(".json").read_text(encoding="utf-8"))
    card["name"] = name
    card["files"] = {kind: file.replace(SHIPPED.name, name) for kind, file in card.get("files", {}).items()}
    card.pop("comparison", None)
    background = SHIPPED.parent / f"{SHIPPED.name}.background"
    if background.exists():
        shutil.copyfile(background, folder / f"{name}.background")
    stem.with_suffix(".json").write_text(json.dumps(card, indent=1), encoding="utf-8")
    return stem
