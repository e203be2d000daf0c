"""Where bundles live: a local folder (the default) or S3. One interface, two implementations.

Publishing uploads every file of a version first, its manifest next, and flips `LATEST` last, so a reader
following `LATEST` never sees half a bundle. Publishing a version that is already there is a no-op; a
different bundle under an existing version is refused.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Protocol

from pricing.artifacts.bundle import MANIFEST, Bundle, BundleIntegrityError, open_bundle
from pricing.artifacts.s3 import s3_client

LATEST = "LATEST"


class StoreError(Exception):
    """The store cannot be read or written; the message says which and why, in one line."""


class ArtifactStore(Protocol):
    def publish(self, bundle_dir: Path) -> str: ...
    def latest(self) -> str | None: ...
    def fetch(self, version: str | None = None) -> Bundle: ...


def _files_of(bundle: Bundle) -> list[str]:
    return sorted(bundle.manifest["files"])


class LocalStore:
    def __init__(self, root: Path | str) -> None:
        self.root = Path(root)

    def __repr__(self) -> str:
        return f"LocalStore({str(self.root)!r})"

    def publish(self, bundle_dir: Path) -> str:
        bundle = open_bundle(bundle_dir)
        target = self.root / bundle.version
        if (target / MANIFEST).is_file():
            if (target / MANIFEST).read_bytes() != (bundle.root / MANIFEST).read_bytes():
                raise StoreError(f"version {bundle.version} already published with different contents")
        else:
            self.root.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=f".{bundle.version}-", dir=self.root))
            for relpath in [*_files_of(bundle), MANIFEST]:
                self._copy(bundle.root / relpath, staging / relpath)
            staging.rename(target)  # atomic on one file system: the version appears whole or not at all
        self._write_latest(bundle.version)
        return bundle.version

    def _copy(self, source: Path, destination: Path) -> None:
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, destination)

    def _write_latest(self, version: str) -> None:
        temporary = self.root / f".{LATEST}.tmp"
        temporary.write_text(version + "\n")
        os.replace(temporary, self.root / LATEST)

    def latest(self) -> str | None:
        path = self.root / LATEST
        return path.read_text().strip() if path.is_file() else None

    def fetch(self, version: str | None = None) -> Bundle:
        version = version or self.latest()
        if version is None:
            raise StoreError(f"no bundle published in {self.root} (no {LATEST})")
        if not (self.root / version / MANIFEST).is_file():
            raise StoreError(f"bundle {version} not found in {self.root}")
        return open_bundle(self.root / version, lazy_models=True)


class S3Store:
    def __init__(self, bucket: str, prefix: str = "", client=None, cache_dir: Path | str | None = None) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self._client = client
        # where fetched bundles are verified and kept (Settings.bundle_cache_dir: /tmp in Lambda)
        self.cache_dir = Path(cache_dir or Path(tempfile.gettempdir()) / "pricing-bundles")

    def __repr__(self) -> str:
        return f"S3Store('s3://{self.bucket}/{self.prefix}')"

    @property
    def client(self):
        if self._client is None:
            self._client = s3_client()
        return self._client

    def _key(self, *parts: str) -> str:
        return "/".join(p for p in (self.prefix, *parts) if p)

    def _get(self, key: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                return None
            raise StoreError(f"s3://{self.bucket}/{key}: {exc.response.get('Error', {}).get('Code')}") from exc

    def _put_file(self, path: Path, key: str) -> None:
        self.client.upload_file(str(path), self.bucket, key)

    def publish(self, bundle_dir: Path) -> str:
        bundle = open_bundle(bundle_dir)
        manifest_key = self._key(bundle.version, MANIFEST)
        existing = self._get(manifest_key)
        local_manifest = (bundle.root / MANIFEST).read_bytes()
        if existing is not None and existing != local_manifest:
            raise StoreError(f"version {bundle.version} already published with different contents")
        if existing is None:
            for relpath in _files_of(bundle):
                self._put_file(bundle.root / relpath, self._key(bundle.version, relpath))
            self._put_file(bundle.root / MANIFEST, manifest_key)
        self.client.put_object(Bucket=self.bucket, Key=self._key(LATEST), Body=(bundle.version + "\n").encode())
        return bundle.version

    def latest(self) -> str | None:
        body = self._get(self._key(LATEST))
        return body.decode().strip() if body else None

    def fetch(self, version: str | None = None) -> Bundle:
        """Download a version into the local cache (once) and verify it."""
        version = version or self.latest()
        if version is None:
            raise StoreError(f"no bundle published in s3://{self.bucket}/{self.prefix} (no {LATEST})")
        manifest_bytes = self._get(self._key(version, MANIFEST))
        if manifest_bytes is None:
            raise StoreError(f"bundle {version} not found in s3://{self.bucket}/{self.prefix}")
        manifest = json.loads(manifest_bytes)
        local = self.cache_dir / version
        for relpath in manifest["files"]:
            path = local / relpath
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                self.client.download_file(self.bucket, self._key(version, relpath), str(path))
        (local / MANIFEST).write_bytes(manifest_bytes)
        try:
            return open_bundle(local, lazy_models=True)
        except BundleIntegrityError:
            shutil.rmtree(local, ignore_errors=True)  # never keep a bad copy in the cache
            raise


def open_store(location: str | Path, cache_dir: Path | str | None = None) -> LocalStore | S3Store:
    """`s3://bucket/prefix` (fetched bundles kept under `cache_dir`) or a folder path. Raises StoreError for an
    s3:// location without a bucket."""
    text = str(location)
    if text.startswith("s3://"):
        bucket, _, prefix = text.removeprefix("s3://").partition("/")
        if not bucket:
            raise StoreError(f"no bucket in {text!r}")
        return S3Store(bucket, prefix, cache_dir=cache_dir)
    return LocalStore(Path(text))
