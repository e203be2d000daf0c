"""`pricing experiment update`: learn each tested product's price slope from a shop's export of its test weeks,
publish the result as a new bundle version (models unchanged), and report the experiment.

The steps (docs/EXPERIMENTS.md, "Learning from a shop's test weeks"):

1. the lines: read and cleaned by `pricing prepare`'s own loader (pricing.data.load.load: every form it reads,
   every dropped row counted by reason);
2. the weeks: per product of the store's LATEST bundle that the file holds, its weekly units, squared units and
   list price (pricing.experiments.panel.weekly_panel, ISO weeks, list prices through the price ladder);
3. the prior: the bundle's own weekly curve around the product's status-quo price p0 (its list price in the
   file's first week it sold): b0 = -d log(units per week) / d log(price), a central difference of the curve the
   API serves (level factor included), and its sd from evidence.parquet, the incidence slope's sd and the per-line
   slope's sd taken to the same log-price scale (x p0 / median price) and combined, at least the prior's floor:
   the same prior as pricing.experiments.prior.bundle_prior, for the file's products at their own p0;
4. the update: pricing.experiments.learning.update_posterior, the weekly quasi-Poisson likelihood of the
   surrogate mu_t = exp(a + o_t - b log(p_t / p0)), with o_t the week's known volume read from the file itself
   (`volume_offset`) and phi from the lines' quantities (learning.dispersion);
5. the new version: the LATEST bundle's files copied unchanged (its `experiment.json` included),
   `experiment_evidence.parquet`, `experiment_weeks.parquet` and `experiment_report.json` added (or replaced), a
   manifest with every file's sha256, version `<parent>-x<digest>` and `experiment.parent` naming the parent,
   published through the store (files, manifest, LATEST last);
6. the report: per product and overall (`report.json`, `report.md`).

Two designs. Without an `experiment.json` in the LATEST bundle (the design is inferred from the prices): every
product of the bundle the file holds takes part, p0 is its list price in the file's first week it sold, a product
is tested when some week's list price is more than MOVED from p0 (else holdout), and the pre-period is the weeks
before any tested product's price first moved. With one (the experiment contract, published by `pricing
experiment start`; `read_config`): the products are the config's that the file holds (the file's other products
only feed the volume offset), tested and holdout as the config says (a holdout product whose list price moved
more than MOVED from its status-quo price in any week of the file is refused, naming it), p0 is the config's
`status_quo_price`, the unit costs are the config's (`unit_cost`, null: none), the weekly figure is the config's
`objective` (profit only where every product has a cost, as without a config), the stop-loss is the config's
`stop_loss`, and the pre-period is the weeks before its `start_week`.

The weeks' table (`experiment_weeks.parquet`, WEEK_COLUMNS), one row per product taking part and ISO week of the
file: the week's list price, units, order lines, the realised weekly figure (the DiD's: profit, sum over lines of
(paid price - unit cost) x quantity, or revenue without costs; currency per week), and the expected one
(`expected_weekly`): the prior model's, (p_t - c) x exp(a0 + o_t - b0 log(p_t / p0)) with a0 the log of the
bundle curve's units per week at p0, b0 its slope (step 3), and o_t the week's volume offset (step 4, the log of
the shop's untested order lines that week over their mean across the file's weeks), so that a busy November week
and a quiet February week are both compared with what the model expects at that volume; `post` marks the weeks
from the first price change (inferred) or the start week (config) on.

Which slope is updated, and why it has a table of its own. The surrogate's b is the elasticity of weekly units to
the list price at p0. In the bundle, that elasticity is the sum of two parts, the incidence network's slope
(log order lines per week per unit of log price) and the per-line network's slope (log units per line per unit of
price / median price, so x p0 / median on the log-price scale), plus whatever curvature the networks add; and
evidence.parquet holds only those two slopes' sds, the slopes themselves living in the models' weights. Weekly
units identify their sum, not how it splits between lines and units per line, so b's posterior does not map onto
either column of the evidence. It is stored in a table of its own, `experiment_evidence.parquet` (one row per
product of the bundle the file holds: `EXPERIMENT_COLUMNS`); serving prices a tested product by it
(pricing.serving.learnt: the curve tilted to b's posterior at p0), and the prior here reads the curve without that
tilt (`model_prior`).

New products (issue 26, Build 2; pricing.experiments.launched): a code of the file that is not a product of the
LATEST bundle but whose description (its lines' most frequent one) has look-alikes in it is a new product. It takes
part as a tested product in either design (never holdout; no config names it), after the known products in the
table, with p0 its list price in its first week (whole pence), its unit cost the config's or the cost file's where
they name it, and its prior read off its neighbours' launch curve (`launched.launch_prior`); its weeks go through
the same `update_posterior`. Its lines leave the volume offset like any tested product's, and it takes no side in
the difference in differences nor starts the inferred test weeks (it had no weeks before its launch). The
figure is profit or revenue as the known products' costs say; a new product without a cost in a profit figure
has NaN realised and expected figures. A code with no look-alike is ignored and named in the report
(`new_products_without_look_alikes`). The table's `new_product`, `description`, `neighbours` and `unit_cost`
columns say which row is which (a table written before them holds known products only).

Repeated updates: the prior is always the model's (the parent's curve and evidence), never an earlier
experiment's posterior, so the file given must hold every test week so far (the shop's export from the test's
start, with its pre-period); a later update replaces the table, so no week counts twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.bundle import Bundle
from pricing.artifacts.derive import publish_derived
from pricing.artifacts.store import open_store
from pricing.data.load import load
from pricing.experiments.design import CURRENCY, format_week, parse_week
from pricing.experiments.did import difference_in_differences
from pricing.experiments.launched import LaunchPrior, find_new_products, launch_prior
from pricing.experiments.learning import Posterior, dispersion, update_posterior
from pricing.experiments.panel import WeeklyPanel, weekly_panel
from pricing.experiments.policies import probability_of_loss
from pricing.experiments.results import (
    EXPERIMENT_CONFIG,
    EXPERIMENT_EVIDENCE,
    EXPERIMENT_REPORT,
    EXPERIMENT_WEEKS,
    Z,
)
from pricing.serving.decision import PRIOR_SD_FLOOR
from pricing.serving.launch import MIN_SIMILARITY

DID_SCOPE = "all tested products vs holdout"
WEEK_COLUMNS = (
    "stockcode",
    "week",  # ISO week, "YYYY-Www" (Monday to Sunday)
    "price",  # the week's list price (the price ladder's, panel.weekly_panel), currency per unit; NaN before a sale
    "units",  # units sold that week
    "orders",  # order lines that week
    "realised",  # the week's profit (revenue without costs), currency per week: the DiD's figure
    "expected",  # the prior model's figure at the week's price and volume (expected_weekly), currency per week
    "post",  # the week is from the first price change (inferred) or the experiment's start week (config) on
)
EXPERIMENT_COLUMNS = (
    "stockcode",
    "slope_mean",  # b's posterior mean: -d log(units per week) / d log(price) at p0
    "slope_sd",
    "prior_mean",  # b0, the bundle's curve at p0
    "prior_sd",
    "status_quo_price",  # p0, currency per unit
    "weeks",  # weeks from the product's first sale in the file to the file's last week
    "units",  # units sold over those weeks
    "prices_seen",  # distinct weekly list prices, to the penny
    "tested",  # its list price moved by more than MOVED from p0 in some week
    "state",  # learning, monetising, stopped, or holdout (STATES)
    "new_product",  # a code the bundle was not trained on, priced from its neighbours (pricing.experiments.launched)
    "description",  # the bundle's description; a new product's: its lines' most frequent one
    "neighbours",  # a new product's neighbours, semicolon-joined stockcodes, most similar first ("" otherwise)
    "unit_cost",  # the unit cost the update used (the config's or the cost file's), currency per unit; NaN: none
)
LEVEL = 0.9
MOVED = 0.01  # a weekly list price more than 1% from p0 is a tested price (the ladder's noise is below that)
BUNDLE_STEP = 0.05  # the log-price half-step of the curve's central difference (prior.BUNDLE_STEP's)
CURVE_SAMPLES = 200  # held-out contexts per price when reading the curve
# the stop rule: the simulator's chosen stop-loss (docs/EXPERIMENTS.md, seeds 0-1): stop when the posterior
# probability that the last tested price loses more than 10% of the status-quo weekly figure passes 0.7
STOP_LOSS_SHARE = 0.1
STOP_LOSS_PROBABILITY = 0.7
STATES = ("learning", "monetising", "stopped", "holdout")
DEFAULT_OUT = Path("reports/experiment")


@dataclass(frozen=True)
class UpdateResult:
    """What `update_experiment` did: the new version and its parent, the table it published and the report."""

    version: str
    parent: str
    table: pd.DataFrame
    report: dict


@dataclass(frozen=True)
class ExperimentConfig:
    """What the update reads from a bundle's `experiment.json` (the experiment contract): its id, its start week
    ("YYYY-Www") and that week's Monday, the objective ("profit" or "revenue"), the stop-loss (share of the
    status-quo weekly figure, posterior probability), and per product (N rows, indexed by stockcode, in the
    config's order) its `status_quo_price` (currency per unit), `unit_cost` (currency per unit, NaN for null) and
    `holdout` (bool)."""

    id: str
    start_week: str
    start_monday: pd.Timestamp
    objective: str
    stop_share: float
    stop_probability: float
    products: pd.DataFrame


def iso_week(monday: pd.Timestamp) -> str:
    """The ISO week ("YYYY-Www") holding a day (design.format_week's spelling, the contract's)."""
    return format_week(pd.Timestamp(monday).date())


def _number(value, what: str, low: float = 0.0, high: float = math.inf, strict_low: bool = True) -> float:
    """A JSON number in (low, high] ([low, high] with strict_low False), refusing booleans, strings, NaN."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{what} must be a number, got {value!r}")
    if value < low or (strict_low and value == low) or value > high:
        raise ValueError(f"{what} must be in {'(' if strict_low else '['}{low:g}, {high:g}], got {value!r}")
    return float(value)


