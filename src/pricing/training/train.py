"""`pricing train`: tune and fit every model of the registry (pricing.models.registry) on prepared data, score
them on the held-out split, and write one self-describing bundle. Training-only: the server never imports
this module.

This module is the orchestration; profiles.py holds the budgets, model_card.py the texts, charts.py the chart.
Writing the bundle stays here: it gathers what only this run holds (the fitted models, the preprocessor, the
held-out frames, the tuning summaries) into the layout pricing.artifacts.bundle defines and reads; moving it to
artifacts would make the serving-side module depend on training's frames and profiles."""

from __future__ import annotations

import json
import os
import resource
import shutil
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.bundle import CONTEXTS, fingerprint, new_version, write_manifest
from pricing.data.features import FEATURES, META, TARGET
from pricing.data.incidence import weekly_from_days
from pricing.data.preprocess import Preprocessor
from pricing.models import registry
from pricing.models.network import DFNConfig
from pricing.models.registry import FitContext
from pricing.training import tuning
from pricing.training.charts import write_metrics_chart
from pricing.training.evidence import (
    EVIDENCE,
    PRICE_HISTORY,
    RECENT_LEVEL,
    current_prices_from_days,
    evidence_table,
    incidence_slope_sd,
    line_slope_sd,
    list_ratio_shift,
    price_history_from_weeks,
    recent_level_from_weeks,
    recent_window,
)
from pricing.training.incidence_fit import fit_incidence
from pricing.training.lines import PreparedLines, sample_split
from pricing.training.metrics import MedianQuantityBaseline, regression_metrics
from pricing.training.model_card import model_card, price_effect_note
from pricing.training.network_fit import TrainableDFNEnsemble
from pricing.training.profiles import NETWORK_LOSS, NETWORK_PRICE_EFFECT, PROFILES, Profile


@dataclass
class Split:
    """One split: its rows, their matrix X (n, k) from the preprocessor, and y (n,) log1p(quantity)."""

    frame: pd.DataFrame
    X: np.ndarray
    y: np.ndarray


def load_splits(data_dir: Path, profile: Profile, seed: int) -> dict[str, pd.DataFrame]:
    """The train, val and test frames of `data_dir`, each within the profile's budget of lines (train
    `max_train_rows`, val a quarter of it, test `max_eval_rows`), drawn by DuckDB stratified by product
    (pricing.training.lines.sample_split): only the sample is ever in memory. ValueError when the files lack a
    feature column (not prepared by this version)."""
    budgets = {
        "train": profile.max_train_rows,
        "val": None if profile.max_train_rows is None else profile.max_train_rows // 4,
        "test": profile.max_eval_rows,
    }
    frames = {name: sample_split(data_dir, name, budget, seed) for name, budget in budgets.items()}
    missing = [c for c in FEATURES if c not in frames["train"].columns]
    if missing:
        raise ValueError(f"{data_dir}/train.parquet lacks feature column(s) {', '.join(missing)}: run pricing prepare")
    return frames


def data_fingerprint(data_dir: Path) -> str:
    """The prepared data's digest (the bundle's `data_fingerprint`; a shared study's data key)."""
    return fingerprint([data_dir / f"{n}.parquet" for n in ("train", "val", "test", "products")])


