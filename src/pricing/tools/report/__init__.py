"""`pricing report`: what a bundle learned, for data without a known truth (the real Online Retail file).

Sections (JSON, Markdown and PNGs under `reports/`):
- cleaning: the prepared data's `data_quality.json` figures;
- metrics: the held-out table of the four models and the naive baseline, with what each metric scores;
- recommendations: per model, over the N best sellers, the recommended price relative to the median price, the
  shares at the bottom and the top of the swept range, and the agreement between models (median absolute log
  difference of their recommended prices, pair by pair);
- held-out price effect: within the held-out window, for products sold at clearly different prices (lines
  below and above the product's training-median price, each side with enough lines), the realised log ratio of
  mean quantity per line (above / below) against the ratio the model predicts for the same rows at the same
  prices; per model the slope and correlation of realised on predicted across products (a calibrated price
  effect has slope near 1; a model blind to price predicts 0);
- price structure: how many prices a product sells at the same day, and how much of its log-price variation lies
  between lines of one day (quantity breaks, channels) and how much over time (list-price changes): the second is
  the variation a pricing decision can use;
- elasticity: the data's own price elasticity of daily units by the four published designs on this file
  (../shared/data/README.md), each by the library that defines it (naive and fixed-effect regressions by
  pyfixest, double machine learning by DoubleML), with and without the one-off bulk customers, beside the
  published figure; the bundle's own elasticity of weekly units and of units per order line at the median price;
  and the fixed-effect measures the data generator is calibrated against.

The code, a module a job: `build` assembles the report and writes it, `data_checks` reads the price structure,
`bundle_checks` asks the bundle (recommendations, the held-out price effect, its own elasticities), `designs`
redoes the published elasticity designs with the estimators of `estimators`, `markdown` renders report.md a
section a function and `charts` draws the PNGs. This package keeps every name callers import from it.
"""

from pricing.tools.report.build import SPLITS, build_report, data_report, write_data_report, write_report
from pricing.tools.report.bundle_checks import (
    ELASTICITY_STEP,
    MIN_LINES_PER_SIDE,
    _fit,
    held_out_price_effect,
    pooled_elasticities,
    recommendation_table,
    summarise_recommendations,
    weekly_elasticities,
)
from pricing.tools.report.charts import CHART_LABELS, elasticity_chart
from pricing.tools.report.data_checks import QUANTITY_BAND_NAMES, QUANTITY_BANDS, price_structure
from pricing.tools.report.designs import (
    BULK_LINE_UNITS,
    DESIGNS,
    ESTIMATORS,
    PRICE_TRIM,
    PUBLISHED_ELASTICITIES,
    Design,
    bulk_customers,
    daily_cells,
    fixed_effect_elasticities,
    published_designs,
    without_customers,
)
from pricing.tools.report.estimators import (
    CELL,
    DML_FOLDS,
    DML_MAX_CELLS,
    FIXED_EFFECTS,
    Z95,
    dml_controls,
    double_ml,
    log_normal_fixed_effects,
    naive_regression,
    poisson_fixed_effects,
)
from pricing.tools.report.markdown import elasticity_markdown, elasticity_rows, to_markdown

__all__ = [
    "BULK_LINE_UNITS",
    "CELL",
    "CHART_LABELS",
    "DESIGNS",
    "DML_FOLDS",
    "DML_MAX_CELLS",
    "ELASTICITY_STEP",
    "ESTIMATORS",
    "FIXED_EFFECTS",
    "MIN_LINES_PER_SIDE",
    "PRICE_TRIM",
    "PUBLISHED_ELASTICITIES",
    "QUANTITY_BANDS",
    "QUANTITY_BAND_NAMES",
    "SPLITS",
    "Z95",
    "Design",
    "_fit",
    "build_report",
    "bulk_customers",
    "daily_cells",
    "data_report",
    "dml_controls",
    "double_ml",
    "elasticity_chart",
    "elasticity_markdown",
    "elasticity_rows",
    "fixed_effect_elasticities",
    "held_out_price_effect",
    "log_normal_fixed_effects",
    "naive_regression",
    "poisson_fixed_effects",
    "pooled_elasticities",
    "price_structure",
    "published_designs",
    "recommendation_table",
    "summarise_recommendations",
    "to_markdown",
    "weekly_elasticities",
    "without_customers",
    "write_data_report",
    "write_report",
]