def read_config(bundle: Bundle) -> ExperimentConfig | None:
    """The bundle's experiment config (`experiment.json`, read through its checksum), or None for a bundle without
    one. Reads only the fields the update uses; the rest of the contract (arms, schedule, ...) is the planner's.
    ValueError naming the file, the bundle and the field for a config the update cannot use (not JSON, a field
    missing or of the wrong type, a malformed start week, no products, a stockcode twice)."""
    if EXPERIMENT_CONFIG not in bundle.manifest["files"]:
        return None
    where = f"{EXPERIMENT_CONFIG} of bundle {bundle.version}"
    try:
        config = json.loads(bundle.verified(EXPERIMENT_CONFIG).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: not valid JSON ({exc.msg})") from None
    if not isinstance(config, dict):
        raise ValueError(f"{where}: not a JSON object")
    for key in ("id", "start_week", "objective", "products"):
        if key not in config:
            raise ValueError(f"{where}: no {key!r}")
    if not isinstance(config["id"], str) or not config["id"]:
        raise ValueError(f"{where}: 'id' must be a non-empty string")
    try:
        monday = pd.Timestamp(parse_week(config["start_week"], "start_week"))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None
    if config["objective"] not in ("profit", "revenue"):
        raise ValueError(f"{where}: objective must be 'profit' or 'revenue', got {config['objective']!r}")
    stop = config.get("stop_loss") or {}
    if not isinstance(stop, dict):
        raise ValueError(f"{where}: stop_loss must be an object")
    share = _number(stop.get("share", STOP_LOSS_SHARE), f"{where}: stop_loss.share", 0.0, 1.0)
    probability = _number(stop.get("probability", STOP_LOSS_PROBABILITY), f"{where}: stop_loss.probability", 0, 1)
    products = config["products"]
    if not isinstance(products, list) or not products:
        raise ValueError(f"{where}: 'products' must be a non-empty list")
    rows = []
    for k, product in enumerate(products):
        at = f"{where}: products[{k}]"
        if not isinstance(product, dict) or not isinstance(product.get("stockcode"), str) or not product["stockcode"]:
            raise ValueError(f"{at} needs a 'stockcode' string")
        at = f"{where}: product {product['stockcode']}"
        cost = product.get("unit_cost")
        if not isinstance(product.get("holdout"), bool):
            raise ValueError(f"{at}: 'holdout' must be true or false, got {product.get('holdout')!r}")
        rows.append(
            {
                "stockcode": product["stockcode"],
                "status_quo_price": _number(product.get("status_quo_price"), f"{at}: status_quo_price"),
                "unit_cost": np.nan if cost is None else _number(cost, f"{at}: unit_cost", strict_low=False),
                "holdout": product["holdout"],
            }
        )
    table = pd.DataFrame(rows)
    twice = table["stockcode"][table["stockcode"].duplicated()].unique()
    if twice.size:
        raise ValueError(f"{where}: product {', '.join(twice[:3])} listed more than once")
    return ExperimentConfig(
        config["id"],
        config["start_week"],
        monday,
        config["objective"],
        share,
        probability,
        table.set_index("stockcode"),
    )


def read_lines(raw: Path, date_order: str | None = None) -> tuple[pd.DataFrame, dict]:
    """The cleaned sale lines of `raw` and the cleaning report (pricing.data.load.load, as `pricing prepare`;
    `date_order` its --dayfirst / --monthfirst).
    DataError for a file that cannot be read; ValueError when no line survives the cleaning (an empty file)."""
    cleaned = load(Path(raw), date_order)
    if cleaned.frame.empty:
        reasons = {k: v for k, v in cleaned.report["dropped"].items() if v}
        raise ValueError(
            f"{raw}: no usable transaction lines: {cleaned.report['rows_read']:,} rows read"
            + (f", dropped {reasons}" if reasons else "")
        )
    return cleaned.frame, cleaned.report


def volume_offset(lines: pd.DataFrame, panel: WeeklyPanel, tested: np.ndarray) -> np.ndarray:
    """o_jt (N, T): the log of the shop's order lines in week t, centred on the product's mean over the weeks: the
    lines of every product not tested (the holdout, and the file's products outside the bundle, which a shop
    does not test), the product's own left out, so neither its own price response nor the tested products'
    (whose arms move the shop's total: 8 tested products of 12 at arms averaging (p / p0)^-b = 1.13 lift it by
    8%, and bias every slope) leaks into the volume. Where no untested line is left in any week (every product
    tested), every other product's lines instead; a week whose lines so counted number zero gets 0 (no known
    volume). `tested` (N,) booleans over panel.codes."""
    monday = pd.to_datetime(lines["invoice_date"]).dt.to_period("W-SUN").dt.start_time
    untested = ~lines["stockcode"].astype(str).isin(set(panel.codes[tested])).to_numpy()

    def per_week(mask: np.ndarray) -> np.ndarray:
        return monday[mask].value_counts().reindex(panel.weeks, fill_value=0).to_numpy(dtype=float)

    own = np.where(tested[:, None], 0.0, panel.orders)
    others = per_week(untested)[None, :] - own
    if not (others > 0).any():
        others = per_week(np.ones(len(lines), dtype=bool))[None, :] - panel.orders
    known = others > 0
    logged = np.log(np.where(known, others, 1.0))
    count = known.sum(axis=1, keepdims=True)
    mean = np.divide(
        (logged * known).sum(axis=1, keepdims=True), count, out=np.zeros_like(count, dtype=float), where=count > 0
    )
    return np.where(known, logged - mean, 0.0)


def model_prior(
    bundle: Bundle, codes: np.ndarray, status_quo: np.ndarray, samples: int = CURVE_SAMPLES, predictor=None
) -> Posterior:
    """The prior of each product's (a, b) from the bundle (module docstring, step 3): codes (N,) of the bundle,
    status_quo (N,) p0 in currency per unit. a's mean: log units per week at p0 on the curve. `predictor`: the
    bundle's Predictor loaded with learnt=False, where the caller has one (default: loaded here)."""
    from pricing.serving.predictor import Predictor
    from pricing.serving.request import PriceRequest

    # learnt=False: the parent may carry an earlier update's posterior, by which serving tilts its curve
    # (pricing.serving.learnt); the prior is the model's own (module docstring, "Repeated updates")
    predictor = predictor or Predictor(bundle, learnt=False)
    n = len(codes)
    slope, sd, level = np.empty(n), np.empty(n), np.empty(n)
    for j, code in enumerate(tqdm(codes, desc="prior from the bundle's curves", unit="product", leave=False)):
        p0 = float(status_quo[j])
        prices = p0 * np.exp(np.array([-BUNDLE_STEP, 0.0, BUNDLE_STEP]))
        result = predictor.curve(PriceRequest(str(code), float(prices[0]), float(prices[-1]), 3, samples), prices)
        units = np.maximum(np.asarray(result.result.units_per_week, dtype=float), 1e-9)
        slope[j] = -(np.log(units[2]) - np.log(units[0])) / (2 * BUNDLE_STEP)
        level[j] = np.log(units[1])
        incidence_sd, line_sd = predictor.slope_sd(str(code))
        median = float(predictor.product(str(code))["price_median"])
        sd[j] = max(float(np.hypot(incidence_sd or 0.0, (line_sd or 0.0) * p0 / median)), PRIOR_SD_FLOOR)
    return Posterior.prior(level, slope, sd)


def _weekly_money(
    lines: pd.DataFrame, panel: WeeklyPanel, cost: np.ndarray, judged: np.ndarray | None = None
) -> tuple[np.ndarray, bool]:
    """(N, T) each product's weekly profit (sum over lines of (paid price - unit cost) x quantity) where every
    product `judged` marks ((N,) booleans, default all) has a cost, else its weekly revenue; and whether it is
    profit. Currency per week; a product outside `judged` without a cost in a profit figure gets NaN."""
    monday = pd.to_datetime(lines["invoice_date"]).dt.to_period("W-SUN").dt.start_time
    frame = pd.DataFrame(
        {
            "stockcode": lines["stockcode"].astype(str).to_numpy(),
            "week": monday.to_numpy(),
            "revenue": (lines["quantity"] * lines["unit_price"]).to_numpy(dtype=float),
        }
    )
    sums = frame.groupby(["stockcode", "week"])["revenue"].sum()
    index = pd.MultiIndex.from_product([panel.codes, panel.weeks], names=["stockcode", "week"])
    revenue = sums.reindex(index).fillna(0.0).to_numpy().reshape(panel.units.shape)
    profit = bool(np.isfinite(cost if judged is None else cost[judged]).all())
    return (revenue - cost[:, None] * panel.units if profit else revenue), profit


def expected_weekly(
    prior: Posterior,
    status_quo: np.ndarray,
    list_price: np.ndarray,
    offset: np.ndarray,
    cost: np.ndarray,
    profit: bool | None = None,
) -> np.ndarray:
    """The prior model's expected weekly figure (N, T), currency per week (module docstring, the weeks' table):
    (p_t - c) x exp(a0 + o_t - b0 log(p_t / p0)), c the unit cost where every product has one (profit, as
    `_weekly_money`), else 0 (revenue). prior: the bundle's (`model_prior`: a0 its log units per week at p0, b0
    its slope), status_quo (N,) p0, list_price (N, T) NaN before a product's first sale (NaN there too), offset
    (N, T) `volume_offset`, cost (N,) NaN where unknown. The surrogate of pricing.experiments.learning, whose
    level and slope the update starts from, so the week's gap to `realised` is what the test taught the model.
    `profit`: whether the figure is profit (default: where every product has a cost); a product without a cost
    in a profit figure gets NaN (a new product whose cost nobody gave)."""
    profit = bool(np.isfinite(cost).all()) if profit is None else profit
    margin = list_price - (cost[:, None] if profit else 0.0)
    with np.errstate(invalid="ignore"):
        x = np.log(list_price / status_quo[:, None])
    return margin * np.exp(prior.level[:, None] + offset - prior.slope[:, None] * x)


def _inferred_post(x: np.ndarray, observed: np.ndarray, tested: np.ndarray) -> np.ndarray:
    """post (T,): the weeks from the first week any tested product's price moved on; none where none moved."""
    moved = observed & (np.abs(x) > np.log1p(MOVED))
    changed_weeks = np.flatnonzero(moved[tested].any(axis=0)) if tested.any() else np.array([], dtype=int)
    post = np.zeros(x.shape[1], dtype=bool)
    if changed_weeks.size:
        post[changed_weeks[0] :] = True
    return post


def _did(money: np.ndarray, tested: np.ndarray, post: np.ndarray, why: dict[str, str]) -> tuple[dict | None, str]:
    """The overall difference in differences (pricing.experiments.did) of the weekly figure, tested products
    against the holdout, `post` (T,) the test's weeks, the others the pre-period; and per tested product its own
    estimate against the holdout (the point estimate only: one treated product gives a cluster-robust interval no
    test could trust). (None, why) where the file has no such design: `why` words each case ("sides", "pre",
    "post") for the design in use."""
    if not tested.any() or tested.all():
        return None, why["sides"]
    if post.all():
        return None, why["pre"]
    if not post.any():
        return None, why["post"]
    overall = difference_in_differences(money, tested, post, LEVEL).as_dict()
    overall["pre_weeks"], overall["post_weeks"] = int((~post).sum()), int(post.sum())
    holdout_change = money[~tested][:, post].mean() - money[~tested][:, ~post].mean()
    per_product = money[:, post].mean(axis=1) - money[:, ~post].mean(axis=1) - holdout_change
    overall["per_product"] = per_product
    return overall, ""


# what the report says where the file has no difference in differences, per design
INFERRED_WHY = {
    "sides": "needs both tested products and holdout products (whose price did not move)",
    "pre": "needs a pre-period: weeks before the first price change",
    "post": "needs a pre-period: weeks before the first price change",  # no price moved: as before configs
}


def _config_why(config: ExperimentConfig) -> dict[str, str]:
    return {
        "sides": f"needs both tested and holdout products of experiment {config.id} in the file",
        "pre": f"needs a pre-period: weeks before the experiment's start week {config.start_week} in the file",
        "post": f"needs test weeks: weeks from the experiment's start week {config.start_week} in the file",
    }


def _states(
    posterior: Posterior,
    tested: np.ndarray,
    status_quo: np.ndarray,
    last_price: np.ndarray,
    cost: np.ndarray,
    stop_share: float = STOP_LOSS_SHARE,
    stop_probability: float = STOP_LOSS_PROBABILITY,
) -> tuple[np.ndarray, np.ndarray]:
    """Each product's state and decision threshold b* (module docstring of docs/EXPERIMENTS.md's rule):

    - holdout: its price never moved in the file;
    - stopped: the posterior probability that its last tested price loses more than `stop_share` of the
      status-quo weekly figure passes `stop_probability` (default the simulator's stop-loss, STOP_LOSS_SHARE and
      STOP_LOSS_PROBABILITY; a config's `stop_loss` otherwise): return to p0;
    - learning: b's 90% interval contains b*, the slope at which p0 is the optimum of the surrogate's weekly
      figure, p0 / (p0 - c) for profit at unit cost c (1 for revenue, without a cost): the evidence cannot yet say
      which way the price should move;
    - monetising: the interval excludes b*: price at the posterior mean's optimum.
    """
    c = np.where(np.isfinite(cost), cost, 0.0)
    threshold = np.where(status_quo > c, status_quo / np.maximum(status_quo - c, 1e-12), np.inf)
    low, high = posterior.slope - Z * posterior.slope_sd, posterior.slope + Z * posterior.slope_sd
    loss = probability_of_loss(last_price, status_quo, c, posterior, stop_share)
    state = np.where((low < threshold) & (threshold < high), "learning", "monetising")
    state = np.where(loss > stop_probability, "stopped", state)
    return np.where(tested, state, "holdout"), threshold


def update_experiment(
    raw: Path, store_location: str, out: Path = DEFAULT_OUT, samples: int = CURVE_SAMPLES, date_order: str | None = None
) -> UpdateResult:
    """The whole command (module docstring): read `raw`, update the LATEST bundle's products that it holds (the
    config's, where the bundle carries `experiment.json`) and the new products among its other codes ("New
    products"), publish the new version to `store_location`, write `out/report.json` and `out/report.md`;
    `samples`: held-out contexts per price on the prior's curve; `date_order`: "dayfirst" or "monthfirst" where
    the file cannot tell.

    Everything that can refuse the input runs before anything is written, so a refusal publishes nothing and
    leaves LATEST as it was. Raises StoreError (no bundle in the store), DataError (the file cannot be read),
    ValueError (no usable line; no product of the bundle, or of its experiment, in the file; a config the update
    cannot read; a holdout product whose price moved), all one line."""
    from pricing.serving.predictor import Predictor

    store = open_store(store_location)
    parent = store.fetch()
    config = read_config(parent)
    lines, cleaning = read_lines(raw, date_order)
    known = set(parent.products().index.astype(str))
    in_file = pd.unique(lines["stockcode"].astype(str))
    if config is None:
        codes = np.array(sorted(set(in_file) & known), dtype=str)
        if codes.size == 0:
            raise ValueError(
                f"{raw}: none of its {len(in_file):,} products is in bundle {parent.version} "
                f"(e.g. {', '.join(map(str, in_file[:3]))}): export the shop whose data trained it"
            )
    else:
        planned = config.products.index
        codes = np.array(sorted(set(in_file) & known & set(planned)), dtype=str)
        if codes.size == 0:
            raise ValueError(
                f"{raw}: none of experiment {config.id}'s {len(planned):,} products is in it (e.g. "
                f"{', '.join(map(str, planned[:3]))}): export the weeks of the shop that runs it"
            )
    # learnt=False: the prior is the model's own, never an earlier update's posterior ("Repeated updates")
    predictor = Predictor(parent, learnt=False)
    candidates = find_new_products(predictor, lines, sorted(set(in_file) - known))
    launched = [c for c in candidates if c.neighbours]
    without = [c for c in candidates if not c.neighbours]
    n_known = len(codes)
    codes = np.concatenate([codes, np.array([c.stockcode for c in launched], dtype=str)])
    new = np.arange(len(codes)) >= n_known  # the new products come after the known ones, in code order
    panel = weekly_panel(lines, codes)
    if config is None:
        first = np.argmax(np.isfinite(panel.list_price), axis=1)
        status_quo = panel.list_price[np.arange(len(codes)), first]
    else:
        status_quo = config.products["status_quo_price"].reindex(codes).to_numpy(dtype=float)
    # a new product's p0: its list price in its first week, in whole pence (the launch curve's reference price)
    first = np.argmax(np.isfinite(panel.list_price), axis=1)
    status_quo = np.where(new, np.round(panel.list_price[np.arange(len(codes)), first], 2), status_quo)
    x = np.log(panel.list_price / status_quo[:, None])
    observed = np.isfinite(x)  # a week before the product's first sale has no known price: it does not count
    moved = observed & (np.abs(x) > np.log1p(MOVED))
    if config is None:
        tested = moved.any(axis=1) | new
        post = _inferred_post(x, observed, tested & ~new)
        why = INFERRED_WHY
        stop = (STOP_LOSS_SHARE, STOP_LOSS_PROBABILITY)
    else:
        tested = ~config.products["holdout"].reindex(codes, fill_value=False).to_numpy(dtype=bool) | new
        _refuse_moved_holdout(raw, config, panel, status_quo, moved & ~tested[:, None])
        post = np.asarray(panel.weeks >= config.start_monday)
        why = _config_why(config)
        stop = (config.stop_share, config.stop_probability)
    offset = volume_offset(lines, panel, tested)
    phi = dispersion(np.where(observed, panel.units, 0.0), np.where(observed, panel.squared_units, 0.0))

    cost = np.full(len(codes), np.nan)
    costs = parent.table("costs.parquet")
    cost_file = None if costs is None else costs.set_index(costs["stockcode"].astype(str))["unit_cost"]
    if config is not None:
        cost = config.products["unit_cost"].reindex(codes).to_numpy(dtype=float)
    elif cost_file is not None:
        cost = cost_file.reindex(codes).to_numpy(dtype=float)
    if cost_file is not None:  # a new product's cost where the cost file names it (no config names one)
        cost = np.where(new & np.isnan(cost), cost_file.reindex(codes).to_numpy(dtype=float), cost)

    known_prior = model_prior(parent, codes[~new], status_quo[~new], samples, predictor)
    priors = [
        launch_prior(
            predictor,
            product.description,
            None if np.isnan(cost[n_known + k]) else float(cost[n_known + k]),
            float(status_quo[n_known + k]),
            samples,
            BUNDLE_STEP,
            lambda nb, prices: model_prior(parent, nb, prices, samples, predictor),
        )
        for k, product in enumerate(launched)
    ]
    prior = Posterior.prior(
        np.concatenate([known_prior.level, [p.level for p in priors]]),
        np.concatenate([known_prior.slope, [p.slope for p in priors]]),
        np.concatenate([known_prior.slope_sd, [p.sd for p in priors]]),
    )
    posterior = update_posterior(prior, panel.units, x, offset, phi, observed)

    # the figure the experiment is judged on: a revenue objective ignores the costs it was given
    figure_cost = cost if config is None or config.objective == "profit" else np.full(len(codes), np.nan)
    last_price = panel.list_price[:, -1]
    state, threshold = _states(posterior, tested, status_quo, last_price, figure_cost, *stop)
    # profit or revenue as the known products' costs say: a new product without a cost does not turn the
    # experiment's figure into revenue (its own profit is then unknown: NaN)
    money, is_profit = _weekly_money(lines, panel, figure_cost, ~new)
    expected = expected_weekly(prior, status_quo, panel.list_price, offset, figure_cost, is_profit)
    # the difference in differences compares known products: a new product had no weeks before its launch
    did, did_why = _did(money[~new], tested[~new], post, why)
    if did is not None:
        did["per_product"] = np.concatenate([did["per_product"], np.full(int(new.sum()), np.nan)])

    weeks = observed.sum(axis=1)
    prices_seen = [sorted({round(float(p), 2) for p in row[np.isfinite(row)]}) for row in panel.list_price]
    described = parent.products()["description"]
    table = pd.DataFrame(
        {
            "stockcode": codes,
            "slope_mean": posterior.slope.round(6),
            "slope_sd": posterior.slope_sd.round(6),
            "prior_mean": prior.slope.round(6),
            "prior_sd": prior.slope_sd.round(6),
            "status_quo_price": status_quo.round(4),
            "weeks": weeks.astype(int),
            "units": np.where(observed, panel.units, 0.0).sum(axis=1).round(4),
            "prices_seen": [len(p) for p in prices_seen],
            "tested": tested,
            "state": state,
            "new_product": new,
            "description": [str(described.get(c, "")) for c in codes[~new]] + [c.description for c in launched],
            "neighbours": [""] * n_known + [";".join(nb.stockcode for nb in c.neighbours) for c in launched],
            "unit_cost": cost.round(4),
        }
    )[list(EXPERIMENT_COLUMNS)]
    week_table = weeks_table(panel, money, expected, post)
    updated = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    version = _version(parent, table, updated)
    summary = experiment_report(
        updated, config, parent.version, version, Path(raw).name, panel, table, post, did, did_why, is_profit
    )
    _publish(store, parent, version, table, week_table, summary, Path(raw).name)
    report = _report(
        raw, parent.version, version, cleaning, panel, table, prices_seen, threshold, cost, did, did_why, is_profit
    )
    report["experiment"] = None if config is None else config.id
    report["design"] = "inferred" if config is None else "config"
    report["files"] = [EXPERIMENT_EVIDENCE, EXPERIMENT_WEEKS, EXPERIMENT_REPORT]
    report["new_products"] = [
        _new_product_entry(product, prior_k, table.iloc[n_known + k])
        for k, (product, prior_k) in enumerate(zip(launched, priors, strict=True))
    ]
    report["new_products_without_look_alikes"] = {
        "count": len(without),
        "products": [{"stockcode": c.stockcode, "description": c.description} for c in without],
        "rule": f"a code the bundle does not know takes part when its description has a look-alike in the bundle "
        f"(cosine similarity at least {MIN_SIMILARITY:g}, pricing.serving.launch); these have none and are ignored",
    }
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=2) + "\n")
    (out / "report.md").write_text(_markdown(report))
    return UpdateResult(version, parent.version, table, report)


