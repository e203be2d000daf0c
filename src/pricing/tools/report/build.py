"""The report assembled and written: `data_report` (the sections the prepared data alone answers),
`build_report` (those and what a bundle learned), and their files."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from pricing.artifacts.bundle import Bundle
from pricing.data.prepare import read_split
from pricing.serving.predictor import Predictor
from pricing.tools.report.bundle_checks import (
    held_out_price_effect,
    pooled_elasticities,
    recommendation_table,
    summarise_recommendations,
    weekly_elasticities,
)
from pricing.tools.report.charts import elasticity_chart, price_effect_chart, recommendation_chart
from pricing.tools.report.data_checks import price_structure
from pricing.tools.report.designs import PUBLISHED_ELASTICITIES, fixed_effect_elasticities, published_designs
from pricing.tools.report.markdown import to_markdown
from pricing.training.metrics import METRIC_NOTES

SPLITS = ("train", "val", "test")


def data_report(data_dir: Path) -> dict:
    """The sections that need only the prepared data (no bundle): cleaning, price structure and the data's own
    price elasticities over every split: the published designs (`published_designs`) and the generator's
    calibration measures (`fixed_effect_elasticities`, under `data_fixed_effects`). FileNotFoundError when
    `data_dir` lacks data_quality.json or a split's parquet file."""
    quality = json.loads((Path(data_dir) / "data_quality.json").read_text())
    splits, every = data_splits(data_dir)
    return {
        "cleaning": {k: quality.get(k) for k in ("source", "rows_read", "rows_kept", "dropped", "read", "split")},
        "price_structure": price_structure(splits["train"]),
        "elasticity": {
            "published_designs": published_designs(every, (quality.get("dropped") or {}).get("cancelled_same_day")),
            "data_fixed_effects": fixed_effect_elasticities(every),
            "published_daily_units": PUBLISHED_ELASTICITIES,
        },
    }


def data_splits(data_dir: Path) -> tuple[dict[str, pd.DataFrame], pd.DataFrame]:
    """The columns the data sections read of each prepared split (by name), and every split's rows together.
    FileNotFoundError for a missing split."""
    columns = ["stockcode", "unit_price", "invoice_date", "quantity", "customer_id", "country"]
    splits = {name: read_split(data_dir, name, columns) for name in SPLITS}
    return splits, pd.concat(splits.values(), ignore_index=True)


def build_report(bundle: Bundle, data_dir: Path, top: int = 150, bins: int = 50, samples: int = 500) -> dict:
    """Every section of the report as one JSON-ready dict, for the bundle and the prepared data it was trained on
    (`data_dir`: data_quality.json and train.parquet). Raises FileNotFoundError when `data_dir` lacks them."""
    data = data_report(data_dir)
    predictor = Predictor(bundle)
    contexts = bundle.contexts()
    codes = list(predictor.products.sort_values("lines", ascending=False).index[:top])
    recommendations = recommendation_table(predictor, codes, bins, samples)
    return {
        "bundle": predictor.version,
        "cleaning": data["cleaning"],
        "metrics": bundle.manifest["metrics"],
        "metric_notes": METRIC_NOTES,
        "recommendations": summarise_recommendations(recommendations),
        "recommendation_rows": recommendations.to_dict(orient="records"),
        "price_effect": held_out_price_effect(predictor, contexts),
        "price_structure": data["price_structure"],
        "elasticity": {
            "models_at_median_price": pooled_elasticities(predictor, codes, samples),
            "model_weekly_units": weekly_elasticities(predictor, codes, samples),
            **data["elasticity"],
        },
        "settings": {"top": top, "bins": bins, "samples": samples},
    }


def write_report(report: dict, out: Path) -> list[Path]:
    """report.json at `out`, report.md and three PNGs beside it (recommended / median price per model, the
    held-out price effect, realised against predicted, and the elasticities beside the published ones). Returns
    the paths written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    charts = [recommendation_chart(report, out.with_name("report_recommendations.png"))]
    charts.append(price_effect_chart(report, out.with_name("report_price_effect.png")))
    charts.append(elasticity_chart(report["elasticity"], out.with_name("report_elasticity.png")))
    markdown = out.with_suffix(".md")
    markdown.write_text(to_markdown(report, [c.name for c in charts]))
    return [out, markdown, *charts]


def write_data_report(report: dict, out: Path) -> list[Path]:
    """`data_report`'s dict as JSON at `out` and its elasticity chart beside it (report_elasticity.png)."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    return [out, elasticity_chart(report["elasticity"], out.with_name("report_elasticity.png"))]
