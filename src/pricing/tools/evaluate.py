"""`pricing evaluate`: score recommended prices against the generator's true optimum, on weekly revenue.

For each of the N best-selling products, the recommendation comes from the API's own in-process path
(Predictor.recommend), once per model. The truth is the expected revenue per week at a list price p over the
same sampled contexts, R(p) = p x E[order lines per week | p] x mean_c E[units per line | p, c]
(pricing.data.generate.true_expected_weekly_units), on the same price grid:
    regret           = 1 - R(p_hat) / R(p_star)                   p_star: the grid's true maximiser
    price error      = |p_hat - p_star| / p_star
    uplift captured  = (R(p_hat) - R(p_sq)) / (R(p_star) - R(p_sq))  p_sq: the historical median price (the status
                       quo), over the products where the status quo leaves at least 1% of R(p_star) on the table
Methods in the same run: each per-line model with the primary incidence model (the two-part design, weekly
optimum), `incidence_lightgbm` (the primary per-line model with the fallback incidence model), `per_line` (the
design before the incidence model: the primary's optimum of sales per order line), the historical median price,
and the reference design's sweep (sampled rows left keyed to their own products, only `unit_price` replaced, the
network predicting, per line). When the network is an ensemble, its first member alone is scored too
(`network_single`): what averaging buys. `--per-line-truth` scores against revenue per line instead (the
question of the versions before), for comparison.

Every model's price comes from Predictor.decide, the API's decision path. With `--costs FILE` (stockcode,
unit_cost; `pricing generate` writes one) the objective is weekly profit, (p - c) x weekly units, for the truth
and the models alike. The primary's decision is scored too: `decision` is the price it says to set (the current
price when it holds), `current_price` the price it would hold at; and its interval for the optimal price is
checked against the true optimum (coverage: the share of products whose true optimum lies inside, within half a
grid step).

The slopes (report["slopes"], `slope_table`): per product, the elasticity of expected weekly units at its current
price p0 (the bundle's last list price), b = -d log(units per week) / d log(price) (b > 0: units fall as the price
rises; docs/EXPERIMENTS.md's convention), three ways, each a central difference at p0 exp(+-SLOPE_STEP) or a
regression on the same scale:
    model           the bundle's weekly curve as the API serves it (pricing.experiments.update.model_prior: one
                    code path with the experiment update's prior), over the product's held-out contexts
    truth           the generator's true_expected_weekly_units over the same contexts
    passive         the plain passive regression of the file's weekly units on log list price, per product with a
                    flat prior (pricing.experiments.prior.passive_fit: the simulator's passive model) on the
                    transaction lines beside the truth (`raw`); `passive_shrunk` the same shrunk toward the
                    products' pooled slope, the form the simulator prices by
and in summary each one's mean and median, its bias against the truth (mean, median, sd, P10, P90) and the share
of products it reads as less elastic than the truth. In the confounded market (`pricing generate --market
confounded`: list prices rose with an unobserved demand level) the passive estimates read the products as less
elastic than they are; the slopes show how far a model of the same passive data is misled.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.store import open_store
from pricing.data.features import FEATURES, quantity_from_log
from pricing.data.generate import load_ground_truth, true_expected_units_per_line, true_expected_weekly_units
from pricing.experiments.panel import weekly_panel
from pricing.experiments.prior import passive_fit
from pricing.experiments.update import BUNDLE_STEP, model_prior, read_lines, volume_offset
from pricing.serving.decision import verdict as decision_rule
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import aggregate, price_grid

PRIMARY = "network"

BASELINES = ("median_price", "reference_sweep")
UPLIFT_MIN_GAIN = 0.01  # uplift is scored where the status quo leaves at least this share of the best on the table
# the hold rule's thresholds the report scores (min_probability, min_gain: pricing.serving.decision.verdict)
HOLD_SWEEP_PROBABILITIES = (0.5, 0.6, 0.7, 0.8, 0.9)
HOLD_SWEEP_GAINS = (0.0, 0.001, 0.005, 0.01, 0.02)  # 0.001: the service's default (MIN_RELATIVE_GAIN)
# the truth's central difference takes the model's half-step (model_prior's): both slopes are the same finite
# difference of their curves, so their gap is the models' and not the step's
SLOPE_STEP = BUNDLE_STEP
SLOPE_METHODS = ("model", "passive", "passive_shrunk")
RAW_NAME = "online_retail.csv"  # the transaction file `pricing generate` writes beside ground_truth.csv


def true_revenue(
    prices: np.ndarray, truth: pd.Series, contexts: pd.DataFrame, weekly: bool = True, unit_cost: float | None = None
) -> np.ndarray:
    """R(p) for each price (currency per week, up to the week's scale, which no argmax or ratio depends on): price x
    the true expected weekly units over the contexts; with weekly=False, price x the true expected units per line
    averaged over the contexts (the per-line question, at the price each line pays). With `unit_cost`, profit:
    (price - unit_cost) x the same units."""
    prices = np.asarray(prices, dtype=float)
    if weekly:
        units = true_expected_weekly_units(prices, truth, contexts, week_scale=1.0)
    else:
        units = true_expected_units_per_line(prices, truth, contexts, tiered=False)
    return (prices - (unit_cost or 0.0)) * units


def true_slope(price: float, truth: pd.Series, contexts: pd.DataFrame, step: float = SLOPE_STEP) -> float:
    """The truth's elasticity of expected weekly units at `price` (currency per unit): b = -(log U(p e^h) -
    log U(p e^-h)) / 2h, U the generator's true_expected_weekly_units over `contexts` (columns segment, country,
    invoice_date), h = `step`. Unitless, b > 0 when units fall as the price rises. ValueError for a price or
    step that is not positive."""
    if not (price > 0 and step > 0):
        raise ValueError(f"the price and the step must be positive, got {price} and {step}")
    units = true_expected_weekly_units(price * np.exp(np.array([-step, step])), truth, contexts, week_scale=1.0)
    return float(-(np.log(units[1]) - np.log(units[0])) / (2 * step))


@dataclass(frozen=True)
class PassiveSlopes:
    """The passive regression's slopes for N products (`passive_slopes`), b as `true_slope`'s: `plain` (N,) each
    product's own estimate (flat prior; NaN where its weeks hold fewer than two list prices, so the data say
    nothing of its slope) with `plain_sd`; `shrunk` (N,) the same shrunk toward the pooled slope, with
    `shrunk_sd`; `weeks` (N,) the weeks that counted and `prices` (N,) the distinct weekly list prices among them;
    `source`: the file read."""

    plain: np.ndarray
    plain_sd: np.ndarray
    shrunk: np.ndarray
    shrunk_sd: np.ndarray
    weeks: np.ndarray
    prices: np.ndarray
    source: str


def passive_slopes(raw: Path, codes, current_price: np.ndarray) -> PassiveSlopes:
    """The plain passive regression of `raw`'s weekly units on log list price for `codes` (N,), around each one's
    `current_price` (N,, currency per unit): the lines read and cleaned as `pricing prepare` reads them
    (pricing.experiments.update.read_lines), per product and ISO week its units, squared line quantities and list
    price through the price ladder (pricing.experiments.panel.weekly_panel), the week's known log volume from the
    shop's other products' order lines (update.volume_offset, as `pricing experiment update` reads a shop's
    export), fitted by the simulator's passive model (pricing.experiments.prior.passive_fit: the weekly
    quasi-Poisson regression, flat prior then shrunk). A product the file never sold counts no week.
    DataError for a file that cannot be read; ValueError for a file without a usable line, or prices not positive."""
    codes = np.asarray(codes, dtype=str)
    current_price = np.asarray(current_price, dtype=float)
    if current_price.shape != codes.shape or not (current_price > 0).all():
        raise ValueError(f"need one positive current price per product, got {current_price.shape} for {codes.shape}")
    lines, _ = read_lines(Path(raw))
    panel = weekly_panel(lines, codes)
    x = np.log(panel.list_price / current_price[:, None])
    observed = np.isfinite(x)
    offset = volume_offset(lines, panel, np.zeros(len(codes), dtype=bool))
    flat, shrunk = passive_fit(panel.units, panel.squared_units, x, offset, observed)
    prices = np.array([len(np.unique(np.round(row[np.isfinite(row)], 2))) for row in panel.list_price])
    identified = prices >= 2
    return PassiveSlopes(
        np.where(identified, flat.slope, np.nan),
        np.where(identified, flat.slope_sd, np.nan),
        shrunk.slope,
        shrunk.slope_sd,
        observed.sum(axis=1),
        prices,
        str(raw),
    )


def slope_summary(truth: np.ndarray, slopes: dict[str, np.ndarray]) -> dict:
    """The slopes' summary over products: the truth's (N,) mean and median, and for each method's slopes (N,,
    NaN where it has none) its mean and median, its bias against the truth (method - truth: mean, median, sd, P10,
    P90; negative reads the products as less elastic than they are) and the share of products whose slope is below
    the truth's, each over the products where it has a slope (`products`)."""
    truth = np.asarray(truth, dtype=float)
    summary = {"truth": {"products": int(np.isfinite(truth).sum()), **_centre(truth)}}
    for name, values in slopes.items():
        values = np.asarray(values, dtype=float)
        known = np.isfinite(values) & np.isfinite(truth)
        bias = values[known] - truth[known]
        summary[name] = {
            "products": int(known.sum()),
            **_centre(values[known]),
            "bias": {
                **_centre(bias),
                "sd": _round(np.std(bias, ddof=1)) if len(bias) > 1 else None,
                "p10": _round(np.percentile(bias, 10)) if len(bias) else None,
                "p90": _round(np.percentile(bias, 90)) if len(bias) else None,
            },
            "share_below_truth": _round(np.mean(bias < 0)) if len(bias) else None,
        }
    return summary


