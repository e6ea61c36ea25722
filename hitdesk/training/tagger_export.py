"""musicnn's MSD tagger rebuilt in torch from its checkpoint's arrays, exported to ONNX with its card.

The checkpoint (TensorFlow 1, inside the ``musicnn`` source package) is read into an ``.npz`` in a
throwaway TensorFlow environment by ``tools/tagger/musicnn_reference.py``; this module rebuilds
the network (``musicnn/models.py``: ``build_musicnn`` with 64 mid-end filters and 200 back-end
units) layer for layer, exports it and checks onnxruntime against torch. How to re-run it:
``tools/tagger/README.md``.

    python -m hitdesk.training.tagger_export WEIGHTS.npz models/musicnn-msd
"""

from __future__ import annotations

import argparse
import json
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from hitdesk.dsp.tagger_input import PATCH_FRAMES, PATCH_SECONDS, TAGGER_FEATURES
from hitdesk.model.tagger import TAGGER_INPUT, TAGGER_OUTPUT
from hitdesk.training.graph import OPSET, PRODUCER, finish

BN_EPS = 1e-3  # tf.compat.v1.layers.batch_normalization's default epsilon
# musicnn/configuration.py MSD_LABELS, in the output's order.
MSD_TAGS = tuple(
    [
        "rock",
        "pop",
        "alternative",
        "indie",
        "electronic",
        "female vocalists",
        "dance",
        "00s",
        "alternative rock",
        "jazz",
        "beautiful",
        "metal",
        "chillout",
        "male vocalists",
        "classic rock",
        "soul",
        "indie rock",
        "Mellow",
        "electronica",
        "80s",
        "folk",
        "90s",
        "chill",
        "instrumental",
        "punk",
        "oldies",
        "blues",
        "hard rock",
        "ambient",
        "acoustic",
        "experimental",
        "female vocalist",
        "guitar",
        "Hip-Hop",
        "70s",
        "party",
        "country",
        "easy listening",
        "sexy",
        "catchy",
        "funk",
        "electro",
        "heavy metal",
        "Progressive rock",
        "60s",
        "rnb",
        "indie pop",
        "sad",
        "House",
        "happy",
    ]
)


def _set(target: torch.Tensor | None, value: np.ndarray) -> None:
    """Copies a checkpoint array into a parameter or buffer of the same shape."""
    if target is None or tuple(target.shape) != value.shape:
        raise ValueError(f"array of shape {value.shape} does not fit {None if target is None else tuple(target.shape)}")
    with torch.no_grad():
        target.copy_(torch.from_numpy(np.ascontiguousarray(value)))


def _bn(w: dict[str, np.ndarray], name: str) -> nn.BatchNorm1d:
    n = w[f"{name}.gamma"].shape[0]
    bn = nn.BatchNorm1d(n, eps=BN_EPS)
    _set(bn.weight, w[f"{name}.gamma"])
    _set(bn.bias, w[f"{name}.beta"])
    _set(bn.running_mean, w[f"{name}.moving_mean"])
    _set(bn.running_var, w[f"{name}.moving_variance"])
    return bn


def _conv2d(w: dict[str, np.ndarray], name: str) -> nn.Conv2d:
    k = w[f"{name}.kernel"]  # TF: (kh, kw, in, out)
    conv = nn.Conv2d(k.shape[2], k.shape[3], (k.shape[0], k.shape[1]))
    _set(conv.weight, np.ascontiguousarray(k.transpose(3, 2, 0, 1)))
    _set(conv.bias, w[f"{name}.bias"])
    return conv


def _conv_over_features(w: dict[str, np.ndarray], name: str) -> nn.Conv1d:
    """A TF conv whose kernel spans the whole feature axis ((7, width, 1, out)) as a 1-D conv over time."""
    k = w[f"{name}.kernel"]
    conv = nn.Conv1d(k.shape[1], k.shape[3], k.shape[0])
    _set(conv.weight, np.ascontiguousarray(k[:, :, 0, :].transpose(2, 1, 0)))
    _set(conv.bias, w[f"{name}.bias"])
    return conv


def _dense(w: dict[str, np.ndarray], name: str) -> nn.Linear:
    k = w[f"{name}.kernel"]  # (in, out)
    lin = nn.Linear(k.shape[0], k.shape[1])
    _set(lin.weight, np.ascontiguousarray(k.T))
    _set(lin.bias, w[f"{name}.bias"])
    return lin


