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
- elasticity: each model's pooled price elasticity of mean quantity per line at the median price, the data's
  naive within-product slopes, and the published figures for this data set (../shared/data/README.md).
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.bundle import Bundle
from pricing.data.features import PRODUCT_ID, log_quantity, quantity_from_log
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest
from pricing.training.metrics import METRIC_NOTES

# Published price elasticities of daily units per stock code on this data set (../shared/data/README.md)
PUBLISHED_ELASTICITIES = {
    "naive log-log regression": -0.6,
    "stock-code, date and country controls (log-normal)": -1.8,
    "stock-code, date and country controls (Poisson)": -2.9,
    "double machine learning": -1.85,  # reported as -1.8 to -1.9
}
# held-out lines on each side of the median price for a product to enter the check: over all lines, and over list
# price lines, which are scarce (on the real file's 28-day test window 60 products have 3 on each side, 0 have 10:
# a list price seldom changes within four weeks)
SPLITS = ("train", "val", "test")
MIN_LINES_PER_SIDE = {"all_lines": 10, "list_price_lines": 3}
ELASTICITY_STEP = 0.05  # the elasticity is the log-slope between median x (1 - step) and median x (1 + step)


def data_report(data_dir: Path) -> dict:
    """The sections that need only the prepared data (no bundle): cleaning, price structure and the data's own
    price elasticities, next to the published ones. FileNotFoundError when `data_dir` lacks data_quality.json
    or a split's parquet file."""
    quality = json.loads((Path(data_dir) / "data_quality.json").read_text())
    columns = ["stockcode", "unit_price", "invoice_date", "quantity", "customer_id", "country"]
    splits = {name: pd.read_parquet(Path(data_dir) / f"{name}.parquet", columns=columns) for name in SPLITS}
    every = pd.concat(splits.values(), ignore_index=True)
    return {
        "cleaning": {k: quality.get(k) for k in ("source", "rows_read", "rows_kept", "dropped", "read", "split")},
        "price_structure": price_structure(splits["train"]),
        "elasticity": {
            "data_within_product_per_line": naive_slopes(splits["train"]),
            "data_fixed_effects": fixed_effect_elasticities(every),
            "published_daily_units": PUBLISHED_ELASTICITIES,
        },
    }


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
        "elasticity": {"models_at_median_price": pooled_elasticities(predictor, codes, samples), **data["elasticity"]},
        "settings": {"top": top, "bins": bins, "samples": samples},
    }


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


# quantity bands (units per line, lower bound included) for the quantity-break share
QUANTITY_BANDS = (1, 6, 12, 24, 48, 100, np.inf)
QUANTITY_BAND_NAMES = ("1-5", "6-11", "12-23", "24-47", "48-99", "100+")


def price_structure(rows: pd.DataFrame) -> dict:
    """How a product's prices vary: the share of product-days sold at two or more prices, and the within-product
    variance of log price split into between lines of one day and across days (the sum of the two); and the two
    within-day terms behind it: quantity breaks (per quantity band, the share of known customers' lines priced
    below the highest known customer's price for the product that day) and the guest premium (log price over
    the product's mean, and over that day's highest known customer's price: median over guests' lines)."""
    frame = rows.assign(day=rows["invoice_date"].dt.normalize(), log_price=np.log(rows["unit_price"]))
    by_day = frame.groupby([PRODUCT_ID, "day"])["log_price"]
    day_mean = by_day.transform("mean")
    product_mean = frame.groupby(PRODUCT_ID)["log_price"].transform("mean")
    within_day = float(((frame["log_price"] - day_mean) ** 2).mean())
    across_days = float(((day_mean - product_mean) ** 2).mean())
    total = within_day + across_days
    levels = by_day.nunique()
    guest = frame["customer_id"].isna()
    known_top = frame[~guest].groupby([PRODUCT_ID, "day"])["log_price"].max().rename("known_top")
    frame = frame.join(known_top, on=[PRODUCT_ID, "day"])
    known = frame[~guest]
    below = known["log_price"] < known["known_top"] - 0.01  # a penny's rounding is not a price level
    bands = pd.cut(known["quantity"], QUANTITY_BANDS, right=False, labels=QUANTITY_BAND_NAMES)
    same_day_premium = (frame["log_price"] - frame["known_top"])[guest].dropna()
    return {
        "product_days": len(levels),
        "share_of_product_days_with_2_or_more_prices": round(float((levels >= 2).mean()), 3),
        "mean_prices_per_product_day": round(float(levels.mean()), 3),
        "log_price_variance_within_products": round(total, 4),
        "share_within_day": round(within_day / total, 3) if total else None,
        "share_across_days": round(across_days / total, 3) if total else None,
        "guest_line_share": round(float(guest.mean()), 3),
        "guest_price_premium_log": round(float((frame["log_price"] - product_mean)[guest].mean()), 3),
        "guest_premium_over_known_same_day_log_median": (
            round(float(same_day_premium.median()), 3) if len(same_day_premium) else None
        ),
        "known_lines_below_day_top_by_quantity": {
            str(band): round(float(share), 3) for band, share in below.groupby(bands, observed=True).mean().items()
        },
    }


