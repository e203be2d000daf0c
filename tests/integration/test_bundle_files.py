import json
import re
import shutil

import numpy as np
import pandas as pd
import pytest

from pricing.artifacts.bundle import BundleIntegrityError, open_bundle, sha256_of
from pricing.data.features import FEATURES, TARGET
from pricing.models.registry import INCIDENCE_PRIORITY, MODEL_PRIORITY
from pricing.training.metrics import regression_metrics


@pytest.fixture
def bundle_copy(quick_bundle, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(quick_bundle, target)
    return target


def test_the_manifest_describes_everything_serving_needs(quick_bundle):
    bundle = open_bundle(quick_bundle)
    manifest = bundle.manifest
    assert manifest["model_priority"] == list(MODEL_PRIORITY)
    assert manifest["feature_columns"] == list(FEATURES)
    assert {"version", "created_at", "data_fingerprint", "metrics", "files"} <= set(manifest)
    for required in ("preprocessor.json", "products.parquet", "contexts.parquet", "metrics.json", "model_card.md"):
        assert required in manifest["files"]
    assert "X_test.parquet" not in manifest["files"]
    assert set(manifest["metrics"]) == {*MODEL_PRIORITY, "baseline"}
    listed = {p.relative_to(quick_bundle).as_posix() for p in quick_bundle.rglob("*") if p.is_file()}
    assert listed - {"manifest.json"} == set(manifest["files"])


def test_every_model_loads_and_scores_the_held_out_rows_as_it_did_when_trained(quick_bundle, small_prepared):
    """Each model read back from its files predicts the test split it was scored on at training: the same
    metrics as the manifest records, so what serving loads is what was trained and measured."""
    bundle = open_bundle(quick_bundle)
    test = pd.read_parquet(small_prepared / "test.parquet")
    X, y = bundle.preprocessor().transform(test), test[TARGET].to_numpy(dtype=float)
    assert set(bundle.model_names()) == set(MODEL_PRIORITY)
    for name in bundle.model_names():
        prediction = bundle.load_model(name).predict(X)
        assert prediction.shape == (len(test),) and np.isfinite(prediction).all(), name
        recorded = bundle.manifest["metrics"][name]
        assert regression_metrics(y, prediction) == pytest.approx(recorded, rel=1e-3), name


def model_files(bundle_dir) -> list[str]:
    manifest = json.loads((bundle_dir / "manifest.json").read_text())
    return [f for entry in manifest["models"].values() for f in entry["files"]]


# every model a bundle holds, the per-line chain and the incidence chain, from the registry: a model added there
# is flipped here too
EVERY_MODEL = [*((name, False) for name in MODEL_PRIORITY), *((name, True) for name in INCIDENCE_PRIORITY)]


@pytest.mark.parametrize(("name", "incidence"), EVERY_MODEL, ids=[name for name, _ in EVERY_MODEL])
def test_one_byte_changed_in_any_model_file_is_refused_naming_the_file(quick_bundle, bundle_copy, name, incidence):
    """Each file of each model in turn (the network's members, every fallback, both incidence models): one bit
    flipped is refused by the full check at open and by the model's own check when it loads, naming the file."""
    manifest = json.loads((quick_bundle / "manifest.json").read_text())
    entry = manifest["incidence"]["models"][name] if incidence else manifest["models"][name]
    assert entry["files"], f"{name}: no file in the manifest"
    for relpath in entry["files"]:
        path = bundle_copy / relpath
        original = path.read_bytes()
        data = bytearray(original)
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
        named = re.escape(f"{relpath}: checksum mismatch")
        with pytest.raises(BundleIntegrityError, match=named):
            open_bundle(bundle_copy)
        lazy = open_bundle(bundle_copy, verify=False)
        with pytest.raises(BundleIntegrityError, match=named):
            lazy.load_incidence_model(name) if incidence else lazy.load_model(name)
        path.write_bytes(original)
    open_bundle(bundle_copy)  # every file restored: the copy verifies again


def test_the_other_models_still_load_when_one_is_corrupted(quick_bundle, bundle_copy):
    network_weights = next(f for f in model_files(quick_bundle) if f.endswith(".pt"))
    (bundle_copy / network_weights).write_bytes(b"garbage")
    bundle = open_bundle(bundle_copy, verify=False)
    with pytest.raises(BundleIntegrityError):
        bundle.load_model("network")
    assert np.isfinite(
        bundle.load_model("lightgbm").predict(bundle.preprocessor().transform(bundle.contexts().head(5)))
    ).all()


def test_a_missing_file_or_manifest_is_refused(bundle_copy):
    (bundle_copy / "products.parquet").unlink()
    with pytest.raises(BundleIntegrityError, match=r"products\.parquet: missing"):
        open_bundle(bundle_copy)
    (bundle_copy / "manifest.json").unlink()
    with pytest.raises(BundleIntegrityError, match="manifest"):
        open_bundle(bundle_copy)


def test_the_metrics_table_shows_the_network_beating_the_baseline(quick_bundle):
    metrics = json.loads((quick_bundle / "metrics.json").read_text())
    # the network predicts mean quantities (Poisson): the deviance is its score; the fallbacks' is MSE on log
    assert metrics["network"]["poisson_deviance"] < metrics["baseline"]["poisson_deviance"]
    assert metrics["lightgbm"]["mse_log"] < metrics["baseline"]["mse_log"]


def test_a_bundle_built_for_other_features_is_refused_before_anything_is_read(bundle_copy):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["feature_columns"] = [c for c in manifest["feature_columns"] if c != "customer_price_tier"]
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BundleIntegrityError, match="built for features"):
        open_bundle(bundle_copy, verify=False)


