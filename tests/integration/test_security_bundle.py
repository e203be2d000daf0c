"""A bundle file whose checksum does not match is never deserialised, whatever it holds."""

import json
import pickle
import shutil

import pytest

from pricing.artifacts.bundle import BundleIntegrityError, open_bundle
from pricing.artifacts.store import LocalStore
from pricing.config import Settings
from pricing.serving.app import create_app


class CreatesMarker:
    """Unpickled, this creates the marker file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def copy_of(quick_bundle, tmp_path):
    target = tmp_path / "bundle"
    shutil.copytree(quick_bundle, target)
    return target


def test_any_file_swapped_for_a_booby_trapped_pickle_is_refused_by_name_before_any_reader(quick_bundle, tmp_path):
    files = sorted(json.loads((quick_bundle / "manifest.json").read_text())["files"])
    assert {"preprocessor.json", "products.parquet", "contexts.parquet", "models/lightgbm/lightgbm.txt"} <= set(files)
    assert any(f.startswith("models/network/") and f.endswith(".pt") for f in files)
    marker = tmp_path / "DESERIALISED"
    for index, relpath in enumerate(files):
        root = copy_of(quick_bundle, tmp_path / str(index))
        (root / relpath).write_bytes(pickle.dumps(CreatesMarker(marker), protocol=2))
        with pytest.raises(BundleIntegrityError, match=f"{relpath}: checksum mismatch"):
            bundle = open_bundle(root, lazy_models=True)
            for name in bundle.model_names():
                bundle.load_model(name)
            for name in bundle.incidence_model_names():
                bundle.load_incidence_model(name)
        assert not marker.exists(), relpath


def test_a_valid_model_file_that_is_not_the_published_one_is_skipped_not_loaded(quick_bundle, tmp_path):
    """A LightGBM model that loads fine but differs from the manifest's (one leaf changed) is refused: what
    the checksum protects against is substitution, not only damage."""
    root = copy_of(quick_bundle, tmp_path)
    model = root / "models/lightgbm/lightgbm.txt"
    text = model.read_text()
    start = text.index("leaf_value=") + len("leaf_value=")
    end = text.index(" ", start)
    model.write_text(text[:start] + repr(float(text[start:end]) + 1.0) + text[end:])
    store = LocalStore(tmp_path / "store")  # laid out by hand: publishing verifies, and would refuse it
    version = json.loads((root / "manifest.json").read_text())["version"]
    shutil.copytree(root, store.root / version)
    (store.root / "LATEST").write_text(version + "\n")
    health = create_app(Settings(env="test", artifact_store=str(store.root))).test_client().get("/health").get_json()
    assert health["status"] == "degraded" and health["skipped_models"] == ["lightgbm"]
    assert "lightgbm" not in health["models"]
