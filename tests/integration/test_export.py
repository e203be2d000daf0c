"""The networks' serving format end to end: a bundle written before it is published with it, and serving from the
arrays answers what serving through torch answers, for every product of a quick bundle."""

import json
import shutil

import numpy as np
import pytest

from pricing.artifacts.bundle import open_bundle, sha256_of
from pricing.artifacts.export import missing_exports, with_export
from pricing.artifacts.store import LocalStore
from pricing.models.arrays import ArrayDFNEnsemble, ArrayIncidenceNetwork
from pricing.serving.errors import NoUsableModel
from pricing.serving.predictor import LazyModel, Predictor
from pricing.serving.request import PriceRequest
from tests.integration.test_cli import pricing


@pytest.fixture(scope="module")
def torch_only_bundle(quick_bundle, tmp_path_factory):
    """The quick bundle as a version before the export wrote it: the .npz files gone from disk and manifest."""
    root = tmp_path_factory.mktemp("before-export") / "bundle"
    shutil.copytree(quick_bundle, root)
    manifest = json.loads((root / "manifest.json").read_text())
    sections = [manifest["models"], manifest["incidence"]["models"]]
    for relpath in [p for p in manifest["files"] if p.endswith(".npz")]:
        (root / relpath).unlink()
        del manifest["files"][relpath]
        for section in sections:
            for entry in section.values():
                entry["files"] = [f for f in entry["files"] if f != relpath]
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return root


def test_training_writes_the_export_and_the_manifest_checksums_it(quick_bundle):
    manifest = open_bundle(quick_bundle).manifest
    assert missing_exports(manifest) == []
    exported = [p for p in manifest["files"] if p.endswith(".npz")]
    assert "models/incidence_network/incidence.npz" in exported
    assert (
        sum(p.startswith("models/network/member") for p in exported)
        == json.loads((quick_bundle / "models/network/ensemble.json").read_text())["members"]
    )


def test_a_bundle_without_the_export_still_serves_through_torch(torch_only_bundle):
    from pricing.models.network import DFNEnsemble

    predictor = Predictor(open_bundle(torch_only_bundle, lazy_models=True))
    assert isinstance(dict(predictor.models)["network"], DFNEnsemble)
    code = predictor.products.sort_values("lines").index[-1]
    low, high = predictor.default_range(code)
    assert predictor.decide(PriceRequest(code, low, high, 20, 50)).model == "network"


def test_publish_adds_the_export_and_every_products_curve_and_price_match_torchs(torch_only_bundle, tmp_path):
    assert len(missing_exports(open_bundle(torch_only_bundle).manifest)) >= 2
    done = pricing("publish", "--bundle-dir", str(torch_only_bundle), "--store", str(tmp_path / "store"))
    assert done.returncode == 0, done.stderr
    assert "serving arrays" in done.stdout
    published = LocalStore(tmp_path / "store").fetch()
    published.verify_all()  # every exported file is listed with its checksum
    assert missing_exports(published.manifest) == []
    assert published.version == open_bundle(torch_only_bundle).version  # the same weights, the same version

    arrays = Predictor(published)
    assert isinstance(dict(arrays.models)["network"], ArrayDFNEnsemble)
    assert isinstance(dict(arrays.incidence_models)["incidence_network"], ArrayIncidenceNetwork)
    torch_path = Predictor(open_bundle(torch_only_bundle, lazy_models=True))
    for code in arrays.products.index:  # every product of the bundle
        low, high = arrays.default_range(code)
        request = PriceRequest(code, low, high, 30, 40)
        expected, got = torch_path.recommend(request).result, arrays.recommend(request).result
        np.testing.assert_allclose(got.units_per_week, expected.units_per_week, rtol=1e-5)
        np.testing.assert_allclose(got.quantity, expected.quantity, rtol=1e-5)
        assert got.optimal_price == expected.optimal_price, code


def test_with_export_leaves_a_bundle_that_has_it_alone(quick_bundle):
    assert with_export(quick_bundle) is None


def test_the_fallbacks_load_when_the_chain_first_needs_them(quick_bundle, tmp_path):
    predictor = Predictor(open_bundle(quick_bundle, lazy_models=True))
    fallbacks = dict(predictor.models[1:])
    assert set(fallbacks) == {"lightgbm", "svr", "elasticnet"}
    assert all(isinstance(m, LazyModel) and not m.loaded for m in fallbacks.values())
    assert isinstance(dict(predictor.incidence_models)["incidence_lightgbm"], LazyModel)
    code = predictor.products.sort_values("lines").index[-1]
    low, high = predictor.default_range(code)
    predictor.recommend(PriceRequest(code, low, high, 20, 50))  # the primary answers: nothing else loads
    assert not any(m.loaded for m in fallbacks.values())
    assert predictor.recommend(PriceRequest(code, low, high, 20, 50), only="svr").model == "svr"
    assert fallbacks["svr"].loaded and not fallbacks["lightgbm"].loaded

    # a fallback file that fails its checksum is skipped at start (no import needed to check it) ...
    root = tmp_path / "bundle"
    shutil.copytree(quick_bundle, root)
    (root / "models/lightgbm/lightgbm.txt").write_text("tree\n")
    assert "BundleIntegrityError" in Predictor(open_bundle(root, lazy_models=True)).skipped["lightgbm"]
    # ... and one that passes it but does not load is found when first needed: skipped, and the chain goes on
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["models/lightgbm/lightgbm.txt"] = sha256_of(root / "models/lightgbm/lightgbm.txt")
    (root / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    broken = Predictor(open_bundle(root, lazy_models=True))
    assert "lightgbm" not in broken.skipped
    with pytest.raises(NoUsableModel):
        broken.recommend(PriceRequest(code, low, high, 20, 50), only="lightgbm")
    assert "lightgbm" in broken.skipped