def _inputs(data_dir: Path, profile: Profile, seed: int):
    """The frames, the fitted preprocessor, the transformed splits and the tuning subsample (X, y, X_val, y_val;
    `seed` picks its rows) of `data_dir` under `profile`: what training and a tuning worker both start from."""
    frames = load_splits(data_dir, profile, seed)
    preprocessor = Preprocessor.fit(frames["train"])
    splits = {
        name: Split(f, preprocessor.transform(f), f[TARGET].to_numpy(dtype=np.float64)) for name, f in frames.items()
    }
    tune_pick = np.random.default_rng(seed).permutation(len(splits["train"].X))[: profile.tune_rows]
    val_pick = np.random.default_rng(seed + 1).permutation(len(splits["val"].X))[: max(profile.tune_rows // 4, 500)]
    tune_data = (
        splits["train"].X[tune_pick],
        splits["train"].y[tune_pick],
        splits["val"].X[val_pick],
        splits["val"].y[val_pick],
    )
    return frames, preprocessor, splits, tune_data


def tune_worker(
    data_dir: Path,
    storage: str,
    study: str,
    profile_name: str = "standard",
    trials: int | None = None,
    seconds: float | None = None,
    seed: int = 0,
) -> dict:
    """`pricing tune`: add network trials to the shared study `study` in `storage` until `trials` or `seconds`
    run out (both None: the profile's), then exit: no model is fitted, no bundle written. Any number of workers
    may run at once, on one machine or many (tuning.open_study). `seed` picks the tuning rows and must be the
    same for every worker of a study (it is part of the study's data key); each worker's sampler is seeded by
    its own process, so workers do not repeat each other's suggestions. StudyMismatch for a study of other data.
    Returns {study, trials_added, trials_in_study, best_value, best_params, seconds}."""
    profile = PROFILES[profile_name]
    started = time.perf_counter()
    _, preprocessor, _, tune_data = _inputs(data_dir, profile, seed)
    key = tuning.data_key_of(data_fingerprint(data_dir), profile_name, seed)
    shared = tuning.open_study(study, storage, seed + os.getpid(), key)
    if trials is None and seconds is None:
        trials, seconds = profile.network_trials, profile.network_tune_s
    added = tuning.add_network_trials(
        shared, *tune_data, preprocessor.n_products, _network_base(preprocessor, profile, seed), trials, seconds
    )
    finished = [t for t in shared.trials if t.state == optuna.trial.TrialState.COMPLETE]
    best = min(finished, key=lambda t: t.value) if finished else None
    return {
        "study": study,
        "trials_added": added,
        "trials_in_study": len(shared.trials),
        "best_value": None if best is None else best.value,
        "best_params": None if best is None else best.params,
        "seconds": round(time.perf_counter() - started, 1),
    }


def train(
    data_dir: Path,
    bundle_dir: Path,
    profile_name: str = "standard",
    storage: str | None = None,
    refine: bool = False,
    seed: int = 0,
    reports_dir: Path = Path("reports"),
    study: str | None = None,
) -> dict:
    """Tune, fit and score every registry model with the profile `profile_name`; write the bundle to bundle_dir
    (replacing it), the chart and training_summary.json to reports_dir. Returns the summary (version, metrics,
    stage timings in seconds, peak RSS in MB). `storage`: an Optuna storage shared by several tuning processes;
    with `study` too, the network takes that study's best trial (the `pricing tune` workers') and adds none,
    unless it has no finished trial yet (StudyMismatch for a study of other data)."""
    profile = PROFILES[profile_name]
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        timings[stage] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    frames, preprocessor, splits, tune_data = _inputs(data_dir, profile, seed)
    n_products = preprocessor.n_products
    X_tune, y_tune, _, _ = tune_data
    lap("load")

    models: dict[str, object] = {}
    tuned: dict[str, dict] = {}
    shared = None if study is None else (study, tuning.data_key_of(data_fingerprint(data_dir), profile_name, seed))
    # the network is the registry's one entry with its own search (Optuna, pruned per epoch) and fit (an ensemble)
    models["network"], tuned["network"] = _tune_and_fit_network(
        splits, tune_data, preprocessor, profile, storage, refine, seed, lap, shared
    )
    lap("fit network")

    context = FitContext(
        n_products=n_products, seed=seed, price_columns=tuple(preprocessor.price_columns), max_rows=profile.svr_max_rows
    )
    for entry in registry.cross_validated():
        kind = entry.name
        params, tuned[kind] = tuning.tune_fallback(
            kind,
            X_tune,
            y_tune,
            context,
            calls=profile.fallback_calls,
            folds=profile.folds,
            seconds=profile.fallback_tune_s,
        )
        tuned[kind]["best_params"] = params
        lap(f"tune {kind}")
        # the same construction tuning scored; X_val is the early-stopping set of those that stop early
        model = registry.model_class(kind).from_params(params, context)
        models[kind] = model.fit(splits["train"].X, splits["train"].y, splits["val"].X, splits["val"].y)
        lap(f"fit {kind}")

    metrics = score_models(models, splits, frames)
    lap("evaluate")

    # the incidence part and the evidence on every prepared line (a sample would thin the weekly counts), read a
    # group of products at a time: memory follows the group, not the data (pricing.training.lines)
    products = pd.read_parquet(data_dir / "products.parquet").set_index("stockcode")
    first_week = PreparedLines(data_dir, ["train"]).first_week()
    incidence = fit_incidence(data_dir, products, preprocessor, first_week, seed)
    lap("fit incidence")
    every = PreparedLines(data_dir)
    ladder = every.ladder_of(products)
    days = every.days(ladder)
    shop = every.lines_per_week()
    evidence_tables = {
        EVIDENCE: evidence_table(
            current_prices_from_days(days),
            preprocessor.product_index,
            incidence_slope_sd(incidence[0]["incidence_network"], incidence[3], n_products),
            line_slope_sd(
                models["network"],
                splits["train"].X,
                splits["train"].y,
                n_products,
                frames["train"]["invoice_date"].dt.normalize().to_numpy().astype("datetime64[D]").astype(np.int64),
                list_ratio_shift(frames["train"]),
            ),
        ),
        PRICE_HISTORY: price_history_from_weeks(
            weekly_from_days(days, every.shop_days(), first_week),
            shop,
            PreparedLines(data_dir, ["test"]).first_date(),
        ),
    }
    window = recent_window(shop.index)
    level, recent_weeks = recent_level_from_weeks(
        PreparedLines(data_dir, weeks=window).weekly(first_week, ladder), products, len(window)
    )
    evidence_tables[RECENT_LEVEL] = level
    lap("evidence")

    version = _write_bundle(
        bundle_dir,
        models,
        preprocessor,
        frames,
        data_dir,
        metrics,
        tuned,
        profile,
        seed,
        incidence,
        evidence_tables,
        recent_weeks,
    )
    chart = write_metrics_chart(reports_dir, metrics, version)
    lap("write bundle")
    summary = {
        "version": version,
        "profile": profile.name,
        "bundle_dir": str(bundle_dir),
        "metrics": metrics,
        "timings_s": timings,
        "total_s": round(sum(timings.values()), 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "chart": str(chart),
        "rows": {name: len(f) for name, f in frames.items()},
        "incidence": incidence[1],
        "encodings_val_loss": tuned["network"]["encodings_val_loss"],
    }
    (reports_dir / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _network_base(preprocessor: Preprocessor, profile: Profile, seed: int) -> DFNConfig:
    """The configuration every network trial starts from: the profile's epochs per trial, the loss and the
    structural price effect with the preprocessor's price layout."""
    # Poisson deviance on the quantity: the network learns the mean quantity's price slope, which is what a
    # revenue optimum needs (squared error on log1p learns E[log1p q], whose slope is flatter: prices too high)
    return DFNConfig(
        max_epochs=profile.network_tune_epochs,
        seed=seed,
        loss=NETWORK_LOSS,
        price_effect=NETWORK_PRICE_EFFECT,
        **preprocessor.price_layout(),
    )


def _tune_and_fit_network(
    splits: dict[str, Split],
    tune_data: tuple[np.ndarray, ...],
    preprocessor: Preprocessor,
    profile: Profile,
    storage: str | None,
    refine: bool,
    seed: int,
    lap,
    shared: tuple[str, str] | None = None,
) -> tuple[TrainableDFNEnsemble, dict]:
    """Search the network (Optuna) and its product encoding on the tuning subsample `tune_data` (X, y, X_val,
    y_val), then fit the profile's ensemble on every row; returns it and its tuning summary. `shared`: (study
    name, data key) of a study the `pricing tune` workers filled, whose best trial is taken."""
    X_tune, y_tune, X_tune_val, y_tune_val = tune_data
    n_products = preprocessor.n_products
    study_name, data_key = shared if shared is not None else ("network", None)
    network_config, tuned = tuning.tune_network(
        X_tune,
        y_tune,
        X_tune_val,
        y_tune_val,
        n_products,
        _network_base(preprocessor, profile, seed),
        trials=profile.network_trials,
        seconds=profile.network_tune_s,
        storage=storage,
        study_name=study_name,
        refine=refine,
        seed=seed,
        data_key=data_key,
        reuse=shared is not None,
    )
    encodings = tuning.compare_encodings(network_config, X_tune, y_tune, X_tune_val, y_tune_val, n_products)
    tuned["encodings_val_loss"] = encodings
    network_config = replace(network_config, product_encoding=min(encodings, key=encodings.get))
    lap("tune network")
    members = profile.network_members
    network_config = replace(
        network_config, max_epochs=profile.network_final_epochs, time_limit_s=profile.network_final_s / members
    )
    with tqdm(total=network_config.max_epochs * members, desc=f"fit {members} networks", unit="epoch") as bar:

        def show(epoch: int, val_loss: float) -> None:
            bar.update()
            bar.set_postfix(val_loss=f"{val_loss:.4f}")

        network = TrainableDFNEnsemble(network_config, n_products=n_products, members=members).fit(
            splits["train"].X, splits["train"].y, splits["val"].X, splits["val"].y, on_epoch=show
        )
    tuned["final"] = {
        "members": members,
        "epochs": len(network.history.val_loss),
        "best_epoch": network.history.best_epoch,
        "stopped_early": network.history.stopped_early,
        "seconds": round(sum(m.history.seconds for m in network.members), 1),
    }
    return network, tuned


def score_models(models: dict, splits: dict[str, Split], frames: dict[str, pd.DataFrame]) -> dict[str, dict]:
    """Held-out metrics (regression_metrics) of each model, in the registry's priority order, then of the median
    quantity baseline: {name: {metric: value}}."""
    test = splits["test"]
    results = {
        name: regression_metrics(test.y, models[name].predict(test.X)) for name in registry.in_priority_order(models)
    }
    baseline = MedianQuantityBaseline().fit(frames["train"])
    results["baseline"] = regression_metrics(test.y, baseline.predict(frames["test"]))
    return results


def _write_bundle(
    bundle_dir: Path,
    models: dict,
    preprocessor: Preprocessor,
    frames: dict,
    data_dir: Path,
    metrics: dict,
    tuned: dict,
    profile: Profile,
    seed: int,
    incidence: tuple,
    evidence_tables: dict[str, pd.DataFrame],
    recent_weeks,
) -> str:
    """Write every file of the bundle, the manifest last (artifacts.bundle.write_manifest); returns its version.

    `incidence`: fit_incidence's (models, metrics, reference weeks, training weeks), listed under the manifest's
    `incidence`; `evidence_tables`: {file name: table} (pricing.training.evidence), listed under `evidence`."""
    if bundle_dir.exists():
        shutil.rmtree(bundle_dir)
    bundle_dir.mkdir(parents=True)
    entries = {}
    for name in registry.in_priority_order(models):
        files = models[name].save(bundle_dir / "models" / name)
        entries[name] = {
            "files": [p.relative_to(bundle_dir).as_posix() for p in files],
            "params": _params_of(models[name]),
            "tuning": tuned[name],
        }
    incidence_models, incidence_metrics, reference, _ = incidence
    incidence_entries = {
        name: {"files": [p.relative_to(bundle_dir).as_posix() for p in model.save(bundle_dir / "models" / name)]}
        for name, model in incidence_models.items()
    }
    (bundle_dir / "preprocessor.json").write_text(preprocessor.to_json())
    products = pd.read_parquet(data_dir / "products.parquet")
    products.to_parquet(bundle_dir / "products.parquet", index=False)
    contexts = frames["test"]
    if len(contexts) > profile.max_context_rows:
        contexts = contexts.sample(profile.max_context_rows, random_state=seed)
    contexts[[*FEATURES, *META]].reset_index(drop=True).to_parquet(bundle_dir / CONTEXTS, index=False)
    for name, table in evidence_tables.items():
        table.to_parquet(bundle_dir / name, index=False)
    (bundle_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    data_print = data_fingerprint(data_dir)
    version = new_version(data_print)
    card = model_card(version, profile, metrics, entries, frames, price_effect_note(models["network"]))
    (bundle_dir / "model_card.md").write_text(card)
    write_manifest(
        bundle_dir,
        version=version,
        data_fingerprint=data_print,
        feature_columns=list(FEATURES),
        models=entries,
        metrics=metrics,
        extra={
            "matrix_columns": preprocessor.columns,
            "profile": profile.name,
            "seed": seed,
            "target": "log1p(quantity)",
            "incidence": {
                "models": incidence_entries,
                "priority": [name for name in registry.INCIDENCE_PRIORITY if name in incidence_entries],
                "reference_weeks": reference.to_json(),
                "metrics": incidence_metrics,
                "target": "order lines per trading day",
            },
            "evidence": {
                "files": sorted(evidence_tables),
                "method": "current price: the list price on the last day sold; slope sd: Laplace approximation "
                "(pricing.training.evidence)",
                "recent_weeks": recent_weeks.to_json(),
            },
        },
    )
    return version


def _params_of(model) -> dict:
    config = getattr(model, "config", None)
    return asdict(config) if config is not None else {}
