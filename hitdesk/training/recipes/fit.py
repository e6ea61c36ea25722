"""``hitdesk-train fit``: the one training pipeline, for every recipe.

``fit`` checks the request and runs the recipe on its data: ``zalo-stats`` (the default model) on
the chart data, in ``zalo_stats``; every other recipe on a manifest of audio files, here. Either
way cross-validation comes first and is what the report and the card quote: artist-grouped
k-fold, each fold's model scoring songs it never saw. The calibration map is fit on those
out-of-fold scores (the metrics use a cross-fitted version, so the map is never judged on the
scores it was fit to) and written into the exported graph, which is checked against the trained
model through the app's own loader before the report (``report.py``) is written.
A manifest recipe exports a final model trained on every song; the zalo-stats ensemble ships its
fold models.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hitdesk.config import DEFAULT_WINDOW_SECONDS, FEATURES, STAT_COLUMNS
from hitdesk.model.card import CARD_FORMAT_VERSION, RuntimeSpec
from hitdesk.training import calibration
from hitdesk.training.card import write_card
from hitdesk.training.featcache import FeatureCache
from hitdesk.training.graph import save
from hitdesk.training.manifest import artist_groups, grouped_kfold, hit_labels, read_manifest
from hitdesk.training.metrics import (
    TIER_NAMES,
    binary_metrics,
    confusion,
    popularity_tiers,
    regression_metrics,
    summarise,
    tier_metrics,
)
from hitdesk.training.recipes import RECIPE_NAMES, ZALO_STATS, get_recipe
from hitdesk.training.recipes.base import (
    FitOutcome,
    FitRequest,
    Recipe,
    RecipeData,
    RecipeError,
    Scorer,
    with_calibration,
)
from hitdesk.training.recipes.interval import MeasuredInterval, with_interval
from hitdesk.training.recipes.interval import measure as measure_interval
from hitdesk.training.recipes.multimodal import lyrics_matrix
from hitdesk.training.report import RecipeReport, write_report

log = logging.getLogger(__name__)

HIT_QUANTILE = 0.7
PARITY_TOLERANCE = 1e-3  # exported graph vs the Python scorer on the training songs, in probability


def _check_request(req: FitRequest) -> None:
    """One sentence for the first thing that does not fit the recipe (ValueError, as argparse would)."""
    from hitdesk.training.zalo import N_FOLDS

    if req.recipe not in RECIPE_NAMES:
        raise RecipeError(f"There is no recipe '{req.recipe}'; known: {', '.join(RECIPE_NAMES)}.")
    if req.folds < 2:
        raise ValueError("--folds must be at least 2")
    if req.tiers is not None and req.recipe not in ("resnet-tiers", "deephits-multimodal"):
        raise ValueError(f"--tiers applies to the resnet-tiers and deephits-multimodal recipes, not to {req.recipe}")
    if req.recipe == ZALO_STATS:
        if req.data is None or req.manifest is not None:
            raise ValueError("the zalo-stats recipe trains on the chart data: give --data, not --manifest")
        if req.folds != N_FOLDS:
            raise ValueError(f"the zalo-stats recipe is measured on the chart data's {N_FOLDS} artist-disjoint folds")
        manifest_only = {
            "--window-seconds": req.window_seconds != DEFAULT_WINDOW_SECONDS,
            "--jobs": req.jobs != 1,
            "--cache-dir": req.cache_dir is not None,
        }
        given = [flag for flag, used in manifest_only.items() if used]
        if given:
            raise ValueError(f"{', '.join(given)}: for manifest recipes, not for zalo-stats")
        return
    if req.manifest is None or req.data is not None:
        raise ValueError(f"the {req.recipe} recipe trains on a manifest: give --manifest, not --data")
    chart_only = {
        "--no-augment": not req.augment,
        "--window-shift": req.window_shift is not None,
        "--nets-per-member": req.nets_per_member is not None,
        "--no-reference-check": not req.reference_check,
    }
    given = [flag for flag, used in chart_only.items() if used]
    if given:
        raise ValueError(f"{', '.join(given)}: for the zalo-stats recipe only")


def fit(req: FitRequest) -> FitOutcome:
    """Cross-validate, train, calibrate, export, check and report the recipe ``req`` names."""
    _check_request(req)
    if req.recipe == ZALO_STATS:
        from hitdesk.training.recipes.zalo_stats import fit_chart

        return fit_chart(req)
    recipe = get_recipe(req.recipe)
    if req.tiers is not None and hasattr(recipe, "tiers"):  # resnet-tiers or deephits-multimodal, as checked
        recipe.tiers = req.tiers
    return fit_manifest(req, recipe)


def _manifest(req: FitRequest) -> Path:
    assert req.manifest is not None, "a manifest recipe's request names its manifest"
    return req.manifest


def load_data(req: FitRequest) -> tuple[RecipeData, list[str], float, str]:
    """The manifest's usable songs with cached features; failures are listed, not fatal."""
    manifest = _manifest(req)
    tracks = read_manifest(manifest)
    from hitdesk.training.recipes.tags import TAG_RECIPES

    cache = FeatureCache(root=req.cache_dir, window_seconds=req.window_seconds, tags=req.recipe in TAG_RECIPES)
    feats, errors = cache.features(tracks, jobs=req.jobs)
    ok = [i for i, f in enumerate(feats) if f is not None]
    if len(ok) < 4:
        raise RecipeError(f"Only {len(ok)} tracks of '{manifest.name}' could be read; a fit needs at least 4.")
    hit_all = hit_labels(tracks, HIT_QUANTILE)
    groups_all = artist_groups(tracks)
    usable = [tracks[i] for i in ok]
    has_pop = all(t.popularity is not None for t in usable)
    meta_cols = sorted(set.intersection(*(set(t.meta) for t in usable)))
    pops = [float(t.popularity) for t in usable if t.popularity is not None]
    if all(t.label is not None for t in usable):
        label = "the manifest's label column (1 = hit)"
    else:
        threshold = float(np.quantile(pops, HIT_QUANTILE))
        label = f"popularity at or above the manifest's {HIT_QUANTILE:.0%} quantile ({threshold:g})"
    data = RecipeData(
        tracks=usable,
        feats=[feats[i] for i in ok if feats[i] is not None],  # type: ignore[misc]
        hit=hit_all[ok],
        popularity=np.array(pops, dtype=np.float64) if has_pop else None,
        groups=groups_all[ok],
        meta=np.array([[t.meta[c] for c in meta_cols] for t in usable], dtype=np.float64).reshape(len(ok), -1),
        meta_columns=meta_cols,
        window_seconds=req.window_seconds,
        lyrics=lyrics_matrix(usable),
    )
    if len(np.unique(data.hit)) < 2:
        raise RecipeError(f"All usable tracks of '{manifest.name}' have the same hit label, so nothing can be learnt.")
    return data, errors, cache.audio_seconds, label


