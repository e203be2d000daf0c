"""What a bundle learned, asked of it directly: its recommended prices over the best sellers and how far the
models agree, its predicted price effect against the held-out data's, and its own price elasticities."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.data.features import PRODUCT_ID, quantity_from_log
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest

# held-out lines on each side of the median price for a product to enter the check: over all lines, and over list
# price lines, which are scarce (on the real file's 28-day test window 60 products have 3 on each side, 0 have 10:
# a list price seldom changes within four weeks)
MIN_LINES_PER_SIDE = {"all_lines": 10, "list_price_lines": 3}
ELASTICITY_STEP = 0.05  # the elasticity is the log-slope between median x (1 - step) and median x (1 + step)


def recommendation_table(predictor: Predictor, codes: list[str], bins: int, samples: int) -> pd.DataFrame:
    """One row per (product, model): the recommended price over the product's default range, relative to its
    training-median price, and whether it sits at the range's bottom or top bin."""
    rows = []
    for code in tqdm(codes, desc="recommendations", unit="product"):
        low, high = predictor.default_range(code)
        median = float(predictor.products.loc[code, "price_median"])
        for name in predictor.model_names:
            rec = predictor.recommend(PriceRequest(code, low, high, bins, samples), only=name)
            rows.append(
                {
                    "stockcode": code,
                    "model": name,
                    "price": rec.result.optimal_price,
                    "ratio_to_median": rec.result.optimal_price / median,
                    "at_bottom": rec.result.optimal_index == 0,
                    "at_top": rec.result.optimal_index == len(rec.result.prices) - 1,
                }
            )
    return pd.DataFrame(rows)


def summarise_recommendations(table: pd.DataFrame) -> dict:
    """Per model: median and quartiles of recommended / median price, shares at the range's ends; per pair of
    models: the median absolute log difference of their recommended prices (0: they agree; 0.69: a factor 2)."""
    per_model = {}
    for name, rows in table.groupby("model", sort=False):
        ratio = rows["ratio_to_median"]
        per_model[name] = {
            "median_ratio": round(float(ratio.median()), 3),
            "ratio_q25": round(float(ratio.quantile(0.25)), 3),
            "ratio_q75": round(float(ratio.quantile(0.75)), 3),
            "share_at_bottom": round(float(rows["at_bottom"].mean()), 3),
            "share_at_top": round(float(rows["at_top"].mean()), 3),
        }
    prices = table.pivot(index="stockcode", columns="model", values="price")
    agreement = {
        f"{a} vs {b}": round(float(np.median(np.abs(np.log(prices[a] / prices[b])))), 3)
        for a, b in itertools.combinations(prices.columns, 2)
    }
    return {"per_model": per_model, "agreement_median_abs_log_difference": agreement}


def held_out_price_effect(predictor: Predictor, contexts: pd.DataFrame) -> dict:
    """The check no other system makes: does a model's predicted price effect match the held-out data's?

    For each product with at least MIN_LINES_PER_SIDE held-out lines below and above its training-median price:
    realised = log(mean quantity per line above / below); predicted = the same ratio of the model's predicted mean
    quantities for those rows, each at its own price and context. Across products: the least-squares slope of
    realised on predicted and their correlation. Twice: over all lines ("all_lines": tiers and the guest channel
    included, which the models know from the context), and over known customers' lines at the day's list price
    ("list_price_lines": what differs between the two sides is the list price over time, the variation a pricing
    decision sets)."""
    at_list = (contexts["is_guest"] == 0) & (contexts["line_price_to_list"].abs() < 1e-9)
    return {
        "all_lines": _price_effect(predictor, contexts, MIN_LINES_PER_SIDE["all_lines"]),
        "list_price_lines": _price_effect(
            predictor, contexts[at_list.to_numpy()], MIN_LINES_PER_SIDE["list_price_lines"]
        ),
    }


def _price_effect(predictor: Predictor, contexts: pd.DataFrame, min_lines: int) -> dict:
    median = predictor.products["price_median"].reindex(contexts[PRODUCT_ID]).to_numpy()
    price = contexts["unit_price"].to_numpy()
    counts = pd.DataFrame({"code": contexts[PRODUCT_ID].to_numpy(), "above": price > median, "below": price < median})
    sides = counts.groupby("code")[["above", "below"]].sum()
    eligible = sides.index[(sides["above"] >= min_lines) & (sides["below"] >= min_lines)]
    keep = contexts[PRODUCT_ID].isin(eligible).to_numpy() & (price != median)
    rows = contexts[keep].reset_index(drop=True)
    side = (price[keep] > median[keep]).astype(int)
    result = {
        "products": len(eligible),
        "lines": len(rows),
        "min_lines_per_side": min_lines,
        "per_model": {},
        "points": {"realised": []},
    }
    if rows.empty:
        return result
    realised = _log_ratio(rows[PRODUCT_ID], side, rows["quantity"].to_numpy(dtype=float))
    result["points"]["realised"] = realised.tolist()
    X = predictor.preprocessor.transform(rows)
    for name, model in predictor.models:
        predicted = _log_ratio(rows[PRODUCT_ID], side, quantity_from_log(model.predict(X)))
        slope, correlation = _fit(predicted.to_numpy(), realised.to_numpy())
        result["per_model"][name] = {
            "slope": round(slope, 3),
            "correlation": round(correlation, 3),
            "median_predicted_log_ratio": round(float(predicted.median()), 3),
        }
        result["points"][name] = predicted.tolist()
    result["median_realised_log_ratio"] = round(float(realised.median()), 3)
    return result


