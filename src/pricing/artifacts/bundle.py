"""A versioned bundle: everything serving needs, described and checksummed by `manifest.json`.

Layout:
    manifest.json        version, creation time, data fingerprint, feature columns, model priority,
                         per-model files and parameters, sha256 of every other file, metrics
    preprocessor.json    the fitted preprocessor
    products.parquet     the product table (training window)
    contexts.parquet     held-out context rows for the price sweep (X_test.parquet in older bundles)
    evidence.parquet     per product: current price and date, the posterior sd of its price slopes
    price_history.parquet  per product and list-price level: weeks, mean orders, units and sales per week
    costs.parquet        per product unit cost (only when published with `pricing publish --costs`)
    metrics.json, model_card.md
    models/<name>/...    one folder per model, in its own safe format

Nothing is deserialised before its checksum matches the manifest; a mismatch raises BundleIntegrityError
naming the file. Which class loads a model folder, and the order models are tried in, come from
pricing.models.registry (importing it imports no model library: a model's class is imported when it loads).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pricing.data.features import FEATURES
from pricing.data.preprocess import Preprocessor
from pricing.models import registry

MANIFEST = "manifest.json"
SCHEMA = 1
CONTEXTS = "contexts.parquet"
# What bundles published before the rename call the contexts file; they still load (Bundle.contexts).
LEGACY_CONTEXTS = "X_test.parquet"


class BundleIntegrityError(Exception):
    """A bundle file is missing or does not match its checksum; the message names the file."""


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fingerprint(paths: list[Path]) -> str:
    """A short digest of input files, so a bundle says which data it was trained on."""
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(sha256_of(path).encode())
    return digest.hexdigest()[:16]


def new_version(data_fingerprint: str, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%SZ}-{data_fingerprint[:8]}"


def write_manifest(
    root: Path,
    *,
    version: str,
    data_fingerprint: str,
    feature_columns: list[str],
    models: dict[str, dict],
    metrics: dict,
    extra: dict | None = None,
) -> dict:
    """Checksum every file under root (but the manifest) and write the manifest last; returns it.

    `models`: {name: {"files": [...], "params": ..., ...}}; `model_priority` lists them in the registry's fallback
    order. UnknownModel (pricing.models.registry) for a name the registry does not know: serving could not load it.
    """
    for name in models:
        registry.spec(name)  # a model serving could not load has no place in a bundle
    files = {
        path.relative_to(root).as_posix(): sha256_of(path)
        for path in sorted(root.rglob("*"))
        if path.is_file() and path.name != MANIFEST
    }
    manifest = {
        "schema": SCHEMA,
        "version": version,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "data_fingerprint": data_fingerprint,
        "feature_columns": feature_columns,
        "model_priority": registry.in_priority_order(models),
        "models": models,
        "files": files,
        "metrics": metrics,
        **(extra or {}),
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


@dataclass
class Bundle:
    root: Path
    manifest: dict

    @property
    def version(self) -> str:
        return self.manifest["version"]

    def verified(self, relpath: str) -> Path:
        """The file's path once its sha256 matches the manifest; BundleIntegrityError otherwise."""
        expected = self.manifest["files"].get(relpath)
        path = self.root / relpath
        if expected is None:
            raise BundleIntegrityError(f"{relpath}: not listed in the bundle manifest")
        if not path.is_file():
            raise BundleIntegrityError(f"{relpath}: missing from bundle {self.version}")
        if sha256_of(path) != expected:
            raise BundleIntegrityError(f"{relpath}: checksum mismatch in bundle {self.version}")
        return path

    def model_files(self) -> set[str]:
        entries = [*self.manifest["models"].values(), *self.manifest.get("incidence", {}).get("models", {}).values()]
        return {relpath for entry in entries for relpath in entry["files"]}

    def incidence_model_names(self) -> list[str]:
        """The incidence models (order lines per week) in their fallback order; [] for a bundle without them."""
        return list(self.manifest.get("incidence", {}).get("priority", []))

    def verify_model(self, name: str, incidence: bool = False) -> None:
        """Check every file of the model (or incidence model) against the manifest without loading it;
        UnknownModel, BundleIntegrityError. Serving checks its lazily loaded fallbacks with it at start."""
        if incidence:
            registry.incidence_class_path(name)  # UnknownModel before any file is touched
            entry = self.manifest["incidence"]["models"][name]
        else:
            registry.spec(name)
            entry = self.manifest["models"][name]
        for relpath in entry["files"]:
            self.verified(relpath)

    def load_incidence_model(self, name: str):
        """Verify every file of the incidence model, then load it; UnknownModel, BundleIntegrityError."""
        model_class = registry.incidence_class(name)
        for relpath in self.manifest["incidence"]["models"][name]["files"]:
            self.verified(relpath)
        return model_class.load(self.root / "models" / name)

    def reference_weeks(self):
        """The weeks serving averages a product's order rate over (pricing.data.incidence.ReferenceWeeks)."""
        from pricing.data.incidence import ReferenceWeeks

        return ReferenceWeeks.from_json(self.manifest["incidence"]["reference_weeks"])

    def recent_weeks(self):
        """The recent weeks the recent level was read over (pricing.training.evidence.recent_level); None for a
        bundle written before it."""
        from pricing.data.incidence import ReferenceWeeks

        payload = self.manifest.get("evidence", {}).get("recent_weeks")
        return None if payload is None else ReferenceWeeks.from_json(payload)

    def verify_all(self, skip: set[str] = frozenset()) -> None:
        for relpath in self.manifest["files"]:
            if relpath not in skip:
                self.verified(relpath)

    def preprocessor(self) -> Preprocessor:
        return Preprocessor.from_json(self.verified("preprocessor.json").read_text())

    def products(self) -> pd.DataFrame:
        return pd.read_parquet(self.verified("products.parquet")).set_index("stockcode")

    def contexts(self) -> pd.DataFrame:
        """The held-out context rows (features and meta columns) the price sweep samples."""
        # contexts.parquet when the manifest lists it; bundles published before the rename hold X_test.parquet
        # (same content), and must keep loading from the stores they were published to
        name = CONTEXTS if CONTEXTS in self.manifest["files"] else LEGACY_CONTEXTS
        return pd.read_parquet(self.verified(name))

    def table(self, name: str) -> pd.DataFrame | None:
        """An optional table the manifest lists (evidence.parquet, price_history.parquet, costs.parquet), read
        after its checksum; None for a bundle without it (written before it existed, or without costs)."""
        if name not in self.manifest["files"]:
            return None
        return pd.read_parquet(self.verified(name))

    def model_names(self) -> list[str]:
        """The manifest's models in the registry's fallback order, the order serving tries them in. A name the
        registry does not know stays listed (last), so that load_model refuses it by name."""
        return registry.in_priority_order(self.manifest["model_priority"])

    def load_model(self, name: str):
        """Verify every file of the model, then load it with its registry class's own safe loader.

        UnknownModel for a name the registry does not know (nothing is read); BundleIntegrityError naming the
        first file that is missing or differs from the manifest."""
        model_class = registry.model_class(name)  # refuses an unknown name before any file is touched
        for relpath in self.manifest["models"][name]["files"]:
            self.verified(relpath)
        return model_class.load(self.root / "models" / name)