def _new_product_entry(product, prior: LaunchPrior, row: pd.Series) -> dict:
    """The report's entry for a new product: its description, neighbours (with similarity and their own prior
    slope and sd), p0, the launch prior and the posterior (slope mean, sd, 90% interval), state and weeks."""
    return {
        "stockcode": product.stockcode,
        "description": product.description,
        "status_quo_price": float(row["status_quo_price"]),
        "unit_cost": None if not np.isfinite(row["unit_cost"]) else float(row["unit_cost"]),
        "weeks": int(row["weeks"]),
        "units": float(row["units"]),
        "state": row["state"],
        "neighbours": [
            {
                "stockcode": nb.stockcode,
                "description": nb.description,
                "similarity": round(nb.similarity, 4),
                "weight": round(float(prior.launched.weights[k]), 4),
                "prior_slope": round(float(prior.neighbour_slopes[k]), 4),
                "prior_sd": round(float(prior.neighbour_sds[k]), 4),
            }
            for k, nb in enumerate(product.neighbours)
        ],
        "prior_slope": {
            "mean": float(row["prior_mean"]),
            "sd": float(row["prior_sd"]),
            "interval_90": _interval(row["prior_mean"], row["prior_sd"]),
            "method": "the launch curve's central difference at p0 (pricing.experiments.launched.launch_prior)",
        },
        "posterior_slope": {
            "mean": float(row["slope_mean"]),
            "sd": float(row["slope_sd"]),
            "interval_90": _interval(row["slope_mean"], row["slope_sd"]),
        },
    }