def _calibrate(scores: np.ndarray, hit: np.ndarray, fold: np.ndarray) -> tuple[Any, np.ndarray, dict[str, Any]]:
    """Platt or isotonic on window-level out-of-fold scores; in-sample Platt when a fold leaves one class."""
    if all(len(np.unique(hit[fold != k])) == 2 for k in np.unique(fold)):
        return calibration.select(scores, hit, fold)
    cal = calibration.Platt.fit(scores, hit)
    return cal, cal(scores), {"note": "some folds left one class out, so the reported probabilities are in-sample"}


@dataclass
class _CV:
    fold_metrics: list[dict[str, float]]
    prob: np.ndarray  # (n,) cross-fitted calibrated P(hit) per song
    calibrator: Any
    calibration_summary: dict[str, Any]
    tier_pred: np.ndarray | None
    seconds: float


def cross_validate(recipe: Recipe, data: RecipeData, folds: int, seed: int, epochs: int | None) -> _CV:
    started = time.perf_counter()
    k = min(folds, len(np.unique(data.groups)))
    if k < 2:
        raise RecipeError("Cross-validation needs songs by at least two different artists.")
    splits = grouped_kfold(data.groups, k, seed)
    task = recipe.task(data)
    fold = np.empty(data.n, dtype=np.int64)
    raw: np.ndarray | None = None
    tiers = np.zeros((data.n, len(TIER_NAMES[task]))) if task in TIER_NAMES else None
    for i, (tr, te) in enumerate(splits):
        scorer = recipe.fit(data.subset(tr), seed, epochs)
        test = data.subset(te)
        s = np.asarray(scorer.score_songs(test), dtype=np.float64)
        raw = np.full((data.n, s.shape[1]), np.nan) if raw is None else raw
        raw[te] = s
        fold[te] = i
        if tiers is not None and scorer.tier_probs is not None:
            tiers[te] = scorer.tier_probs(test)
        log.info("%s: fold %d/%d done", recipe.name, i + 1, k)
    assert raw is not None
    w = raw.shape[1]
    cal, prob_w, summary = _calibrate(raw.reshape(-1), np.repeat(data.hit, w), np.repeat(fold, w))
    prob = prob_w.reshape(data.n, w).mean(axis=1)
    song_score = raw.mean(axis=1)
    tier_truth = popularity_tiers(data.popularity, task) if tiers is not None and data.popularity is not None else None
    metrics = []
    for _, te in splits:
        m = binary_metrics(data.hit[te], prob[te], None if data.popularity is None else data.popularity[te])
        if task == "regression" and data.popularity is not None:
            m.update(regression_metrics(data.popularity[te], song_score[te]))
        if tiers is not None and tier_truth is not None:
            m.update(tier_metrics(tier_truth[te], tiers[te]))
        metrics.append(m)
    tier_pred = None if tiers is None else tiers.argmax(axis=1)
    return _CV(metrics, prob, cal, summary, tier_pred, time.perf_counter() - started)


