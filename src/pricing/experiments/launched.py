"""New products in `pricing experiment update` (issue 26, Build 2): a code of the shop's export that the bundle was
not trained on becomes a product of its own once its first weeks arrive, with its neighbours' demand as its prior.

Which codes (`find_new_products`): a code of the export that is not a product of the bundle, whose description
(the export's own Description column: its most frequent description over the code's lines) has look-alikes in
the bundle (pricing.serving.launch.catalogue_index(predictor).nearest: at least launch.MIN_SIMILARITY, at most
launch.NEIGHBOURS of them). A code with none stays out of the update and is named in its report.

Its prior (`launch_prior`), the same three numbers the bundle gives a known product (update.model_prior), read
off the launch curve instead of the product's own:

- the curve: pricing.serving.launch.launch_decision for (description, unit cost, reference price p0), scale
  `query`, so each neighbour is read at the same price relative to p0 as to its own current price; evaluated at
  any price by pricing.serving.launched.launch_curve (launch.py's mix: each neighbour's shape, their weighted
  mean level), in units per week;
- a0 = log of the launch curve's units per week at p0;
- b0 = -(log U(p0 e^h) - log U(p0 e^-h)) / 2h, a central difference with h = update.BUNDLE_STEP (model_prior's);
- sd(b0) = hypot(the similarity-weighted mean of the neighbours' own prior sds, the similarity-weighted sd of the
  neighbours' own prior slopes), each neighbour's from update.model_prior at its current price, at least
  decision.PRIOR_SD_FLOOR: how little each neighbour's slope is known, and how far the neighbours disagree
  (a new product's slope is one of theirs at best; the law of total variance over the neighbour it resembles).

The neighbours are read from the bundle's own curves (a Predictor with learnt=False), as model_prior reads a
known product's: the prior is the model's, never an earlier test's posterior.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.serving import launch
from pricing.serving.decision import PRIOR_SD_FLOOR
from pricing.serving.launched import launch_curve
from pricing.serving.request import LaunchRequest


@dataclass(frozen=True)
class NewCode:
    """A code of the export the bundle does not know: its most frequent description and its look-alikes in the
    bundle (launch.Neighbour, most similar first; [] when none is similar enough)."""

    stockcode: str
    description: str
    neighbours: list[launch.Neighbour]


@dataclass(frozen=True)
class LaunchPrior:
    """A new product's prior (module docstring): `level` a0 (log units per week at p0), `slope` b0 and `sd`,
    with the launch decision the curve came from and the neighbours' own prior slopes and sds (N,)."""

    level: float
    slope: float
    sd: float
    launched: launch.LaunchDecision
    neighbour_slopes: np.ndarray
    neighbour_sds: np.ndarray


def export_descriptions(lines: pd.DataFrame, codes) -> dict[str, str]:
    """{stockcode: its most frequent description in `lines`} (canonical columns stockcode, description; ties go
    to the description seen first), white space runs collapsed as the launch request's (request.parse_launch);
    a code without any description gets ""."""
    wanted = set(map(str, codes))
    seen: dict[str, Counter] = {code: Counter() for code in wanted}
    order: dict[str, dict[str, int]] = {code: {} for code in wanted}
    for code, text in zip(lines["stockcode"].astype(str), lines["description"], strict=True):
        if code in wanted and isinstance(text, str) and text.strip():
            text = " ".join(text.split())
            seen[code][text] += 1
            order[code].setdefault(text, len(order[code]))
    return {
        code: (max(seen[code], key=lambda t: (seen[code][t], -order[code][t])) if seen[code] else "")
        for code in sorted(wanted)
    }


def find_new_products(predictor, lines: pd.DataFrame, codes) -> list[NewCode]:
    """Each of `codes` (codes of the export that the bundle does not know) with its description and look-alikes
    (module docstring), in code order. `predictor`: serving's Predictor of the bundle."""
    if not len(codes):
        return []  # no index to fit
    index = launch.catalogue_index(predictor)
    return [
        NewCode(code, text, index.nearest(text) if text else [])
        for code, text in export_descriptions(lines, codes).items()
    ]


def launch_prior(
    predictor,
    description: str,
    unit_cost: float | None,
    p0: float,
    samples: int,
    step: float,
    neighbour_prior,
) -> LaunchPrior | None:
    """The prior of a new product described `description`, with status-quo price `p0` (currency per unit) and
    unit cost `unit_cost` (None: unknown), from its neighbours (module docstring); None when the bundle has no
    look-alike. `predictor`: a Predictor with learnt=False; `samples`: held-out contexts per price; `step`: the
    central difference's half step in log price; `neighbour_prior(codes, prices)`: the bundle's own prior of
    known products at those prices (update.model_prior with this predictor), a Posterior. ValueError for a bundle
    without weekly curves; NoContexts and NoUsableModel from the predictor."""
    launched = launch.launch_decision(
        predictor, LaunchRequest(description, unit_cost, reference_price=p0), samples=samples
    )
    if launched is None:
        return None
    prices = p0 * np.exp(np.array([-step, 0.0, step]))
    units = np.maximum(launch_curve(predictor, launched, prices, samples).units, 1e-9)
    slope = -(np.log(units[2]) - np.log(units[0])) / (2 * step)
    codes = np.array([n.stockcode for n in launched.neighbours], dtype=str)
    own = neighbour_prior(codes, launched.current_prices)
    w = launched.weights
    mean_sd = float(w @ own.slope_sd)
    spread = float(np.sqrt(w @ (own.slope - w @ own.slope) ** 2))
    sd = max(float(np.hypot(mean_sd, spread)), PRIOR_SD_FLOOR)
    return LaunchPrior(float(np.log(units[1])), float(slope), sd, launched, own.slope, own.slope_sd)
