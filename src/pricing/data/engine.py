"""The engines `pricing prepare` runs its relational work on (issue 27): DuckDB in-process by default, Apache Spark
when the data live on a cluster. One code path: pricing.data.relational writes every step once, as SQL in DuckDB's
dialect; the Spark engine translates each statement with sqlglot (the SQL transpiler Ibis itself compiles through)
and runs it with `spark.sql`. pandas only ever sees what an engine returns through `frame`: aggregated tables
(per product, per invoice time, per distinct date text) and counts.

Why SQL through sqlglot rather than Ibis expressions or Fugue (measured, docs/SCALE.md "Engine choice"): the same
read, clean and product-week work as Ibis expressions gave identical counts on both engines but took 2.6 s on the
real file against 1.3 s as plain DuckDB SQL; per-product pandas functions through Fugue would move every line
through pandas, which is the memory this issue removes. SQL keeps DuckDB's own plan, and the one statement a
reader checks is the one both engines run.

DuckDB works in a database file in `spill_dir` with `memory_limit`: tables larger than the limit live on disk and
operators spill (its out-of-core hash aggregate, join and sort), so peak memory stays near the limit whatever the
input's size. The file is deleted on `close`.
"""

from __future__ import annotations

import codecs
import json
import shutil
import tempfile
import uuid
import warnings
from pathlib import Path

import pandas as pd

from pricing.data.sources import SourceFile, hadoop_files, local_files
from pricing.encodings import data_stream, file_encoding, is_gzipped, utf16_encoding

ENGINES = ("duckdb", "spark")
# the charsets Spark 4's CSV reader takes without spark.sql.legacy.javaCharsets (its error message lists them)
SPARK_CHARSETS = ("iso-8859-1", "us-ascii", "utf-16", "utf-16be", "utf-16le", "utf-32", "utf-8")
DEFAULT_MEMORY_LIMIT = "3GB"  # issue 27's target: 27 M lines prepared under 4 GB of peak RSS with a 3 GB limit