def _refuse_moved_holdout(raw, config: ExperimentConfig, panel: WeeklyPanel, status_quo, moved: np.ndarray) -> None:
    """ValueError naming every holdout product (up to 5) whose list price moved (`moved` (N, T): more than MOVED
    from its status-quo price in that week), with the first such week and price: a holdout product keeps its
    status-quo price, and one that moved would be compared with itself."""
    rows = np.flatnonzero(moved.any(axis=1))
    if rows.size == 0:
        return
    said = []
    for j in rows[:5]:
        t = int(np.argmax(moved[j]))
        said.append(
            f"{panel.codes[j]} ({panel.list_price[j, t]:.2f} in {iso_week(panel.weeks[t])}, status quo "
            f"{status_quo[j]:.2f})"
        )
    more = f" and {rows.size - 5} more" if rows.size > 5 else ""
    raise ValueError(
        f"{raw}: holdout product{'s' if rows.size > 1 else ''} of experiment {config.id} moved: "
        f"{', '.join(said)}{more}; a holdout product keeps its status-quo price: nothing published"
    )


def weeks_table(panel: WeeklyPanel, money: np.ndarray, expected: np.ndarray, post: np.ndarray) -> pd.DataFrame:
    """The weeks' table (WEEK_COLUMNS; module docstring): one row per product of `panel` and week, product-major.
    money, expected (N, T) currency per week; post (T,) booleans."""
    n, t = panel.units.shape
    return pd.DataFrame(
        {
            "stockcode": np.repeat(panel.codes, t),
            "week": np.tile([iso_week(w) for w in panel.weeks], n),
            "price": panel.list_price.ravel().round(4),
            "units": panel.units.ravel().round(4),
            "orders": panel.orders.ravel().astype(int),
            "realised": money.ravel().round(4),
            "expected": expected.ravel().round(4),
            "post": np.tile(np.asarray(post, dtype=bool), n),
        }
    )[list(WEEK_COLUMNS)]


