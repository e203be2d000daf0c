"""`pricing train`: tune and fit the four models on prepared data, evaluate them on the held-out split, and
write one self-describing bundle. Training-only: the server never imports this module."""

from __future__ import annotations

import json
import resource
import shutil
import textwrap
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.bundle import MODEL_PRIORITY, fingerprint, new_version, write_manifest
from pricing.data.features import FEATURES, META, TARGET
from pricing.data.preprocess import Preprocessor
from pricing.models.fallbacks import ElasticNetModel, KernelSVRModel, LightGBMConfig, LightGBMModel, SVRConfig
from pricing.models.network import DFNConfig, DFNEnsemble
from pricing.training import tuning
from pricing.training.metrics import METRIC_TABLE_NOTE, MedianQuantityBaseline, regression_metrics

NETWORK_LOSS = "poisson"
# each product's demand falls log-linearly in price / median, its slope shrunk toward the pooled one: a free
# price input let the network flatten weak price effects and recommend the range's top (docs/PRICING_QUALITY.md)
NETWORK_PRICE_EFFECT = "loglinear"


@dataclass(frozen=True)
class Profile:
    """Wall-clock budgets first, counts second: each search stops at whichever comes first."""

    name: str
    max_train_rows: int | None  # None: every training row
    tune_rows: int  # the subsample the searches see
    network_trials: int
    network_tune_s: float
    network_tune_epochs: int
    network_final_epochs: int
    network_final_s: float  # for all members together
    network_members: int  # networks averaged (DFNEnsemble): fewer swings in a product's recommended price
    backup_calls: int
    backup_tune_s: float  # per backup model
    folds: int
    svr_max_rows: int
    max_context_rows: int  # held-out rows kept in the bundle for the price sweep


PROFILES = {
    "quick": Profile(
        "quick",
        max_train_rows=20_000,
        tune_rows=6_000,
        network_trials=4,
        network_tune_s=30,
        network_tune_epochs=4,
        network_final_epochs=12,
        network_final_s=30,
        network_members=2,
        backup_calls=5,
        backup_tune_s=10,
        folds=2,
        svr_max_rows=4_000,
        max_context_rows=5_000,
    ),
    "standard": Profile(
        "standard",
        max_train_rows=None,
        tune_rows=60_000,
        network_trials=40,
        network_tune_s=240,
        network_tune_epochs=8,
        network_final_epochs=40,
        network_final_s=600,
        network_members=3,
        backup_calls=12,
        backup_tune_s=50,
        folds=3,
        svr_max_rows=30_000,
        max_context_rows=100_000,
    ),
    "full": Profile(
        "full",
        max_train_rows=None,
        tune_rows=150_000,
        network_trials=150,
        network_tune_s=1_500,
        network_tune_epochs=12,
        network_final_epochs=80,
        network_final_s=1_500,
        network_members=5,
        backup_calls=30,
        backup_tune_s=240,
        folds=5,
        svr_max_rows=60_000,
        max_context_rows=200_000,
    ),
}


@dataclass
class Split:
    frame: pd.DataFrame
    X: np.ndarray
    y: np.ndarray


def load_splits(data_dir: Path, profile: Profile, seed: int) -> dict[str, pd.DataFrame]:
    frames = {name: pd.read_parquet(data_dir / f"{name}.parquet") for name in ("train", "val", "test")}
    missing = [c for c in FEATURES if c not in frames["train"].columns]
    if missing:
        raise ValueError(f"{data_dir}/train.parquet lacks feature column(s) {', '.join(missing)}: run pricing prepare")
    if profile.max_train_rows is not None:
        for name, share in (("train", 1.0), ("val", 0.25)):
            limit = int(profile.max_train_rows * share)
            if len(frames[name]) > limit:
                frames[name] = frames[name].sample(limit, random_state=seed).sort_values("invoice_date")
    return frames