def naive_slopes(rows: pd.DataFrame) -> dict:
    """Within-product least-squares slopes of log1p(quantity per line) on log price: over all lines (what a model
    reading each line's price as its cause learns), and on the product-day mean price (over time only)."""
    frame = rows.assign(
        log_q=log_quantity(rows["quantity"]),
        log_price=np.log(rows["unit_price"]),
        day=rows["invoice_date"].dt.normalize(),
    )
    day = frame.groupby([PRODUCT_ID, "day"])[["log_q", "log_price"]].mean()
    return {
        "all_lines": round(_fixed_effect_slope(frame, (PRODUCT_ID,), "log_price", "log_q"), 3),
        "product_day_means": round(_fixed_effect_slope(day.reset_index(), (PRODUCT_ID,), "log_price", "log_q"), 3),
    }


FIXED_EFFECTS = (PRODUCT_ID, "day", "country")


def fixed_effect_elasticities(rows: pd.DataFrame) -> dict:
    """Price elasticities with stock-code, date and country fixed effects, the published design on this data
    (../shared/data/README.md: about -1.8 for log daily units, log-normal form), at two aggregations:

    - `units_per_line`: log1p(quantity of a line) on log(its unit price), one observation per line;
    - `daily_units`: log(units of a stock code on a day in a country) on log(the mean unit price of its lines),
      one observation per stock code x date x country: the published aggregation, which counts the orders a
      price loses as well as the units per order.

    `rows`: prepared lines (stockcode, unit_price, quantity, invoice_date, country). The slope is the OLS slope
    after sweeping out the three sets of fixed effects by alternating projections (Guimaraes & Portugal 2010)."""
    frame = rows.assign(day=rows["invoice_date"].dt.normalize(), country=rows["country"].astype(str))
    lines = frame.assign(y=log_quantity(frame["quantity"]), x=np.log(frame["unit_price"]))
    daily = (
        frame.groupby([PRODUCT_ID, "day", "country"], observed=True)
        .agg(units=("quantity", "sum"), price=("unit_price", "mean"))
        .reset_index()
    )
    daily = daily.assign(y=np.log(daily["units"]), x=np.log(daily["price"]))
    return {
        "units_per_line": {"elasticity": round(_fixed_effect_slope(lines), 3), "observations": len(lines)},
        "daily_units": {"elasticity": round(_fixed_effect_slope(daily), 3), "observations": len(daily)},
        "fixed_effects": list(FIXED_EFFECTS),
    }


def _fixed_effect_slope(
    frame: pd.DataFrame,
    effects: tuple[str, ...] = FIXED_EFFECTS,
    x: str = "x",
    y: str = "y",
    tolerance: float = 1e-9,
    max_sweeps: int = 200,
) -> float:
    """Slope of `y` on `x` once every group mean of each column in `effects` is swept out of both (alternating
    projections; one effect: the plain within-group slope, in one sweep)."""
    values = frame[[x, y]].to_numpy(dtype=float, copy=True)  # swept in place
    groups = [pd.factorize(frame[name])[0] for name in effects]
    for _ in range(max_sweeps):
        before = values.copy()
        for codes in groups:
            counts = np.bincount(codes)
            for column in range(2):
                values[:, column] -= (np.bincount(codes, values[:, column]) / counts)[codes]
        if np.abs(values - before).max() < tolerance:
            break
    x_swept, y_swept = values[:, 0], values[:, 1]
    denominator = float(x_swept @ x_swept)
    return float(x_swept @ y_swept / denominator) if denominator else 0.0


