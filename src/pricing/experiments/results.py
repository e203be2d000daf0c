"""An experiment's results for one product, read from a bundle version that `pricing experiment update` published
(pricing.experiments.update): the `results` block of the experiment contract that `/v1/price-decision?mode=
experiment` answers and the dashboard draws, and the product's `state` (the stop-loss reads it).

The three files the update adds to the version, each read once per bundle version through its checksum
(Bundle.verified, via Bundle.table) and kept in a small cache keyed by the bundle's folder, version and the files'
checksums, so a request that misses the service's cache pays for a dictionary look-up, not a parquet read:

- `experiment_weeks.parquet`: per product and ISO week, the list price, units, realised and expected weekly
  figure (update.WEEK_COLUMNS);
- `experiment_evidence.parquet`: per product its prior and posterior slope and its state (update.EXPERIMENT_COLUMNS);
- `experiment_report.json`: the update's time and the difference in differences over all tested products.

Results belong to one experiment: where the bundle carries an `experiment.json` whose id differs from the one the
update recorded (a new experiment started on a version that still holds the last one's files), or the update
recorded one and the bundle carries none, neither the results nor the state are this bundle's experiment's, and
both functions answer None (the API then says "planned").
"""

from __future__ import annotations

import json
import math
import threading
from collections import OrderedDict
from dataclasses import dataclass

from pricing.artifacts.bundle import Bundle
from pricing.experiments.design import EXPERIMENT_FILE

# The files' names live here, not in pricing.experiments.update (which imports them from here): serving imports
# this module, and update's imports (the loader, tqdm, statsmodels) are the batch job's, not the image's
# (tests/integration/test_serving_imports.py).
EXPERIMENT_EVIDENCE = "experiment_evidence.parquet"
EXPERIMENT_WEEKS = "experiment_weeks.parquet"
EXPERIMENT_REPORT = "experiment_report.json"
EXPERIMENT_CONFIG = EXPERIMENT_FILE  # the experiment contract's config (`pricing experiment start`)
Z = 1.6448536269514722  # the standard normal's 95th percentile: a central 90% interval
CACHED_BUNDLES = 4  # versions kept: the loaded one, and the one a reload is replacing it with
_FILES = (EXPERIMENT_WEEKS, EXPERIMENT_EVIDENCE, EXPERIMENT_REPORT, EXPERIMENT_CONFIG)


@dataclass(frozen=True)
class _Tables:
    """One version's experiment files, ready to answer per product: `weeks` {stockcode: [week dicts]},
    `evidence` {stockcode: row dict}, the report (None without it), and whether the files are the bundle's
    experiment's (module docstring)."""

    weeks: dict[str, list[dict]]
    evidence: dict[str, dict]
    report: dict | None
    current: bool


_cache: OrderedDict[tuple, _Tables] = OrderedDict()
_lock = threading.Lock()


def _number(value) -> float | None:
    """A float for JSON: None for NaN (a week before the product's first sale has no price)."""
    value = float(value)
    return None if math.isnan(value) else value


def _load(bundle: Bundle) -> _Tables:
    """Read and index the version's experiment files (each through its checksum); BundleIntegrityError where one
    is listed but missing or altered."""
    weeks: dict[str, list[dict]] = {}
    frame = bundle.table(EXPERIMENT_WEEKS)
    if frame is not None:
        for code, rows in frame.groupby(frame["stockcode"].astype(str), sort=False):
            weeks[code] = [
                {
                    "week": str(row.week),
                    "price": _number(row.price),
                    "units": _number(row.units),
                    "orders": int(row.orders),
                    "realised": _number(row.realised),
                    "expected": _number(row.expected),
                    "post": bool(row.post),
                }
                for row in rows.itertuples(index=False)
            ]
    evidence_frame = bundle.table(EXPERIMENT_EVIDENCE)
    evidence = {}
    if evidence_frame is not None:
        evidence = {str(row["stockcode"]): row for row in evidence_frame.to_dict(orient="records")}
    report = None
    if EXPERIMENT_REPORT in bundle.manifest["files"]:
        report = json.loads(bundle.verified(EXPERIMENT_REPORT).read_text())
    current = True
    if report is not None:
        config_id = None
        if EXPERIMENT_CONFIG in bundle.manifest["files"]:
            config_id = json.loads(bundle.verified(EXPERIMENT_CONFIG).read_text()).get("id")
        current = report.get("experiment") == config_id
    return _Tables(weeks, evidence, report, current)


