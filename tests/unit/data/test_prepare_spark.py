"""`pricing prepare --engine spark` (issue 27): the same SQL as DuckDB's, translated by sqlglot and run by PySpark
on `local[2]`, writes what was recorded (tests/prepare_golden.py) for a generated file. PySpark comes with
requirements-dev.txt (`make test` installs it); it needs Java 17, which the project's machines have: without a
`java` the test says so and skips."""

from __future__ import annotations

import json
import shutil

import pytest

from tests import prepare_golden as G

pytestmark = pytest.mark.skipif(shutil.which("java") is None, reason="PySpark needs Java (17) on the PATH")


@pytest.fixture(scope="module")
def spark():
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pricing-prepare-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "2")  # 200 by default: 200 tiny tasks per shuffle of a small file
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    yield session
    session.stop()


def test_spark_local_prepares_a_generated_file_as_recorded(spark, tmp_path):
    out = G.run_prepare(G.generated(tmp_path / "raw"), tmp_path / "out", engine="spark")
    report = json.loads((out / "data_quality.json").read_text())
    assert report["engine"] == {"name": "spark", "master": "local[2]"}
    assert (out / "train.parquet").is_dir()  # a folder of parts, as a cluster writes it
    recorded = json.loads((G.GOLDEN / "generated.json").read_text())
    assert G.differences(recorded, G.fingerprint(out)) == []
