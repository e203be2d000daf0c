"""Unit costs published with a bundle (`pricing publish --costs FILE.csv`), for the profit objective.

The file: one row per product, a stock code column and a cost column (headers matched loosely: `stockcode`,
`StockCode`, `stock code`; `unit_cost`, `UnitCost`, `cost`), costs in the data's currency per unit, plain
decimals. Every row is accounted for: kept, or dropped under its reason (unknown stock code, missing,
unparsable or non-positive cost, a second row for the same code), never fatal; products without a cost are
counted (they are answered as revenue until they have one).

A bundle with costs is a new version: the bundle's files, `costs.parquet` and a manifest naming it (with the
validation report under `costs`), version `<bundle version>-c<8 hex digits of the costs>`, so answers that
depend on the costs are cached and published apart from the bundle's own.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
from pathlib import Path

import pandas as pd

from pricing.artifacts.bundle import MANIFEST, copy_bundle, open_bundle, sha256_of
from pricing.data.features import canonical_stockcode
from pricing.numbers import NumberError, parse_decimal

COSTS = "costs.parquet"
CODE_HEADERS = {"stockcode", "stock_code", "code"}
COST_HEADERS = {"unit_cost", "unitcost", "cost", "costprice", "cost_price"}
EXAMPLES = 5


class CostFileError(ValueError):
    """The file as a whole cannot be read as costs (no stock code or cost column, not text); one line."""


def read_costs(data: bytes, products: pd.Index) -> tuple[pd.DataFrame, dict]:
    """(costs, report) from a CSV's bytes (UTF-8 with or without a BOM, else Windows-1252). `products`: the
    bundle's stock codes. costs: columns stockcode, unit_cost (float, > 0), one row per known product. report:
    rows read, kept, dropped per reason with up to EXAMPLES stock codes each, products without a cost.
    CostFileError when no column holds stock codes or costs."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, skipinitialspace=True)
    names = {_header(c): c for c in frame.columns}
    code_column = next((names[h] for h in names if h in CODE_HEADERS), None)
    cost_column = next((names[h] for h in names if h in COST_HEADERS), None)
    if code_column is None or cost_column is None:
        raise CostFileError(f"costs need a stock code and a unit cost column; the header has {list(frame.columns)}")
    dropped: dict[str, list[str]] = {
        "unknown_stockcode": [],
        "missing_cost": [],
        "unparsable_cost": [],
        "non_positive_cost": [],
        "duplicate_stockcode": [],
    }
    known = set(products)
    kept: dict[str, float] = {}
    for raw_code, raw_cost in zip(frame[code_column], frame[cost_column], strict=True):
        code = canonical_stockcode(raw_code)
        reason, cost = _check(code, raw_cost.strip(), known, kept)
        if reason is None:
            kept[code] = cost
        else:
            dropped[reason].append(code or raw_code)
    costs = pd.DataFrame({"stockcode": list(kept), "unit_cost": list(kept.values())})
    report = {
        "rows_read": len(frame),
        "kept": len(costs),
        "dropped": {reason: len(codes) for reason, codes in dropped.items()},
        "examples": {reason: codes[:EXAMPLES] for reason, codes in dropped.items() if codes},
        "products_without_cost": len(known - set(kept)),
    }
    return costs, report


def _check(code: str, text: str, known: set, kept: dict) -> tuple[str | None, float]:
    if code not in known:
        return "unknown_stockcode", 0.0
    if code in kept:
        return "duplicate_stockcode", 0.0
    if not text:
        return "missing_cost", 0.0
    try:
        cost = parse_decimal("unit_cost", text)
    except NumberError:
        return "unparsable_cost", 0.0
    return (None, cost) if cost > 0 else ("non_positive_cost", 0.0)


def _header(name: str) -> str:
    return str(name).strip().lower().replace(" ", "_")


def with_costs(bundle_dir: Path, costs: pd.DataFrame, report: dict, source: str) -> Path:
    """A copy of the bundle in a new temporary folder with `costs.parquet` and a manifest listing it (version
    `<version>-c<digest>`, the validation `report` and the file's `source` under `costs`). The caller publishes
    and removes it."""
    bundle = open_bundle(bundle_dir)
    target = copy_bundle(bundle, "bundle-costs-")
    costs.sort_values("stockcode").to_parquet(target / COSTS, index=False)
    digest = hashlib.sha256(costs.sort_values("stockcode").to_csv(index=False).encode()).hexdigest()[:8]
    base = re.sub(r"-c[0-9a-f]{8}$", "", bundle.version)  # costs replace costs: one suffix, never two
    manifest = dict(bundle.manifest)
    manifest["version"] = f"{base}-c{digest}"
    manifest["files"] = {**manifest["files"], COSTS: sha256_of(target / COSTS)}
    manifest["costs"] = {"source": source, **report}
    (target / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return target