def _centre(values: np.ndarray) -> dict:
    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if not len(values):
        return {"mean": None, "median": None}
    return {"mean": _round(values.mean()), "median": _round(np.median(values))}


def _round(value: float) -> float:
    return round(float(value), 4)


def reference_sweep(predictor: Predictor, network, raw: pd.DataFrame, prices: np.ndarray) -> np.ndarray:
    """The reference design: rows not keyed to the product, only unit_price replaced."""
    frames = [raw.assign(unit_price=price) for price in prices]
    X = predictor.preprocessor.transform(pd.concat(frames, ignore_index=True)[list(FEATURES)])
    return aggregate(prices, quantity_from_log(network.predict(X))).sales


def _score(prices: np.ndarray, revenue: np.ndarray, chosen: float, revenue_of: Callable, status_quo: float) -> dict:
    """One method's figures for one product: revenue (R on the grid), the chosen price, R(price) for any price, and
    R at the status quo price."""
    best = int(np.argmax(revenue))
    achieved = float(revenue_of(np.array([chosen]))[0])
    gain = revenue[best] - status_quo
    return {
        "price": round(chosen, 4),
        "regret": max(0.0, 1 - achieved / revenue[best]),
        "price_error": abs(chosen - prices[best]) / prices[best],
        "uplift_captured": (achieved - status_quo) / gain if gain >= UPLIFT_MIN_GAIN * revenue[best] else None,
        # a model that reads price as "does not matter" picks the top of the range: this share shows it
        "at_range_top": bool(np.isclose(chosen, prices[-1])),
        "at_range_bottom": bool(np.isclose(chosen, prices[0])),
    }


