"""Torch versions of the published audio networks for hit prediction, all on log-mel input.

Every net takes ``logmel`` of shape (B, 128, T): ``hitdesk.dsp`` log-mel in dB, 0 dB at the window's
maximum and floor -80 dB, for any number of frames T >= ``MIN_FRAMES``. Frequency is the fixed
mel axis; time may vary, so every net ends in pooling over time (or over time and frequency) rather
than a dense layer sized for one clip length. That lets one exported graph score 30 s windows,
whole middles and the short clips of the tests alike.

Widths are smaller than in the papers: the papers trained on GPUs with tens of thousands of tracks,
while HitDesk trains on a user's catalogue of hundreds on a laptop CPU, where a narrower net both
trains in minutes and over-fits less. The layer structure (kernel shapes, pooling, branches) is kept.

Regression nets hold the mean and standard deviation of their training target as buffers, so they
learn on a standardised scale but output (and export) values on the target's own scale.
"""

from __future__ import annotations

import torch
from torch import nn
from torch.nn import functional as F  # noqa: N812 (the usual torch spelling)

from hitdesk.config import FEATURES

N_MELS = FEATURES.n_mels
# The shortest window every net accepts: ResNetTiers halves time three times, the others pool
# with ceil mode, so anything from here up gives a non-empty map before the global pooling.
MIN_FRAMES = 8
# Log-mel dB (0 at max, floor -80) mapped to about [-2, 2]: a fixed affine map inside the graph,
# so training and the exported model see the same scale and no statistics need to be fitted.
_DB_CENTRE = -40.0
_DB_SCALE = 20.0


def _scaled(logmel: torch.Tensor) -> torch.Tensor:
    """(B, 128, T) dB -> (B, 1, 128, T) on a unit scale, as a one-channel image."""
    return ((logmel - _DB_CENTRE) / _DB_SCALE).unsqueeze(1)


class MelNet(nn.Module):
    """Common base: the task's output size and the regression target's scale.

    ``n_outputs`` 1 gives a (B,) output (a regression value, or one logit for a binary task);
    more gives (B, n_outputs) logits.
    """

    target_mean: torch.Tensor
    target_std: torch.Tensor

    def __init__(self, n_outputs: int, n_meta: int = 0) -> None:
        super().__init__()
        if n_outputs < 1:
            raise ValueError("a net needs at least one output")
        self.n_outputs = n_outputs
        self.n_meta = n_meta
        # What the output means, set by the trainer: "regression" or "binary" for one output (a value
        # or a logit), "classification" for several (logits).
        self.task = "regression" if n_outputs == 1 else "classification"
        self.register_buffer("target_mean", torch.zeros(()))
        self.register_buffer("target_std", torch.ones(()))

    def set_target_scale(self, mean: float, std: float) -> None:
        """The regression target's scale: ``forward`` returns ``standardised * std + mean``."""
        self.target_mean.fill_(float(mean))
        self.target_std.fill_(float(std) if std > 0 else 1.0)

    def _finish(self, out: torch.Tensor) -> torch.Tensor:
        if self.n_outputs == 1:
            return out.squeeze(1) * self.target_std + self.target_mean
        return out

    def standardised(self, out: torch.Tensor) -> torch.Tensor:
        """A (B,) output back on the scale the net learns on (what the loss compares)."""
        return (out - self.target_mean) / self.target_std

    def _check(self, logmel: torch.Tensor, meta: torch.Tensor | None) -> None:
        if logmel.dim() != 3 or logmel.shape[1] != N_MELS:
            raise ValueError(f"logmel must be (batch, {N_MELS}, frames), not {tuple(logmel.shape)}")
        if (meta is None) != (self.n_meta == 0):
            raise ValueError(f"this net takes {self.n_meta} metadata columns")
        if meta is not None and (meta.dim() != 2 or meta.shape[1] != self.n_meta):
            raise ValueError(f"meta must be (batch, {self.n_meta}), not {tuple(meta.shape)}")


