import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.models import registry
from pricing.models.network import DFNConfig
from pricing.models.registry import FitContext
from pricing.training import tuning
from tests.unit.models.test_models import N_PRODUCTS, toy_data


def test_the_quick_profile_trains_evaluates_and_publishes_end_to_end(quick_training, tmp_path):
    """`pricing train --profile quick`, run once per test run by the `quick_training` fixture (every test that
    needs a bundle shares it), then `pricing publish`."""
    bundle_dir, reports, store = quick_training.bundle, quick_training.reports, tmp_path / "store"
    for name in ("network", "lightgbm", "svr", "elasticnet", "baseline"):
        assert name in quick_training.stdout  # the summary table
    bundle = open_bundle(bundle_dir)
    assert (reports / "metrics.png").stat().st_size > 10_000
    summary = json.loads((reports / "training_summary.json").read_text())
    assert summary["version"] == bundle.version
    assert {"tune network", "fit network", "tune lightgbm", "evaluate"} <= set(summary["timings_s"])
    card = (bundle_dir / "model_card.md").read_text()
    assert "| network |" in card and "pooled slope (per member: " in card

    published = subprocess.run(
        [sys.executable, "-m", "pricing", "publish", "--bundle-dir", str(bundle_dir), "--store", str(store)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert published.returncode == 0, published.stderr
    assert (store / "LATEST").read_text().strip() == bundle.version


def test_train_refuses_data_that_was_not_prepared(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "pricing", "train", "--profile", "quick", "--data-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 1 and "train.parquet" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture(scope="module")
def tiny():
    X, y = toy_data(1_200)
    X_val, y_val = toy_data(300, seed=5)
    return X, y, X_val, y_val


BASE = DFNConfig(units=(16,), max_epochs=2, batch_size=256)


def test_several_tuning_processes_share_one_study_through_a_journal_file(tiny, tmp_path):
    storage = f"journal:{tmp_path / 'tuning.journal'}"
    for _ in range(2):  # two runs, as two processes or machines would, against one storage
        _, summary = tuning.tune_network(
            *tiny, N_PRODUCTS, BASE, trials=2, seconds=3_600, storage=storage, study_name="shared"
        )
    assert summary["trials"] == 4


def test_several_tuning_processes_share_one_study_through_an_rdb(tiny, tmp_path):
    storage = f"sqlite:///{tmp_path / 'tuning.db'}"
    tuning.tune_network(*tiny, N_PRODUCTS, BASE, trials=2, seconds=3_600, storage=storage, study_name="rdb")
    _, summary = tuning.tune_network(
        *tiny, N_PRODUCTS, BASE, trials=1, seconds=3_600, storage=storage, study_name="rdb"
    )
    assert summary["trials"] == 3


def test_refine_runs_a_grid_around_the_best_trial(tiny):
    """Learning rate x 1/2, 1, 2 and dropout -/+ 0.05 around the best trial: 9 trials, and the config returned is
    a point of that grid, the best trial's own unless a grid point scored better."""
    config, summary = tuning.tune_network(*tiny, N_PRODUCTS, BASE, trials=2, seconds=3_600, refine=True)
    best, refine = summary["best_params"], summary["refine"]
    assert refine["trials"] == 9
    assert any(config.learning_rate == pytest.approx(best["learning_rate"] * f) for f in (0.5, 1.0, 2.0))
    dropouts = [min(max(best["dropout"] + d, 0.0), 0.5) for d in (-0.05, 0.0, 0.05)]
    assert any(config.dropout == pytest.approx(d, abs=5e-4) for d in dropouts)  # the grid's are to 3 decimals
    assert refine["improved"] == (refine["best_value"] < summary["best_value"])
    if not refine["improved"]:
        assert config == tuning.config_from_params(best, BASE)


@pytest.mark.parametrize("improved", [True, False])
def test_refine_keeps_the_best_trial_unless_a_grid_point_beats_it(tiny, improved):
    start = replace(BASE, learning_rate=1e-3, dropout=0.1)
    best_value = np.inf if improved else -np.inf  # every grid point beats it, or none does
    config, refine = tuning._refine(start, best_value, *tiny, N_PRODUCTS, None, "grid", 0)
    assert refine["trials"] == 9 and refine["improved"] is improved
    if improved:  # the grid's best point, one of learning rate x {1/2, 1, 2} and dropout -/+ 0.05
        assert any(config.learning_rate == pytest.approx(rate) for rate in (5e-4, 1e-3, 2e-3))
        assert config.dropout in (0.05, 0.1, 0.15)
        assert config == replace(start, learning_rate=config.learning_rate, dropout=config.dropout)
    else:
        assert config == start


@pytest.mark.parametrize("kind", [entry.name for entry in registry.cross_validated()])
def test_fallback_tuning_minimises_cross_validated_error(kind, tiny):
    X, y, _, _ = tiny
    context = FitContext(n_products=N_PRODUCTS, max_rows=800)
    params, summary = tuning.tune_fallback(kind, X, y, context, calls=5, folds=2, seconds=3_600)
    assert set(params) == set(registry.spec(kind).search_space)
    for name, value in params.items():  # every value from the registry's space
        dimension = registry.spec(kind).search_space[name]
        inside = value in dimension[1] if dimension[0] == "categorical" else dimension[1] <= value <= dimension[2]
        assert inside, (name, value, dimension)
    assert summary["calls"] == 5 and np.isfinite(summary["best_cv_mse"])
    assert summary["best_cv_mse"] < np.var(y)
