"""The log-mel networks, the generic trainer and their ONNX export."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
ort = pytest.importorskip("onnxruntime")

from hitdesk.training.mel_export import export_net, onnx_model, parity_error  # noqa: E402
from hitdesk.training.nets import MIN_FRAMES, NETS, CNNMetadata, MelCNN, MelInception, MelNet, ResNetTiers  # noqa: E402
from hitdesk.training.trainer import TrainConfig, predict, train  # noqa: E402

torch.set_num_threads(1)


def _net(name: str, n_meta: int) -> MelNet:
    if name in ("cnn-metadata", "resnet-tiers"):
        return NETS[name](n_meta=n_meta)
    return NETS[name]()


def _perturbed(net: MelNet) -> MelNet:
    """Non-trivial batch-norm statistics and target scale, so parity checks more than defaults."""
    gen = torch.Generator().manual_seed(1)
    for m in net.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=gen) - 0.5)
            m.running_var.copy_(0.5 + torch.rand(m.running_var.shape, generator=gen))
    if net.n_outputs == 1:
        net.set_target_scale(50.0, 20.0)
    return net.eval()


def _toy(n: int, frames: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Log-mel-like noise where class 1 has more energy in the top 28 bands."""
    rng = np.random.default_rng(seed)
    x = np.clip(-40.0 + 10.0 * rng.standard_normal((n, 128, frames)), -80.0, 0.0).astype(np.float32)
    y = (np.arange(n) % 2).astype(np.int64)
    x[y == 1, 100:, :] += 8.0
    return x, y


@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("frames", [MIN_FRAMES, 37, 130, 1291])
def test_output_shapes_for_any_length(name: str, frames: int) -> None:
    n_meta = 2 if name in ("cnn-metadata", "resnet-tiers") else 0
    net = _net(name, n_meta).eval()
    x = torch.full((3, 128, frames), -40.0)
    with torch.no_grad():
        out = net(x, torch.zeros(3, n_meta)) if n_meta else net(x)
    assert tuple(out.shape) == ((3, 3) if name == "resnet-tiers" else (3,))
    assert torch.isfinite(out).all()


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="128"):
        MelCNN()(torch.zeros(2, 64, 50))
    with pytest.raises(ValueError, match="metadata"):
        CNNMetadata(n_meta=3)(torch.zeros(2, 128, 50))
    with pytest.raises(ValueError, match="meta must be"):
        ResNetTiers(n_meta=3)(torch.zeros(2, 128, 50), torch.zeros(2, 4))


def test_architecture_follows_the_papers() -> None:
    """The defining kernel shapes: full-height first kernels, inception heights 128/132/140."""
    cnn = MelCNN()
    first = next(m for m in cnn.modules() if isinstance(m, torch.nn.Conv2d))
    assert tuple(first.kernel_size) == (128, 4)
    rest = [tuple(m.kernel_size) for m in cnn.modules() if isinstance(m, torch.nn.Conv2d)][1:]
    assert set(rest) == {(1, 4), (1, 1)}
    assert not any(isinstance(m, torch.nn.Linear) for m in cnn.modules())  # fully convolutional
    inc = MelInception()
    heights = [b.conv[0].kernel_size for b in inc.branches]
    assert [tuple(h) for h in heights] == [(128, 4), (132, 8), (140, 16)]
    meta = CNNMetadata(n_meta=4)
    assert [m.out_channels for m in meta.audio if isinstance(m, torch.nn.Conv2d)] == [16, 32, 64, 128]
    res = ResNetTiers(n_classes=10)
    assert tuple(res.stem[0].kernel_size) == (5, 5) and tuple(res.stem[0].stride) == (2, 2)
    assert res.embedding(torch.zeros(2, 128, 64)).shape == (2, 64)
    assert res(torch.zeros(2, 128, 64)).shape == (2, 10)


@pytest.mark.parametrize("name", list(NETS))
def test_onnx_export_matches_torch_on_two_lengths(name: str, tmp_path: Path) -> None:
    n_meta = 3 if name in ("cnn-metadata", "resnet-tiers") else 0
    net = _perturbed(_net(name, n_meta))
    path = tmp_path / f"{name}.onnx"
    export_net(net, path, n_meta=n_meta)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    assert names == (["logmel", "meta"] if n_meta else ["logmel"])
    assert session.get_inputs()[0].shape[0] == "batch" and session.get_inputs()[0].shape[2] == "time"
    assert [o.name for o in session.get_outputs()] == ["raw"]
    rng = np.random.default_rng(5)
    for frames, batch in ((64, 2), (431, 5)):
        x = np.clip(-30.0 + 12.0 * rng.standard_normal((batch, 128, frames)), -80.0, 0.0).astype(np.float32)
        feeds = {"logmel": x}
        with torch.no_grad():
            if n_meta:
                m = rng.standard_normal((batch, n_meta)).astype(np.float32)
                feeds["meta"] = m
                ref = net(torch.from_numpy(x), torch.from_numpy(m)).numpy()
            else:
                ref = net(torch.from_numpy(x)).numpy()
        got = session.run(["raw"], feeds)[0]
        np.testing.assert_allclose(got, ref, atol=1e-4, rtol=0)


