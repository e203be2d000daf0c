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
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.store import open_store
from pricing.data.features import FEATURES, quantity_from_log
from pricing.data.generate import load_ground_truth, true_expected_units_per_line, true_expected_weekly_units
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import aggregate, price_grid

BASELINES = ("median_price", "reference_sweep")
UPLIFT_MIN_GAIN = 0.01  # uplift is scored where the status quo leaves at least this share of the best on the table


def true_revenue(prices: np.ndarray, truth: pd.Series, contexts: pd.DataFrame, weekly: bool = True) -> np.ndarray:
    """R(p) for each price (currency per week, up to the week's scale, which no argmax or ratio depends on): price x
    the true expected weekly units over the contexts; with weekly=False, price x the true expected units per line
    averaged over the contexts (the per-line question, at the price each line pays)."""
    prices = np.asarray(prices, dtype=float)
    if weekly:
        return prices * true_expected_weekly_units(prices, truth, contexts, week_scale=1.0)
    return prices * true_expected_units_per_line(prices, truth, contexts, tiered=False)


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
) -> tuple[dict, dict]:
    """The report (summary per method, per-product detail) and the curves for the plots. ValueError when the truth
    file predates weekly demand and `weekly` is asked for."""
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
    products = predictor.products[predictor.products.index.isin(truth.index)]
    codes = list(products.sort_values("lines", ascending=False).index[:top])
    rows, curves = [], {}
    for code in tqdm(codes, desc="evaluate", unit="product"):
        product, t = predictor.products.loc[code], truth.loc[code]
        low, high = float(product["price_min"]), float(product["price_max"])
        prices = price_grid(low, high, bins)
        contexts = raw.iloc[predictor.context_sample(code, samples)]

        def revenue_of(p, t=t, contexts=contexts):
            return true_revenue(p, t, contexts, weekly)

        revenue = revenue_of(prices)
        status_quo = float(revenue_of(np.array([float(product["price_median"])]))[0])
        row = {
            "stockcode": code,
            "lines": int(product["lines"]),
            "p_star": float(prices[np.argmax(revenue)]),
            "theta": float(t["theta"]),
            "price_min": low,
            "price_max": high,
        }
        curves[code] = {"prices": prices, "true": revenue}
        request = PriceRequest(code, low, high, bins, samples)
        for name in predictor.model_names:
            rec = predictor.recommend(request, only=name, monotone=monotone)
            row[name] = _score(prices, revenue, rec.result.optimal_price, revenue_of, status_quo)
            curves[code][name] = rec.result.sales_per_week if rec.result.weekly else rec.result.sales
        if two_part:
            per_line = predictor.recommend(PriceRequest(code, low, high, bins, samples, optimise="sales_per_line"))
            row["per_line"] = _score(prices, revenue, per_line.result.optimal_price, revenue_of, status_quo)
            for name, _ in predictor.incidence_models[1:]:
                rec = predictor.recommend(request, only_incidence=name, monotone=monotone)
                row[name] = _score(prices, revenue, rec.result.optimal_price, revenue_of, status_quo)
        row["median_price"] = _score(prices, revenue, float(product["price_median"]), revenue_of, status_quo)
        if network is not None:
            reference = reference_sweep(predictor, network, contexts, prices)
            chosen = float(prices[np.argmax(reference)])
            row["reference_sweep"] = _score(prices, revenue, chosen, revenue_of, status_quo)
            curves[code]["reference_sweep"] = reference
        rows.append(row)
    methods = [name for name in rows[0] if isinstance(rows[0][name], dict)] if rows else []
    summary = {method: _summary([r[method] for r in rows]) for method in methods}
    report = {
        "bundle_version": bundle.version,
        "truth": "weekly revenue" if weekly else "revenue per order line",
        "products": len(rows),
        "bins": bins,
        "samples": samples,
        "summary": summary,
        "true_share_at_range_top": round(float(np.mean([np.isclose(r["p_star"], r["price_max"]) for r in rows])), 3),
        "true_share_at_range_bottom": round(float(np.mean([np.isclose(r["p_star"], r["price_min"]) for r in rows])), 3),
        "products_detail": rows,
    }
    return report, curves


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
    return [out, distribution, examples]
