"""Broken copies of a real bundle for the fault scenarios: the original store is never written to.

- a primary model file swapped for a pickle that would create a marker file if anything unpickled it:
  the checksum must stop it before any loader sees it (the corrupted-model fault and the checksum check);
- a primary network whose weights are all NaN, re-checksummed so the bundle is valid: what a diverged
  training run would publish (the non-finite fault);
- a network whose serving export has a misshapen layer, re-checksummed: it loads, and raises at every request
  (the request-time failure the health check must report)."""

from __future__ import annotations

import json
import pickle
import shutil
from pathlib import Path

import numpy as np

from pricing.artifacts.bundle import MANIFEST, sha256_of
from pricing.artifacts.store import LATEST, LocalStore, open_store


def copy_latest(store: str, destination: Path) -> tuple[LocalStore, dict]:
    """A local store holding only the source store's LATEST version (S3 sources are fetched first)."""
    bundle = open_store(store).fetch()
    target = LocalStore(destination)
    shutil.copytree(bundle.root, target.root / bundle.version)
    (target.root / LATEST).write_text(bundle.version + "\n")
    return target, bundle.manifest


class _CreatesMarker:
    """Unpickling this opens (and so creates) the marker file: proof that someone deserialised it."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def swap_primary_for_marker_pickle(store: LocalStore, manifest: dict, marker: Path) -> str:
    """Replace the primary model's largest file with a booby-trapped pickle; the manifest is left alone."""
    primary = manifest["model_priority"][0]
    root = store.root / manifest["version"]
    relpath = max(manifest["models"][primary]["files"], key=lambda p: (root / p).stat().st_size)
    (root / relpath).write_bytes(pickle.dumps(_CreatesMarker(marker), protocol=2))
    return relpath


def poison_network_with_nan(store: LocalStore, manifest: dict) -> list[str]:
    """Every floating-point weight of the network set to NaN, in the torch weights and in the arrays export
    serving runs, the manifest's checksums updated to match."""
    import torch

    root = store.root / manifest["version"]
    manifest = json.loads((root / MANIFEST).read_text())  # the copy's own, not the caller's dict
    poisoned = []
    for relpath in manifest["models"]["network"]["files"]:
        if relpath.endswith(".pt"):
            state = torch.load(root / relpath, map_location="cpu", weights_only=True)
            for tensor in state.values():
                if tensor.is_floating_point():
                    tensor.fill_(float("nan"))
            torch.save(state, root / relpath)
        elif relpath.endswith(".npz"):  # the serving export (pricing.models.arrays): what serving runs
            _rewrite_arrays(root / relpath, lambda key, v: np.full_like(v, np.nan) if v.dtype.kind == "f" else v)
        else:
            continue
        manifest["files"][relpath] = sha256_of(root / relpath)
        poisoned.append(relpath)
    if not poisoned:
        raise RuntimeError("the bundle's network has no .pt weights file to poison")
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return poisoned


def misshape_network_output(store: LocalStore, manifest: dict) -> list[str]:
    """The network's serving export (each member's network.npz) with its output layer one input short, the
    manifest's checksums updated: the bundle loads and verifies, and every prediction of the network raises
    ValueError (a shape mismatch), as a bug in the exporter would make it. The files changed; RuntimeError for
    a bundle without the export."""
    root = store.root / manifest["version"]
    manifest = json.loads((root / MANIFEST).read_text())
    changed = [relpath for relpath in manifest["models"]["network"]["files"] if relpath.endswith(".npz")]
    for relpath in changed:
        _rewrite_arrays(root / relpath, lambda key, v: v[:, :-1] if key == "out.weight" else v)
        manifest["files"][relpath] = sha256_of(root / relpath)
    if not changed:
        raise RuntimeError("the bundle's network has no serving export (.npz) to misshape")
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return changed


def _rewrite_arrays(path: Path, change) -> None:
    """Rewrite the .npz at `path` with each array replaced by change(key, array)."""
    with np.load(path, allow_pickle=False) as archive:
        arrays = {key: change(key, archive[key]) for key in archive.files}
    np.savez(path, **arrays)