def evaluate(
    store: str,
    truth_path: Path,
    top: int = 300,
    bins: int = 100,
    samples: int = 1000,
    customers_path: Path | None = None,
    monotone: bool = False,
    weekly: bool = True,
    costs_path: Path | None = None,
    raw_path: Path | None = None,
) -> tuple[dict, dict]:
    """The report (summary per method, per-product detail; the primary's interval coverage and decisions; the
    slopes, module docstring) and the curves for the plots. `raw_path`: the transaction lines the passive
    regression reads (default: RAW_NAME beside the truth, skipped with the reason in the report when there is
    none). ValueError when the truth file predates weekly demand and `weekly` is asked for; FileNotFoundError for
    a `raw_path` given that does not exist; the passive regression's errors (`passive_slopes`) for a file it
    cannot read. Nothing is written."""
    if raw_path is not None and not Path(raw_path).is_file():
        raise FileNotFoundError(f"--raw {raw_path}: no such file (the transaction lines the truth was drawn with)")
    bundle = open_store(store).fetch()
    predictor = Predictor(bundle)
    truth = load_ground_truth(truth_path)
    if weekly and "incidence_elasticity" not in truth.columns:
        raise ValueError(f"{truth_path} has no incidence truth (generated before it): pass --per-line-truth")
    customers_path = customers_path or truth_path.with_name("ground_truth_customers.csv")
    segments = pd.read_csv(customers_path).set_index("customer_id")["segment"]
    raw = bundle.contexts()
    raw["segment"] = raw["customer_id"].map(segments).fillna("guest").to_numpy()
    network = dict(predictor.models).get("network")
    if len(getattr(network, "members", ())) > 1:
        predictor.models.append(("network_single", network.members[0]))  # this evaluator's predictor only
    two_part = bool(predictor.incidence_models)
    costs = None
    if costs_path is not None:
        costs = pd.read_csv(costs_path, dtype={"stockcode": str}).set_index("stockcode")["unit_cost"]
    products = predictor.products[predictor.products.index.isin(truth.index)]
    codes = list(products.sort_values("lines", ascending=False).index[:top])
    # the slopes need weekly units from both sides: the truth's incidence and the bundle's incidence model
    slopes_missing = None
    if "incidence_elasticity" not in truth.columns:
        slopes_missing = f"{truth_path} has no incidence truth (generated before weekly demand)"
    elif not two_part:
        slopes_missing = "the bundle has no incidence model, so no weekly curve"
    current, truth_slopes = [], []
    rows, curves = [], {}
    for code in tqdm(codes, desc="evaluate", unit="product"):
        product, t = predictor.products.loc[code], truth.loc[code]
        low, high = float(product["price_min"]), float(product["price_max"])
        prices = price_grid(low, high, bins)
        contexts = raw.iloc[predictor.context_sample(code, samples)]
        if slopes_missing is None:
            current.append(predictor.current_price(code)[0])
            truth_slopes.append(true_slope(current[-1], t, contexts))

        cost = float(costs[code]) if costs is not None and code in costs.index else None

        def revenue_of(p, t=t, contexts=contexts, cost=cost):
            return true_revenue(p, t, contexts, weekly, cost)

        revenue = revenue_of(prices)
        status_quo = float(revenue_of(np.array([float(product["price_median"])]))[0])
        row = {
            "stockcode": code,
            "lines": int(product["lines"]),
            "p_star": float(prices[np.argmax(revenue)]),
            "theta": float(t["theta"]),
            "price_min": low,
            "price_max": high,
            "unit_cost": cost,
        }
        curves[code] = {"prices": prices, "true": revenue}
        objective = "profit" if cost is not None else "revenue"
        request = PriceRequest(code, low, high, bins, samples, objective=objective, unit_cost=cost)
        for name in predictor.model_names:
            decision = predictor.decide(request, only=name, monotone=monotone)
            row[name] = _score(prices, revenue, decision.recommended_price, revenue_of, status_quo)
            curves[code][name] = decision.values[decision.grid]
            if name == PRIMARY:
                row.update(_decision_scores(decision, prices, revenue, revenue_of, status_quo))
        if two_part:
            per_line = predictor.decide(replace(request, optimise="sales_per_line"))
            row["per_line"] = _score(prices, revenue, per_line.recommended_price, revenue_of, status_quo)
            for name, _ in predictor.incidence_models[1:]:
                decision = predictor.decide(request, only_incidence=name, monotone=monotone)
                row[name] = _score(prices, revenue, decision.recommended_price, revenue_of, status_quo)
        row["median_price"] = _score(prices, revenue, float(product["price_median"]), revenue_of, status_quo)
        if network is not None:
            reference = reference_sweep(predictor, network, contexts, prices)
            chosen = float(prices[np.argmax(reference)])
            row["reference_sweep"] = _score(prices, revenue, chosen, revenue_of, status_quo)
            curves[code]["reference_sweep"] = reference
        rows.append(row)
    methods = [name for name in rows[0] if isinstance(rows[0][name], dict)] if rows else []
    summary = {method: _summary([r[method] for r in rows]) for method in methods}
    measure = "profit" if costs is not None else "revenue"
    report = {
        "bundle_version": bundle.version,
        "truth": f"weekly {measure}" if weekly else f"{measure} per order line",
        "interval": _interval_summary(rows),
        "decisions": _decision_summary(rows),
        "products": len(rows),
        "bins": bins,
        "samples": samples,
        "summary": summary,
        "true_share_at_range_top": round(float(np.mean([np.isclose(r["p_star"], r["price_max"]) for r in rows])), 3),
        "true_share_at_range_bottom": round(float(np.mean([np.isclose(r["p_star"], r["price_min"]) for r in rows])), 3),
        "products_detail": rows,
        "slopes": None,
        "slopes_missing": slopes_missing,
    }
    if slopes_missing is None and codes:
        raw_lines = Path(raw_path) if raw_path is not None else Path(truth_path).with_name(RAW_NAME)
        report["slopes"] = slope_table(
            bundle,
            codes,
            np.array(current),
            np.array(truth_slopes),
            raw_lines if raw_lines.is_file() else None,
            samples,
        )
    return report, curves