def experiment_report(updated, config, parent, version, source, panel, table, post, did, did_why, is_profit) -> dict:
    """`experiment_report.json`'s content: the update's overall figures, which `pricing.experiments.results`
    serves. updated: UTC ISO time of the update; the difference in differences of the weekly figure (profit, or
    revenue without costs) in `unit` (currency per product-week) with its 90% interval, the pre and test weeks,
    the products on each side, the counts per state; `experiment`: the config's id (null: inferred design)."""
    states = table["state"].value_counts().reindex(list(STATES), fill_value=0)
    return {
        "updated": updated,
        "experiment": None if config is None else config.id,
        "design": "inferred" if config is None else "config",
        "version": version,
        "parent_version": parent,
        "source": source,
        "outcome": "profit" if is_profit else "revenue",
        "currency": CURRENCY,
        "weeks": {"first": iso_week(panel.weeks[0]), "last": iso_week(panel.weeks[-1]), "count": len(panel.weeks)},
        "pre_weeks": int((~np.asarray(post)).sum()),
        "post_weeks": int(np.asarray(post).sum()),
        "tested": int(table["tested"].sum()),
        "holdout": int((~table["tested"]).sum()),
        "new_products": int(table["new_product"].sum()),
        "states": {k: int(v) for k, v in states.items()},
        "did": None
        if did is None
        else {
            **{k: did[k] for k in ("estimate", "low", "high", "std_error", "treated", "control")},
            "level": LEVEL,
            "unit": f"{CURRENCY} per product-week",
            "scope": DID_SCOPE,
            "pre_weeks": did["pre_weeks"],
            "post_weeks": did["post_weeks"],
        },
        "did_missing": did_why or None,
    }