def _export(
    scorer: Scorer, cal: Any, interval: MeasuredInterval, name: str, out_dir: Path
) -> tuple[dict[str, str], bool]:
    out_dir.mkdir(parents=True, exist_ok=True)
    files = {"combined": f"{name}.onnx", "card": f"{name}.json"}
    if scorer.head is not None:
        combined, head = scorer.head(name, cal)
        save(with_interval(head, interval), out_dir / f"{name}.head.onnx")
        files["head"] = f"{name}.head.onnx"
    else:
        combined = with_calibration(scorer.graph(name), cal, name)
    save(with_interval(combined, interval), out_dir / files["combined"])
    return files, scorer.head is not None


def _parity(req: FitRequest, data: RecipeData, scorer: Scorer, cal: Any, stem: Path) -> float:
    """Largest |app's score - Python scorer| over the songs' windows: the export must do what was trained."""
    from hitdesk.model.runtime import HitModel
    from hitdesk.training.recipes.base import window_stack

    model = HitModel(stem)
    expected = cal(np.asarray(scorer.score_songs(data), dtype=np.float64))  # (n, w)
    if scorer.overall == "head":
        got = np.array([s.p_hit for s in model.score_stats(np.stack([f.stats for f in data.feats]))])
        return float(np.max(np.abs(got - expected[:, 0])))
    if scorer.overall == "middle":
        mats = [f.middle60 for f in data.feats]
        td = np.zeros((len(mats), 2))
        got = np.array([s.p_hit for s in model.score_logmel(mats, td)])
        return float(np.max(np.abs(got - expected[:, 0])))
    # Windows of one length, so the graph and the scorer see identical inputs.
    x, _ = window_stack(data.feats)
    meta = None if not scorer.meta_fill else np.repeat(data.meta, 3, axis=0)
    if "tags" in scorer.inputs:  # the tag recipes: every window carries its track's tags
        tags = np.repeat(np.stack([np.asarray(f.tags) for f in data.feats]), 3, axis=0)
        want = cal(np.asarray(scorer.score_windows(x, meta, tags), dtype=np.float64))
        got = np.array([s.p_hit for s in model.score_logmel(list(x), np.zeros((len(x), 2)), meta, tags=tags)])
        return float(np.max(np.abs(got - want)))
    lyr = np.repeat(data.lyrics, 3, axis=0) if "lyrics" in scorer.inputs and data.lyrics is not None else None
    want = cal(np.asarray(scorer.score_windows(x, meta, *([] if lyr is None else [lyr])), dtype=np.float64))
    got = np.array([s.p_hit for s in model.score_logmel(list(x), np.zeros((len(x), 2)), meta, lyrics=lyr)])
    return float(np.max(np.abs(got - want)))