def _tables(bundle: Bundle) -> _Tables:
    """The version's `_Tables`, from the cache when this folder, version and files were read before."""
    files = bundle.manifest["files"]
    key = (str(bundle.root), bundle.version, *(files.get(name) for name in _FILES))
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    tables = _load(bundle)  # outside the lock: two first requests may both read, and agree
    with _lock:
        _cache[key] = tables
        while len(_cache) > CACHED_BUNDLES:
            _cache.popitem(last=False)
    return tables


def _slope(mean: float, sd: float) -> list[float]:
    """[mean, low, high] of a normal slope's central 90% interval, 4 decimals."""
    return [round(float(mean), 4), round(float(mean - Z * sd), 4), round(float(mean + Z * sd), 4)]


def product_results(bundle: Bundle, stockcode: str) -> dict | None:
    """The experiment contract's `results` block for `stockcode`, from the latest `pricing experiment update`
    carried in `bundle`:

        {"updated": UTC ISO time of the update,
         "weeks": [{"week": "YYYY-Www", "price": list price (currency per unit; null before the first sale),
                    "units": units that week, "orders": order lines, "realised": the week's profit (revenue
                    where the update had no costs), currency per week, "expected": the prior model's figure at
                    that week's price and volume (update.expected_weekly; null where price is), currency per
                    week, "post": from the experiment's start (or first price change) on}, ...],  # ISO order
         "slope": {"prior": [mean, low90, high90], "posterior": [mean, low90, high90]},  # -d log units / d log p
         "did": null | {"estimate", "low", "high" (90%), "unit": "<currency> per product-week",
                        "scope": "all tested products vs holdout"}}

    `orders` and `post` go beyond the contract's week keys (a reader may ignore them). `did` is the overall
    difference in differences of every tested product against the holdout (one product's own has no
    trustworthy interval), null where the update's file had no such design. None when the bundle holds no
    `experiment_weeks.parquet`, the product is not in it, or the files are another experiment's (module
    docstring). BundleIntegrityError when a listed file is missing or altered."""
    tables = _tables(bundle)
    weeks = tables.weeks.get(str(stockcode))
    if weeks is None or not tables.current:
        return None
    report = tables.report or {}
    evidence = tables.evidence.get(str(stockcode))
    did = report.get("did")
    return {
        "updated": report.get("updated"),
        "weeks": [dict(week) for week in weeks],  # copies: a caller's edit must not reach the cache
        "slope": None
        if evidence is None
        else {
            "prior": _slope(evidence["prior_mean"], evidence["prior_sd"]),
            "posterior": _slope(evidence["slope_mean"], evidence["slope_sd"]),
        },
        "did": None if did is None else {k: did[k] for k in ("estimate", "low", "high", "unit", "scope")},
    }


def product_state(bundle: Bundle, stockcode: str) -> str | None:
    """The product's `state` in `bundle`'s `experiment_evidence.parquet` ("learning", "monetising", "stopped" or
    "holdout": update.STATES), or None when the bundle has no such table, the product is not in it, or the table
    is another experiment's (module docstring). BundleIntegrityError when the table is listed but altered."""
    tables = _tables(bundle)
    row = tables.evidence.get(str(stockcode))
    if row is None or not tables.current:
        return None
    return str(row["state"])


def clear_cache() -> None:
    """Forget every version read (tests; a process that rewrites a version folder in place, which stores never do)."""
    with _lock:
        _cache.clear()
