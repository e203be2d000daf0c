"""`pricing experiment plan`: the week's price of every product of the LATEST bundle's experiment, as a CSV in the
batch job's shape (for a shop that changes its prices weekly) and a JSON summary beside it.

Each row is the API's own experiment answer for the product and week (pricing.serving.experiment.plan_rows), so the
file and `GET /v1/price-decision/<stockcode>?mode=experiment&week=...` cannot disagree; columns PLAN_FIELDS.
"""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from pathlib import Path

from pricing.artifacts.store import open_store
from pricing.experiments.design import parse_week
from pricing.serving.experiment import PLAN_FIELDS, load_experiment, plan_rows


def summary_path(out: Path) -> Path:
    """Where the JSON summary goes beside the CSV at `out`: the same name with .json (.summary.json for a .json)."""
    out = Path(out)
    return out.with_suffix(".summary.json") if out.suffix.lower() == ".json" else out.with_suffix(".json")


def write_plan(store_location: str, week: str, out: Path) -> dict:
    """Write the plan of `week` (YYYY-Www) for the store's LATEST bundle's experiment to `out` (CSV) and its summary
    beside it (summary_path); the summary: the experiment, the week, its status and index, product counts, and
    counts per binding guardrail, state and arm position (how many products sit at their status quo). ValueError
    for a malformed week or a bundle without an experiment; StoreError for a store without a bundle."""
    parse_week(week, "--week")
    bundle = open_store(store_location).fetch()
    served = load_experiment(bundle)
    if served is None:
        raise ValueError(f"bundle {bundle.version} runs no experiment: start one with `pricing experiment start` first")
    rows = plan_rows(served, week, bundle.version)
    config = served.config
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=PLAN_FIELDS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(buffer.getvalue())
    first = rows[0]
    summary = {
        "experiment": config.id,
        "bundle_version": bundle.version,
        "week": first["week"],
        "week_index": first["week_index"],
        "status": config.status(first["week"]),
        "products": len(rows),
        "holdout": sum(r["holdout"] for r in rows),
        "at_status_quo": sum(r["price_to_set"] == r["current_price"] for r in rows),
        "binding_guardrail": dict(Counter(r["binding_guardrail"] or "none" for r in rows)),
        "state": dict(Counter(r["state"] for r in rows)),
        "csv": str(out),
    }
    summary_path(out).write_text(json.dumps(summary, indent=1) + "\n")
    return summary
