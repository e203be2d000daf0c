"""Settings: every environment variable read in one place, validated at start-up with strict numbers."""

import math

import pytest

from pricing.config import Settings, SettingsError


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "1_0", "0.0"])
def test_a_cache_timeout_that_is_not_positive_and_finite_refuses_to_start(value):
    """0, -1 or nan used to start a server whose every request bypassed a healthy Redis."""
    with pytest.raises(SettingsError, match="CACHE_TIMEOUT_SECONDS"):
        Settings.from_env({"CACHE_TIMEOUT_SECONDS": value})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("CACHE_TTL_SECONDS", "0"),
        ("CACHE_TTL_SECONDS", "3600.5"),
        ("BUNDLE_RETRY_SECONDS", "-5"),
        ("BUNDLE_RETRY_SECONDS", "nan"),
        ("MAX_PRICE_BINS", "5_00"),
        ("WARMUP_TOP_N", "-1"),
        ("WARMUP_TOP_N", "ten"),
        ("PORT", "0"),
        ("PORT", "70000"),
        ("TORCH_THREADS", "0"),
        ("LOG_LEVEL", "LOUD"),
        ("ENGINE_MEMORY_LIMIT", "3"),
        ("ENGINE_MEMORY_LIMIT", "lots"),
    ],
)
def test_malformed_or_unsafe_settings_are_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        Settings.from_env({name: value})


def test_every_variable_the_service_reads_is_a_setting():
    settings = Settings.from_env(
        {
            "WARMUP_TOP_N": "25",
            "BUNDLE_CACHE_DIR": "/tmp/bundles-x",
            "LOG_LEVEL": "debug",
            "HOST": "127.0.0.1",
            "PORT": "8080",
            "CACHE_TIMEOUT_SECONDS": "0.5",
            "ENGINE_MEMORY_LIMIT": "512MB",
            "ENGINE_SPILL_DIR": "/var/tmp/spill",
        }
    )
    assert (settings.engine_memory_limit, settings.engine_spill_dir) == ("512MB", "/var/tmp/spill")
    assert (settings.warmup_top_n, settings.bundle_cache_dir, settings.log_level) == (25, "/tmp/bundles-x", "DEBUG")
    assert (settings.host, settings.port, settings.cache_timeout_seconds) == ("127.0.0.1", 8080, 0.5)
    defaults = Settings.from_env({})
    assert defaults.warmup_top_n == 100 and defaults.port == 5002 and math.isfinite(defaults.cache_timeout_seconds)


def test_no_module_of_the_package_reads_the_environment_but_settings():
    """The rule behind the test above: a variable read elsewhere escapes validation (tools, which measure the
    service from outside, may set variables for the processes they start)."""
    from pathlib import Path

    import pricing

    root = Path(pricing.__file__).parent
    readers = [
        path.relative_to(root).as_posix()
        for path in root.rglob("*.py")
        if "tools" not in path.parts and ("os.environ" in path.read_text() or "getenv" in path.read_text())
    ]
    assert readers == ["config.py"]
