"""`pricing prepare --engine spark` (issue 27): the same SQL as DuckDB's, translated by sqlglot and run by PySpark
on `local[2]`, writes what was recorded (tests/prepare_golden.py) for a generated file. PySpark comes with
requirements-dev.txt (`make test` installs it); it needs Java 17, which the project's machines have: without a
`java` the test says so and skips."""

from __future__ import annotations

import json
import shutil

import pytest

from pricing.data import load as L
from pricing.data import relational as R
from pricing.data import sources
from pricing.data.engine import SparkEngine
from pricing.encodings import file_encoding
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
    """Named by a URI, as a cluster's input is (s3://...): the driver lists and sniffs it through Hadoop's
    FileSystem API, as the executors read it."""
    raw = G.generated(tmp_path / "raw").as_uri()
    assert raw.startswith("file:///")
    out = G.run_prepare(raw, tmp_path / "out", engine="spark")
    report = json.loads((out / "data_quality.json").read_text())
    assert report["engine"] == {"name": "spark", "master": "local[2]"}
    assert (out / "train.parquet").is_dir()  # a folder of parts, as a cluster writes it
    recorded = json.loads((G.GOLDEN / "generated.json").read_text())
    assert G.differences(recorded, G.fingerprint(out)) == []


def test_the_files_of_a_folder_or_glob_uri_are_listed_and_read_through_hadoop(spark, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    text = "InvoiceNo,StockCode\n" + "536365,85123A,2\n" * 60_000 + "536366,85123A,CAFÉ £2\n"  # over 1 MB
    (folder / "2011-02.csv").write_text(text, encoding="cp1252")
    (folder / "2011-01.csv").write_text("InvoiceNo\n1\n", encoding="utf-8")
    (folder / "_SUCCESS").write_text("")  # what Spark leaves beside its parts: not an input
    (folder / ".hidden.csv").write_text("")
    files, many = sources.hadoop_files(spark, folder.as_uri())
    assert many and [f.name for f in files] == ["2011-01.csv", "2011-02.csv"]
    with files[1].open() as stream:
        assert stream.read() == (folder / "2011-02.csv").read_bytes()
    assert file_encoding(files[1].location, opener=files[1].open) == ("cp1252", False)  # read by the driver
    engine = SparkEngine(spark)  # or by the executors, far past the first bytes
    assert [engine.encoding_of(f) for f in files] == [("utf-8", False), ("cp1252", False)]
    globbed, many = sources.hadoop_files(spark, f"{folder.as_uri()}/2011-0[2-9].csv")
    assert many and [f.name for f in globbed] == ["2011-02.csv"]
    one, many = sources.hadoop_files(spark, str(folder / "2011-01.csv"))  # a path of the default file system
    assert not many and one[0].location == f"file:{folder / '2011-01.csv'}"  # Hadoop's form of the URI
    for missing, reason in (("nothing.csv", "no such file"), ("2012-*.csv", "no file matches")):
        with pytest.raises(L.DataError, match=reason):
            sources.hadoop_files(spark, f"{folder.as_uri()}/{missing}")


def test_a_folder_uri_of_a_windows_1252_and_a_utf_8_export_reads_as_one(spark, tmp_path):
    """Windows-1252 (the byte 0x8C is Œ there, and nothing in ISO-8859-1) read by Spark's reader as such."""
    folder = tmp_path / "exports"
    folder.mkdir()
    header = "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
    line = "536365,85123A,{},6,12/1/2010 8:26,2.55,17850,United Kingdom\n"
    (folder / "2010-12.csv").write_text(header + line.format("CŒUR LIGHT £"), encoding="cp1252")
    (folder / "2011-01.csv").write_text(header + line.format("CAFÉ LIGHT €"), encoding="utf-8")
    read = R.read(SparkEngine(spark), folder.as_uri(), None)
    assert [read["details"]["files"][name]["encoding"] for name in ("2010-12.csv", "2011-01.csv")] == [
        "cp1252",
        "utf-8",
    ]
    described = spark.sql("SELECT description FROM raw ORDER BY description").toPandas()["description"].tolist()
    assert described == ["CAFÉ LIGHT €", "CŒUR LIGHT £"]


def test_a_bad_file_in_a_folder_uri_is_named(spark, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    (folder / "2011-01.csv").write_text("InvoiceNo,StockCode,Quantity\n536365,85123A,6\n", encoding="utf-8")
    with pytest.raises(L.DataError, match=r"exports: 2011-01.csv: .*lacks column\(s\) Description"):
        R.read(SparkEngine(spark), folder.as_uri(), None)
