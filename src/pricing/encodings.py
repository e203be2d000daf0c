"""Text files as people save them: the one decoder the transactions loader (pricing.data.load) and the cost file
(pricing.artifacts.costs) share. A module of its own, light and shipped in the serving image with the artifacts
that import it, so the image never carries the training-side loader."""

from __future__ import annotations

import codecs


def decode(data: bytes) -> tuple[str, str]:
    """The text of a whole file and the encoding it was read with: UTF-16 (by its BOM, or, without one, by the
    zero bytes of mostly-ASCII text: Excel's "Unicode Text" export), else UTF-8 (a BOM dropped) when every byte of
    the file is valid UTF-8, else Windows-1252, else latin-1 (which takes any byte). Decided from the whole file,
    so a first non-ASCII byte far into it cannot make one part read in one encoding and the rest in another.
    UnicodeDecodeError only for bytes that look like UTF-16 but are not."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "utf-16"
    if (sample := data[:4096]) and sample.count(0) * 4 > len(sample):
        encoding = "utf-16-le" if sample[1::2].count(0) > sample[0::2].count(0) else "utf-16-be"
        return data.decode(encoding), encoding
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig"
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"
