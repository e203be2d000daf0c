"""How well can ANY model price these products? A bound from the truth itself, for issue 5's targets.

For the N best-selling products, fit the generator's own demand model (log E[q] = a_product + b_product * p /
median + segment + country + month + weekday, Poisson) on the training and validation rows, with the hidden
customer segments the models never see. That is the best-specified estimate the data allows; its slope's standard
error says how much a product's own price history tells about its optimum. Then combine it with the true prior of
theta / median price (the generator's, over every product) into the Bayes decision: the price that maximises
the expected revenue under the posterior. No learner without the hidden truth can beat that decision on average.

    .venv/bin/python scripts/information_bound.py [--data-dir data/processed] [--raw-dir data/raw] [--top 300]
writes reports/information_bound.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pricing.data.generate import load_ground_truth
from pricing.serving.sweep import price_grid


def revenue(price, theta):
    return price * np.exp(-price / theta)


def regret(chosen: float, grid: np.ndarray, theta: float) -> float:
    return float(1 - revenue(chosen, theta) / revenue(grid, theta).max())


def fit_demand(frame: pd.DataFrame, relative_price: np.ndarray, product: np.ndarray, n_products: int):
    """Poisson GLM with per-product intercept and slope and the truth's context effects; returns slopes and means."""
    codes = {c: torch.tensor(pd.Categorical(frame[c]).codes.astype(np.int64)) for c in ("segment", "country")}
    codes["month"] = torch.tensor(frame["invoice_date"].dt.month.to_numpy() - 1)
    codes["weekday"] = torch.tensor(frame["invoice_date"].dt.day_of_week.to_numpy())
    x = torch.tensor(relative_price)
    quantity = torch.tensor(frame["quantity"].to_numpy(dtype=float))
    index = torch.tensor(product)
    intercept = torch.zeros(n_products, dtype=torch.float64, requires_grad=True)
    slope = torch.zeros(n_products, dtype=torch.float64, requires_grad=True)
    effects = {c: torch.zeros(int(v.max()) + 1, dtype=torch.float64, requires_grad=True) for c, v in codes.items()}
    optimizer = torch.optim.LBFGS([intercept, slope, *effects.values()], max_iter=500, line_search_fn="strong_wolfe")

    def linear():
        return intercept[index] + slope[index] * x + sum(effects[c][v] for c, v in codes.items())

    def closure():
        optimizer.zero_grad()
        eta = linear()
        loss = (torch.exp(eta) - quantity * eta).mean()
        loss.backward()
        return loss

    for _ in range(5):
        optimizer.step(closure)
    with torch.no_grad():
        return slope.numpy().copy(), torch.exp(linear()).numpy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/processed"))
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--top", type=int, default=300)
    parser.add_argument("--bins", type=int, default=100)
    parser.add_argument("--out", type=Path, default=Path("reports/information_bound.json"))
    args = parser.parse_args()

    truth = load_ground_truth(args.raw_dir / "ground_truth.csv")
    segments = pd.read_csv(args.raw_dir / "ground_truth_customers.csv").set_index("customer_id")["segment"]
    rows = pd.concat([pd.read_parquet(args.data_dir / f"{n}.parquet") for n in ("train", "val")], ignore_index=True)
    rows["segment"] = rows["customer_id"].map(segments).fillna("guest").astype(str)
    products = pd.read_parquet(args.data_dir / "products.parquet")
    products = products.set_index("stockcode") if "stockcode" in products.columns else products
    top = [c for c in products.sort_values("lines", ascending=False).index if c in truth.index][: args.top]
    rows = rows[rows["stockcode"].isin(top)].reset_index(drop=True)
    product = pd.Categorical(rows["stockcode"], categories=top).codes.astype(np.int64)
    median = products.loc[top, "price_median"].to_numpy()
    relative = rows["unit_price"].to_numpy() / median[product]

    slope, mean = fit_demand(rows, relative, product, len(top))
    quantity = rows["quantity"].to_numpy(dtype=float)
    dispersion = float(np.sum((quantity - mean) ** 2 / mean) / (len(rows) - 2 * len(top) - 60))
    prior = (truth["theta"] / products["price_median"].reindex(truth.index)).dropna().to_numpy()  # theta / median

    detail = []
    for i, code in enumerate(top):
        mine = product == i
        weights = mean[mine]
        centred = relative[mine] - np.average(relative[mine], weights=weights)
        stderr = float(np.sqrt(dispersion / np.sum(weights * centred**2)))
        grid = price_grid(float(products.loc[code, "price_min"]), float(products.loc[code, "price_max"]), args.bins)
        theta = float(truth.loc[code, "theta"])
        # the slope on price / median is -median / theta: the GLM's own estimate of theta, and the Bayes decision
        glm_theta = median[i] / -slope[i] if slope[i] < 0 else np.inf
        glm_price = float(grid[np.argmax(revenue(grid, glm_theta))]) if np.isfinite(glm_theta) else float(grid[-1])
        thetas = median[i] * prior
        posterior = np.exp(-0.5 * ((slope[i] + median[i] / thetas) / stderr) ** 2)
        expected = (revenue(grid[:, None], thetas) / revenue(thetas, thetas) * posterior).sum(axis=1)
        detail.append(
            {
                "stockcode": code,
                "lines": int(mine.sum()),
                "relative_slope": round(float(slope[i]), 4),
                "relative_slope_stderr": round(stderr, 4),
                "oracle_glm": regret(glm_price, grid, theta),
                "bayes_decision": regret(float(grid[np.argmax(expected)]), grid, theta),
                "median_price": regret(float(median[i]), grid, theta),
            }
        )
    summary = {
        method: {
            "median_regret": round(float(np.median([d[method] for d in detail])), 5),
            "p90_regret": round(float(np.percentile([d[method] for d in detail], 90)), 5),
        }
        for method in ("oracle_glm", "bayes_decision", "median_price")
    }
    report = {
        "products": len(top),
        "rows": len(rows),
        "pearson_dispersion": round(dispersion, 2),
        "median_relative_slope_stderr": round(float(np.median([d["relative_slope_stderr"] for d in detail])), 4),
        "prior_theta_over_median_p10_p50_p90": [round(float(v), 3) for v in np.percentile(prior, [10, 50, 90])],
        "summary": summary,
        "products_detail": detail,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps({k: v for k, v in report.items() if k != "products_detail"}, indent=2))


if __name__ == "__main__":
    main()
