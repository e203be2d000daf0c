"""Text files as people save them: the one decoder the transactions loader (pricing.data.load) and the cost file
(pricing.artifacts.costs) share. A module of its own, light and shipped in the serving image with the artifacts
that import it, so the image never carries the training-side loader."""

from __future__ import annotations

import codecs
import gzip
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import BinaryIO

GZIP_MAGIC = b"\x1f\x8b"


def decode(data: bytes) -> tuple[str, str]:
    """The text of a whole file and the encoding it was read with: UTF-16 (by its BOM, or, without one, by the
    zero bytes of mostly-ASCII text: Excel's "Unicode Text" export), else UTF-8 (a BOM dropped) when every byte of
    the file is valid UTF-8, else Windows-1252, else latin-1 (which takes any byte). Decided from the whole file,
    so a first non-ASCII byte far into it cannot make one part read in one encoding and the rest in another.
    UnicodeDecodeError only for bytes that look like UTF-16 but are not."""
    if encoding := utf16_encoding(data[:4096]):
        return data.decode(encoding), encoding
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def utf16_encoding(head: bytes) -> str | None:
    """The UTF-16 flavour a file starting with `head` (its first 4 KB) is in, by its BOM or, without one, by the zero
    bytes of mostly-ASCII text (Excel's "Unicode Text" export); None for a file in a byte encoding."""
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if head and head.count(0) * 4 > len(head):
        return "utf-16-le" if head[1::2].count(0) > head[0::2].count(0) else "utf-16-be"
    return None


def is_gzipped(opener: Callable[[], BinaryIO]) -> bool:
    """Whether a file is gzipped, by its first bytes (so a .gz without the suffix counts); `opener` gives a fresh
    binary stream of it."""
    with opener() as handle:
        return handle.read(2) == GZIP_MAGIC


@contextmanager
def data_stream(opener: Callable[[], BinaryIO], gzipped: bool | None = None) -> Iterator[BinaryIO]:
    """A fresh stream of a file's data: its bytes, decompressed when it is gzipped (`is_gzipped` when not given).
    `opener` gives a fresh binary stream of the file; both streams are closed on leaving."""
    gzipped = is_gzipped(opener) if gzipped is None else gzipped
    with opener() as raw:
        if gzipped:
            with gzip.open(raw, "rb") as data:
                yield data
        else:
            yield raw


def file_encoding(path, chunk_bytes: int = 1 << 24, opener=None) -> tuple[str, bool]:
    """The encoding `decode` would read the file at `path` with (the same rules, decided from the whole file), and
    whether the file is gzipped (`is_gzipped`), read a chunk of `chunk_bytes` at a time: memory stays flat for a
    file of any size. `opener`: a callable giving a fresh binary stream of the file (a file on a cluster's file
    system, pricing.data.sources); default: `path` on this disk."""
    opener = opener or (lambda: open(path, "rb"))  # noqa: SIM115 (data_stream closes it)
    gzipped = is_gzipped(opener)
    with data_stream(opener, gzipped) as handle:
        head = handle.read(4096)
        if encoding := utf16_encoding(head):
            return encoding, gzipped
        candidates = ["utf-8", "cp1252"]
        decoders = {name: codecs.getincrementaldecoder(name)() for name in candidates}
        chunk = head
        while chunk and candidates:
            for name in list(candidates):
                try:
                    decoders[name].decode(chunk)
                except UnicodeDecodeError:
                    candidates.remove(name)
            chunk = handle.read(chunk_bytes)
        for name in list(candidates):
            try:
                decoders[name].decode(b"", final=True)
            except UnicodeDecodeError:
                candidates.remove(name)
    if candidates and candidates[0] == "utf-8":
        return ("utf-8-sig" if head.startswith(codecs.BOM_UTF8) else "utf-8"), gzipped
    return (candidates[0] if candidates else "latin-1"), gzipped