def fit_manifest(req: FitRequest, recipe: Recipe) -> FitOutcome:
    started = time.perf_counter()
    data, failed, audio_seconds, label = load_data(req)
    task = recipe.task(data)
    cv = cross_validate(recipe, data, req.folds, req.seed, req.epochs)
    final = recipe.fit(data, req.seed, req.epochs)
    name = req.model_name
    interval = measure_interval(cv.prob, data.hit)
    files, _ = _export(final, cv.calibrator, interval, name, req.out_dir)
    runtime = RuntimeSpec(
        tuple(final.inputs),
        final.overall,
        tuple(data.meta_columns) if final.meta_fill else (),
        tuple(final.meta_fill),
        "the training songs' mean of each column: the app has no metadata, so every song gets these"
        if final.meta_fill
        else "",
    )
    summary = summarise(cv.fold_metrics)
    card = _card(req, data, final, cv, summary, files, runtime, label, task)
    card["uncertainty"] = interval.to_card()
    stem = req.out_dir / name
    write_card(card, stem.with_suffix(".json"))
    parity = _parity(req, data, final, cv.calibrator, stem)
    if not parity <= PARITY_TOLERANCE:
        raise RecipeError(f"The exported model differs from the trained one by {parity:.2g} in probability.")
    card["export_parity_max_abs_diff"] = parity
    write_card(card, stem.with_suffix(".json"))
    report_path = req.report_path
    _write_report(report_path, req, recipe, data, cv, task, failed, audio_seconds, time.perf_counter() - started)
    return FitOutcome(card, stem.with_suffix(".onnx"), report_path, audio_seconds, failed)


def _card(
    req: FitRequest,
    data: RecipeData,
    final: Scorer,
    cv: _CV,
    summary: dict[str, dict[str, float]],
    files: dict[str, str],
    runtime: RuntimeSpec,
    label: str,
    task: str,
) -> dict[str, Any]:
    clean = {k: v for k, v in summary.items() if all(math.isfinite(x) for x in v.values())}
    return {
        "name": req.model_name,
        "version": "1.0.0",
        "created": dt.date.today().isoformat(),
        "format_version": CARD_FORMAT_VERSION,
        "recipe": req.recipe,
        "files": files,
        "feature_config": FEATURES.to_dict(),
        "stat_columns": list(STAT_COLUMNS),
        "window_seconds": final.window_seconds,
        "runtime": runtime.to_dict(),
        "label": {"definition": label, "base_rate": float(data.hit.mean())},
        "training_data": {
            "manifest": _manifest(req).name,
            "n_songs": data.n,
            "n_artist_groups": len(np.unique(data.groups)),
            "targets": "popularity and hit label" if data.popularity is not None else "hit label",
            "metadata_columns": data.meta_columns,
        },
        "model": final.description,
        "task": task,
        "metrics": {
            "cv": clean,
            "folds": len(cv.fold_metrics),
            "split": "artist-grouped k-fold (no artist on both sides)",
            "probabilities": "cross-fitted calibration of out-of-fold scores",
        },
        "calibration": {**calibration.to_card(cv.calibrator), **cv.calibration_summary},
        "training": {"seed": req.seed, "history": {k: [round(v, 5) for v in vs] for k, vs in final.history.items()}},
        "caveats": [
            f"Trained on {data.n} songs of one manifest; the cross-validated figures are the honest measure, "
            "and they carry the fold-to-fold spread shown beside them.",
        ],
    }


