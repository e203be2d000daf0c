"""`python -m pricing.tools.launch_eval`: how good is a launch price for a product the bundle has never seen?

Two steps, on a generated file (`pricing generate` writes the truth beside it):

1. `holdout`: draw N products the file sold (seeded), write the file without their lines (the transactions a
   bundle is then trained on, so the products are new to it) and the held-out stock codes. Nothing of them
   reaches the bundle: not their lines, not their description, not their cost.
2. `score`: for each held-out product, the launch decision the API answers
   (`pricing.serving.launch.launch_decision`) from its description and its unit cost, scored against the
   generator's truth on weekly profit, (p - c) x E[units per week | p] over the product's contexts
   (pricing.tools.evaluate.true_revenue):
       regret(p) = 1 - profit(p) / profit(p*)      p*: the truth's best price over the evaluation grid
   for the launch price and, beside it, the launch decision's own reference (the neighbours' cost-plus price,
   `neighbours_markup`) and the naive launch: the neighbours' median price. The interval's coverage is the share
   of products whose p* lies in the decision's price interval (within half a grid step).

3. `real`: on the real file, which has no truth, the products a bundle never saw (first sold on or after the
   bundle's validation window: `pricing prepare` drops their held-out lines), priced as new from their most
   frequent description and no cost (the revenue objective, the real file's only one): the launch price beside
   the list price the shop chose (its list price in its first week, through the price ladder), and, with that
   price as `reference_price`, the weekly units the launch curve predicts at it beside the units per week the
   product then sold (its complete weeks from its first sale's week on).

The grid p* is searched on: EVAL_BAND x the product's base price, whole pence (wide enough that the truth's best is
interior for every product drawn: theta in 0.78-1.1 x base, pricing.data.synthetic.market).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.artifacts.store import open_store
from pricing.data.generate import load_ground_truth
from pricing.serving import launch
from pricing.serving.money import from_minor, to_minor
from pricing.serving.predictor import Predictor
from pricing.serving.request import LaunchRequest
from pricing.tools.evaluate import true_revenue

EVAL_BAND = (0.3, 3.0)  # p* is searched from 0.3 to 3 x the product's base price (the truth's best lies inside)
EVAL_BINS = 541  # prices on the evaluation grid: a step of 0.5% of the base price
RANDOM_DRAWS = 200  # placebo draws of random products per new product (real)
METHODS = ("launch", "reference", "neighbours_median_price", "shop_markup")


def holdout(
    raw: Path, truth: Path, products: int, seed: int, out: Path, codes_out: Path, costs: Path | None = None
) -> list[str]:
    """Write `raw` without the lines of `products` products drawn at random (numpy default_rng(`seed`)) among the
    truth's products that sold at least one line (`sale_lines` > 0) to `out`, and their stock codes, one a line,
    to `codes_out`; with `costs` (stockcode, unit_cost: `pricing generate`'s unit_costs.csv), the cost file
    without them beside `out` (costs.csv), for `pricing publish --costs`. Returns the codes (sorted).
    ValueError when fewer than `products` products sold."""
    truth_frame = pd.read_csv(truth, dtype={"stockcode": str})
    sold = np.sort(truth_frame.loc[truth_frame["sale_lines"] > 0, "stockcode"].to_numpy(dtype=str))
    if products > len(sold):
        raise ValueError(f"asked to hold out {products} products, the file sold {len(sold)}")
    chosen = sorted(np.random.default_rng(seed).choice(sold, size=products, replace=False).tolist())
    lines = pd.read_csv(raw, dtype=str, keep_default_na=False)
    kept = lines[~lines["StockCode"].isin(set(chosen))]
    out.parent.mkdir(parents=True, exist_ok=True)
    kept.to_csv(out, index=False)
    codes_out.write_text("".join(f"{c}\n" for c in chosen))
    if costs is not None:
        table = pd.read_csv(costs, dtype={"stockcode": str})
        table[~table["stockcode"].isin(set(chosen))].to_csv(out.parent / "costs.csv", index=False)
    return chosen


def score(store: str, truth_path: Path, codes: list[str], costs_path: Path, samples: int = 300, exclude=None) -> dict:
    """The launch decision of each held-out product in `codes` scored against the truth (module docstring).

    `store`: the store whose LATEST bundle was trained without them (publish it with the other products' costs, so
    the launch borrows the neighbours' markup); `truth_path`: ground_truth.csv (with ground_truth_customers.csv
    beside it: the contexts' segments); `costs_path`: the generator's unit_costs.csv (the held-out products' costs
    come from it, as a shop knows a new product's cost); `samples`: contexts per curve, the truth's included.
    Codes (and `exclude`) are also excluded as neighbours, so a bundle that did see them still prices them as new
    (a cheaper, weaker check). Per product and method (METHODS): the price, its weekly profit regret against p*;
    `shop_markup` is the unit cost times the median markup (current price over cost) of every product of the
    bundle with a cost, the cost-plus price with no neighbours at all (NaN for a bundle without costs). Returns
    {"summary", "products"}; nothing is written. KeyError for a code the truth or the cost file lacks."""
    bundle = open_store(store).fetch()
    predictor = Predictor(bundle)
    truth = load_ground_truth(truth_path)
    costs = pd.read_csv(costs_path, dtype={"stockcode": str}).set_index("stockcode")["unit_cost"]
    segments = pd.read_csv(truth_path.with_name("ground_truth_customers.csv")).set_index("customer_id")["segment"]
    contexts = bundle.contexts()
    contexts["segment"] = contexts["customer_id"].map(segments).fillna("guest").to_numpy()
    shop_markup = _shop_markup(predictor)
    index = launch.catalogue_index(predictor)
    rows = []
    for code in tqdm(codes, desc="launch-eval", unit="product"):
        t, cost = truth.loc[code], float(costs.loc[code])
        row = {"stockcode": code, "description": str(t["description"]), "unit_cost": cost}
        decided = launch.launch_decision(
            predictor,
            LaunchRequest(row["description"], cost),
            index=index,
            exclude=set(codes) | set(exclude or ()),
            samples=samples,
        )
        if decided is None:
            rows.append({**row, "decision": launch.NO_SIMILAR})
            continue
        ctx = contexts.iloc[predictor.context_sample(code, samples)]
        base = float(t["base_price"])
        grid = np.unique(from_minor(to_minor(np.linspace(*(b * base for b in EVAL_BAND), EVAL_BINS))).astype(float))
        profit = true_revenue(grid, t, ctx, weekly=True, unit_cost=cost)
        best = int(np.argmax(profit))
        p_star, top = float(grid[best]), float(profit[best])
        prices = {
            "launch": decided.launch_price,
            "reference": decided.reference,
            "neighbours_median_price": launch.weighted_median(decided.current_prices, decided.weights),
            "shop_markup": np.nan if shop_markup is None else float(from_minor(to_minor(cost * shop_markup))),
        }
        achieved = true_revenue(np.array(list(prices.values())), t, ctx, weekly=True, unit_cost=cost)
        low, high = decided.confidence.price_interval
        step = float(np.median(np.diff(decided.prices))) / 2
        rows.append(
            {
                **row,
                "decision": "test",
                "reference_source": decided.reference_source,
                "neighbours": len(decided.neighbours),
                "top_similarity": decided.neighbours[0].similarity,
                "base_price": base,
                "optimal_price": p_star,
                "optimum_interior": 0 < best < len(grid) - 1,
                "interval_low": low,
                "interval_high": high,
                "half_step": step,
                "covered": bool(low - step <= p_star <= high + step),
                **{f"{m}_price": prices[m] for m in METHODS},
                **{f"{m}_regret": float(1 - a / top) for m, a in zip(METHODS, achieved, strict=True)},
            }
        )
    return {"summary": summarise(rows, shop_markup, samples, len(predictor.products)), "products": rows}


def real(store: str, raw: Path, since: str, samples: int = 300, version: str | None = None) -> dict:
    """The real-file comparison (module docstring, step 3) for the products of `raw` first sold on or after
    `since` (a date) that the bundle (`version` of `store`, default LATEST) does not know (so none is another's
    neighbour). Returns {"summary", "products"}: per product its first week, weeks and units per week sold
    (complete weeks), the shop's first list price, the blind launch price, its interval and the units predicted
    at the shop's price; in summary the median and P10-P90 of log(launch / shop price), the share of shop prices
    inside the launch interval, the median and P10-P90 of log(predicted / sold units per week), and the mean
    |log(price / shop price)| of the launch price, of the neighbours' median price and of a placebo: the median
    price of as many products drawn at random from the catalogue (does the description carry the price level?).
    ValueError when no product is new."""
    from pricing.experiments.panel import weekly_panel
    from pricing.experiments.update import read_lines

    predictor = Predictor(open_store(store).fetch(version))
    lines, _ = read_lines(raw)
    lines["stockcode"] = lines["stockcode"].astype(str)
    first_sale = lines.groupby("stockcode")["invoice_date"].min()
    new = sorted(c for c in first_sale.index[first_sale >= pd.Timestamp(since)] if c not in predictor.products.index)
    if not new:
        raise ValueError(f"{raw}: no product first sold on or after {since} is new to the bundle")
    descriptions = (
        lines[lines["stockcode"].isin(set(new))]
        .groupby("stockcode")["description"]
        .agg(lambda d: d.value_counts().index[0])
    )
    panel = weekly_panel(lines, new)
    last_day = lines["invoice_date"].max().normalize()
    complete = np.asarray(panel.weeks + pd.Timedelta(days=5) <= last_day)  # Monday to Saturday in the file
    index = launch.catalogue_index(predictor)
    catalogue = np.array([predictor.current_price(c)[0] for c in predictor.products.index])
    rng = np.random.default_rng(0)
    rows = []
    for j, code in enumerate(tqdm(new, desc="launch-real", unit="product")):
        sold = np.isfinite(panel.list_price[j])
        first = int(np.argmax(sold))
        weeks = complete & (np.arange(len(panel.weeks)) >= first)
        row = {
            "stockcode": code,
            "description": str(descriptions.loc[code]),
            "first_week": str(panel.weeks[first].date()),
            "shop_price": round(float(panel.list_price[j, first]), 2),
            "complete_weeks": int(weeks.sum()),
            "units_per_week": float(panel.units[j, weeks].mean()) if weeks.any() else np.nan,
        }
        request = LaunchRequest(row["description"])
        blind = launch.launch_decision(predictor, request, index, samples=samples)
        if blind is None:
            rows.append({**row, "decision": launch.NO_SIMILAR})
            continue
        informed = launch.launch_decision(
            predictor,
            LaunchRequest(row["description"], reference_price=max(row["shop_price"], 0.01)),
            index,
            samples=samples,
        )
        low, high = blind.confidence.price_interval
        # the placebo: the median current price of as many products drawn at random (RANDOM_DRAWS draws): what the
        # neighbours' median price would be worth if descriptions said nothing of a product's price
        drawn = rng.choice(catalogue, size=(RANDOM_DRAWS, len(blind.neighbours)))
        rows.append(
            {
                **row,
                "decision": "test",
                "random_median_price": float(np.median(np.median(drawn, axis=1))),
                "random_log_error": float(np.mean(np.abs(np.log(np.median(drawn, axis=1) / row["shop_price"])))),
                "neighbours": ";".join(n.stockcode for n in blind.neighbours),
                "top_similarity": blind.neighbours[0].similarity,
                "reference": blind.reference,
                "launch_price": blind.launch_price,
                "interval_low": low,
                "interval_high": high,
                "predicted_units_per_week": float(informed.units[informed.reference_index]),
                "per": "week" if informed.weekly else "line",
            }
        )
    frame = pd.DataFrame(rows)
    priced = frame[frame["decision"] == "test"]
    summary = {"since": since, "bundle": predictor.version, "new_products": len(frame), "priced": len(priced)}
    summary["no_similar_product"] = len(frame) - len(priced)
    if not priced.empty:
        ratio = np.log(priced["launch_price"] / priced["shop_price"])
        summary["log_launch_over_shop_price"] = _spread(ratio)
        summary["launch_within_10pct_of_shop"] = round(float((np.abs(np.exp(ratio) - 1) <= 0.10).mean()), 4)
        summary["launch_above_shop"] = round(float((ratio > 0).mean()), 4)
        summary["reference_over_shop_price"] = _spread(np.log(priced["reference"] / priced["shop_price"]))
        summary["mean_abs_log_error"] = {
            "launch_price": round(float(np.mean(np.abs(ratio))), 4),
            "neighbours_median_price": round(
                float(np.mean(np.abs(np.log(priced["reference"] / priced["shop_price"])))), 4
            ),
            "random_products_median_price": round(float(priced["random_log_error"].mean()), 4),
        }
        inside = (priced["interval_low"] <= priced["shop_price"]) & (priced["shop_price"] <= priced["interval_high"])
        summary["shop_price_inside_interval"] = round(float(inside.mean()), 4)
        level = priced[(priced["complete_weeks"] > 0) & (priced["units_per_week"] > 0)]
        summary["level_products"] = len(level)
        if len(level):
            summary["log_predicted_over_sold_units"] = _spread(
                np.log(level["predicted_units_per_week"] / level["units_per_week"])
            )
    return {"summary": summary, "products": frame.to_dict(orient="records")}


def _spread(values) -> dict:
    """Median, P10 and P90 of `values` (rounded to 4 places)."""
    values = np.asarray(values, dtype=float)
    return {q: round(float(np.quantile(values, v)), 4) for q, v in (("median", 0.5), ("p10", 0.1), ("p90", 0.9))}


def _shop_markup(predictor: Predictor) -> float | None:
    """The median of current price / unit cost over the bundle's products with a cost (None without a cost file)."""
    table = getattr(predictor, "costs", None)
    if table is None or table.empty:
        return None
    codes = [c for c in table.index if c in predictor.products.index]
    current = np.array([predictor.current_price(c)[0] for c in codes])
    return float(np.median(current / table.loc[codes, "unit_cost"].to_numpy(dtype=float)))


def summarise(rows: list[dict], shop_markup: float | None, samples: int, catalogue: int) -> dict:
    """Per method its regret's mean, median, P90 and the share of products within 5% of p*'s profit, over the
    products with a launch decision; the interval's coverage of p*; the counts."""
    priced = pd.DataFrame([r for r in rows if r["decision"] == "test"])
    summary = {
        "held_out": len(rows),
        "priced": len(priced),
        "no_similar_product": len(rows) - len(priced),
        "catalogue": catalogue,
        "samples": samples,
        "shop_markup": None if shop_markup is None else round(shop_markup, 4),
    }
    if priced.empty:
        return summary
    summary["reference_sources"] = priced["reference_source"].value_counts().to_dict()
    summary["regret"] = {
        m: None
        if priced[f"{m}_regret"].isna().all()
        else {
            "mean": round(float(priced[f"{m}_regret"].mean()), 4),
            "median": round(float(priced[f"{m}_regret"].median()), 4),
            "p90": round(float(priced[f"{m}_regret"].quantile(0.9)), 4),
            "within_5pct": round(float((priced[f"{m}_regret"] <= 0.05).mean()), 4),
        }
        for m in METHODS
    }
    summary["launch_beats_neighbours_median_price"] = round(
        float((priced["launch_regret"] < priced["neighbours_median_price_regret"]).mean()), 4
    )
    summary["interval_coverage"] = round(float(priced["covered"].mean()), 4)
    summary["interval_relative_width_median"] = round(
        float(((priced["interval_high"] - priced["interval_low"]) / priced["launch_price"]).median()), 4
    )
    summary["optimum_interior"] = int(priced["optimum_interior"].sum())
    return summary


def write_report(report: dict, out: Path) -> dict[str, Path]:
    """launch_eval.json, launch_eval.csv (one row per product) and launch_eval.png (each method's regret, sorted,
    and the launch price against p* with its interval) under the folder `out`; returns their paths."""
    out.mkdir(parents=True, exist_ok=True)
    paths = {"json": out / "launch_eval.json", "csv": out / "launch_eval.csv", "png": out / "launch_eval.png"}
    paths["json"].write_text(json.dumps(report, indent=2) + "\n")
    frame = pd.DataFrame(report["products"])
    frame.to_csv(paths["csv"], index=False)
    priced = frame[frame["decision"] == "test"]
    if not priced.empty:
        _plot(priced, paths["png"])
    else:
        paths.pop("png")
    return paths


def _plot(priced: pd.DataFrame, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 5))
    share = np.arange(1, len(priced) + 1) / len(priced)
    for m in METHODS:
        if priced[f"{m}_regret"].isna().all():
            continue
        left.plot(np.sort(priced[f"{m}_regret"].to_numpy()), share, label=m.replace("_", " "))
    left.set_xscale("symlog", linthresh=0.01)
    left.set_xlabel("weekly profit regret against the truth's best price")
    left.set_ylabel("share of held-out products")
    left.set_title("Regret of each launch price (cumulative)")
    left.legend()
    ratio = priced["launch_price"] / priced["optimal_price"]
    order = np.argsort(ratio.to_numpy())
    low = (priced["interval_low"] / priced["optimal_price"]).to_numpy()[order]
    high = (priced["interval_high"] / priced["optimal_price"]).to_numpy()[order]
    x = np.arange(len(priced))
    right.vlines(x, low, high, color="0.7", label="90% interval")
    right.plot(x, ratio.to_numpy()[order], ".", label="launch price")
    right.axhline(1.0, color="k", lw=0.8)
    right.set_yscale("log")
    right.set_xlabel("held-out product (sorted)")
    right.set_ylabel("price / the truth's best price")
    right.set_title(f"Launch price and interval (coverage {priced['covered'].mean():.0%})")
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pricing.tools.launch_eval", description=__doc__.split("\n")[0])
    steps = parser.add_subparsers(dest="step", required=True)
    h = steps.add_parser("holdout", help="write the file without N products' lines, and their codes")
    h.add_argument("--raw", type=Path, required=True)
    h.add_argument("--truth", type=Path, required=True)
    h.add_argument("--products", type=int, default=200)
    h.add_argument("--seed", type=int, default=0)
    h.add_argument("--out", type=Path, required=True)
    h.add_argument("--codes-out", type=Path, required=True)
    h.add_argument("--costs", type=Path, help="the generator's unit_costs.csv: written without them to costs.csv")
    sc = steps.add_parser("score", help="score the held-out products' launch prices against the truth")
    sc.add_argument("--store", required=True, help="the store whose LATEST bundle was trained without them")
    sc.add_argument("--truth", type=Path, required=True)
    sc.add_argument("--costs", type=Path, required=True, help="the generator's unit_costs.csv (all products)")
    sc.add_argument("--codes", type=Path, required=True, help="the held-out stock codes, one a line")
    sc.add_argument("--samples", type=int, default=300)
    sc.add_argument("--out", type=Path, default=Path("reports"))
    rl = steps.add_parser("real", help="the real file's new products: launch price against the shop's")
    rl.add_argument("--store", required=True)
    rl.add_argument("--version", help="the bundle version (default: LATEST)")
    rl.add_argument("--raw", type=Path, required=True, help="the transaction file the bundle was prepared from")
    rl.add_argument("--since", required=True, help="first sale on or after this date (the validation window's start)")
    rl.add_argument("--samples", type=int, default=300)
    rl.add_argument("--out", type=Path, default=Path("reports"))
    args = parser.parse_args(argv)
    if args.step == "real":
        report = real(args.store, args.raw, args.since, args.samples, args.version)
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "launch_real.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
        pd.DataFrame(report["products"]).to_csv(args.out / "launch_real.csv", index=False)
        print(json.dumps(report["summary"], indent=2))
    elif args.step == "holdout":
        codes = holdout(args.raw, args.truth, args.products, args.seed, args.out, args.codes_out, args.costs)
        print(json.dumps({"held_out": len(codes), "file": str(args.out), "codes": str(args.codes_out)}))
    else:
        codes = [c.strip() for c in args.codes.read_text().splitlines() if c.strip()]
        report = score(args.store, args.truth, codes, args.costs, args.samples)
        paths = write_report(report, args.out)
        print(json.dumps({**report["summary"], "files": {k: str(v) for k, v in paths.items()}}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