def _version(parent: Bundle, table: pd.DataFrame, updated: str) -> str:
    """`<parent>-x<digest>`: the digest of the parent, the table and the update's time (the report inside the
    version carries that time, so one parent updated twice with the same file gives two versions, never one
    version with two contents); a later update replaces the last suffix."""
    digest = hashlib.sha256((parent.version + table.to_csv(index=False) + updated).encode()).hexdigest()[:8]
    base = re.sub(r"-x[0-9a-f]{8}$", "", parent.version)
    return f"{base}-x{digest}"


def _publish(
    store, parent: Bundle, version: str, table: pd.DataFrame, weeks: pd.DataFrame, summary: dict, source: str
) -> str:
    """The parent's files (its experiment.json unchanged) with the three experiment files and a manifest listing
    them (module docstring, step 5), published through the store (pricing.artifacts.derive: LATEST flips last).
    Returns the new version."""

    def write(folder: Path) -> list[str]:
        table.to_parquet(folder / EXPERIMENT_EVIDENCE, index=False)
        weeks.to_parquet(folder / EXPERIMENT_WEEKS, index=False)
        (folder / EXPERIMENT_REPORT).write_text(json.dumps(summary, indent=2) + "\n")
        return [EXPERIMENT_EVIDENCE, EXPERIMENT_WEEKS, EXPERIMENT_REPORT]

    earlier = parent.manifest.get("experiment")
    block = {
        **(earlier if isinstance(earlier, dict) else {}),  # keys another writer of the block put there stay
        "parent": parent.version,
        "source": source,
        "table": EXPERIMENT_EVIDENCE,
        "weeks": EXPERIMENT_WEEKS,
        "report": EXPERIMENT_REPORT,
        "config": summary["experiment"],
        "products": len(table),
        "tested": int(table["tested"].sum()),
        "new_products": int(table["new_product"].sum()),
        "served": True,  # pricing.serving.learnt prices a tested product by the table (module docstring)
    }
    return publish_derived(store, parent, version, write, {"experiment": block}, prefix="bundle-experiment-")