def _log_ratio(codes: pd.Series, side: np.ndarray, quantity: np.ndarray) -> pd.Series:
    means = pd.DataFrame({"code": codes.to_numpy(), "side": side, "q": quantity}).groupby(["code", "side"])["q"].mean()
    table = means.unstack("side")
    return np.log(table[1] / table[0]).sort_index()


def _fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope of y on x and their correlation, over the finite pairs (a fallback model can
    overflow to an infinite quantity far outside its data); 0, 0 without three pairs or any spread in x."""
    finite = np.isfinite(x) & np.isfinite(y)
    x, y = x[finite], y[finite]
    if len(x) < 3 or np.std(x) == 0:
        return 0.0, 0.0
    slope = float(np.polyfit(x, y, 1)[0])
    return slope, float(np.corrcoef(x, y)[0, 1])


def pooled_elasticities(predictor: Predictor, codes: list[str], samples: int) -> dict:
    """Per model, the median over products of d log(mean predicted quantity per line) / d log(price) at the
    product's median price (a central difference over +-ELASTICITY_STEP)."""
    out = {}
    for name in predictor.model_names:
        values = []
        for code in codes:
            prices = _around_median(predictor, code)
            contexts = predictor.keyed_contexts(code, samples)
            _, quantity = predictor.predict_grid(contexts, predictor.scaled_prices(code, prices), only=name)
            mean_q = quantity.reshape(2, -1).mean(axis=1)
            values.append(float(np.log(mean_q[1] / mean_q[0]) / np.log(prices[1] / prices[0])))
        out[name] = {"median": round(float(np.median(values)), 3), "iqr": _iqr(values)}
    return out


def weekly_elasticities(predictor: Predictor, codes: list[str], samples: int) -> dict | None:
    """The bundle's own elasticity of weekly units (its curve: order lines per week x mean units per line,
    `SweepResult.units_per_week`), per product d log(units per week) / d log(price) at its training-median price
    (a central difference over +-ELASTICITY_STEP, through `Predictor.curve` and its fallback chains), pooled over
    `codes` (the best sellers) as the median and quartiles; and the same for its two factors, order lines per week
    and mean units per line, whose elasticities add up to it. None for a bundle without an incidence model."""
    if not predictor.incidence_models:
        return None
    parts = {"units_per_week": [], "orders_per_week": [], "units_per_line": []}
    answered = set()
    for code in codes:
        slopes, models = _weekly_slopes(predictor, code, samples)
        answered.add(models)
        for name, slope in slopes.items():
            parts[name].append(slope)
    pooled = {name: _pooled_slopes(values) for name, values in parts.items()}
    return {
        **pooled["units_per_week"],
        "orders_per_week": pooled["orders_per_week"],
        "units_per_line": pooled["units_per_line"],
        "models": sorted(f"{line} x {incidence}" for line, incidence in answered),
        "at": f"each product's training-median price, +-{ELASTICITY_STEP:.0%}",
    }


def _around_median(predictor: Predictor, code: str) -> np.ndarray:
    """The product's training-median price x (1 -+ ELASTICITY_STEP): the two prices of a central difference."""
    median = float(predictor.products.loc[code, "price_median"])
    return np.array([median * (1 - ELASTICITY_STEP), median * (1 + ELASTICITY_STEP)])


def _weekly_slopes(predictor: Predictor, code: str, samples: int) -> tuple[dict[str, float], tuple[str, str]]:
    """One product's elasticities of units per week, order lines per week and units per line (inf or nan where a
    curve reaches 0), and the (line model, incidence model) that answered."""
    prices = _around_median(predictor, code)
    request = PriceRequest(
        stockcode=code,
        unitprice_min=float(prices[0]),
        unitprice_max=float(prices[1]),
        num_price_bins=2,
        num_samples=samples,
    )
    recommendation = predictor.curve(request, prices)
    result = recommendation.result
    step = np.log(prices[1] / prices[0])
    curves = {
        "units_per_week": result.units_per_week,
        "orders_per_week": result.orders_per_week,
        "units_per_line": result.quantity_mean,
    }
    with np.errstate(divide="ignore", invalid="ignore"):
        slopes = {name: float(np.log(curve[1] / curve[0]) / step) for name, curve in curves.items()}
    return slopes, (recommendation.model, recommendation.incidence_model)


def _pooled_slopes(values: list[float]) -> dict:
    """The median, quartiles and count of the finite `values`; None, None, 0 without any."""
    finite = np.asarray(values)[np.isfinite(values)]
    if not len(finite):
        return {"median": None, "iqr": None, "products": 0}
    return {"median": round(float(np.median(finite)), 3), "iqr": _iqr(finite), "products": len(finite)}


def _iqr(values) -> list[float]:
    """The 25th and 75th percentiles, rounded to 3 places."""
    return [round(float(v), 3) for v in np.percentile(values, [25, 75])]
