import shutil
import uuid

import numpy as np
import pytest

from pricing.artifacts.bundle import BundleIntegrityError, open_bundle
from pricing.artifacts.store import LocalStore, S3Store, StoreError, open_store
from tests.servers import make_bucket


def second_version(quick_bundle, tmp_path):
    """The same bundle under another version id, as a later training run would publish."""
    import json

    from pricing.artifacts.bundle import write_manifest

    copy = tmp_path / "next"
    shutil.copytree(quick_bundle, copy)
    manifest = json.loads((copy / "manifest.json").read_text())
    (copy / "manifest.json").unlink()
    write_manifest(
        copy,
        version=manifest["version"] + "-next",
        data_fingerprint=manifest["data_fingerprint"],
        feature_columns=manifest["feature_columns"],
        models=manifest["models"],
        metrics=manifest["metrics"],
    )
    return copy


def predictions(bundle, rows: int = 50) -> np.ndarray:
    X = bundle.preprocessor().transform(bundle.contexts().head(rows))
    return bundle.load_model("network").predict(X)


class FailingAfter:
    """Makes the n-th file copy or upload of a publish fail, as a crash or lost connection would."""

    def __init__(self, store, method: str, n: int) -> None:
        self.calls, self.n = 0, n
        original = getattr(store, method)

        def failing(*args, **kwargs):
            self.calls += 1
            if self.calls >= self.n:
                raise ConnectionError("connection lost half-way")
            return original(*args, **kwargs)

        setattr(store, method, failing)


def test_a_bundle_round_trips_through_the_local_store(quick_bundle, tmp_path):
    store = open_store(tmp_path / "store")
    assert isinstance(store, LocalStore) and store.latest() is None
    version = store.publish(quick_bundle)
    assert store.latest() == version == open_bundle(quick_bundle).version
    fetched = store.fetch()
    assert np.array_equal(predictions(fetched), predictions(open_bundle(quick_bundle)))


def test_publishing_the_same_version_again_is_a_no_op(quick_bundle, tmp_path):
    store = LocalStore(tmp_path / "store")
    version = store.publish(quick_bundle)
    stamp = (tmp_path / "store" / version / "manifest.json").stat().st_mtime_ns
    assert store.publish(quick_bundle) == version
    assert (tmp_path / "store" / version / "manifest.json").stat().st_mtime_ns == stamp


def test_an_interrupted_local_publish_leaves_latest_on_the_previous_version(quick_bundle, tmp_path):
    store = LocalStore(tmp_path / "store")
    first = store.publish(quick_bundle)
    later = second_version(quick_bundle, tmp_path)
    FailingAfter(store, "_copy", 4)
    with pytest.raises(ConnectionError):
        store.publish(later)
    assert store.latest() == first
    assert store.fetch().version == first
    assert not (tmp_path / "store" / open_bundle(later).version).exists()


def test_a_store_without_a_bundle_says_so(tmp_path):
    with pytest.raises(StoreError, match="no bundle published"):
        LocalStore(tmp_path / "empty").fetch()


def test_a_bundle_round_trips_through_s3(quick_bundle, tmp_path, s3_env):
    bucket = f"bundles-{uuid.uuid4().hex[:8]}"
    client = make_bucket(bucket)
    store = open_store(f"s3://{bucket}/pricing")
    assert isinstance(store, S3Store) and store.latest() is None
    store.cache_dir = tmp_path / "cache"
    version = store.publish(quick_bundle)
    keys = {o["Key"] for o in client.list_objects_v2(Bucket=bucket)["Contents"]}
    assert f"pricing/{version}/manifest.json" in keys and "pricing/LATEST" in keys
    assert store.latest() == version
    fetched = store.fetch()
    assert fetched.root.is_relative_to(tmp_path / "cache")
    assert np.array_equal(predictions(fetched), predictions(open_bundle(quick_bundle)))
    assert store.publish(quick_bundle) == version  # again: a no-op


def test_an_interrupted_s3_publish_leaves_latest_on_the_previous_version(quick_bundle, tmp_path, s3_env):
    bucket = f"bundles-{uuid.uuid4().hex[:8]}"
    make_bucket(bucket)
    store = S3Store(bucket, "pricing", cache_dir=tmp_path / "cache")
    first = store.publish(quick_bundle)
    FailingAfter(store, "_put_file", 4)
    with pytest.raises(ConnectionError):
        store.publish(second_version(quick_bundle, tmp_path))
    reader = S3Store(bucket, "pricing", cache_dir=tmp_path / "reader-cache")
    assert reader.latest() == first
    assert reader.fetch().version == first


def test_a_tampered_object_in_s3_is_refused_naming_the_file(quick_bundle, tmp_path, s3_env):
    bucket = f"bundles-{uuid.uuid4().hex[:8]}"
    client = make_bucket(bucket)
    store = S3Store(bucket, "pricing", cache_dir=tmp_path / "cache")
    version = store.publish(quick_bundle)
    client.put_object(Bucket=bucket, Key=f"pricing/{version}/models/lightgbm/lightgbm.txt", Body=b"tree\n")
    fetched = store.fetch()  # model files are checked as each model loads, so the others still serve
    with pytest.raises(BundleIntegrityError, match=r"models/lightgbm/lightgbm\.txt: checksum mismatch"):
        fetched.load_model("lightgbm")
    assert np.isfinite(predictions(fetched)).all()

    shutil.rmtree(tmp_path / "cache")
    client.put_object(Bucket=bucket, Key=f"pricing/{version}/preprocessor.json", Body=b"{}")
    with pytest.raises(BundleIntegrityError, match=r"preprocessor\.json: checksum mismatch"):
        store.fetch()
    assert not (tmp_path / "cache" / version).exists()  # the bad copy is not kept