def test_a_bundle_published_before_the_rename_still_reads_its_x_test_contexts(quick_bundle, bundle_copy):
    """Bundles already in stores hold the contexts as X_test.parquet: they load, checksum-verified."""
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    (bundle_copy / "contexts.parquet").rename(bundle_copy / "X_test.parquet")
    manifest["files"]["X_test.parquet"] = manifest["files"].pop("contexts.parquet")
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    legacy = open_bundle(bundle_copy)
    pd.testing.assert_frame_equal(legacy.contexts(), open_bundle(quick_bundle).contexts())

    (bundle_copy / "X_test.parquet").write_bytes(b"tampered")  # the old name is verified like the new one
    with pytest.raises(BundleIntegrityError, match=r"X_test\.parquet: checksum mismatch"):
        open_bundle(bundle_copy, verify=False).contexts()


def test_a_manifest_listing_contexts_parquet_never_falls_back_to_a_stray_x_test_file(bundle_copy):
    (bundle_copy / "X_test.parquet").write_bytes((bundle_copy / "contexts.parquet").read_bytes())
    (bundle_copy / "contexts.parquet").unlink()
    with pytest.raises(BundleIntegrityError, match=r"contexts\.parquet: missing"):
        open_bundle(bundle_copy, verify=False).contexts()


def test_serving_tries_the_manifests_models_in_the_registrys_order_and_refuses_an_unknown_one_by_name(bundle_copy):
    manifest = json.loads((bundle_copy / "manifest.json").read_text())
    manifest["model_priority"] = ["elasticnet", "mystery", "network", "lightgbm"]
    (bundle_copy / "models" / "mystery").mkdir()
    (bundle_copy / "models" / "mystery" / "model.json").write_text("{}")
    manifest["models"]["mystery"] = {"files": ["models/mystery/model.json"], "params": {}}
    manifest["files"]["models/mystery/model.json"] = sha256_of(bundle_copy / "models" / "mystery" / "model.json")
    (bundle_copy / "manifest.json").write_text(json.dumps(manifest))
    bundle = open_bundle(bundle_copy)
    assert bundle.model_names() == ["network", "lightgbm", "elasticnet", "mystery"]
    with pytest.raises(LookupError, match="unknown model 'mystery'"):
        bundle.load_model("mystery")
