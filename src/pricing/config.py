"""One frozen Settings object, read from the environment (and `.env` locally) once, validated at start-up.

Every environment variable the service reads is a field here (`.env.sample` documents them); nothing else in
the package reads `os.environ`, except boto3, which reads AWS_ENDPOINT_URL and the credentials itself. Numbers
are read strictly (pricing.numbers: plain decimals, no `nan`, no `1_0`) and timeouts must be positive and
finite: a zero or negative Redis timeout would start a server whose every request bypasses a healthy Redis.
"""

from __future__ import annotations

import math
import os
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from pricing.numbers import NumberError, parse_decimal, parse_integer

ENVIRONMENTS = ("local", "test", "production")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


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
    bundle_cache_dir: str = field(default_factory=lambda: str(Path(tempfile.gettempdir()) / "pricing-bundles"))
    warmup_top_n: int = 100  # products the scheduled warm-up prices into the cache
    host: str = "0.0.0.0"  # `python app.py` (waitress); `pricing serve --host` overrides it
    port: int = 5002
    # pricing prepare's DuckDB engine (pricing.data.engine): the most memory it takes, and where its database file
    # and what spills go (None: the system's temporary folder); `--memory-limit` / `--spill-dir` override them
    engine_memory_limit: str = "3GB"
    engine_spill_dir: str | None = None

    def __post_init__(self) -> None:
        if self.env not in ENVIRONMENTS:
            raise SettingsError(f"ENV must be one of {', '.join(ENVIRONMENTS)}, got {self.env!r}")
        if self.redis_url and not self.redis_url.startswith(("redis://", "rediss://", "unix://")):
            raise SettingsError("REDIS_URL must start with redis:// or rediss://")
        for name, value in (
            ("CACHE_TTL_SECONDS", self.cache_ttl_seconds),
            ("CACHE_TIMEOUT_SECONDS", self.cache_timeout_seconds),
            ("BUNDLE_RETRY_SECONDS", self.bundle_retry_seconds),
        ):
            if not (math.isfinite(value) and value > 0):
                raise SettingsError(f"{name} must be positive and finite, got {value!r}")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, got {self.log_level!r}")
        if not 0 <= self.warmup_top_n <= 100_000:
            raise SettingsError(f"WARMUP_TOP_N must be within 0..100000, got {self.warmup_top_n}")
        if not 1 <= self.port <= 65535:
            raise SettingsError(f"PORT must be within 1..65535, got {self.port}")
        if not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", self.engine_memory_limit.strip()):
            raise SettingsError(
                f"ENGINE_MEMORY_LIMIT must be a size such as 3GB or 512MB, got {self.engine_memory_limit!r}"
            )
        if self.torch_threads is not None and self.torch_threads < 1:
            raise SettingsError(f"TORCH_THREADS must be at least 1, got {self.torch_threads}")
        if not 1 <= self.default_price_bins <= self.max_price_bins:
            raise SettingsError("the default number of price bins must be within 1..MAX_PRICE_BINS")
        if not 1 <= self.default_samples <= self.max_samples:
            raise SettingsError("the default number of samples must be within 1..MAX_SAMPLES")
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

        def number(name: str, default: str, parse=parse_decimal) -> float:
            try:
                return parse(name, get(name) or default)
            except NumberError as exc:
                raise SettingsError(str(exc)) from None

        return cls(
            env=get("ENV", "local"),
            artifact_store=get("ARTIFACT_STORE", "models/production"),
            redis_url=get("REDIS_URL") or None,
            redis_cluster=_flag(get("REDIS_CLUSTER", "false"), "REDIS_CLUSTER"),
            cache_ttl_seconds=number("CACHE_TTL_SECONDS", "3600", parse_integer),
            cache_timeout_seconds=number("CACHE_TIMEOUT_SECONDS", "0.25"),
            cors_origins=tuple(o.strip() for o in get("CORS_ORIGINS", "").split(",") if o.strip()),
            max_price_bins=number("MAX_PRICE_BINS", "500", parse_integer),
            max_samples=number("MAX_SAMPLES", "5000", parse_integer),
            torch_threads=number("TORCH_THREADS", "", parse_integer) if get("TORCH_THREADS") else None,
            log_level=get("LOG_LEVEL", "INFO").strip().upper(),
            bundle_retry_seconds=number("BUNDLE_RETRY_SECONDS", "10"),
            bundle_cache_dir=get("BUNDLE_CACHE_DIR") or str(Path(tempfile.gettempdir()) / "pricing-bundles"),
            warmup_top_n=number("WARMUP_TOP_N", "100", parse_integer),
            host=get("HOST") or "0.0.0.0",
            port=number("PORT", "5002", parse_integer),
            engine_memory_limit=get("ENGINE_MEMORY_LIMIT") or "3GB",
            engine_spill_dir=get("ENGINE_SPILL_DIR") or None,
        )


def _flag(value: str, name: str) -> bool:
    lowered = value.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise SettingsError(f"{name} must be true or false, got {value!r}")
