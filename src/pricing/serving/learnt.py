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
"""

from __future__ import annotations

from dataclasses import dataclass

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


def learnt_slopes(evidence: pd.DataFrame | None, weeks: pd.DataFrame | None) -> dict[str, LearntSlope]:
    """Each tested product's LearntSlope, by stockcode, from the two tables (None: the bundle has none; then {}).
    Products with no week of their own or a non-finite posterior are left out (the bundle's evidence serves)."""
    if evidence is None:
        return {}
    ranges: dict[str, tuple[float, float]] = {}
    if weeks is not None and len(weeks):
        charged = weeks[np.isfinite(weeks["price"].to_numpy(dtype=float))]
        bounds = charged.groupby(charged["stockcode"].astype(str))["price"].agg(["min", "max"])
        ranges = {str(code): (float(row["min"]), float(row["max"])) for code, row in bounds.iterrows()}
    out = {}
    for row in evidence.itertuples(index=False):
        values = (row.prior_mean, row.slope_mean, row.slope_sd, row.status_quo_price)
        if not bool(row.tested) or int(row.weeks) == 0 or not np.all(np.isfinite(values)) or row.slope_sd <= 0:
            continue
        code = str(row.stockcode)
        out[code] = LearntSlope(
            float(row.prior_mean),
            float(row.slope_mean),
            float(row.slope_sd),
            float(row.status_quo_price),
            int(row.weeks),
            ranges.get(code),
            str(row.state),
        )
    return out
