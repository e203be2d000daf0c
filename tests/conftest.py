import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from pricing.data import generate
from pricing.data.prepare import prepare

FIXTURES = Path(__file__).parent / "fixtures"
UNIT = Path(__file__).parent / "unit"
# The fixtures that train a bundle (the run's one quick training) or hand one out: the unit tier never needs them
TRAINED = frozenset({"quick_training", "quick_bundle", "store"})
REAL_SAMPLE = FIXTURES / "online_retail_sample.csv"


def pytest_collection_modifyitems(config, items):
    """Marks every test that needs the trained bundle `bundle` (`pytest -m "not bundle"` runs without training)
    and refuses one under tests/unit: the unit tier (`make test-unit`) runs in seconds, training-heavy tests live
    in tests/integration."""
    misplaced = []
    for item in items:
        if TRAINED & set(item.fixturenames):
            item.add_marker(pytest.mark.bundle)
            if UNIT in Path(str(item.path)).parents:
                misplaced.append(item.nodeid)
    if misplaced:
        raise pytest.UsageError("tests under tests/unit need a trained bundle; move them: " + ", ".join(misplaced))


@pytest.fixture(scope="session")
def generated_200k() -> generate.Generated:
    return generate.generate(rows=200_000, seed=7)


@pytest.fixture(scope="session")
def small_raw(tmp_path_factory) -> Path:
    """A small generated raw file on disk, with its truth beside it. The wholesale tier discount of the versions
    before calibration (confounding 0.5, 15% off the list price): on 30,000 rows it puts held-out lines on both
    sides of a product's median price often enough for the report's price-effect check (10 lines a side)."""
    out = tmp_path_factory.mktemp("raw")
    generate.write(generate.generate(rows=30_000, seed=3, confounding=0.5), out)
    return out


@pytest.fixture(scope="session")
def small_prepared(small_raw, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("processed")
    prepare(small_raw / "online_retail.csv", out)
    return out


@dataclass(frozen=True)
class QuickTraining:
    """The one quick-profile training of a test run, through the CLI as a user runs it: its bundle folder, its
    reports folder and what `pricing train` printed."""

    bundle: Path
    reports: Path
    stdout: str


@pytest.fixture(scope="session")
def quick_training(small_prepared, tmp_path_factory) -> QuickTraining:
    """`pricing train --profile quick` on the small prepared data, once per test run: every test that needs a
    trained bundle shares it (the CLI's end-to-end test reads its output instead of training a second one)."""
    out = tmp_path_factory.mktemp("bundle")
    command = [sys.executable, "-m", "pricing", "train", "--profile", "quick", "--data-dir", str(small_prepared)]
    command += ["--bundle-dir", str(out / "bundle"), "--reports-dir", str(out / "reports")]
    done = subprocess.run(command, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return QuickTraining(out / "bundle", out / "reports", done.stdout)


@pytest.fixture(scope="session")
def quick_bundle(quick_training) -> Path:
    """The bundle of the run's one quick training (`quick_training`)."""
    return quick_training.bundle


@pytest.fixture(scope="module")
def store(quick_bundle, tmp_path_factory):
    """The quick bundle published to a local store of the test module's own (modules may add versions)."""
    from pricing.artifacts.store import LocalStore

    local = LocalStore(tmp_path_factory.mktemp("store"))
    local.publish(quick_bundle)
    return local


from tests.servers import moto_endpoint, redis_cluster, redis_server, s3_env  # noqa: E402,F401  (fixtures)