def _conv_bn(c_in: int, c_out: int, kernel: tuple[int, int]) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(c_in, c_out, kernel, bias=False), nn.BatchNorm2d(c_out), nn.ReLU())


def _pad_time(x: torch.Tensor, width: int) -> torch.Tensor:
    """Zero-pads time so a kernel ``width`` frames wide keeps the number of frames ('same' padding)."""
    return F.pad(x, ((width - 1) // 2, width // 2))


class _TimeConvStack(nn.Module):
    """The 1-row part of Yang et al.'s FCN: 1x4 convolutions with 1x4 max pooling, then 1x1 layers.

    Input (B, C, 1, T), output (B, n_outputs) after global average pooling over time. The last 1x1
    layer has one map per output, so there is no dense layer and the output is the average of a
    per-frame prediction, which is what makes the net fully convolutional and length-agnostic.
    """

    def __init__(self, c_in: int, widths: tuple[int, ...], head: tuple[int, ...], n_outputs: int) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.MaxPool2d((1, 4), ceil_mode=True)]
        c = c_in
        for w in widths:
            layers += [_TimeSame(_conv_bn(c, w, (1, 4)), 4), nn.MaxPool2d((1, 4), ceil_mode=True)]
            c = w
        for h in head:
            layers += [_conv_bn(c, h, (1, 1)), nn.Dropout(0.3)]
            c = h
        layers.append(nn.Conv2d(c, n_outputs, (1, 1)))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x).mean(dim=(2, 3))  # type: ignore[no-any-return]


class _TimeSame(nn.Module):
    """Wraps a convolution of ``width`` frames with 'same' zero padding in time."""

    def __init__(self, conv: nn.Module, width: int) -> None:
        super().__init__()
        self.conv = conv
        self.width = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(_pad_time(x, self.width))  # type: ignore[no-any-return]


class MelCNN(MelNet):
    """Yang et al. (ICASSP 2017), "Revisiting the problem of audio-based hit song prediction using
    convolutional neural networks": the fully convolutional CNN.

    A 128x4 kernel spans all mel bands, so the first layer turns the spectrogram into one row of
    feature maps over time; then 1x4 convolutions with 1x4 max pooling, then 1x1 layers down to one
    map per output, averaged over time (no dense layers). Where we differ: 64/64/128 maps and two
    1x1 layers of 128 instead of the paper's wider layers (CPU, small catalogues), batch norm after
    every convolution (stable training from scratch at these sizes), and 'same' zero padding in time
    with ceil-mode pooling so any window of ``MIN_FRAMES`` frames or more gives an output.
    """

    def __init__(self, n_outputs: int = 1, width: int = 64) -> None:
        super().__init__(n_outputs)
        self.front = _TimeSame(_conv_bn(1, width, (N_MELS, 4)), 4)
        self.back = _TimeConvStack(width, (width, 2 * width), (2 * width, 2 * width), n_outputs)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        self._check(logmel, None)
        return self._finish(self.back(self.front(_scaled(logmel))))