def slope_table(
    bundle, codes: list[str], current: np.ndarray, truth: np.ndarray, raw: Path | None, samples: int
) -> dict:
    """The report's slopes (module docstring) for `codes` (N,) at their `current` prices (N,, currency per unit),
    given the truth's slopes (N,, `true_slope`): the model's from the bundle's weekly curve (update.model_prior,
    `samples` held-out contexts per price: the truth's contexts), the passive regression's from `raw`'s lines
    (`passive_slopes`; None: not run, said in `passive_missing`), per product and in summary (`slope_summary`,
    over the per-product figures as reported, to 4 decimals)."""
    model = model_prior(bundle, np.asarray(codes, dtype=str), current, samples)
    passive = passive_slopes(raw, codes, current) if raw is not None else None
    per_product = []
    for j, code in enumerate(codes):
        row = {
            "stockcode": code,
            "current_price": round(float(current[j]), 4),
            "truth": _round(truth[j]),
            "model": _round(model.slope[j]),
            "model_sd": _round(model.slope_sd[j]),
            "passive": None,
            "passive_sd": None,
            "passive_shrunk": None,
            "passive_weeks": None,
            "passive_prices": None,
        }
        if passive is not None:
            plain = passive.plain[j]
            row["passive"] = _round(plain) if np.isfinite(plain) else None
            row["passive_sd"] = _round(passive.plain_sd[j]) if np.isfinite(plain) else None
            row["passive_shrunk"] = _round(passive.shrunk[j])
            row["passive_weeks"] = int(passive.weeks[j])
            row["passive_prices"] = int(passive.prices[j])
        per_product.append(row)

    def column(name: str) -> np.ndarray:
        return np.array([np.nan if r[name] is None else r[name] for r in per_product], dtype=float)

    methods = SLOPE_METHODS if passive is not None else SLOPE_METHODS[:1]
    return {
        "definition": "b = -d log(expected units per week) / d log(price) at the current price (b > 0: units fall "
        f"as the price rises); central differences at p0 x exp(+-{SLOPE_STEP})",
        "step": SLOPE_STEP,
        "samples": samples,
        "passive_source": None if passive is None else passive.source,
        "passive_missing": None if passive is not None else "no transaction file beside the truth: pass --raw",
        "summary": slope_summary(column("truth"), {name: column(name) for name in methods}),
        "per_product": per_product,
    }