class Musicnn(nn.Module):
    """(batch, 187, 96) log-compressed mel patches -> (batch, 50) tag probabilities."""

    def __init__(self, w: dict[str, np.ndarray]) -> None:
        super().__init__()
        self.bn_in = _bn(w, "batch_normalization")
        self.timbral = nn.ModuleList([_conv2d(w, "conv2d"), _conv2d(w, "conv2d_1")])  # 7x38 and 7x67
        self.timbral_bn = nn.ModuleList([_bn(w, "batch_normalization_1"), _bn(w, "batch_normalization_2")])
        self.temporal = nn.ModuleList([_conv2d(w, f"conv2d_{i}") for i in (2, 3, 4)])  # 128x1, 64x1, 32x1
        self.temporal_bn = nn.ModuleList([_bn(w, f"batch_normalization_{i}") for i in (3, 4, 5)])
        self.temporal_lengths = [int(w[f"conv2d_{i}.kernel"].shape[0]) for i in (2, 3, 4)]
        self.mid = nn.ModuleList([_conv_over_features(w, f"conv2d_{i}") for i in (5, 6, 7)])
        self.mid_bn = nn.ModuleList([_bn(w, f"batch_normalization_{i}") for i in (6, 7, 8)])
        self.pool_bn = _bn(w, "batch_normalization_9")
        self.dense = _dense(w, "dense")
        self.dense_bn = _bn(w, "batch_normalization_10")
        self.out = _dense(w, "dense_1")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b = x.shape[0]
        # The input's one-channel batch norm is an affine map of every value.
        bn = self.bn_in
        mean, var = bn.running_mean, bn.running_var
        assert mean is not None and var is not None  # a BatchNorm1d tracks its statistics by default
        scale = bn.weight / torch.sqrt(var + bn.eps)
        z = ((x - mean) * scale + bn.bias).unsqueeze(1)  # (b, 1, t, f)
        feats = []
        padded = nn.functional.pad(z, (0, 0, 3, 3))  # time only: musicnn's "same" for the 7-frame kernels
        for conv, norm in zip(self.timbral, self.timbral_bn, strict=True):
            feats.append(self._pool_features(norm, torch.relu(conv(padded))))
        for conv, norm, k in zip(self.temporal, self.temporal_bn, self.temporal_lengths, strict=True):
            same = nn.functional.pad(z, (0, 0, (k - 1) // 2, k // 2))  # TF "same": the extra row at the end
            feats.append(self._pool_features(norm, torch.relu(conv(same))))
        front = torch.cat(feats, dim=1)  # (b, 561, t)
        layers = [front]
        h = front
        for i, (conv, norm) in enumerate(zip(self.mid, self.mid_bn, strict=True)):
            y = norm(torch.relu(conv(nn.functional.pad(h, (3, 3)))))
            h = y if i == 0 else y + h
            layers.append(h)
        mid = torch.cat(layers, dim=1)  # (b, 753, t)
        # musicnn concatenates [max, mean] on a last axis and flattens: features interleaved per channel.
        pooled = torch.stack([mid.amax(dim=2), mid.mean(dim=2)], dim=2).reshape(b, -1)
        hidden = self.dense_bn(torch.relu(self.dense(self.pool_bn(pooled))))
        return torch.sigmoid(self.out(hidden))

    @staticmethod
    def _pool_features(norm: nn.Module, y: torch.Tensor) -> torch.Tensor:
        """Batch norm over channels, then the maximum over the remaining frequency axis: (b, c, t)."""
        b, c, t, f = y.shape
        y = norm(y.reshape(b, c, t * f)).reshape(b, c, t, f)
        return y.amax(dim=3)


def load_weights(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: np.asarray(data[k], dtype=np.float32) for k in data.files}


def export(weights: Path, stem: Path) -> dict[str, Any]:
    """Writes ``stem.onnx`` and ``stem.json``; returns the largest onnxruntime-torch difference."""
    import onnxruntime as ort

    net = Musicnn(load_weights(weights)).eval()
    example = torch.rand(2, PATCH_FRAMES, TAGGER_FEATURES.n_mels) * 3.0
    with tempfile.TemporaryDirectory(prefix="hitdesk-tagger-") as tmp, warnings.catch_warnings():
        out = Path(tmp) / "net.onnx"
        warnings.simplefilter("ignore")  # the TorchScript exporter announces its own deprecation
        torch.onnx.export(
            net,
            (example,),
            out,
            input_names=[TAGGER_INPUT],
            output_names=[TAGGER_OUTPUT],
            dynamic_axes={TAGGER_INPUT: {0: "batch"}, TAGGER_OUTPUT: {0: "batch"}},
            opset_version=OPSET,
            dynamo=False,
            do_constant_folding=True,
        )
        model = onnx.load_model(str(out))
    model.producer_name = PRODUCER
    model.doc_string = "musicnn MSD_musicnn (Pons & Serra 2019): (batch, 187, 96) log10(10000 mel + 1) -> 50 tags"
    model = finish(model)
    stem.parent.mkdir(parents=True, exist_ok=True)
    onnx.save_model(model, str(stem.with_suffix(".onnx")))
    check = torch.rand(5, PATCH_FRAMES, TAGGER_FEATURES.n_mels) * 3.0
    session = ort.InferenceSession(str(stem.with_suffix(".onnx")), providers=["CPUExecutionProvider"])
    got = session.run([TAGGER_OUTPUT], {TAGGER_INPUT: check.numpy()})[0]
    with torch.no_grad():
        want = net(check).numpy()
    diff = float(np.abs(got - want).max())
    if diff > 1e-4:
        raise RuntimeError(f"onnxruntime differs from torch by {diff:g}")
    stem.with_suffix(".json").write_text(json.dumps(card(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return {"max_abs_diff_onnx_torch": diff}


def card() -> dict[str, Any]:
    """The tagger's model card: what it is, where it comes from, what it eats."""
    return {
        "kind": "tagger",
        "name": "musicnn-msd",
        "version": "1.0.0",
        "description": "Music auto-tagger: probabilities of 50 Last.fm tags (genres, moods, instruments, eras) "
        "for each 3 s patch of audio.",
        "provenance": {
            "original": "musicnn 0.1.0 (PyPI source package, sha256 "
            "674ccc1fb638e6894f99197cfc2794b90d96444292ea28cedee96de0f74c4abd), checkpoint musicnn/MSD_musicnn "
            "(experiment 1562267674ismir_17)",
            "authors": "Jordi Pons, Xavier Serra; Music Technology Group, Universitat Pompeu Fabra",
            "paper": "J. Pons and X. Serra, 'musicnn: Pre-trained convolutional neural networks for music audio "
            "tagging', ISMIR 2019 late-breaking/demo, arXiv:1909.06654",
            "source": "https://github.com/jordipons/musicnn",
            "conversion": "tools/tagger/musicnn_reference.py (checkpoint arrays, TensorFlow 2 throwaway env) and "
            "hitdesk/training/tagger_export.py (torch rebuild, ONNX export); see tools/tagger/README.md",
        },
        "licence": {
            "name": "ISC",
            "text": "Copyright (c) Music Technology Group, Universitat Pompeu Fabra 2019. Code developed by Jordi "
            "Pons (www.jordipons.me). Permission to use, copy, modify, and/or distribute this software for any "
            "purpose with or without fee is hereby granted, provided that the above copyright notice and this "
            'permission notice appear in all copies. THE SOFTWARE IS PROVIDED "AS IS" AND THE AUTHOR DISCLAIMS '
            "ALL WARRANTIES WITH REGARD TO THIS SOFTWARE INCLUDING ALL IMPLIED WARRANTIES OF MERCHANTABILITY AND "
            "FITNESS. IN NO EVENT SHALL THE AUTHOR BE LIABLE FOR ANY SPECIAL, DIRECT, INDIRECT, OR CONSEQUENTIAL "
            "DAMAGES OR ANY DAMAGES WHATSOEVER RESULTING FROM LOSS OF USE, DATA OR PROFITS, WHETHER IN AN ACTION "
            "OF CONTRACT, NEGLIGENCE OR OTHER TORTIOUS ACTION, ARISING OUT OF OR IN CONNECTION WITH THE USE OR "
            "PERFORMANCE OF THIS SOFTWARE.",
        },
        "tags": list(MSD_TAGS),
        "input": {"name": TAGGER_INPUT, "shape": ["batch", PATCH_FRAMES, TAGGER_FEATURES.n_mels]},
        "output": {"name": TAGGER_OUTPUT, "shape": ["batch", len(MSD_TAGS)], "meaning": "sigmoid probabilities"},
        "preprocessing": {
            "original": "musicnn.extractor.batch_data: librosa.load(path, sr=16000); "
            "librosa.feature.melspectrogram(y, sr=16000, hop_length=256, n_fft=512, n_mels=96).T; astype(float16); "
            "log10(10000 * x + 1) (float32 arithmetic under numpy < 1.17); non-overlapping 187-frame patches",
            "sample_rate": TAGGER_FEATURES.sample_rate,
            "n_fft": TAGGER_FEATURES.n_fft,
            "hop_length": TAGGER_FEATURES.hop_length,
            "n_mels": TAGGER_FEATURES.n_mels,
            "fmax": TAGGER_FEATURES.fmax,
            "patch_frames": PATCH_FRAMES,
            "patch_seconds": PATCH_SECONDS,
            "track_summary": "mean of the patches' probabilities (musicnn.tagger.top_tags)",
            "hitdesk": "hitdesk/dsp/tagger_input.py",
        },
        "training_data": {
            "dataset": "Million Song Dataset audio with its 50 most frequent Last.fm tags; the split musicnn's "
            "documentation links to: https://github.com/jongpillee/music_dataset_split/tree/master/MSD_split",
            "n_songs": 200000,
            "n_songs_note": "approximate: 'the MSD of ~200k training songs' (musicnn DOCUMENTATION.md, "
            "https://github.com/jordipons/musicnn/blob/master/DOCUMENTATION.md; also arXiv:1909.06654)",
        },
    }


def main() -> None:
    ap = argparse.ArgumentParser(description="Export musicnn's MSD tagger to ONNX with its card.")
    ap.add_argument("weights", type=Path, help=".npz written by tools/tagger/musicnn_reference.py weights")
    ap.add_argument("stem", type=Path, help="output path without suffix, e.g. models/musicnn-msd")
    args = ap.parse_args()
    print(export(args.weights, args.stem))


if __name__ == "__main__":
    main()