class MelInception(MelNet):
    """Yang et al. (ICASSP 2017): the inception variant of ``MelCNN``.

    Three parallel first layers with kernels 128x4, 132x8 and 140x16; the mel input is zero-padded
    in frequency (2 and 6 bands above and below) so the taller kernels fit, as in the paper, and
    each branch again spans the whole (padded) frequency axis. Their maps are concatenated and go
    through the same 1x4 / 1x1 stack as ``MelCNN``. Widths are reduced as there (32 maps a branch).
    """

    KERNELS: tuple[tuple[int, int], ...] = ((128, 4), (132, 8), (140, 16))

    def __init__(self, n_outputs: int = 1, width: int = 32) -> None:
        super().__init__(n_outputs)
        self.branches = nn.ModuleList(_TimeSame(_conv_bn(1, width, k), k[1]) for k in self.KERNELS)
        self.pads = [(k[0] - N_MELS) // 2 for k in self.KERNELS]
        c = width * len(self.KERNELS)
        self.back = _TimeConvStack(c, (2 * width, 4 * width), (4 * width, 4 * width), n_outputs)

    def forward(self, logmel: torch.Tensor) -> torch.Tensor:
        self._check(logmel, None)
        x = _scaled(logmel)
        maps = [b(F.pad(x, (0, 0, p, p)) if p else x) for b, p in zip(self.branches, self.pads, strict=True)]
        return self._finish(self.back(torch.cat(maps, dim=1)))


class CNNMetadata(MelNet):
    """Falah et al.: a spectrogram CNN whose flattened output is joined with metadata, regression.

    Four blocks of 3x3 convolutions with 16, 32, 64 and 128 filters, each followed by 2x2 max
    pooling; metadata goes through its own dense layers; the two are concatenated and a dense
    layer predicts the target. Where we differ: the paper flattens a fixed-size map; here the
    (128 filters x 8 mel rows x time) map is pooled adaptively to (8 x 1), i.e. averaged over time
    with the 8 frequency rows kept, then flattened (1,024 values), so windows of any length work.
    Batch norm after each convolution and dropout before the last layer keep training stable on
    small sets. ``n_meta`` 0 gives the audio-only net.
    """

    def __init__(self, n_meta: int = 0, n_outputs: int = 1, meta_hidden: int = 32) -> None:
        super().__init__(n_outputs, n_meta)
        blocks: list[nn.Module] = []
        c = 1
        for w in (16, 32, 64, 128):
            blocks += [
                nn.Conv2d(c, w, 3, padding=1, bias=False),
                nn.BatchNorm2d(w),
                nn.ReLU(),
                nn.MaxPool2d(2, ceil_mode=True),
            ]
            c = w
        self.audio = nn.Sequential(*blocks)
        n_audio = 128 * (N_MELS // 16)
        self.meta: nn.Module | None = None
        n_joint = n_audio
        if n_meta:
            self.meta = nn.Sequential(
                nn.Linear(n_meta, meta_hidden), nn.ReLU(), nn.Linear(meta_hidden, meta_hidden), nn.ReLU()
            )
            n_joint += meta_hidden
        self.head = nn.Sequential(nn.Linear(n_joint, 64), nn.ReLU(), nn.Dropout(0.3), nn.Linear(64, n_outputs))

    def forward(self, logmel: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        self._check(logmel, meta)
        a = self.audio(_scaled(logmel)).mean(dim=3).flatten(1)  # adaptive pooling to (8, 1), flattened
        if self.meta is not None and meta is not None:
            a = torch.cat([a, self.meta(meta)], dim=1)
        return self._finish(self.head(a))


class _Residual(nn.Module):
    """A basic residual block: two 3x3 convolutions, a 1x1 projection when the shape changes."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.skip = nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.body(x) + self.skip(x))


class ResNetTiers(MelNet):
    """The audio branch of DeepHits (Zangerle et al., ISMIR 2019), classifying into popularity tiers.

    A 5x5 stride-2 stem, three residual blocks with 16, 32 and 64 filters (the last two halve both
    axes), adaptive average pooling to one value per filter, a dense 64-d embedding, optionally
    joined with a numeric-feature branch (``n_meta`` columns through a dense layer), then a linear
    classifier into ``n_classes`` (3 tiers or 10 deciles). Where we differ: one block per stage
    (the paper stacks more) to keep CPU training to minutes, and the numeric branch is a single
    dense layer of 32 on whatever metadata the catalogue has, in place of the paper's fixed
    low- and high-level descriptor sets.
    """

    def __init__(self, n_classes: int = 3, n_meta: int = 0, meta_hidden: int = 32) -> None:
        if n_classes < 2:
            raise ValueError("ResNetTiers classifies into at least two tiers")
        super().__init__(n_classes, n_meta)
        self.stem = nn.Sequential(nn.Conv2d(1, 16, 5, stride=2, padding=2, bias=False), nn.BatchNorm2d(16), nn.ReLU())
        self.blocks = nn.Sequential(_Residual(16, 16, 1), _Residual(16, 32, 2), _Residual(32, 64, 2))
        self.embed = nn.Sequential(nn.Linear(64, 64), nn.ReLU())
        self.meta: nn.Module | None = None
        n_joint = 64
        if n_meta:
            self.meta = nn.Sequential(nn.Linear(n_meta, meta_hidden), nn.ReLU())
            n_joint += meta_hidden
        self.classify = nn.Sequential(nn.Dropout(0.3), nn.Linear(n_joint, n_classes))

    def embedding(self, logmel: torch.Tensor) -> torch.Tensor:
        """The 64-d audio embedding (adaptive average pooling to 1x1, then the dense layer)."""
        return self.embed(self.blocks(self.stem(_scaled(logmel))).mean(dim=(2, 3)))  # type: ignore[no-any-return]

    def forward(self, logmel: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        self._check(logmel, meta)
        z = self.embedding(logmel)
        if self.meta is not None and meta is not None:
            z = torch.cat([z, self.meta(meta)], dim=1)
        return self._finish(self.classify(z))


class TagJoint(MelNet):
    """Yang et al. (ICASSP 2017) m5 and m6: the mel CNN (or its inception variant) trained jointly with
    a branch on the music tagger's tag probabilities.

    The audio net's last 1x1 layer gives ``embed`` maps averaged over time instead of one output; the
    tag probabilities (standardised outside the net, as metadata is) go through one dense layer;
    the two are concatenated and a linear layer gives the output. The tags travel in the ``meta``
    slot the trainer and the exporter already know; the recipe names that input ``tags``.
    Where we differ: the paper's tags come from its own tagger (JYnet) on the same clip; here they
    are musicnn's MSD tags of the whole track (``hitdesk.style``), one vector for all windows.
    """

    def __init__(self, audio: str, n_tags: int, n_outputs: int = 1, embed: int = 32, tag_hidden: int = 32) -> None:
        super().__init__(n_outputs, n_tags)
        self.audio: MelNet = MelCNN(n_outputs=embed) if audio == "mel-cnn" else MelInception(n_outputs=embed)
        self.tags = nn.Sequential(nn.Linear(n_tags, tag_hidden), nn.ReLU())
        self.head = nn.Sequential(nn.ReLU(), nn.Dropout(0.3), nn.Linear(embed + tag_hidden, n_outputs))

    def forward(self, logmel: torch.Tensor, meta: torch.Tensor | None = None) -> torch.Tensor:
        self._check(logmel, meta)
        assert meta is not None  # _check: a joint net always takes its tags
        return self._finish(self.head(torch.cat([self.audio(logmel), self.tags(meta)], dim=1)))


# The joint nets by recipe name, with the audio net each builds on.
TAG_JOINT_NETS = {"tags-cnn-joint": "mel-cnn", "tags-inception-joint": "mel-inception"}

NETS: dict[str, type[MelNet]] = {
    "mel-cnn": MelCNN,
    "mel-inception": MelInception,
    "cnn-metadata": CNNMetadata,
    "resnet-tiers": ResNetTiers,
}


def make_net(name: str, n_meta: int = 0, n_classes: int = 3) -> MelNet:
    """The net of a recipe by name: one output for the regression nets, ``n_classes`` for resnet-tiers."""
    if name in ("mel-cnn", "mel-inception"):
        if n_meta:
            raise ValueError(f"{name} has no metadata branch")
        return MelCNN() if name == "mel-cnn" else MelInception()
    if name == "cnn-metadata":
        return CNNMetadata(n_meta=n_meta)
    if name == "resnet-tiers":
        return ResNetTiers(n_classes=n_classes, n_meta=n_meta)
    if name in TAG_JOINT_NETS:
        return TagJoint(TAG_JOINT_NETS[name], n_tags=n_meta)
    raise ValueError(f"unknown net {name!r}; known: {', '.join(NETS)}")


def parameter_count(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