class DuckDBEngine:
    """DuckDB in-process, in a database file under `spill_dir` (default: the system's temporary folder), at most
    `memory_limit` of memory (DuckDB's syntax: "3GB", "512MB") and `threads` threads (None: every core).
    Raises duckdb.Error for a bad statement."""

    name = "duckdb"

    def __init__(self, memory_limit: str = DEFAULT_MEMORY_LIMIT, spill_dir: Path | None = None, threads=None):
        import duckdb

        if spill_dir is not None:
            Path(spill_dir).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="pricing-duckdb-", dir=spill_dir))
        config = {
            "memory_limit": memory_limit,
            "temp_directory": str(self.folder / "spill"),
            # no query of prepare reads its rows in file order: letting DuckDB reorder saves memory on big sorts
            "preserve_insertion_order": False,
        }
        if threads:
            config["threads"] = int(threads)
        self.con = duckdb.connect(str(self.folder / "prepare.duckdb"), config=config)
        self.memory_limit = memory_limit
        self.peak_disk_bytes = 0

    def create(self, name: str, sql: str) -> None:
        """Materialise `sql` as table `name` (replacing one of that name)."""
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS {sql}")
        self.con.execute("CHECKPOINT")  # the table's blocks go to the database file, out of memory
        disk = sum(p.stat().st_size for p in self.folder.rglob("*") if p.is_file())
        self.peak_disk_bytes = max(self.peak_disk_bytes, disk)

    def describe(self) -> dict:
        """What the report says of the engine: its name, memory limit and the most its database file and spill
        took on disk (bytes)."""
        return {"name": self.name, "memory_limit": self.memory_limit, "disk_bytes": self.peak_disk_bytes}

    def frame(self, sql: str) -> pd.DataFrame:
        """The result of `sql` as a pandas frame: only for aggregated, bounded results."""
        return self.con.execute(sql).df()

    def register(self, name: str, frame: pd.DataFrame) -> None:
        """A pandas frame as table `name` (copied in, so the frame may go)."""
        self.con.register("_incoming", frame)
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _incoming")
        self.con.unregister("_incoming")

    @staticmethod
    def files(source) -> tuple[list[SourceFile], bool]:
        """The files of the input `source` on this machine's disk (sources.local_files)."""
        return local_files(source)

    @staticmethod
    def encoding_of(file: SourceFile) -> tuple[str, bool]:
        """`encodings.file_encoding` of the file: its encoding, decided from every byte, and whether it is gzipped."""
        return file_encoding(file.location, opener=file.open)

    def read_csv(
        self, name: str, file: SourceFile, delimiter: str, header: list[str], encoding: str, gzipped: bool
    ) -> tuple[int, list[int]]:
        """A CSV file in `encoding` (`encodings.file_encoding`'s name), gzipped or not, as table `name`: every column
        text, named as `header`. DuckDB reads UTF-8, plain or as a .gz: any other file (another encoding, a BOM, a
        gzip without its suffix) is transcoded to UTF-8 in the engine's folder first, a chunk at a time. Returns
        how many lines could not be parsed (a wrong number of fields, an unterminated quote; they are skipped) and
        their 1-based line numbers (the header is line 1, as pyarrow, the in-memory reader, numbers them)."""
        path = Path(file.location)
        if encoding != "utf-8" or (gzipped and file.suffix != ".gz"):
            path = self.folder / f"{name}.csv"
            with data_stream(file.open, gzipped) as data, open(path, "w", encoding="utf-8", newline="") as out:
                reader = codecs.getreader(encoding)(data)
                while chunk := reader.read(1 << 24):
                    out.write(chunk.lstrip("\ufeff") if out.tell() == 0 else chunk)
        columns = "{" + ", ".join(f"{_quote_text(h)}: 'VARCHAR'" for h in header) + "}"
        self.con.execute("DROP TABLE IF EXISTS reject_errors; DROP TABLE IF EXISTS reject_scans")
        self.con.execute(
            f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_csv({_quote_text(str(path))}, "
            f"header = true, delim = {_quote_text(delimiter)}, quote = '\"', escape = '\"', columns = {columns}, "
            "auto_detect = false, strict_mode = true, null_padding = false, store_rejects = true, "
            "max_line_size = 10000000)"
        )
        rejected = self.con.execute("SELECT DISTINCT line FROM reject_errors ORDER BY line").fetchall()
        return len(rejected), [int(line) for (line,) in rejected]

    def read_parquet(self, name: str, path: Path) -> None:
        self.con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM read_parquet({_quote_text(str(path))})")

    def write_parquet(self, sql: str, path: Path, dtypes: dict[str, str]) -> None:
        """Write the result of `sql` to the parquet file `path`, with pandas' metadata for `dtypes` (column ->
        pandas dtype) so that pandas reads the columns back as those dtypes (a nullable Int64 customer id)."""
        metadata = _quote_text(_pandas_metadata(dtypes))
        # pandas reads parquet's microsecond timestamps as datetime64[us]: nanoseconds give today's datetime64[ns]
        stamps = [c for c, d in dtypes.items() if d == "datetime64[ns]"]
        if stamps:
            sql = f"SELECT * REPLACE ({', '.join(f'CAST({c} AS TIMESTAMP_NS) AS {c}' for c in stamps)}) FROM ({sql})"
        target = _quote_text(str(path))
        self.con.execute(f"COPY ({sql}) TO {target} (FORMAT parquet, KV_METADATA {{pandas: {metadata}}})")

    def close(self) -> None:
        self.con.close()
        shutil.rmtree(self.folder, ignore_errors=True)


class SparkEngine:
    """Apache Spark: the SparkSession in the environment (`spark-submit`, Databricks, EMR) or `session`. Each
    statement of pricing.data.relational is translated from DuckDB's dialect to Spark SQL by sqlglot; tables are
    temporary views, cached (`create`). Inputs are whatever the session's file systems hold (sources.hadoop_files:
    s3://, dbfs:/, hdfs://, a path of the default file system, the local disk with local[N]); the output is a
    folder every node mounts (`write_parquet`)."""

    name = "spark"

    def __init__(self, session=None):
        from pyspark.sql import SparkSession

        self.spark = session or SparkSession.builder.getOrCreate()
        self._cached = []
        # PySpark 4.3 warns on every toPandas that it does not yet fully support pandas 3: prepare's Spark tables
        # are held equal to DuckDB's (tests/unit/data/test_prepare_spark.py), so the dozens of warnings go
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas", category=FutureWarning)

    @staticmethod
    def translate(sql: str) -> str:
        """DuckDB SQL as Spark SQL (sqlglot)."""
        import sqlglot

        return sqlglot.transpile(sql, read="duckdb", write="spark")[0]

    def create(self, name: str, sql: str) -> None:
        frame = self.spark.sql(self.translate(sql)).cache()
        frame.createOrReplaceTempView(name)
        self._cached.append(frame)

    def frame(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(self.translate(sql)).toPandas()

    def describe(self) -> dict:
        return {"name": self.name, "master": self.spark.sparkContext.master}

    def register(self, name: str, frame: pd.DataFrame) -> None:
        from pyspark.sql import types as T

        # an empty frame has no rows to infer its types from: its columns are text (the joins cast)
        schema = T.StructType([T.StructField(c, T.StringType()) for c in frame.columns]) if frame.empty else None
        data = frame.astype(object).where(frame.notna(), None)
        self.spark.createDataFrame(data, schema=schema).createOrReplaceTempView(name)

    def files(self, source) -> tuple[list[SourceFile], bool]:
        """The files of the input `source` as the session's file systems hold them (sources.hadoop_files)."""
        return hadoop_files(self.spark, source)

    def encoding_of(self, file: SourceFile) -> tuple[str, bool]:
        """`encodings.file_encoding`'s answer for a file on the cluster, its whole-file test run by the executors: the
        driver reads only the first bytes (gzip, a BOM, UTF-16), then the executors test every line for UTF-8
        (Spark 4's is_valid_utf8; on Spark 3, whose decode puts U+FFFD for a byte that is not UTF-8, that
        character; only Spark 4 was run here). A file that is not UTF-8 is Windows-1252, as the in-memory reader
        decides. Through py4j the driver reads about 14 MB/s (30.8 s for a 440 MB file against 1.1 s from a local
        disk), too slow to read every byte there."""
        from pyspark.errors import AnalysisException

        gzipped = is_gzipped(file.open)
        with data_stream(file.open, gzipped) as stream:
            head = stream.read(4096)
        if encoding := utf16_encoding(head):
            return encoding, gzipped
        lines = self.spark.read.text(file.location)
        try:
            not_utf8 = lines.filter("NOT is_valid_utf8(value)").limit(1).count()
        except AnalysisException:
            not_utf8 = lines.filter("instr(decode(CAST(value AS BINARY), 'UTF-8'), '\ufffd') > 0").limit(1).count()
        if not_utf8:
            return "cp1252", gzipped
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), gzipped

    def read_csv(
        self, name: str, file: SourceFile, delimiter: str, header: list[str], encoding: str, gzipped: bool
    ) -> tuple[int, list[int]]:
        """Spark's CSV reader (PERMISSIVE; the encoding by its Java name, a gzip by its suffix): the lines it cannot
        parse are counted, without line numbers (Spark keeps none: the list is empty)."""
        from pyspark.sql import functions as fn
        from pyspark.sql import types as T

        charset = {"utf-8-sig": "UTF-8", "cp1252": "windows-1252"}.get(encoding, encoding)
        if charset.lower() not in SPARK_CHARSETS:
            # Spark 4 reads only the Unicode charsets, ISO-8859-1 and US-ASCII unless told to take any Java charset:
            # Windows-1252, the export of many shops, needs it (its bytes 0x80-0x9F are not ISO-8859-1's)
            self.spark.conf.set("spark.sql.legacy.javaCharsets", "true")
        corrupt = f"_corrupt_{uuid.uuid4().hex[:8]}"
        schema = T.StructType(
            [T.StructField(h, T.StringType()) for h in header] + [T.StructField(corrupt, T.StringType())]
        )
        frame = (
            self.spark.read.option("header", True)
            .option("sep", delimiter)
            .option("quote", '"')
            .option("escape", '"')
            .option("encoding", charset)
            .option("mode", "PERMISSIVE")
            .option("columnNameOfCorruptRecord", corrupt)
            .schema(schema)
            .csv(file.location)
            .cache()
        )
        bad = frame.filter(fn.col(corrupt).isNotNull())
        malformed = bad.count()
        frame.filter(fn.col(corrupt).isNull()).drop(corrupt).createOrReplaceTempView(name)
        self._cached.append(frame)
        return int(malformed), []

    def read_parquet(self, name: str, path: Path) -> None:
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)

    def write_parquet(self, sql: str, path: Path, dtypes: dict[str, str]) -> None:
        """A folder of parquet parts (pandas reads it as one table) at the local path `path`, written as a `file:`
        URI: prepare's Python moves and reads what Spark wrote, so both must see one place (a folder every node
        mounts: /dbfs/, an NFS or EFS share; any folder on local[N]), not the cluster's default file system.
        pandas' dtypes are not stored: pandas reads the customer id of a folder Spark wrote as float64 (NaN for a
        guest)."""
        self.spark.sql(self.translate(sql)).write.mode("overwrite").parquet(Path(path).absolute().as_uri())

    def close(self) -> None:
        for frame in self._cached:
            frame.unpersist()


def open_engine(name: str, memory_limit: str = DEFAULT_MEMORY_LIMIT, spill_dir: Path | None = None):
    """The engine called `name` (ENGINES). ValueError for another name."""
    if name == "duckdb":
        return DuckDBEngine(memory_limit, spill_dir)
    if name == "spark":
        return SparkEngine()
    raise ValueError(f"engine must be one of {', '.join(ENGINES)}, got {name!r}")


def _quote_text(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def _pandas_metadata(dtypes: dict[str, str]) -> str:
    """pandas' parquet metadata (the JSON pyarrow writes under b"pandas") for columns of these dtypes."""
    import pyarrow as pa

    empty = pd.DataFrame({c: pd.Series([], dtype=d) for c, d in dtypes.items()})
    return json.dumps(json.loads(pa.Schema.from_pandas(empty, preserve_index=False).metadata[b"pandas"]))
