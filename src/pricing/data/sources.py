"""The files an input of `pricing prepare` names, as each engine sees them (issue 27).

An input is a file, a folder (its plain files, not hidden ones, not sub-folders) or a glob pattern, read as one
in name order. DuckDB and the in-memory path read the machine's own disk. Spark reads what its session's file
systems hold: a plain path is a path of the cluster's default file system (HDFS, DBFS; the local disk on
`local[N]`), and URIs name the others (`s3://`, `s3a://`, `abfss://`, `gs://`, `file://`). Spark's files are listed
and opened through Hadoop's FileSystem API, so the driver sniffs a file's encoding and header from the same
bytes its executors read, and a bucket needs no mount."""

from __future__ import annotations

import io
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from pricing.data import load as L

_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:/")  # s3://bucket/key, file:///tmp/x.csv, dbfs:/mnt/x


@dataclass(frozen=True)
class SourceFile:
    """One file of an input: `location`, what the engine's reader is given (a local path or a URI); `name`, its
    last part (the report's key for it); `open`, a fresh binary stream of its bytes."""

    location: str
    name: str
    open: Callable[[], BinaryIO]

    @property
    def suffix(self) -> str:
        """The name's suffix, lower-cased (".csv", ".gz", ".xlsx", ".parquet")."""
        return PurePosixPath(self.name).suffix.lower()

    def local_copy(self, folder: Path) -> Path:
        """The file itself when it is on this machine's disk, else a copy of its bytes in `folder` (a workbook,
        which pandas reads whole)."""
        if Path(self.location).is_file():
            return Path(self.location)
        target = folder / self.name
        with self.open() as source, open(target, "wb") as out:
            shutil.copyfileobj(source, out, 1 << 20)
        return target


def is_uri(source) -> bool:
    """Whether `source` is a URI with a scheme (s3://..., file:///...) rather than a path."""
    return bool(_URI.match(str(source)))


def local_files(source) -> tuple[list[SourceFile], bool]:
    """The files of `source` on this machine's disk and whether it names several (a folder or a glob, even of
    one file). DataError as `load.files_of`; for a file that does not exist; for a URI (DuckDB and pandas read
    local paths: `--engine spark` reads URIs)."""
    if is_uri(source):
        raise L.DataError(
            f"cannot read {source}: a URI is read by --engine spark; DuckDB and pandas read a local path (mount it)"
        )
    path = Path(source)
    many = path.is_dir() or bool(L._GLOB.search(str(path)))
    files = L.files_of(path) if many else [path]
    if not many and not path.is_file():
        raise L.DataError(f"cannot read {path}: no such file")
    return [SourceFile(str(f), f.name, lambda f=f: open(f, "rb")) for f in files], many


def hadoop_files(spark, source) -> tuple[list[SourceFile], bool]:
    """The files of `source` as the SparkSession `spark` sees them, through Hadoop's FileSystem API, and whether it
    names several: a folder's plain files (not hidden: `.` or `_`, as Spark's own `_SUCCESS`), a glob's matches or
    the file, sorted by name. DataError when nothing is there."""
    jvm = spark.sparkContext._jvm
    conf = spark.sparkContext._jsc.hadoopConfiguration()
    path = jvm.org.apache.hadoop.fs.Path(str(source))
    fs = path.getFileSystem(conf)
    pattern = bool(L._GLOB.search(str(source)))
    folder = not pattern and fs.exists(path) and fs.getFileStatus(path).isDirectory()
    statuses = fs.listStatus(path) if folder else (fs.globStatus(path) or [])
    files = []
    for status in statuses:
        name = status.getPath().getName()
        if status.isFile() and not name.startswith((".", "_")):
            uri = status.getPath().toString()
            files.append(SourceFile(uri, name, lambda uri=uri: _hadoop_stream(fs, jvm, uri)))
    if not files:
        what = "no file in it" if folder else ("no file matches" if pattern else "no such file")
        raise L.DataError(f"cannot read {source}: {what}")
    return sorted(files, key=lambda f: f.name), folder or pattern


def _hadoop_stream(fs, jvm, uri: str) -> BinaryIO:
    """A buffered binary stream of a Hadoop file's bytes (its Java InputStream, read through py4j)."""
    return io.BufferedReader(_JavaInput(fs.open(jvm.org.apache.hadoop.fs.Path(uri))), buffer_size=1 << 20)


class _JavaInput(io.RawIOBase):
    """A Java InputStream as a Python raw stream: `readNBytes` (Java 11+) returns a byte[] that py4j hands over
    as bytes."""

    def __init__(self, stream) -> None:
        self._stream = stream

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._stream.readNBytes(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def close(self) -> None:
        if not self.closed:
            self._stream.close()
        super().close()


def scratch_folder() -> tempfile.TemporaryDirectory:
    """A temporary folder for copies of files that are not on this machine's disk."""
    return tempfile.TemporaryDirectory(prefix="pricing-source-")