def test_parity_check_catches_a_wrong_graph() -> None:
    net = _perturbed(MelCNN())
    model = onnx_model(net)
    net.set_target_scale(51.0, 20.0)  # the graph no longer matches the net
    with pytest.raises(AssertionError, match="differ"):
        parity_error(net, model)


def test_training_is_deterministic_and_learns() -> None:
    x, y = _toy(48, 24, seed=0)
    cfg = TrainConfig(epochs=6, batch_size=16, lr=3e-3, seed=3, valid_fraction=0.25)
    first = train(MelCNN(), x, y.astype(np.float32), "binary", cfg)
    torch.manual_seed(999)  # a different global state must not change the result
    second = train(MelCNN(), x, y.astype(np.float32), "binary", cfg)
    assert first.history == second.history
    assert first.best_epoch == second.best_epoch
    assert first.examples_per_s > 0 and first.seconds > 0
    assert float(first.net.target_std) == 1.0 and first.net.task == "binary"
    assert set(first.history) == {"train_loss", "lr", "train_accuracy", "valid_loss", "valid_accuracy"}
    assert first.history["train_loss"][-1] < first.history["train_loss"][0]
    xt, yt = _toy(40, 24, seed=1)
    p = predict(first.net, xt)
    assert p.shape == (40,) and ((p >= 0) & (p <= 1)).all()
    assert np.mean((p > 0.5) == yt) > 0.8
    other = train(MelCNN(), x, y.astype(np.float32), "binary", TrainConfig(epochs=6, batch_size=16, seed=4))
    assert other.history["train_loss"] != first.history["train_loss"]


def test_regression_outputs_on_the_target_scale() -> None:
    x, y = _toy(40, 16, seed=2)
    target = 30.0 + 40.0 * y  # popularity-like values
    res = train(MelCNN(), x, target, "regression", TrainConfig(epochs=8, batch_size=8, lr=3e-3, valid_fraction=0))
    assert res.best_epoch == 8 and "valid_loss" not in res.history
    assert float(res.net.target_mean) == pytest.approx(target.mean(), rel=1e-5)
    pred = predict(res.net, x)
    assert abs(pred.mean() - target.mean()) < 10.0
    assert pred[y == 1].mean() > pred[y == 0].mean() + 10.0


def test_classification_with_metadata_and_one_cycle() -> None:
    x, y = _toy(36, 16, seed=3)
    meta = np.random.default_rng(0).standard_normal((36, 2)).astype(np.float32)
    vx, vy = _toy(12, 16, seed=4)
    vmeta = np.zeros((12, 2), dtype=np.float32)
    cfg = TrainConfig(epochs=4, batch_size=12, lr=3e-3, one_cycle=True, patience=2)
    res = train(ResNetTiers(n_classes=3, n_meta=2), x, y, "classification", cfg, meta=meta, valid=(vx, vy, vmeta))
    lr = res.history["lr"]
    assert max(lr) > lr[-1] and lr[0] < max(lr)  # warm-up then anneal
    probs = predict(res.net, vx, vmeta)
    assert probs.shape == (12, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)


def test_early_stopping_keeps_the_best_epoch() -> None:
    x, y = _toy(32, 16, seed=5)
    rng = np.random.default_rng(1)
    noise = rng.permutation(y).astype(np.float32)  # unlearnable: validation loss stops improving
    cfg = TrainConfig(epochs=40, batch_size=8, lr=1e-2, patience=3, valid_fraction=0.25)
    res = train(MelCNN(), x, noise, "binary", cfg)
    n_epochs = len(res.history["train_loss"])
    assert n_epochs < 40
    assert n_epochs == res.best_epoch + cfg.patience
    assert res.history["valid_loss"][res.best_epoch - 1] == min(res.history["valid_loss"])


def test_task_and_outputs_must_agree() -> None:
    x, y = _toy(8, 16, seed=6)
    with pytest.raises(ValueError, match="classification"):
        train(MelCNN(), x, y, "classification", TrainConfig(epochs=1))
    with pytest.raises(ValueError, match="task"):
        train(MelCNN(), x, y, "ranking", TrainConfig(epochs=1))