def train(
    data_dir: Path,
    bundle_dir: Path,
    profile_name: str = "standard",
    storage: str | None = None,
    refine: bool = False,
    seed: int = 0,
    reports_dir: Path = Path("reports"),
) -> dict:
    profile = PROFILES[profile_name]
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        timings[stage] = round(time.perf_counter() - clock, 2)
        clock = time.perf_counter()

    frames = load_splits(data_dir, profile, seed)
    preprocessor = Preprocessor.fit(frames["train"])
    splits = {
        name: Split(f, preprocessor.transform(f), f[TARGET].to_numpy(dtype=np.float64)) for name, f in frames.items()
    }
    n_products = preprocessor.n_products
    tune_pick = np.random.default_rng(seed).permutation(len(splits["train"].X))[: profile.tune_rows]
    X_tune, y_tune = splits["train"].X[tune_pick], splits["train"].y[tune_pick]
    val_pick = np.random.default_rng(seed + 1).permutation(len(splits["val"].X))[: max(profile.tune_rows // 4, 500)]
    X_tune_val, y_tune_val = splits["val"].X[val_pick], splits["val"].y[val_pick]
    lap("load")

    models: dict[str, object] = {}
    tuned: dict[str, dict] = {}
    # Poisson deviance on the quantity: the network learns the mean quantity's price slope, which is what a
    # revenue optimum needs (squared error on log1p learns E[log1p q], whose slope is flatter: prices too high)
    base = DFNConfig(
        max_epochs=profile.network_tune_epochs,
        seed=seed,
        loss=NETWORK_LOSS,
        price_effect=NETWORK_PRICE_EFFECT,
        **preprocessor.price_layout(),
    )
    network_config, tuned["network"] = tuning.tune_network(
        X_tune,
        y_tune,
        X_tune_val,
        y_tune_val,
        n_products,
        base,
        trials=profile.network_trials,
        seconds=profile.network_tune_s,
        storage=storage,
        refine=refine,
        seed=seed,
    )
    encodings = tuning.compare_encodings(network_config, X_tune, y_tune, X_tune_val, y_tune_val, n_products)
    tuned["network"]["encodings_val_loss"] = encodings
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

        models["network"] = DFNEnsemble(network_config, n_products=n_products, members=members).fit(
            splits["train"].X, splits["train"].y, splits["val"].X, splits["val"].y, on_epoch=show
        )
    tuned["network"]["final"] = {
        "members": members,
        "epochs": len(models["network"].history.val_loss),
        "best_epoch": models["network"].history.best_epoch,
        "stopped_early": models["network"].history.stopped_early,
        "seconds": round(sum(m.history.seconds for m in models["network"].members), 1),
    }
    lap("fit network")

    for kind in ("lightgbm", "svr", "elasticnet"):
        params, tuned[kind] = tuning.tune_backup(
            kind,
            X_tune,
            y_tune,
            n_products,
            calls=profile.backup_calls,
            folds=profile.folds,
            seconds=profile.backup_tune_s,
            svr_max_rows=profile.svr_max_rows,
            seed=seed,
            price_columns=tuple(preprocessor.price_columns),
        )
        tuned[kind]["best_params"] = params
        lap(f"tune {kind}")
        models[kind] = _fit_backup(kind, params, splits, preprocessor, profile, seed)
        lap(f"fit {kind}")

    metrics = evaluate(models, splits, frames)
    lap("evaluate")

    version = _write_bundle(bundle_dir, models, preprocessor, frames, data_dir, metrics, tuned, profile, seed)
    chart = write_reports(bundle_dir, reports_dir, metrics, version)
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
        "encodings_val_loss": tuned["network"]["encodings_val_loss"],
    }
    (reports_dir / "training_summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _fit_backup(
    kind: str, params: dict, splits: dict[str, Split], preprocessor: Preprocessor, profile: Profile, seed: int
):
    n_products = preprocessor.n_products
    train, val = splits["train"], splits["val"]
    if kind == "lightgbm":
        config = LightGBMConfig(seed=seed, decreasing_columns=tuple(preprocessor.price_columns))
        return LightGBMModel(config, **params).fit(train.X, train.y, val.X, val.y)
    if kind == "svr":
        return KernelSVRModel(SVRConfig(max_rows=profile.svr_max_rows, seed=seed), n_products, **params).fit(
            train.X, train.y
        )
    return ElasticNetModel(n_products=n_products, **params).fit(train.X, train.y)


def evaluate(models: dict, splits: dict[str, Split], frames: dict[str, pd.DataFrame]) -> dict[str, dict]:
    test = splits["test"]
    results = {name: regression_metrics(test.y, model.predict(test.X)) for name, model in models.items()}
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
) -> str:
    if bundle_dir.exists():
        shutil.rmtree(bundle_dir)
    bundle_dir.mkdir(parents=True)
    entries = {}
    for name in MODEL_PRIORITY:
        files = models[name].save(bundle_dir / "models" / name)
        entries[name] = {
            "files": [p.relative_to(bundle_dir).as_posix() for p in files],
            "params": _params_of(models[name]),
            "tuning": tuned[name],
        }
    (bundle_dir / "preprocessor.json").write_text(preprocessor.to_json())
    products = pd.read_parquet(data_dir / "products.parquet")
    products.to_parquet(bundle_dir / "products.parquet", index=False)
    contexts = frames["test"]
    if len(contexts) > profile.max_context_rows:
        contexts = contexts.sample(profile.max_context_rows, random_state=seed)
    contexts[[*FEATURES, *META]].reset_index(drop=True).to_parquet(bundle_dir / "X_test.parquet", index=False)
    (bundle_dir / "metrics.json").write_text(json.dumps(metrics, indent=2) + "\n")
    data_print = fingerprint([data_dir / f"{n}.parquet" for n in ("train", "val", "test", "products")])
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
        },
    )
    return version