def copy_bundle(bundle: Bundle, prefix: str) -> Path:
    """Every file the bundle's manifest lists, copied into a new temporary folder (named `prefix`...; the manifest
    itself is left to the caller, who writes its amended one there, publishes the copy and removes it)."""
    import shutil
    import tempfile

    target = Path(tempfile.mkdtemp(prefix=prefix))
    for relpath in bundle.manifest["files"]:
        (target / relpath).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(bundle.root / relpath, target / relpath)
    return target


def open_bundle(root: Path, verify: bool = True, lazy_models: bool = False) -> Bundle:
    """Open a bundle folder; with `verify`, every file is checked before anything is read.

    With `lazy_models`, model files are left to `load_model`, which verifies each model before loading it:
    serving skips a broken model and falls back to the next instead of refusing the whole bundle."""
    root = Path(root)
    manifest_path = root / MANIFEST
    if not manifest_path.is_file():
        raise BundleIntegrityError(f"{MANIFEST}: missing in {root.name}")
    try:
        manifest = json.loads(manifest_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleIntegrityError(f"{MANIFEST}: not valid JSON ({exc.msg})") from exc
    if manifest.get("schema") != SCHEMA:
        raise BundleIntegrityError(f"{MANIFEST}: schema {manifest.get('schema')!r}, expected {SCHEMA}")
    if manifest.get("feature_columns") != list(FEATURES):
        # a bundle trained on other features would be fed the wrong columns: refuse it, whatever its checksums
        raise BundleIntegrityError(
            f"{MANIFEST}: built for features {manifest.get('feature_columns')}, this code computes {list(FEATURES)}:"
            " publish a bundle trained by this version"
        )
    bundle = Bundle(root, manifest)
    if verify:
        bundle.verify_all(skip=bundle.model_files() if lazy_models else frozenset())
    return bundle
