"""`pricing publish` on a bundle written before the networks' serving format (pricing.models.arrays): a copy of
the bundle with each torch network's arrays exported and listed, checksummed, in the manifest, so the store
serves it without torch. Needs torch (the training environment), never imported by serving."""

from __future__ import annotations

import json
from pathlib import Path

from pricing.artifacts.bundle import MANIFEST, copy_bundle, open_bundle, sha256_of
from pricing.models.arrays import INCIDENCE_ARRAYS, NETWORK_ARRAYS


def missing_exports(manifest: dict) -> list[tuple[str, str, str]]:
    """(kind, model name, folder relpath) of every torch network folder the manifest lists without its export:
    kind "models" for the per-line network (each ensemble member's folder), "incidence" for the incidence
    network."""
    missing = []
    for kind, models, weights, arrays in (
        ("models", manifest.get("models", {}), "network.pt", NETWORK_ARRAYS),
        ("incidence", manifest.get("incidence", {}).get("models", {}), "incidence.pt", INCIDENCE_ARRAYS),
    ):
        for name, entry in models.items():
            listed = set(entry.get("files", []))
            for relpath in sorted(listed):
                folder, _, file = relpath.rpartition("/")
                if file == weights and f"{folder}/{arrays}" not in listed:
                    missing.append((kind, name, folder))
    return missing


def with_export(bundle_dir: Path) -> Path | None:
    """A copy of the bundle in a new temporary folder with the missing exports written and listed (same
    version: the arrays are a function of the weights the manifest already pins), or None when none is
    missing. The caller publishes and removes it. BundleIntegrityError for a bundle that fails its checks."""
    bundle = open_bundle(bundle_dir)
    missing = missing_exports(bundle.manifest)
    if not missing:
        return None
    from pricing.models.incidence import IncidenceNetwork  # torch: only for a bundle that needs the export
    from pricing.models.network import DFNRegressor

    target = copy_bundle(bundle, "bundle-export-")
    manifest = json.loads(json.dumps(bundle.manifest))
    for kind, name, folder in missing:
        if kind == "models":
            written = DFNRegressor.load(target / folder).export_arrays(target / folder)
            entry = manifest["models"][name]
        else:
            written = IncidenceNetwork.load(target / folder).export_arrays(target / folder)
            entry = manifest["incidence"]["models"][name]
        relpath = written.relative_to(target).as_posix()
        entry["files"] = [*entry["files"], relpath]
        manifest["files"][relpath] = sha256_of(written)
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return target
