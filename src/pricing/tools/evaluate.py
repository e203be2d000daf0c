"""`pricing evaluate`: score recommended prices against the generator's true optimum.

For each of the N best-selling products, the recommendation comes from the API's own in-process path
(Predictor.recommend), once per model. The truth is the expected revenue per line over the same sampled
contexts, R(p) = p * mean_c E[q | p, c], on the same price grid:
    regret      = 1 - R(p_hat) / R(p_star)       p_star: the grid's true maximiser
    price error = |p_hat - p_star| / p_star
Baselines in the same run: the product's historical median price, and the reference design's sweep
(sampled rows left keyed to their own products, only `unit_price` replaced, the network predicting).
When the network is an ensemble, its first member alone is scored too (`network_single`): what averaging buys.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.store import open_store
from pricing.data.features import FEATURES, quantity_from_log
from pricing.data.generate import load_ground_truth, true_expected_quantity
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import aggregate, price_grid

BASELINES = ("median_price", "reference_sweep")


def true_revenue(prices: np.ndarray, truth: pd.Series, contexts: pd.DataFrame) -> np.ndarray:
    """R(p) for each price: price x the true expected quantity averaged over the contexts."""
    date = pd.to_datetime(contexts["invoice_date"])
    quantity = true_expected_quantity(
        np.asarray(prices)[:, None],
        truth["theta"],
        truth["amplitude"],
        contexts["segment"].to_numpy()[None, :],
        contexts["country"].to_numpy()[None, :],
        date.dt.month.to_numpy()[None, :],
        date.dt.day_of_week.to_numpy()[None, :],
    )
    return np.asarray(prices) * quantity.mean(axis=1)


def reference_sweep(predictor: Predictor, network, raw: pd.DataFrame, prices: np.ndarray) -> np.ndarray:
    """The reference design: rows not keyed to the product, only unit_price replaced."""
    frames = [raw.assign(unit_price=price) for price in prices]
    X = predictor.preprocessor.transform(pd.concat(frames, ignore_index=True)[list(FEATURES)])
    return aggregate(prices, quantity_from_log(network.predict(X))).sales


def _score(prices: np.ndarray, revenue: np.ndarray, chosen: float, truth: pd.Series, contexts: pd.DataFrame) -> dict:
    best = int(np.argmax(revenue))
    achieved = float(true_revenue(np.array([chosen]), truth, contexts)[0])
    return {
        "price": round(chosen, 4),
        "regret": max(0.0, 1 - achieved / revenue[best]),
        "price_error": abs(chosen - prices[best]) / prices[best],
        # a model that reads price as "does not matter" picks the top of the range: this share shows it
        "at_range_top": bool(np.isclose(chosen, prices[-1])),
    }


def evaluate(
    store: str,
    truth_path: Path,
    top: int = 300,
    bins: int = 100,
    samples: int = 1000,
    customers_path: Path | None = None,
    monotone: bool = False,
) -> tuple[dict, dict]:
    bundle = open_store(store).fetch()
    predictor = Predictor(bundle)
    truth = load_ground_truth(truth_path)
    customers_path = customers_path or truth_path.with_name("ground_truth_customers.csv")
    segments = pd.read_csv(customers_path).set_index("customer_id")["segment"]
    raw = bundle.contexts()
    raw["segment"] = raw["customer_id"].map(segments).fillna("guest").to_numpy()
    network = dict(predictor.models).get("network")
    if len(getattr(network, "members", ())) > 1:
        predictor.models.append(("network_single", network.members[0]))  # this evaluator's predictor only
    products = predictor.products[predictor.products.index.isin(truth.index)]
    codes = list(products.sort_values("lines", ascending=False).index[:top])
    rows, curves = [], {}
    for code in tqdm(codes, desc="evaluate", unit="product"):
        product, t = predictor.products.loc[code], truth.loc[code]
        low, high = float(product["price_min"]), float(product["price_max"])
        prices = price_grid(low, high, bins)
        contexts = raw.iloc[predictor.context_sample(code, samples)]
        revenue = true_revenue(prices, t, contexts)
        row = {
            "stockcode": code,
            "lines": int(product["lines"]),
            "p_star": float(prices[np.argmax(revenue)]),
            "theta": float(t["theta"]),
            "price_min": low,
            "price_max": high,
        }
        curves[code] = {"prices": prices, "true": revenue}
        for name in predictor.model_names:
            rec = predictor.recommend(PriceRequest(code, low, high, bins, samples), only=name, monotone=monotone)
            row[name] = _score(prices, revenue, rec.result.optimal_price, t, contexts)
            curves[code][name] = rec.result.sales
        row["median_price"] = _score(prices, revenue, float(product["price_median"]), t, contexts)
        if network is not None:
            reference = reference_sweep(predictor, network, contexts, prices)
            row["reference_sweep"] = _score(prices, revenue, float(prices[np.argmax(reference)]), t, contexts)
            curves[code]["reference_sweep"] = reference
        rows.append(row)
    methods = [*predictor.model_names, "median_price", *(["reference_sweep"] if network is not None else [])]
    summary = {}
    for method in methods:
        regret = np.array([r[method]["regret"] for r in rows])
        error = np.array([r[method]["price_error"] for r in rows])
        summary[method] = {
            "median_regret": round(float(np.median(regret)), 5),
            "mean_regret": round(float(regret.mean()), 5),
            "p90_regret": round(float(np.percentile(regret, 90)), 5),
            "median_price_error": round(float(np.median(error)), 5),
            "mean_price_error": round(float(error.mean()), 5),
            "p90_price_error": round(float(np.percentile(error, 90)), 5),
            "share_at_range_top": round(float(np.mean([r[method]["at_range_top"] for r in rows])), 3),
        }
    report = {
        "bundle_version": bundle.version,
        "products": len(rows),
        "bins": bins,
        "samples": samples,
        "summary": summary,
        "true_share_at_range_top": round(float(np.mean([np.isclose(r["p_star"], r["price_max"]) for r in rows])), 3),
        "products_detail": rows,
    }
    return report, curves


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
    ax.set_ylabel("regret (% of the best true revenue)")
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
