"""The exported ONNX graphs compute what was trained and evaluated.

Three links are checked: torch ensemble + calibration == head graph; head(front end) == combined
graph, with the statistics computed by librosa; and the shipped files have the documented
interface. The first two train a tiny model on synthetic data, so they need no shipped files.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import librosa
import numpy as np
import onnxruntime as ort
import pytest
from training_data import synthetic_stats, write_synthetic_zalo

from hitdesk.config import FEATURES, N_STATS, STAT_COLUMNS
from hitdesk.training import export
from hitdesk.training.calibration import Isotonic
from hitdesk.training.ensemble import EnsembleConfig, TrainedEnsemble, fit_ensemble, head_weights
from hitdesk.training.graph import dct_matrix
from hitdesk.training.zalo import load_zalo

ATOL = 1e-4
REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "models"
SHIPPED = "hitdesk-zalo-v2"


def _session(model: object) -> ort.InferenceSession:
    return ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def tiny(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[TrainedEnsemble, ort.InferenceSession, ort.InferenceSession]:
    data = load_zalo(write_synthetic_zalo(tmp_path_factory.mktemp("zalo"), n_songs=300, n_artists=40))
    config = EnsembleConfig()
    config = dataclasses.replace(
        config, nets_per_member=2, mlp=dataclasses.replace(config.mlp, max_epochs=4, patience=4)
    )
    ens = fit_ensemble(data, config)
    weights = head_weights(ens)
    return ens, _session(export.head_model(weights, "tiny")), _session(export.combined_model(weights, "tiny"))


def _logmel_batch(rng: np.random.Generator, batch: int, frames: int, real_looking: bool) -> np.ndarray:
    out = []
    for _ in range(batch):
        if real_looking:
            # Harmonic tones over noise, through librosa's mel filterbank, like the app's front end.
            sr = FEATURES.sample_rate
            t = np.arange((frames - 1) * FEATURES.hop_length) / sr
            y = 0.02 * rng.standard_normal(t.size)
            for f0 in rng.uniform(80, 800, 3):
                y += sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 6)) * rng.uniform(0.1, 0.5)
            mel = librosa.feature.melspectrogram(
                y=y.astype(np.float32),
                sr=sr,
                n_fft=FEATURES.n_fft,
                hop_length=FEATURES.hop_length,
                n_mels=FEATURES.n_mels,
            )
        else:
            mel = rng.gamma(0.5, size=(FEATURES.n_mels, frames)) ** 3
        out.append(librosa.power_to_db(mel, ref=np.max))
    return np.stack(out).astype(np.float32)


def _librosa_stats(logmel: np.ndarray, tempo_duration: np.ndarray) -> np.ndarray:
    rows = []
    for log_s, td in zip(logmel, tempo_duration, strict=True):
        mfcc = librosa.feature.mfcc(S=log_s.astype(np.float64), n_mfcc=FEATURES.n_mfcc)
        rows.append(np.concatenate([mfcc.mean(axis=1), mfcc.std(axis=1), td]))
    return np.asarray(rows, dtype=np.float32)


def _run(session: ort.InferenceSession, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return dict(zip(export.OUTPUT_NAMES, session.run(list(export.OUTPUT_NAMES), feeds), strict=True))


def test_dct_matrix_is_librosa_mfcc() -> None:
    log_s = _logmel_batch(np.random.default_rng(0), 1, 50, real_looking=False)[0].astype(np.float64)
    assert np.allclose(dct_matrix() @ log_s, librosa.feature.mfcc(S=log_s, n_mfcc=FEATURES.n_mfcc), atol=1e-9)


def test_head_matches_torch_ensemble(tiny: tuple[TrainedEnsemble, ort.InferenceSession, ort.InferenceSession]) -> None:
    ens, head, _ = tiny
    rng = np.random.default_rng(1)
    stats = np.concatenate([synthetic_stats(64, rng), rng.normal(0, 300, (8, N_STATS))]).astype(np.float32)
    got = _run(head, {"stats": stats})
    want = ens.predict(stats.astype(np.float64))
    for name in export.OUTPUT_NAMES:
        np.testing.assert_allclose(got[name], want[name], atol=ATOL, err_msg=name)
    assert got["members"].shape == (len(stats), 5)
    assert np.all(got["p_hit_low"] <= got["p_hit"] + 1e-7) and np.all(got["p_hit"] <= got["p_hit_high"] + 1e-7)
    assert np.all((got["members"] >= 0) & (got["members"] <= 1))


@pytest.mark.parametrize(
    ("batch", "frames", "real_looking"), [(1, 1, False), (3, 37, False), (2, 400, True), (4, 1300, True)]
)
def test_combined_equals_head_of_front_end(
    tiny: tuple[TrainedEnsemble, ort.InferenceSession, ort.InferenceSession],
    batch: int,
    frames: int,
    real_looking: bool,
) -> None:
    _, head, combined = tiny
    rng = np.random.default_rng(frames)
    logmel = _logmel_batch(rng, batch, frames, real_looking)
    tempo_duration = np.column_stack([rng.uniform(70, 180, batch), rng.uniform(30, 400, batch)]).astype(np.float32)
    got = _run(combined, {"logmel": logmel, "tempo_duration": tempo_duration})
    want = _run(head, {"stats": _librosa_stats(logmel, tempo_duration)})
    for name in export.OUTPUT_NAMES:
        np.testing.assert_allclose(got[name], want[name], atol=ATOL, err_msg=name)
        assert got[name].shape[0] == batch
    assert np.all(got["p_hit_low"] <= got["p_hit"] + 1e-7) and np.all(got["p_hit"] <= got["p_hit_high"] + 1e-7)


def test_isotonic_calibration_graph(tiny: tuple[TrainedEnsemble, ort.InferenceSession, ort.InferenceSession]) -> None:
    ens, _, _ = tiny
    rng = np.random.default_rng(5)
    iso = Isotonic.fit(ens.oof_score, (rng.uniform(size=ens.oof_score.size) < 0.3).astype(int) | (ens.oof_score > 1))
    iso_ens = dataclasses.replace(ens, calibrator=iso)
    head = _session(export.head_model(head_weights(iso_ens), "iso"))
    stats = synthetic_stats(50, rng).astype(np.float32)
    got = _run(head, {"stats": stats})
    want = iso_ens.predict(stats.astype(np.float64))
    for name in export.OUTPUT_NAMES:
        np.testing.assert_allclose(got[name], want[name], atol=ATOL, err_msg=name)


def test_graphs_declare_the_documented_interface(
    tiny: tuple[TrainedEnsemble, ort.InferenceSession, ort.InferenceSession],
) -> None:
    _, head, combined = tiny
    _check_interface(head, combined)


def _check_interface(head: ort.InferenceSession, combined: ort.InferenceSession) -> None:
    assert [(i.name, i.shape, i.type) for i in head.get_inputs()] == [("stats", ["batch", N_STATS], "tensor(float)")]
    assert [(i.name, i.shape, i.type) for i in combined.get_inputs()] == [
        ("logmel", ["batch", FEATURES.n_mels, "time"], "tensor(float)"),
        ("tempo_duration", ["batch", 2], "tensor(float)"),
    ]
    for session in (head, combined):
        outs = {o.name: o.shape for o in session.get_outputs()}
        assert outs == {"p_hit": ["batch"], "p_hit_low": ["batch"], "p_hit_high": ["batch"], "members": ["batch", 5]}


def test_shipped_model_files() -> None:
    card_path = MODELS / f"{SHIPPED}.json"
    if not card_path.is_file():
        pytest.skip(f"{card_path} not built yet (run `make model`)")
    opts = ort.SessionOptions()
    head = ort.InferenceSession(str(MODELS / f"{SHIPPED}.head.onnx"), opts, providers=["CPUExecutionProvider"])
    combined = ort.InferenceSession(str(MODELS / f"{SHIPPED}.onnx"), opts, providers=["CPUExecutionProvider"])
    _check_interface(head, combined)
    card = json.loads(card_path.read_text(encoding="utf-8"))
    assert card["name"] == SHIPPED and card["format_version"] == 1
    assert card["stat_columns"] == list(STAT_COLUMNS)
    assert card["feature_config"] == FEATURES.to_dict()
    assert [i["name"] for i in card["inputs"]] == ["logmel", "tempo_duration"]
    assert [i["name"] for i in card["head"]["inputs"]] == ["stats"]
    assert card["metrics"]["cv"]["scheme"] == "artist-disjoint 5-fold GroupKFold"
    assert len(card["familiarity"]["distance_percentiles"]) == 101
    # The card is readable by the runtime's loader.
    from hitdesk.model.card import load_card

    loaded = load_card(card_path)
    assert loaded.familiarity is not None and 0.2 < loaded.base_rate < 0.4
    # And the model behaves: typical statistics give probabilities near the base rate, ordered low <= p <= high.
    mean = np.asarray(card["familiarity"]["mean"], dtype=np.float32)[None, :]
    p, lo, hi, members = head.run(None, {"stats": mean})
    assert 0.05 < float(p[0]) < 0.8 and lo[0] <= p[0] <= hi[0] and members.shape == (1, 5)
