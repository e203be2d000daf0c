"""A new bundle version derived from a published one: the parent's files unchanged, some files added or replaced,
the manifest re-written with every file's sha256, published through the store (files, manifest, LATEST last).

`pricing experiment start` (experiment.json) and `pricing experiment update` (its evidence, weeks and report)
publish through it, and `pricing publish` carries a running experiment into a retrained bundle with `derive`
(pricing.experiments.start.carry_experiment); `pricing publish --costs` still does it by hand
(pricing.artifacts.costs.with_costs).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable
from pathlib import Path

from pricing.artifacts.bundle import MANIFEST, Bundle, copy_bundle, sha256_of


def derive(
    parent: Bundle,
    version: str,
    write: Callable[[Path], Iterable[str]],
    manifest_updates: dict | None = None,
    prefix: str = "bundle-derived-",
) -> Path:
    """A temporary folder holding `parent`'s files, the files `write(folder)` adds (it returns their paths relative
    to the folder) and a manifest (the parent's, `version`, every file with its sha256, `manifest_updates` merged
    at the top level): a bundle for the caller to publish and then remove. The folder is removed if `write` fails."""
    target = copy_bundle(parent, prefix)
    try:
        added = list(write(target))
        manifest = json.loads(json.dumps(parent.manifest))  # a deep copy: the parent's stays as it was loaded
        manifest["version"] = version
        manifest["files"] = {**manifest["files"], **{name: sha256_of(target / name) for name in added}}
        manifest.update(manifest_updates or {})
        (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    except BaseException:
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def publish_derived(
    store,
    parent: Bundle,
    version: str,
    write: Callable[[Path], Iterable[str]],
    manifest_updates: dict | None = None,
    prefix: str = "bundle-derived-",
) -> str:
    """`derive`'s bundle published to `store` (the copy removed after); the version.

    Everything that can refuse the input must run before: a failure here (the store's StoreError, an OSError)
    leaves LATEST as it was, since the store flips it last."""
    target = derive(parent, version, write, manifest_updates, prefix)
    try:
        return store.publish(target)
    finally:
        shutil.rmtree(target, ignore_errors=True)