def _interval(mean: float, sd: float) -> list[float]:
    return [round(mean - Z * sd, 4), round(mean + Z * sd, 4)]


def _report(raw, parent, version, cleaning, panel, table, prices_seen, threshold, cost, did, did_why, is_profit):
    """The report's JSON (module docstring, step 6): settings, overall figures and one entry per product."""
    per_product_did = None if did is None else did.pop("per_product")
    products = []
    for j, row in table.reset_index(drop=True).iterrows():
        products.append(
            {
                "stockcode": row["stockcode"],
                "state": row["state"],
                "tested": bool(row["tested"]),
                "weeks": int(row["weeks"]),
                "units": float(row["units"]),
                "status_quo_price": float(row["status_quo_price"]),
                "prices_seen": prices_seen[j],
                "price_changes": int(
                    np.sum(np.abs(np.diff(np.round(panel.list_price[j][np.isfinite(panel.list_price[j])], 2))) > 0)
                ),
                "prior_slope": {
                    "mean": float(row["prior_mean"]),
                    "sd": float(row["prior_sd"]),
                    "interval_90": _interval(row["prior_mean"], row["prior_sd"]),
                },
                "posterior_slope": {
                    "mean": float(row["slope_mean"]),
                    "sd": float(row["slope_sd"]),
                    "interval_90": _interval(row["slope_mean"], row["slope_sd"]),
                },
                "decision_threshold": None if not np.isfinite(threshold[j]) else round(float(threshold[j]), 4),
                "unit_cost": None if not np.isfinite(cost[j]) else float(cost[j]),
                "did_change_per_week": None
                if per_product_did is None or not row["tested"] or row["new_product"]
                else round(float(per_product_did[j]), 4),
                "new_product": bool(row["new_product"]),
            }
        )
    states = table["state"].value_counts().reindex(list(STATES), fill_value=0)
    return {
        "source": str(raw),
        "parent_version": parent,
        "version": version,
        "table": EXPERIMENT_EVIDENCE,
        "served": True,
        "weeks": [str(w.date()) for w in panel.weeks],
        "cleaning": {k: cleaning[k] for k in ("rows_read", "rows_kept", "dropped")},
        "products": len(table),
        "tested": int(table["tested"].sum()),
        "holdout": int((~table["tested"]).sum()),
        "new_products_count": int(table["new_product"].sum()),
        "states": {k: int(v) for k, v in states.items()},
        "units": float(table["units"].sum()),
        "outcome": "profit" if is_profit else "revenue",
        "difference_in_differences": did,
        "difference_in_differences_missing": did_why or None,
        "level": LEVEL,
        "rules": {
            "states": "holdout: price never moved; stopped: P(last tested price loses > 10% of the status-quo weekly"
            " figure) > 0.7; learning: the slope's 90% interval contains the threshold p0 / (p0 - c) (1 without a"
            " cost); monetising: it excludes it",
        },
        "per_product": products,
    }