def _decision_scores(decision, prices, revenue, revenue_of: Callable, status_quo: float) -> dict:
    """The primary's decision for one product: the price it says to set and the current price scored like any
    method, the decision, and whether its interval holds the true optimum (within half a grid step)."""
    verdict, _ = decision.verdict
    current = float(decision.current[0])
    scores = {
        "decision": _score(prices, revenue, decision.price_to_set, revenue_of, status_quo),
        "current_price": _score(prices, revenue, current, revenue_of, status_quo),
        "verdict": verdict,
        # the test conditions besides the probability (pricing.serving.decision, step 6), for the threshold table
        "weak_evidence": decision.outside_support or decision.interval_wide,
        "probability_beats_current": None,
        "expected_relative_gain": _relative_gain(decision),
        "interval": None,
        "interval_covers": None,
    }
    if decision.confidence is not None:
        low, high = decision.confidence.price_interval
        half_step = float(prices[1] - prices[0]) / 2 if len(prices) > 1 else 0.0
        p_star = float(prices[np.argmax(revenue)])
        scores["probability_beats_current"] = decision.confidence.probability_beats_current
        scores["interval"] = [low, high]
        scores["interval_covers"] = bool(low - half_step <= p_star <= high + half_step)
    return scores


def _relative_gain(decision) -> float:
    """The model's expected gain of the recommended price over the current one, as a share of the current
    price's objective (what the decision's minimum-gain rule reads). Unrounded: the threshold table compares it with
    the rule's minimum gain, and a gain rounded to 0 would read as a hold the decision did not make."""
    current = float(decision.values[decision.current[3]])
    return decision.expected_gain / max(abs(current), 1e-12)


