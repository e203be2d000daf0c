"""`pricing level-check`: does the weekly level a manager reads match what the product then sold?

For the N best sellers, the weekly units the service predicts at the current price, with the curve's level
anchored to the recent weeks (pricing.serving.predictor.Predictor.level_factor) and without, against the units
per week the product sold in a held-out window; beside the naive forecast a manager would otherwise use: the
previous four weeks' units per week. Everything the service reads about the product (its current price, its
recent level) is recomputed from the lines before the window, so the window is truly held out.

Two windows: `val` (choose the level's prior weight here: the model reads the validation weeks' season) and
`test` (report here). Per forecast: the median and the 10th-90th percentiles of log(forecast / sold), the mean
absolute log error and the share of products within 25% (0.75 <= forecast / sold <= 1.25). Products that sold
nothing in the window are counted apart (a log ratio needs a sale).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from pricing.data.incidence import week_start
from pricing.data.list_price import ladder_of
from pricing.data.prepare import read_split
from pricing.serving import predictor as P
from pricing.serving.predictor import Predictor
from pricing.serving.request import PriceRequest
from pricing.training.evidence import current_prices, recent_level

COLUMNS = ["stockcode", "invoice_date", "unit_price", "customer_id", "quantity"]
NAIVE_WEEKS = 4
WITHIN = 0.25


def _weeks(lines: pd.DataFrame, typical_days: float) -> float:
    """Weeks of trading in `lines` (their trading days over a typical week's)."""
    return pd.to_datetime(lines["invoice_date"]).dt.normalize().nunique() / typical_days


def _score(forecast: pd.Series, sold: pd.Series) -> dict:
    """Log-ratio summary of forecast against sold units per week, over products that sold in the window."""
    sold_any = sold > 0
    ratio = np.log(forecast[sold_any].clip(lower=1e-9) / sold[sold_any])
    return {
        "products": int(sold_any.sum()),
        "median_log_ratio": round(float(np.median(ratio)), 3),
        "p10_log_ratio": round(float(np.quantile(ratio, 0.1)), 3),
        "p90_log_ratio": round(float(np.quantile(ratio, 0.9)), 3),
        "mean_abs_log_error": round(float(np.mean(np.abs(ratio))), 3),
        "share_within_25pct": round(float(np.mean(np.abs(np.exp(ratio) - 1) <= WITHIN)), 3),
    }


def level_check(
    predictor: Predictor,
    data_dir: Path,
    window: str = "test",
    top: int = 300,
    priors: tuple[float, ...] = (1.0, 5.0, 20.0),
    samples: int = 300,
) -> dict:
    """The held-out comparison (module docstring) for `window` ("val" or "test") over the `top` best sellers,
    for each level prior weight in `priors` (order lines; P.LEVEL_PRIOR_LINES is the service's) and without the
    level. `predictor`: over a bundle trained on `data_dir`'s splits. Mutates the predictor's evidence."""
    frames = {name: read_split(data_dir, name, COLUMNS) for name in ("train", "val", "test")}
    products = pd.read_parquet(Path(data_dir) / "products.parquet").set_index("stockcode")
    before = pd.concat([frames["train"], *([frames["val"]] if window == "test" else [])], ignore_index=True)
    held = frames[window]
    first = week_start(frames["train"]["invoice_date"]).min()
    # what the service would read about each product on the window's eve
    current = current_prices(before, ladder_of(products, before))
    level, recent_weeks = recent_level(before, products, first)
    _, window_weeks = recent_level(held, products, first, weeks=10_000)
    predictor.evidence = predictor.evidence.assign(
        current_price=current["current_price"].reindex(predictor.evidence.index)
    )
    predictor.recent, predictor.recent_weeks = level.set_index("stockcode"), recent_weeks
    predictor.reference_weeks = window_weeks  # the window's own season, as serving reads its reference weeks
    typical = window_weeks.typical_trading_days
    sold = held.groupby("stockcode")["quantity"].sum() / _weeks(held, typical)
    cutoff = pd.to_datetime(before["invoice_date"]).max() - pd.Timedelta(days=7 * NAIVE_WEEKS)
    last = before[pd.to_datetime(before["invoice_date"]) > cutoff]
    naive = last.groupby("stockcode")["quantity"].sum() / _weeks(last, typical)
    codes = [c for c in predictor.products.sort_values("lines", ascending=False).index if c in current.index][:top]
    forecasts: dict[str, dict[str, float]] = {}
    saved = P.LEVEL_PRIOR_LINES
    try:
        for code in tqdm(codes, desc=f"level check ({window})", unit="product"):
            price = float(current.loc[code, "current_price"])
            request = PriceRequest(code, price * 0.9, price * 1.1, 3, samples)
            row = {}
            for prior in (*priors, None):
                if prior is None:
                    recent, predictor.recent = predictor.recent, None
                P.LEVEL_PRIOR_LINES = prior if prior is not None else saved
                rec = predictor.curve(request, np.array([round(price, 2)]))
                row["no level" if prior is None else f"level, prior {prior:g} lines"] = float(
                    rec.result.units_per_week[0]
                )
                if prior is None:
                    predictor.recent = recent
            forecasts[code] = row
    finally:
        P.LEVEL_PRIOR_LINES = saved
    table = pd.DataFrame.from_dict(forecasts, orient="index")
    table["naive: previous 4 weeks"] = naive.reindex(table.index).fillna(0.0)
    actual = sold.reindex(table.index).fillna(0.0)
    return {
        "window": window,
        "window_weeks": round(_weeks(held, typical), 2),
        "products": len(table),
        "sold_nothing": int((actual == 0).sum()),
        "forecasts": {name: _score(table[name], actual) for name in table.columns},
    }


def main(argv: list[str] | None = None) -> None:
    """`python -m pricing.tools.level_check --store STORE --data-dir DIR [--window test] [--top 300]`: prints the
    comparison as JSON (and writes it with --out)."""
    import argparse
    import json

    from pricing.artifacts.store import open_store

    parser = argparse.ArgumentParser(prog="python -m pricing.tools.level_check", description=__doc__.split("\n")[0])
    parser.add_argument("--store", required=True, help="bundle store (a folder or s3://)")
    parser.add_argument("--data-dir", required=True, type=Path, help="the prepared data the bundle was trained on")
    parser.add_argument("--window", choices=("val", "test"), default="test")
    parser.add_argument("--top", type=int, default=300, help="best sellers compared")
    parser.add_argument("--out", type=Path, help="write the JSON here too")
    args = parser.parse_args(argv)
    report = level_check(Predictor(open_store(args.store).fetch()), args.data_dir, args.window, args.top)
    text = json.dumps(report, indent=2)
    print(text)
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text)


if __name__ == "__main__":
    main()
