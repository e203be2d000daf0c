"""What a price test taught the bundle, as the decision uses it: each tested product's elasticity of weekly units
at its status-quo price, after `pricing experiment update` (pricing.experiments.update, docs/EXPERIMENTS.md).

The update publishes `experiment_evidence.parquet`: per product of the test file the prior slope b0 (the
bundle's own weekly curve, a central difference of log units per week in log price at the status-quo price p0)
and the posterior slope b with its sd, from the weekly quasi-Poisson likelihood of the test weeks (a Laplace
update: pricing.experiments.learning). Serving applies it to a *tested* product (some week's price moved) in
three places, so that a test's result becomes the next decision (`test`, then `change` or `hold`):

- the curve: order lines per week are multiplied by (p / p0) ** -(b - b0), so the served curve's elasticity at
  p0 becomes the posterior's while its shape away from p0 (the networks' curvature) is kept; units per line are
  left as they are, since weekly units identify the sum of the two parts, not its split;
- the uncertainty: the draws of the decision's interval and of its probability of beating the current price use
  the posterior sd of b on log price, in place of the incidence and per-line slope sds of `evidence.parquet`,
  which the test's own weeks supersede (the posterior already combines the model's prior with them);
- the support: the prices charged in the test weeks (`experiment_weeks.parquet`) count as prices sold at, so a
  change within the tested range is no longer "outside the prices the product sold at".

A product the test held out (tested False) keeps the bundle's evidence: its posterior is its prior.

A new product (`new_product` true: a code the bundle was not trained on, pricing.experiments.launched) has no curve
of its own to tilt: `new_products` reads its row (description, neighbours, unit cost, its LearntSlope, its weeks
by price) for pricing.serving.launched, which tilts its neighbours' launch curve the same way. `learnt_slopes`
leaves it out. A table written before new products (no `new_product` column) holds known products only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

# the files pricing.experiments.update publishes (named there too: tests/unit/serving/test_learnt.py)
EXPERIMENT_EVIDENCE = "experiment_evidence.parquet"
EXPERIMENT_WEEKS = "experiment_weeks.parquet"


@dataclass(frozen=True)
class LearntSlope:
    """One tested product's elasticity of weekly units at `status_quo_price` (currency): the bundle's `prior`
    and the test's `posterior` mean with its `sd` (b > 0: units fall as the price rises), from `weeks` weeks of
    lines; `tested_prices`: the lowest and highest weekly list price of those weeks (None without the weekly
    table); `state`: learning, monetising or stopped (pricing.experiments.update)."""

    prior: float
    posterior: float
    sd: float
    status_quo_price: float
    weeks: int
    tested_prices: tuple[float, float] | None
    state: str

    def tilt(self, prices: np.ndarray) -> np.ndarray:
        """The factor (K,) that moves the curve's elasticity at the status-quo price from the prior to the
        posterior: (p / p0) ** -(posterior - prior), 1 at p0."""
        prices = np.asarray(prices, dtype=float)
        return np.exp(-(self.posterior - self.prior) * np.log(prices / self.status_quo_price))

    def as_json(self) -> dict:
        """The decision's `experiment_evidence` block."""
        return {
            "prior_elasticity": round(self.prior, 4),
            "elasticity": round(self.posterior, 4),
            "elasticity_sd": round(self.sd, 4),
            "status_quo_price": round(self.status_quo_price, 4),
            "weeks": self.weeks,
            "tested_prices": None if self.tested_prices is None else [round(p, 4) for p in self.tested_prices],
            "state": self.state,
        }


def _tested_ranges(weeks: pd.DataFrame | None) -> dict[str, tuple[float, float]]:
    """{stockcode: (lowest, highest weekly list price)} over the weeks table's priced weeks ({} without one)."""
    if weeks is None or not len(weeks):
        return {}
    charged = weeks[np.isfinite(weeks["price"].to_numpy(dtype=float))]
    bounds = charged.groupby(charged["stockcode"].astype(str))["price"].agg(["min", "max"])
    return {str(code): (float(row["min"]), float(row["max"])) for code, row in bounds.iterrows()}