def _interval_summary(rows: list[dict]) -> dict | None:
    """Coverage of the true optimum by the primary's interval, and its median width relative to the optimum."""
    covered = [r for r in rows if r.get("interval_covers") is not None]
    if not covered:
        return None
    widths = [(r["interval"][1] - r["interval"][0]) / r["p_star"] for r in covered]
    return {
        "level": 0.9,
        "products": len(covered),
        "coverage": round(float(np.mean([r["interval_covers"] for r in covered])), 4),
        "median_relative_width": round(float(np.median(widths)), 4),
        "coverage_where_optimum_interior": _share(
            [r["interval_covers"] for r in covered if r["price_min"] < r["p_star"] < r["price_max"]]
        ),
    }


def _decision_summary(rows: list[dict]) -> dict | None:
    """The share of `hold` decisions and the regret of holding, changing and the recommended price alike."""
    decided = [r for r in rows if "verdict" in r]
    if not decided:
        return None
    holds = [r for r in decided if r["verdict"] == "hold"]
    tests = [r for r in decided if r["verdict"] == "test"]  # the current price kept while a test runs
    return {
        "products": len(decided),
        "hold_share": round(len(holds) / len(decided), 4),
        "test_share": round(len(tests) / len(decided), 4),
        "median_regret_where_tested": _median([r["decision"]["regret"] for r in tests]),
        "median_regret_decision": round(float(np.median([r["decision"]["regret"] for r in decided])), 5),
        "median_regret_recommended": round(float(np.median([r[PRIMARY]["regret"] for r in decided])), 5),
        "median_regret_where_held": _median([r["decision"]["regret"] for r in holds]),
        "median_regret_of_recommendation_where_held": _median([r[PRIMARY]["regret"] for r in holds]),
        "by_threshold": _hold_rule_sweep(decided),
    }


def _hold_rule_sweep(rows: list[dict]) -> list[dict] | None:
    """What the hold rule would cost at other thresholds: per minimum probability t and minimum gain g (the
    request's `min_probability` and `min_gain`), the share held (the recommended price beats the current one in
    fewer than t of the draws, or its expected gain is at most g of the current figure), the share tested (the
    rest, where the evidence does not carry a change: pricing.serving.decision.verdict) and the median and P90
    regret of the resulting decisions, a test scored at the current price it keeps while it runs. The service's
    defaults are chosen from this table."""
    if any(r["probability_beats_current"] is None for r in rows):
        return None
    probability = np.array([r["probability_beats_current"] for r in rows])
    gain = np.array([r["expected_relative_gain"] for r in rows])
    changed = np.array([r[PRIMARY]["regret"] for r in rows])
    kept = np.array([r["current_price"]["regret"] for r in rows])
    weak = np.array([r["weak_evidence"] for r in rows])
    sweep = []
    for min_gain in HOLD_SWEEP_GAINS:
        for min_probability in HOLD_SWEEP_PROBABILITIES:
            # the decision's own rule at these thresholds (a relative gain over a current figure of 1); a test
            # keeps the current price while it runs, as a hold does
            verdicts = np.array(
                [
                    decision_rule(p, g, 1.0, False, min_probability, min_gain, outside_support=w)[0]
                    for p, g, w in zip(probability, gain, weak, strict=True)
                ]
            )
            held, tested = verdicts == "hold", verdicts == "test"
            regret = np.where(held | tested, kept, changed)
            sweep.append(
                {
                    "min_probability": min_probability,
                    "min_gain": min_gain,
                    "hold_share": round(float(held.mean()), 4),
                    "test_share": round(float(tested.mean()), 4),
                    "median_regret": round(float(np.median(regret)), 5),
                    "p90_regret": round(float(np.percentile(regret, 90)), 5),
                }
            )
    return sweep


def _share(values: list[bool]) -> float | None:
    return round(float(np.mean(values)), 4) if values else None


def _median(values: list[float]) -> float | None:
    return round(float(np.median(values)), 5) if values else None