def pooled_elasticities(predictor: Predictor, codes: list[str], samples: int) -> dict:
    """Per model, the median over products of d log(mean predicted quantity per line) / d log(price) at the
    product's median price (a central difference over +-ELASTICITY_STEP)."""
    out = {}
    for name in predictor.model_names:
        values = []
        for code in codes:
            median = float(predictor.products.loc[code, "price_median"])
            prices = np.array([median * (1 - ELASTICITY_STEP), median * (1 + ELASTICITY_STEP)])
            contexts = predictor.keyed_contexts(code, samples)
            _, quantity = predictor.predict_grid(contexts, predictor.scaled_prices(code, prices), only=name)
            mean_q = quantity.reshape(2, -1).mean(axis=1)
            values.append(float(np.log(mean_q[1] / mean_q[0]) / np.log(prices[1] / prices[0])))
        out[name] = {"median": round(float(np.median(values)), 3), "iqr": _iqr(values)}
    return out


def _iqr(values) -> list[float]:
    return [round(float(v), 3) for v in np.percentile(values, [25, 75])]


def write_report(report: dict, out: Path) -> list[Path]:
    """report.json at `out`, report.md and two PNGs beside it (recommended / median price per model, and the
    held-out price effect, realised against predicted). Returns the paths written."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
    charts = [_recommendation_chart(report, out.with_name("report_recommendations.png"))]
    charts.append(_price_effect_chart(report, out.with_name("report_price_effect.png")))
    markdown = out.with_suffix(".md")
    markdown.write_text(to_markdown(report, [c.name for c in charts]))
    return [out, markdown, *charts]


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _recommendation_chart(report: dict, path: Path) -> Path:
    plt = _pyplot()
    table = pd.DataFrame(report["recommendation_rows"])
    names = list(report["recommendations"]["per_model"])
    fig, ax = plt.subplots(figsize=(8, 4.5))
    ax.boxplot([np.log2(table.loc[table["model"] == n, "ratio_to_median"]) for n in names], tick_labels=names)
    ax.axhline(0, color="#718096", linewidth=0.8)
    ax.set_ylabel("log2(recommended / median price)")
    ax.set_title(f"Recommended prices of the {report['settings']['top']} best sellers, bundle {report['bundle']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _price_effect_chart(report: dict, path: Path) -> Path:
    plt = _pyplot()
    variants = report["price_effect"]
    names = list(report["recommendations"]["per_model"])
    fig, axes = plt.subplots(len(variants), len(names), figsize=(4 * len(names), 3.6 * len(variants)), squeeze=False)
    for row, (variant, effect) in enumerate(variants.items()):
        realised = np.asarray(effect.get("points", {}).get("realised", []))
        for ax, name in zip(axes[row], names, strict=True):
            stats = effect.get("per_model", {}).get(name)
            if stats is None or not len(realised):
                ax.set_axis_off()
                continue
            predicted = np.asarray(effect["points"][name])
            ax.scatter(predicted, realised, s=8, alpha=0.5)
            low = min(realised.min(), predicted.min(), -1)
            high = max(realised.max(), predicted.max(), 1)
            ax.plot([low, high], [low, high], color="#718096", linewidth=0.8)
            ax.set_title(
                f"{name}, {variant.replace('_', ' ')}: slope {stats['slope']:.2f}, r {stats['correlation']:.2f}",
                fontsize=8,
            )
            ax.set_xlabel("predicted log(mean q above / below median price)", fontsize=7)
        axes[row][0].set_ylabel(f"realised log ratio, {effect.get('products', 0)} products", fontsize=7)
    fig.suptitle("Held-out price effect per product (the diagonal: calibrated)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def to_markdown(report: dict, charts: list[str]) -> str:
    """The report as Markdown: build_report's dict, the chart file names it links (recommendations, price
    effect), prices relative to each product's training-median price, quantities per order line."""
    metrics = report["metrics"]
    metric_rows = "\n".join(
        f"| {n} | {m['poisson_deviance']:.3f} | {m['mse_log']:.4f} | {m['rmsle']:.4f} | {m['mae']:.3f} |"
        for n, m in metrics.items()
    )
    recs = report["recommendations"]
    rec_rows = "\n".join(
        f"| {n} | {s['median_ratio']:.2f} | {s['ratio_q25']:.2f}-{s['ratio_q75']:.2f} | {s['share_at_bottom']:.0%} "
        f"| {s['share_at_top']:.0%} |"
        for n, s in recs["per_model"].items()
    )
    agreement = "\n".join(f"| {pair} | {v:.3f} |" for pair, v in recs["agreement_median_abs_log_difference"].items())
    effect = report["price_effect"]
    effect_rows = "\n".join(
        f"| {variant.replace('_', ' ')} ({e['products']} products, {e['lines']:,} lines, realised median "
        f"{e.get('median_realised_log_ratio')}) | {n} | {s['slope']:.2f} | {s['correlation']:.2f} "
        f"| {s['median_predicted_log_ratio']:.3f} |"
        for variant, e in effect.items()
        for n, s in e.get("per_model", {}).items()
    )
    structure = report["price_structure"]
    elasticity = report["elasticity"]
    model_elasticity = "\n".join(
        f"| {n} (per line, at the median price) | {e['median']:.2f} (IQR {e['iqr'][0]:.2f} to {e['iqr'][1]:.2f}) |"
        for n, e in elasticity["models_at_median_price"].items()
    )
    naive = elasticity["data_within_product_per_line"]
    fe_line = elasticity["data_fixed_effects"]["units_per_line"]["elasticity"]
    fe_daily = elasticity["data_fixed_effects"]["daily_units"]["elasticity"]
    published = "\n".join(
        f"| published: {k} (daily units) | {v:.2f} |" for k, v in elasticity["published_daily_units"].items()
    )
    cleaning = report["cleaning"]
    split = {k: v for k, v in (cleaning.get("split") or {}).items() if k != "fill_log_quantity"}
    settings = report["settings"]
    dropped = ", ".join(f"{k} {v:,}" for k, v in cleaning["dropped"].items() if v)
    notes = "\n".join(f"- **{k}**: {v}" for k, v in report["metric_notes"].items())
    return f"""# What bundle {report["bundle"]} learned

## Cleaning
{cleaning["rows_read"]:,} rows read from `{cleaning["source"]}`, {cleaning["rows_kept"]:,} kept; dropped: {dropped}.
Read as {json.dumps(cleaning.get("read"))}; split: {json.dumps(split)}.

## Held-out metrics (lower is better)
| model | Poisson deviance | MSE (log) | RMSLE | MAE (units) |
|---|---|---|---|---|
{metric_rows}

{notes}

## Recommended prices of the {settings["top"]} best sellers
{settings["bins"]} bins over each product's historical range, {settings["samples"]} held-out contexts.

| model | median recommended / median price | quartiles | at the range's bottom | at its top |
|---|---|---|---|---|
{rec_rows}

Agreement (median absolute log difference of recommended prices; 0.10 is about 10%):

| models | difference |
|---|---|
{agreement}

![recommendations]({charts[0]})

## The price effect on held-out price variation
Products with at least {MIN_LINES_PER_SIDE["all_lines"]} held-out lines (list price lines:
{MIN_LINES_PER_SIDE["list_price_lines"]}) below and above their training-median price: the
realised log ratio of mean quantity per line above / below, against the ratio each model predicts for the same
rows. Slope of realised on predicted across products (1: calibrated; 0: no relation). "all lines" includes the
quantity breaks and the guest channel, which every model reads from the context; "list price lines" keeps known
customers' lines at their day's list price, where what differs is the list price over time.

| lines | model | slope | correlation | median predicted log ratio |
|---|---|---|---|---|
{effect_rows}

![price effect]({charts[1]})

## The price structure of the data (training window)
{structure["share_of_product_days_with_2_or_more_prices"]:.0%} of {structure["product_days"]:,} product-days sell at two
or more prices; of the within-product variance of log price ({structure["log_price_variance_within_products"]}),
{structure["share_within_day"]:.0%} lies between lines of one day (quantity breaks, the guest channel: guests take
{structure["guest_line_share"]:.0%} of lines at a log premium of {structure["guest_price_premium_log"]} over the
product's mean, {structure["guest_premium_over_known_same_day_log_median"]} over known customers that day, median) and
{structure["share_across_days"]:.0%} over time (list-price changes), the variation a pricing decision can use.
Known customers' lines below the day's highest known price, by units per line (quantity breaks):
{", ".join(f"{band}: {share:.0%}" for band, share in structure["known_lines_below_day_top_by_quantity"].items())}.

## Elasticity
| estimate | elasticity |
|---|---|
{model_elasticity}
| data: within-product slope of log1p(q per line) on log price, all lines | {naive["all_lines"]:.2f} |
| data: the same on product-day means (over time only) | {naive["product_day_means"]:.2f} |
| data: log1p(units per line) on log price, stock code + date + country fixed effects | {fe_line:.2f} |
| data: log(daily units per stock code x date x country) on log mean price, the same effects (published design) \
| {fe_daily:.2f} |
{published}

Per-line elasticities and the published daily-units elasticities answer different questions: daily units are
orders per day x units per order, and a higher price loses orders as well as units per order. A model of quantity
per line sees only the second part, so its elasticity is smaller in size than the daily-units figures; and across
all lines, quantity-break prices (a lower price because the line is big) make the naive per-line slope steep for a
reason that is not demand.
"""