def _majority(data: RecipeData, task: str, folds: int, seed: int) -> list[dict[str, float]]:
    """The same folds answered without listening: each test song gets its training songs' rates.

    Computed with the recipe's own metrics, so every column compares like with like.
    """
    tiers = popularity_tiers(data.popularity, task) if task in TIER_NAMES and data.popularity is not None else None
    out = []
    for tr, te in grouped_kfold(data.groups, folds, seed):
        m = binary_metrics(data.hit[te], np.full(len(te), float(data.hit[tr].mean())))
        if task == "regression" and data.popularity is not None:
            m.update(regression_metrics(data.popularity[te], np.full(len(te), float(data.popularity[tr].mean()))))
        if tiers is not None:
            freq = np.bincount(tiers[tr], minlength=len(TIER_NAMES[task])) / len(tr)
            m.update(tier_metrics(tiers[te], np.tile(freq, (len(te), 1))))
        out.append(m)
    return out


def _metadata_only(data: RecipeData, task: str, folds: int, seed: int) -> list[dict[str, float]] | None:
    """The same folds answered from the metadata columns alone (no audio), when the manifest has any.

    Logistic regression on the standardised columns for P(hit), ridge for popularity: if a recipe
    does not beat this, its audio adds nothing that the catalogue's own numbers did not already say.
    """
    if not data.meta_columns or data.meta is None or data.meta.shape[1] == 0:
        return None
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x = np.asarray(data.meta, dtype=np.float64)
    out = []
    for tr, te in grouped_kfold(data.groups, folds, seed):
        if len(np.unique(data.hit[tr])) < 2:
            prob = np.full(len(te), float(data.hit[tr].mean()))
        else:
            clf = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))
            prob = clf.fit(x[tr], data.hit[tr]).predict_proba(x[te])[:, 1]
        m = binary_metrics(data.hit[te], prob, None if data.popularity is None else data.popularity[te])
        if task == "regression" and data.popularity is not None:
            reg = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(x[tr], data.popularity[tr])
            m.update(regression_metrics(data.popularity[te], reg.predict(x[te])))
        out.append(m)
    return out


def _write_report(
    path: Path,
    req: FitRequest,
    recipe: Recipe,
    data: RecipeData,
    cv: _CV,
    task: str,
    failed: list[str],
    audio_seconds: float,
    seconds: float,
) -> None:
    reports = [RecipeReport("majority", task, _majority(data, task, len(cv.fold_metrics), req.seed))]
    meta_only = _metadata_only(data, task, len(cv.fold_metrics), req.seed)
    if meta_only is not None:
        reports.append(
            RecipeReport("metadata only", task, meta_only, notes=[f"columns: {', '.join(data.meta_columns)}; no audio"])
        )
    ablation = getattr(recipe, "ablation", None)  # deephits-multimodal: audio only, lyrics only
    if ablation is not None:
        parts = ablation(data, len(cv.fold_metrics), req.seed, req.epochs, cross_validate)
        reports += [RecipeReport(name, task, metrics, notes=[note]) for name, metrics, note in parts]
    conf = None
    if cv.tier_pred is not None and data.popularity is not None:
        conf = confusion(popularity_tiers(data.popularity, task), cv.tier_pred, len(TIER_NAMES[task]))
    reports.append(
        RecipeReport(
            recipe.name,
            task,
            cv.fold_metrics,
            oof_hit=data.hit,
            oof_prob=cv.prob,
            confusion=conf,
            class_names=TIER_NAMES[task] if conf is not None else None,
            notes=[recipe.summary],
        )
    )
    facts = [
        f"Manifest: {_manifest(req).name}, {data.n} usable songs ({len(failed)} could not be read), "
        f"{len(np.unique(data.groups))} artist groups, hit rate {data.hit.mean():.2f}.",
        f"{len(cv.fold_metrics)}-fold artist-grouped cross-validation, seed {req.seed}; mean ± std across folds.",
        f"Windows of {req.window_seconds:g} s; {audio_seconds:.1f} s spent on audio features (0 when cached); "
        f"total {seconds:.1f} s.",
        f"Calibration: {calibration.to_card(cv.calibrator)['method']} on out-of-fold scores, inside the graph.",
    ] + [f"Not read: {e}" for e in failed]
    write_report(path, f"Fit of {recipe.name} on {_manifest(req).name}", reports, facts)