def _params_of(model) -> dict:
    config = getattr(model, "config", None)
    return asdict(config) if config is not None else {}


def price_effect_note(network) -> str:
    """The network's price effect in a sentence: with the loglinear effect, each member's pooled slope."""
    members = getattr(network, "members", [network])
    if members[0].config.price_effect != "loglinear":
        return "The network reads the price as a free input: its price effect has whatever shape it learned."
    slopes = ", ".join(f"{m.network.pooled_slope():.3f}" for m in members)
    return (
        f"The network's log E[q] falls linearly in price / median, one slope per product shrunk toward the pooled "
        f"slope (per member: {slopes}); a product's recommended price is about its median price / its slope."
    )


def model_card(
    version: str, profile: Profile, metrics: dict, entries: dict, frames: dict, price_effect: str = ""
) -> str:
    rows = "\n".join(
        f"| {name} | {m['mse_log']:.4f} | {m['rmsle']:.4f} | {m['mae']:.3f} | {m['poisson_deviance']:.3f} |"
        for name, m in metrics.items()
    )
    params = "\n".join(f"- **{name}**: `{json.dumps(entry['params'])}`" for name, entry in entries.items())
    train = frames["train"]
    return f"""# Model card: pricing bundle {version}

**Task**: predict log1p(quantity) of an invoice line from price, product and context; the API sweeps the price
to find the revenue-maximising one. **Profile**: {profile.name}. **Serving order** (fallback):
{" -> ".join(MODEL_PRIORITY)}.

## Data
Training window {train["invoice_date"].min():%Y-%m-%d} to {train["invoice_date"].max():%Y-%m-%d}
({len(train):,} rows); validation {len(frames["val"]):,} rows; held-out test
{frames["test"]["invoice_date"].min():%Y-%m-%d} to {frames["test"]["invoice_date"].max():%Y-%m-%d}
({len(frames["test"]):,} rows). Chronological split; product statistics from the training window only.

## Held-out metrics (lower is better)
| model | MSE (log) | RMSLE | MAE (units) | Poisson deviance |
|---|---|---|---|---|
{rows}

The baseline predicts each product's median quantity in the training window. {METRIC_TABLE_NOTE} The network is
trained for the mean quantity (Poisson deviance), the backups for log1p(quantity) (squared error). What matters
for pricing is the recommended price: see `pricing evaluate` (generated data) and `pricing report` (any data).

## Models
{params}

{price_effect}

## Limits
- Quantities are per invoice line; demand that never became a line (lost sales) is invisible.
- Prices outside a product's historical range are extrapolation; the API defaults to that range.
- The backups' target is log1p(quantity), so expm1 of their prediction estimates a typical line, not the mean
  (the network's is the mean).
- A log-linear price effect cannot show a demand that drops at a threshold price; a product's own price
  history moves its slope only as far as its evidence outweighs the prior.
"""


def write_reports(bundle_dir: Path, reports_dir: Path, metrics: dict, version: str) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports_dir.mkdir(parents=True, exist_ok=True)
    names = list(metrics)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
    labels = {
        "mse_log": "MSE on log1p(quantity)",
        "rmsle": "RMSLE",
        "mae": "MAE (units)",
        "poisson_deviance": "Poisson deviance (mean quantity)",
    }
    for ax, key in zip(axes, labels, strict=True):
        values = [metrics[n][key] for n in names]
        bars = ax.bar(names, values, color=["#2b6cb0" if n != "baseline" else "#a0aec0" for n in names])
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
        ax.set_title(labels[key])
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"Held-out metrics, bundle {version} (lower is better)")
    fig.text(0.5, 0.01, textwrap.fill(METRIC_TABLE_NOTE, 190), ha="center", va="bottom", fontsize=7.5)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    chart = reports_dir / "metrics.png"
    fig.savefig(chart, dpi=110)
    plt.close(fig)
    return chart


def summary_table(summary: dict) -> str:
    lines = [
        f"bundle {summary['version']} ({summary['profile']}) in {summary['bundle_dir']}",
        "",
        "product encoding, validation loss: "
        + ", ".join(f"{name} {value:.4f}" for name, value in summary["encodings_val_loss"].items()),
        "",
        f"{'model':<11} {'MSE(log)':>9} {'RMSLE':>8} {'MAE':>8} {'deviance':>9}",
    ]
    for name, m in summary["metrics"].items():
        lines.append(
            f"{name:<11} {m['mse_log']:>9.4f} {m['rmsle']:>8.4f} {m['mae']:>8.3f} {m['poisson_deviance']:>9.3f}"
        )
    lines += [
        textwrap.fill(METRIC_TABLE_NOTE, 110),
        "",
        "stage timings (s): " + ", ".join(f"{k} {v}" for k, v in summary["timings_s"].items()),
        f"total {summary['total_s']} s, peak RSS {summary['peak_rss_mb']} MB, chart {summary['chart']}",
    ]
    return "\n".join(lines)