def _is_new(evidence: pd.DataFrame) -> np.ndarray:
    """(N,) booleans: the rows that are new products (none in a table written before the column)."""
    if "new_product" not in evidence.columns:
        return np.zeros(len(evidence), dtype=bool)
    return evidence["new_product"].fillna(False).to_numpy(dtype=bool)


def learnt_slopes(evidence: pd.DataFrame | None, weeks: pd.DataFrame | None) -> dict[str, LearntSlope]:
    """Each tested product's LearntSlope, by stockcode, from the two tables (None: the bundle has none; then {}).
    Products with no week of their own or a non-finite posterior are left out (the bundle's evidence serves), and
    so are new products (`new_products`)."""
    if evidence is None:
        return {}
    ranges = _tested_ranges(weeks)
    evidence = evidence[~_is_new(evidence)]
    out = {}
    for row in evidence.itertuples(index=False):
        slope = _slope_of(row, ranges)
        if bool(row.tested) and slope is not None:
            out[str(row.stockcode)] = slope
    return out


def _slope_of(row, ranges: dict) -> LearntSlope | None:
    """An evidence row's LearntSlope, or None for a row without a week or with a non-finite posterior."""
    values = (row.prior_mean, row.slope_mean, row.slope_sd, row.status_quo_price)
    if int(row.weeks) == 0 or not np.all(np.isfinite(values)) or row.slope_sd <= 0:
        return None
    return LearntSlope(
        float(row.prior_mean),
        float(row.slope_mean),
        float(row.slope_sd),
        float(row.status_quo_price),
        int(row.weeks),
        ranges.get(str(row.stockcode)),
        str(row.state),
    )


@dataclass(frozen=True)
class NewProduct:
    """A new product that `pricing experiment update` learnt (pricing.experiments.launched): its stockcode, the
    description its lines carried, the neighbours its prior came from (stockcodes, most similar first), its unit
    cost (currency per unit, None: unknown), its LearntSlope (prior b0 from the launch curve, the posterior, p0,
    the prices its weeks charged) and `observed`: its weeks by list price, as a decision's `observed` (price,
    weeks, orders_per_week, units_per_week, sales_per_week, per week)."""

    stockcode: str
    description: str
    neighbours: tuple[str, ...]
    unit_cost: float | None
    slope: LearntSlope
    observed: tuple[dict, ...] = field(default_factory=tuple)


def _observed(weeks: pd.DataFrame | None, code: str) -> tuple[dict, ...]:
    """The product's priced weeks of the weeks table grouped by list price (to the penny)."""
    if weeks is None or not len(weeks):
        return ()
    rows = weeks[(weeks["stockcode"].astype(str) == code) & np.isfinite(weeks["price"].to_numpy(dtype=float))]
    out = []
    for price, group in rows.groupby(rows["price"].round(2)):
        units = float(group["units"].mean())
        out.append(
            {
                "price": round(float(price), 4),
                "weeks": len(group),
                "orders_per_week": round(float(group["orders"].mean()), 4),
                "units_per_week": round(units, 4),
                "sales_per_week": round(float((group["price"] * group["units"]).mean()), 4),
            }
        )
    return tuple(out)


def new_products(evidence: pd.DataFrame | None, weeks: pd.DataFrame | None) -> dict[str, NewProduct]:
    """Each new product of the evidence table (`new_product` true), by stockcode; {} without the table or the
    column. Rows without a week or with a non-finite posterior are left out, as in `learnt_slopes`."""
    if evidence is None:
        return {}
    ranges = _tested_ranges(weeks)
    out = {}
    for row in evidence[_is_new(evidence)].itertuples(index=False):
        slope = _slope_of(row, ranges)
        if slope is None:
            continue
        code = str(row.stockcode)
        cost = getattr(row, "unit_cost", np.nan)
        neighbours = tuple(c for c in str(row.neighbours or "").split(";") if c)
        out[code] = NewProduct(
            code,
            str(row.description),
            neighbours,
            None if cost is None or not np.isfinite(cost) else float(cost),
            slope,
            _observed(weeks, code),
        )
    return out
