"""One frozen Settings object, read from the environment (and `.env` locally) once, validated at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

ENVIRONMENTS = ("local", "test", "production")


class SettingsError(ValueError):
    """A setting is missing, malformed or unsafe for the environment; the message names it."""


@dataclass(frozen=True)
class Settings:
    env: str = "local"
    artifact_store: str = "models/production"
    redis_url: str | None = None
    redis_cluster: bool = False
    cache_ttl_seconds: int = 3600
    cache_timeout_seconds: float = 0.25  # a slow Redis costs a request at most about this, then BYPASS
    cors_origins: tuple[str, ...] = field(default_factory=tuple)
    default_price_bins: int = 100
    max_price_bins: int = 500
    default_samples: int = 1000
    max_samples: int = 5000
    torch_threads: int | None = None  # None: the CPUs this process may use
    log_level: str = "INFO"
    bundle_retry_seconds: float = 10.0  # with no bundle loaded, how often a request may try the store again

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis:// or rediss://")
        if self.cache_ttl_seconds <= 0:
            raise SettingsError("CACHE_TTL_SECONDS must be positive")
        if not 1 <= self.default_price_bins <= self.max_price_bins:
            raise SettingsError("the default number of price bins must be within 1..MAX_PRICE_BINS")
        if not 1 <= self.default_samples <= self.max_samples:
            raise SettingsError("the default number of samples must be within 1..MAX_SAMPLES")
        if self.bundle_retry_seconds <= 0:
            raise SettingsError("BUNDLE_RETRY_SECONDS must be positive")
        if self.env == "production":
            if "*" in self.cors_origins:
                raise SettingsError("CORS_ORIGINS may not be '*' in production: list the dashboard's origins")
            if self.redis_url and self.redis_url.startswith("redis://"):
                raise SettingsError("REDIS_URL must use TLS (rediss://) in production")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Read the environment; locally, a `.env` file in the working directory fills what is unset."""
        if environ is None:
            if os.environ.get("ENV", "local") == "local" and Path(".env").is_file():
                from dotenv import load_dotenv

                load_dotenv(".env", override=False)
            environ = os.environ
        get = environ.get
        try:
            return cls(
                env=get("ENV", "local"),
                artifact_store=get("ARTIFACT_STORE", "models/production"),
                redis_url=get("REDIS_URL") or None,
                redis_cluster=_flag(get("REDIS_CLUSTER", "false"), "REDIS_CLUSTER"),
                cache_ttl_seconds=int(get("CACHE_TTL_SECONDS", "3600")),
                cache_timeout_seconds=float(get("CACHE_TIMEOUT_SECONDS", "0.25")),
                cors_origins=tuple(o.strip() for o in get("CORS_ORIGINS", "").split(",") if o.strip()),
                max_price_bins=int(get("MAX_PRICE_BINS", "500")),
                max_samples=int(get("MAX_SAMPLES", "5000")),
                torch_threads=int(get("TORCH_THREADS")) if get("TORCH_THREADS") else None,
                log_level=get("LOG_LEVEL", "INFO").upper(),
                bundle_retry_seconds=float(get("BUNDLE_RETRY_SECONDS", "10")),
            )
        except ValueError as exc:
            if isinstance(exc, SettingsError):
                raise
            raise SettingsError(f"malformed setting: {exc}") from exc


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")