def _markdown(report: dict) -> str:
    """A short human reading of the report: the overall figures and one table row per product."""
    did = report["difference_in_differences"]
    lines = [
        f"# Experiment update: {report['source']}",
        "",
        f"New bundle version `{report['version']}` (parent `{report['parent_version']}`), "
        f"`{report['table']}` (served: a tested product's decision uses it). "
        f"Weeks {report['weeks'][0]} to {report['weeks'][-1]} "
        f"({len(report['weeks'])}); {report['products']} products"
        + (f" ({report['new_products_count']} new)" if report.get("new_products_count") else " of the bundle")
        + f", {report['tested']} tested, {report['holdout']} holdout; states: "
        + ", ".join(f"{k} {v}" for k, v in report["states"].items())
        + ".",
        "",
        (
            f"Difference in differences of weekly {report['outcome']} (tested against holdout, "
            f"{did['pre_weeks']} pre-period weeks, {did['post_weeks']} test weeks): {did['estimate']:+.2f} per "
            f"product-week, 90% interval [{did['low']:+.2f}, {did['high']:+.2f}]."
            if did
            else f"No difference in differences: {report['difference_in_differences_missing']}."
        ),
        "",
        "| product | state | weeks | prices seen | units | prior slope (90%) | posterior slope (90%) | DiD / week |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for p in report["per_product"]:
        prior, post = p["prior_slope"], p["posterior_slope"]
        lines.append(
            f"| {p['stockcode']} | {p['state']} | {p['weeks']} | {', '.join(f'{v:.2f}' for v in p['prices_seen'])} | "
            f"{p['units']:.0f} | {prior['mean']:.2f} [{prior['interval_90'][0]:.2f}, {prior['interval_90'][1]:.2f}] | "
            f"{post['mean']:.2f} [{post['interval_90'][0]:.2f}, {post['interval_90'][1]:.2f}] | "
            f"{'' if p['did_change_per_week'] is None else format(p['did_change_per_week'], '+.2f')} |"
        )
    new = report.get("new_products") or []
    if new:
        lines += ["", "New products (priced from their neighbours' demand: pricing.experiments.launched):", ""]
        for p in new:
            prior, post = p["prior_slope"], p["posterior_slope"]
            names = ", ".join(f"{nb['stockcode']} ({nb['similarity']:.2f})" for nb in p["neighbours"])
            lines.append(
                f"- {p['stockcode']} {p['description']!r}: neighbours {names}; prior slope {prior['mean']:.2f} "
                f"(sd {prior['sd']:.2f}), posterior {post['mean']:.2f} (sd {post['sd']:.2f}), {p['state']}"
            )
    ignored = report.get("new_products_without_look_alikes") or {}
    if ignored.get("count"):
        codes = ", ".join(p["stockcode"] for p in ignored["products"][:10])
        lines += ["", f"Ignored: {ignored['count']} code(s) the bundle does not know, with no look-alike: {codes}."]
    return "\n".join(lines) + "\n"
