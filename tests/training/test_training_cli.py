"""``hitdesk-train``: one fitting command, a smoke run of the default model's recipe and evaluate's JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from training_data import write_synthetic_zalo, write_window_shift

from hitdesk.training.cli import main

REPO = Path(__file__).resolve().parents[2]
EVALUATE_KEYS = {"n", "n_dropped", "spearman", "roc_auc", "pr_auc", "brier", "ece"}


@pytest.fixture(scope="module")
def fitted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, dict[str, object]]:
    root = tmp_path_factory.mktemp("fit")
    data = write_synthetic_zalo(root / "zalo", n_songs=300, n_artists=40)
    out = root / "models"
    report = root / "report.md"
    code = main(
        [
            *("fit", "--recipe", "zalo-stats"),
            *("--data", str(data), "--out", str(out), "--report", str(report)),
            *("--window-shift", str(write_window_shift(root / "shift.json"))),
            *("--epochs", "3", "--nets-per-member", "1", "--no-reference-check"),
        ]
    )
    assert code == 0
    card = json.loads((out / "hitdesk-zalo-v2.json").read_text(encoding="utf-8"))
    return data, out, card


def test_help_lists_one_fitting_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    commands = text.split("{", 1)[1].split("}", 1)[0].split(",")
    assert commands == [
        "fit",
        "evaluate",
        "baselines",
        "measure-window-shift",
        "features",
        "background",
        "split-artists",
        "recipes",
    ]
    with pytest.raises(SystemExit):
        main(["fit-default", "--data", "x"])


def test_default_model_recipe_writes_model_card_and_report(fitted: tuple[Path, Path, dict[str, object]]) -> None:
    _, out, card = fitted
    assert {p.name for p in out.iterdir()} == {
        "hitdesk-zalo-v2.onnx",
        "hitdesk-zalo-v2.head.onnx",
        "hitdesk-zalo-v2.window.onnx",
        "hitdesk-zalo-v2.json",
        "hitdesk-zalo-v2.background",  # fitting the default model rewrites its card, so its explanations too
    }
    assert card["files"]["background"] == "hitdesk-zalo-v2.background"  # type: ignore[index]
    assert card["explanation"]["background"]["n_songs"] > 0  # type: ignore[index]
    for key in ("name", "version", "created", "feature_config", "stat_columns", "inputs", "outputs", "label"):
        assert key in card
    assert card["recipe"] == "zalo-stats" and card["format_version"] == 1
    assert card["training"]["command"] == "hitdesk-train fit --recipe zalo-stats"  # type: ignore[index]
    cv = card["metrics"]["cv"]  # type: ignore[index]
    assert set(cv["default"]) == {"spearman", "roc_auc", "pr_auc", "brier", "ece"}
    assert cv["with_augmentation"] is not None and cv["without_augmentation"] is not None
    # The overall score's head is the chosen track candidate; the augmented ensemble is the window head.
    assert cv["default"] == cv["track_candidates"][card["heads"]["track"]["candidate"]]  # type: ignore[index]
    assert card["heads"]["window"]["cv_whole_tracks"] == cv["with_augmentation"]  # type: ignore[index]
    assert {"with_augmentation", "without_augmentation"} <= set(cv["simulated_windows"])
    assert card["augmentation"]["window_shift"]["used"] is True  # type: ignore[index]
    assert set(card["metrics"]["baselines"]) == {  # type: ignore[index]
        "majority (base rate)",
        "genre only",
        "ridge (42 stats)",
        "LightGBM (42 stats)",
    }
    assert card["training_data"]["n_dropped"] == 1 and card["training_data"]["n_songs"] == 299  # type: ignore[index]
    assert card["calibration"]["method"] in {"platt", "isotonic"}  # type: ignore[index]
    report = (out.parent / "report.md").read_text(encoding="utf-8")
    assert "| window head: network ensemble, window-shift augmentation |" in report
    assert "| LightGBM (42 stats) |" in report and "| track candidate: blend" in report
    assert report.split("## Summary")[1].split("Pooled")[0].count("(shipped track head) |") == 1
    assert "## Simulated 30 s windows" in report and "Pooled out-of-fold predictions" in report
    assert "| majority |" in report and "**majority**" not in report  # judged as the majority baseline
    # The shipped heads' reliability diagrams and confusion matrices sit beside the report; no other row's.
    pngs = sorted(p.name for p in out.parent.glob("report-*.png"))
    assert len(pngs) == 4 and all("shipped-track-head" in n or n.startswith("report-window-head") for n in pngs)


def test_default_model_loads_in_the_app(fitted: tuple[Path, Path, dict[str, object]], data_dir: Path) -> None:
    """The runtime loads the files unchanged and `hitdesk analyze` scores a clip with them."""
    from hitdesk.analysis import AnalysisOptions, analyze_file
    from hitdesk.model.runtime import HitModel

    _, out, _ = fitted
    model = HitModel(out / "hitdesk-zalo-v2")
    assert model.has_head and model.card.familiarity is not None
    result = analyze_file(data_dir / "chipdisko-12s.ogg", model, AnalysisOptions(window_seconds=3.0))
    assert result.error is None and result.overall is not None
    assert result.overall.p_hit_low <= result.overall.p_hit <= result.overall.p_hit_high
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "hitdesk", "analyze", "--model", str(out / "hitdesk-zalo-v2.onnx"), "--json"]
    cmd += ["--window-seconds", "3", "--no-cache", str(data_dir / "forest-sprint-6s.m4a")]
    done = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=120, check=True)
    rows = json.loads(done.stdout)
    row = rows[0] if isinstance(rows, list) else rows
    assert row["error"] is None and 0.0 <= row["overall"]["p_hit"] <= 1.0


def test_no_augment_flag(tmp_path: Path, fitted: tuple[Path, Path, dict[str, object]]) -> None:
    data, _, _ = fitted
    args = ["fit", "--recipe", "zalo-stats", "--data", str(data), "--out", str(tmp_path)]
    args += ["--report", str(tmp_path / "r.md"), "--no-augment", "--epochs", "2", "--nets-per-member", "1"]
    args += ["--no-reference-check", "--name", "t"]
    args += ["--window-shift", str(write_window_shift(tmp_path / "shift.json"))]
    assert main(args) == 0
    card = json.loads((tmp_path / "t.json").read_text(encoding="utf-8"))
    assert card["augmentation"]["window_shift"] == {"used": False}
    assert card["metrics"]["cv"]["with_augmentation"] is None
    # The shift still serves to evaluate the un-augmented model on simulated windows.
    assert set(card["metrics"]["cv"]["simulated_windows"]) == {"description", "without_augmentation"}
    assert "not run: disabled with --no-augment" in (tmp_path / "r.md").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--recipe", "zalo-stats", "--manifest", "m.csv"], "give --data, not --manifest"),
        (["--recipe", "zalo-stats", "--data", "d", "--folds", "3"], "5 artist-disjoint folds"),
        (["--recipe", "zalo-stats", "--data", "d", "--window-seconds", "10"], "--window-seconds: for manifest recipes"),
        (["--recipe", "intervals", "--data", "d"], "give --manifest, not --data"),
        (
            ["--recipe", "intervals", "--manifest", "m.csv", "--no-augment"],
            "--no-augment: for the zalo-stats recipe only",
        ),
        (["--recipe", "mel-cnn", "--manifest", "m.csv", "--tiers", "deciles"], "--tiers applies to the resnet-tiers"),
    ],
)
def test_fit_refuses_options_of_another_recipe(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["fit", *args]) == 2
    assert message in capsys.readouterr().err


def test_evaluate_prints_only_json(
    fitted: tuple[Path, Path, dict[str, object]], capsys: pytest.CaptureFixture[str]
) -> None:
    data, out, _ = fitted
    assert main(["evaluate", "--head", str(out / "hitdesk-zalo-v2.head.onnx"), "--data", str(data), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == EVALUATE_KEYS
    assert result["n"] == 299 and result["n_dropped"] == 1
    assert 0.0 <= result["brier"] <= 1.0 and 0.0 <= result["roc_auc"] <= 1.0


def test_evaluate_reports_missing_model(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    data = write_synthetic_zalo(tmp_path / "zalo", n_songs=50, n_artists=10)
    assert main(["evaluate", "--head", str(tmp_path / "nope.head.onnx"), "--data", str(data), "--json"]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and "does not exist" in captured.err


def test_cli_and_evaluation_do_not_import_torch() -> None:
    code = (
        "import sys, hitdesk.training, hitdesk.training.cli, hitdesk.training.evaluate; "
        "assert 'torch' not in sys.modules, 'torch imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