def _summary(scores: list[dict]) -> dict:
    regret = np.array([s["regret"] for s in scores])
    error = np.array([s["price_error"] for s in scores])
    uplift = np.array([s["uplift_captured"] for s in scores if s["uplift_captured"] is not None])
    return {
        "median_regret": round(float(np.median(regret)), 5),
        "mean_regret": round(float(regret.mean()), 5),
        "p90_regret": round(float(np.percentile(regret, 90)), 5),
        "median_price_error": round(float(np.median(error)), 5),
        "mean_price_error": round(float(error.mean()), 5),
        "p90_price_error": round(float(np.percentile(error, 90)), 5),
        "median_uplift_captured": round(float(np.median(uplift)), 4) if len(uplift) else None,
        "uplift_products": len(uplift),
        "share_at_range_top": round(float(np.mean([s["at_range_top"] for s in scores])), 3),
        "share_at_range_bottom": round(float(np.mean([s["at_range_bottom"] for s in scores])), 3),
    }


def write_outputs(report: dict, curves: dict, out: Path) -> list[Path]:
    """Write the report: `out` (JSON), the Markdown reading beside it (`out` with .md), and the plots beside it:
    `<stem>_regret.png` (each method's regret), `<stem>_curves.png` (six products' true and predicted curves) and,
    where the report has slopes, `<stem>_slopes.png` (`slopes_chart`). Returns the paths written, JSON first."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    methods = list(report["summary"])
    regrets = [[r[m]["regret"] * 100 for r in report["products_detail"]] for m in methods]
    fig, ax = plt.subplots(figsize=(9, 4))
    ax.boxplot(regrets, showfliers=True)
    ax.set_xticks(range(1, len(methods) + 1), methods, rotation=20)
    ax.set_ylabel(f"regret (% of the best true {report.get('truth', 'revenue')})")
    ax.set_title(f"Regret over {report['products']} best-selling products, bundle {report['bundle_version']}")
    fig.tight_layout()
    distribution = out.with_name(out.stem + "_regret.png")
    fig.savefig(distribution, dpi=110)
    plt.close(fig)

    codes = [r["stockcode"] for r in report["products_detail"][:6]]
    fig, axes = plt.subplots(2, 3, figsize=(14, 7))
    for ax, code in zip(axes.ravel(), codes, strict=False):
        curve = curves[code]
        prices = curve["prices"]
        ax.plot(prices, curve["true"] / curve["true"].max(), color="black", lw=2, label="true revenue")
        ax.axvline(prices[np.argmax(curve["true"])], color="black", ls="--")
        for method in methods:
            if method in curve:
                line = ax.plot(prices, curve[method] / curve[method].max(), label=method, alpha=0.8)[0]
                ax.axvline(prices[np.argmax(curve[method])], color=line.get_color(), ls=":")
        ax.set_title(code)
        ax.set_xlabel("unit price")
    axes[0, 0].set_ylabel("revenue / its maximum")
    axes[0, 0].legend(fontsize=7)
    fig.suptitle("True revenue curve (black) against each model's predicted curve; optima dashed/dotted")
    fig.tight_layout()
    examples = out.with_name(out.stem + "_curves.png")
    fig.savefig(examples, dpi=110)
    plt.close(fig)
    paths = [out, distribution, examples]
    if report.get("slopes"):
        paths.append(slopes_chart(report["slopes"], report["bundle_version"], out.with_name(out.stem + "_slopes.png")))
    markdown = out.with_suffix(".md")
    markdown.write_text(report_markdown(report, [p.name for p in paths[1:]]))
    return [*paths, markdown]


def slopes_chart(slopes: dict, version: str, path: Path) -> Path:
    """The slopes plot: one point per product, the model's slope (and the passive regression's, where run)
    against the truth's, the diagonal (no bias) drawn; a point below it reads the product as less elastic than it
    is. Writes `path` (PNG) and returns it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = slopes["per_product"]
    truth = np.array([r["truth"] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(6.5, 6))
    shown = [truth]
    for name, colour in (("passive", "tab:orange"), ("model", "tab:blue")):
        values = np.array([np.nan if r[name] is None else r[name] for r in rows], dtype=float)
        if np.isfinite(values).any():
            stats = slopes["summary"][name]
            label = f"{name} (mean {stats['mean']:.2f}, bias {stats['bias']['mean']:+.2f})"
            ax.scatter(truth, values, s=12, alpha=0.6, color=colour, label=label)
            shown.append(values)
    # the passive regression's per-product estimates can run far off; the axes hold the middle 98% of every point
    every = np.concatenate(shown)
    every = every[np.isfinite(every)]
    low, high = np.percentile(every, [1, 99]) if len(every) else (0.0, 3.0)
    pad = 0.05 * max(high - low, 0.1)
    low, high = low - pad, high + pad
    ax.plot([low, high], [low, high], color="black", lw=1, label="estimate = truth")
    ax.set_xlim(low, high)
    ax.set_ylim(low, high)
    ax.set_xlabel("true slope of weekly units at the current price (-d log units / d log price)")
    ax.set_ylabel("estimated slope")
    ax.set_title(
        f"Slopes of {len(rows)} products against the truth (mean {slopes['summary']['truth']['mean']:.2f})\n"
        f"bundle {version}",
        fontsize=9,
    )
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def report_markdown(report: dict, plots: list[str]) -> str:
    """The report's Markdown reading: the methods' summary table, the interval and decisions in a line each, the
    slopes' summary and one row per product, and the plots' names."""
    lines = [
        f"# Pricing quality: bundle {report['bundle_version']}",
        "",
        f"Scored against the generator's truth ({report['truth']}) on {report['products']} best-selling products, "
        f"{report['bins']} price bins, {report['samples']} contexts per product.",
        "",
        "| method | median regret | P90 regret | median price error | median uplift captured |",
        "|---|---|---|---|---|",
    ]
    for method, s in report["summary"].items():
        uplift = "-" if s["median_uplift_captured"] is None else f"{s['median_uplift_captured']:.0%}"
        lines.append(
            f"| {method} | {s['median_regret']:.2%} | {s['p90_regret']:.2%} | {s['median_price_error']:.2%} | "
            f"{uplift} |"
        )
    if report.get("interval"):
        i = report["interval"]
        lines += [
            "",
            f"Interval ({i['level']:.0%}): holds the true optimum for {i['coverage']:.1%} of {i['products']}.",
        ]
    if report.get("decisions"):
        d = report["decisions"]
        lines += [
            "",
            f"Decisions: hold {d['hold_share']:.1%}, test {d['test_share']:.1%}; median regret of the decision "
            f"{d['median_regret_decision']:.2%}, of the recommended price {d['median_regret_recommended']:.2%}.",
        ]
    lines += ["", "## Slopes of weekly units at the current price", ""]
    slopes = report.get("slopes")
    if not slopes:
        lines.append(f"Not computed: {report.get('slopes_missing') or 'no product'}.")
    else:
        lines += [
            f"{slopes['definition']}. Model: the bundle's weekly curve (the API's); truth: the generator's over the "
            "same contexts; passive: the plain weekly quasi-Poisson regression on the transaction file"
            + (
                f" `{slopes['passive_source']}`"
                if slopes["passive_source"]
                else f" (not run: {slopes['passive_missing']})"
            )
            + "; passive_shrunk: the same shrunk toward the pooled slope.",
            "",
            "| slope | products | mean | median | bias: mean | median | sd | P10, P90 | share below truth |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for name, s in slopes["summary"].items():
            bias = s.get("bias")  # the truth's own row has none
            cells = ["-"] * 5
            if bias:
                cells = [
                    _fmt(bias["mean"], "+.3f"),
                    _fmt(bias["median"], "+.3f"),
                    _fmt(bias["sd"], ".3f"),
                    f"{_fmt(bias['p10'], '+.2f')}, {_fmt(bias['p90'], '+.2f')}",
                    _fmt(s["share_below_truth"], ".0%"),
                ]
            head = [name, str(s["products"]), _fmt(s["mean"], ".3f"), _fmt(s["median"], ".3f")]
            lines.append("| " + " | ".join(head + cells) + " |")
        lines += [
            "",
            "| product | current price | truth | model (sd) | passive (sd) | passive shrunk | weeks | prices |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for r in slopes["per_product"]:
            passive = "-" if r["passive"] is None else f"{r['passive']:.2f} ({r['passive_sd']:.2f})"
            lines.append(
                f"| {r['stockcode']} | {r['current_price']:.2f} | {r['truth']:.2f} | {r['model']:.2f} "
                f"({r['model_sd']:.2f}) | {passive} | {_fmt(r['passive_shrunk'], '.2f')} | "
                f"{_fmt(r['passive_weeks'], 'd')} | {_fmt(r['passive_prices'], 'd')} |"
            )
    lines += ["", "Plots: " + ", ".join(f"`{p}`" for p in plots) + "."]
    return "\n".join(lines) + "\n"


def _fmt(value, spec: str) -> str:
    return "-" if value is None else format(value, spec)
