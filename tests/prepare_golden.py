"""Today's `pricing prepare` outputs, recorded before its relational work moves to an out-of-core engine (issue 27,
"record today's before the change"), so the engine's outputs can be held to them.

A fingerprint of a prepare output folder (`fingerprint`): data_quality.json whole, and per table (train, val, test,
products) its row count, its columns with their dtypes, and per column either, for numbers and dates, the count of
values, their sum, sum of squares, min and max (floats compared to a relative 1e-9: another engine's sums may differ
in the last bits, never more), or, for text, the sha256 of its sorted values. Any row added, dropped or changed in
a single cell moves a figure.

The inputs (`INPUTS`): the real fixture (183 lines; refused as too short, the report written), the first
REAL_SLICE_LINES lines of ../shared/data/online_retail.csv.gz (the real file's first months; skipped where
../shared is absent), and a generated file (GENERATED_ROWS rows, seed GENERATED_SEED: the whole pipeline without
outside data). `python -m tests.prepare_golden` records them in tests/fixtures/prepare_golden/ (run it only when a
change to prepare's outputs is meant, and say so in the commit).
"""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import json
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data.prepare import read_split

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "fixtures" / "prepare_golden"
FIXTURE = ROOT / "tests" / "fixtures" / "online_retail_sample.csv"
REAL_FILE = ROOT.parent / "shared" / "data" / "online_retail.csv.gz"
REAL_SLICE_LINES = 60_000  # the real file's first 60,000 lines: 2010-12-01 to early February 2011
GENERATED_ROWS, GENERATED_SEED = 20_000, 11
TABLES = ("train", "val", "test", "products")
# the fixture's one day (12/1/10) has no day above 12 to tell the order by: its export is US month-first
DATE_ORDER = {"fixture": "monthfirst"}


def real_slice(out: Path, lines: int = REAL_SLICE_LINES) -> Path:
    """The header and first `lines` lines of the real file, byte for byte, as `out` (CSV). FileNotFoundError
    without ../shared."""
    with gzip.open(REAL_FILE, "rb") as source, open(out, "wb") as target:
        for i, line in enumerate(source):
            if i > lines:
                break
            target.write(line)
    return out


def generated(out_dir: Path) -> Path:
    """The generated file of GENERATED_ROWS rows, seed GENERATED_SEED, written to `out_dir`; its transactions."""
    from pricing.data import generate

    generate.write(generate.generate(rows=GENERATED_ROWS, seed=GENERATED_SEED), out_dir)
    return out_dir / "online_retail.csv"


def run_prepare(raw: Path, out_dir: Path, date_order: str | None = None, engine: str = "pandas") -> Path:
    """`pricing prepare`'s function on `raw` into `out_dir` (a file too short to split leaves its report only);
    `date_order` as its --monthfirst / --dayfirst; `engine` as its --engine (the recording is the in-memory
    path's, "pandas")."""
    from pricing.data.prepare import prepare

    with contextlib.suppress(ValueError):  # too short to split: the report says why, the fingerprint holds it
        prepare(raw, out_dir, date_order=date_order, engine=engine)
    return out_dir


def fingerprint(out_dir: Path) -> dict:
    """The fingerprint of a prepare output folder (module docstring)."""
    report = json.loads((out_dir / "data_quality.json").read_text())
    source = report.pop("source", "")  # the input's file name, which the callers choose
    if "error" in report:  # the message names the input by the path it was given: where the clone lies
        report["error"] = re.sub(rf"^\S*{re.escape(source)}:", "<raw>:", report["error"])
    report.pop("engine", None)  # which engine prepared it, with its limits: the outputs must not depend on it
    tables = {}
    for name in TABLES:
        path = out_dir / f"{name}.parquet"
        if path.exists():
            tables[name] = _table(pd.read_parquet(path) if name == "products" else read_split(out_dir, name))
    return {"report": report, "tables": tables}


def _table(frame: pd.DataFrame) -> dict:
    frame = frame.reset_index() if frame.index.name is not None else frame
    columns = {}
    for column in frame.columns:
        values = frame[column]
        if pd.api.types.is_datetime64_any_dtype(values):
            values = values.dropna().astype("int64")  # nanoseconds since the epoch
        if pd.api.types.is_bool_dtype(values) or pd.api.types.is_numeric_dtype(values):
            x = values.dropna().to_numpy(dtype=float)
            columns[column] = {
                "dtype": str(frame[column].dtype),
                "count": len(x),
                "sum": float(x.sum()),
                "sum_squares": float((x**2).sum()),
                "min": float(x.min()) if len(x) else None,
                "max": float(x.max()) if len(x) else None,
            }
        else:
            text = sorted(values.astype(str).tolist())
            columns[column] = {
                "dtype": str(frame[column].dtype),
                "count": int(values.notna().sum()),
                "sha256": hashlib.sha256("\n".join(text).encode()).hexdigest(),
            }
    return {"rows": len(frame), "columns": columns}


def differences(recorded: dict, now: dict, rel: float = 1e-9) -> list[str]:
    """Where `now` departs from `recorded` (both `fingerprint`s): one line each, [] when they agree (floats to the
    relative tolerance `rel`, everything else exactly)."""
    out = []

    def walk(a, b, where):
        if isinstance(a, dict) and isinstance(b, dict):
            for key in sorted(set(a) | set(b)):
                if key not in a or key not in b:
                    out.append(f"{where}/{key}: {'added' if key not in a else 'missing'}")
                else:
                    walk(a[key], b[key], f"{where}/{key}")
        elif isinstance(a, float) and isinstance(b, (int, float)) and not isinstance(b, bool):
            if not np.isclose(a, b, rtol=rel, atol=1e-12):
                out.append(f"{where}: {a!r} -> {b!r}")
        elif a != b:
            out.append(f"{where}: {a!r} -> {b!r}")

    walk(recorded, now, "")
    return out


def main() -> int:
    import tempfile

    GOLDEN.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        inputs = {"fixture": FIXTURE, "generated": generated(tmp / "generated")}
        if REAL_FILE.exists():
            inputs["real_slice"] = real_slice(tmp / "real_slice.csv")
        for name, raw in inputs.items():
            out = run_prepare(raw, tmp / f"out-{name}", DATE_ORDER.get(name))
            (GOLDEN / f"{name}.json").write_text(json.dumps(fingerprint(out), indent=1, sort_keys=True) + "\n")
            print(f"recorded {name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
