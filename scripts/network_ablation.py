"""One network configuration, trained and scored for pricing quality in minutes: the ablations behind
the network's design (docs/PRICING_QUALITY.md, "How the network prices, and why"; the ablation tables are in
CHANGELOG.md, issue 5).

Fits the network alone with a fixed configuration (the standard profile's tuned one, no search), then scores
its recommended price for the N best-selling products the way `pricing evaluate` does (contexts keyed to the
product, price features recomputed per bin, the median quantity across contexts, the best bin), against the
truth's revenue over the same contexts. Appends one JSON line to --results.

    .venv/bin/python scripts/network_ablation.py --data-dir data/processed --loss poisson --members 3 --tag my-run
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from pricing.data.features import FEATURES, TARGET, key_to_product, quantity_from_log, with_price
from pricing.data.generate import load_ground_truth
from pricing.data.preprocess import Preprocessor
from pricing.models.network import DFNConfig
from pricing.serving.sweep import price_grid
from pricing.tools.evaluate import true_revenue
from pricing.training.network_fit import TrainableDFNEnsemble

ABSOLUTE_PRICE = ("unit_price", "log_price")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=Path("data/processed"))
    parser.add_argument("--raw-dir", type=Path, default=Path("data/raw"))
    parser.add_argument("--loss", choices=("mse", "poisson"), default="poisson")
    parser.add_argument("--members", type=int, default=1)
    parser.add_argument("--price-effect", choices=("free", "loglinear"), default="free")
    parser.add_argument("--slope-shrinkage", type=float, default=DFNConfig.slope_shrinkage)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--relative-only", action="store_true", help="blank the absolute price columns")
    parser.add_argument("--config", type=Path, help="a bundle network's network.json: its tuned configuration")
    parser.add_argument("--top", type=int, default=300)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--tag", default="")
    parser.add_argument("--results", type=Path, default=Path("reports/network_ablation.jsonl"))
    args = parser.parse_args()
    torch.set_num_threads(1)

    frames = {n: pd.read_parquet(args.data_dir / f"{n}.parquet") for n in ("train", "val", "test")}
    products = pd.read_parquet(args.data_dir / "products.parquet")
    products = products.set_index("stockcode") if "stockcode" in products.columns else products
    preprocessor = Preprocessor.fit(frames["train"])
    blank = [preprocessor.numeric.index(c) for c in ABSOLUTE_PRICE] if args.relative_only else []

    def matrix(frame: pd.DataFrame) -> np.ndarray:
        X = preprocessor.transform(frame)
        X[:, blank] = 0
        return X

    X = {n: matrix(f) for n, f in frames.items()}
    y = {n: f[TARGET].to_numpy() for n, f in frames.items()}
    config = DFNConfig(  # default: the standard profile's tuned network of bundle 20261122T015616Z
        units=(99, 21, 127),
        dropout=0.0745,
        embedding_dim=15,
        optimizer="adam",
        learning_rate=0.007019612967671817,
        weight_decay=0.000970569033841702,
        batch_size=512,
        max_epochs=40,
        patience=4,
        time_limit_s=300,
        loss=args.loss,
        price_effect=args.price_effect,
        slope_shrinkage=args.slope_shrinkage,
        seed=args.seed,
        **preprocessor.price_layout(),
    )
    if args.config is not None:
        tuned = DFNConfig.from_dict(json.loads(args.config.read_text())["config"])
        kept = ("max_epochs", "time_limit_s", "loss", "seed", "price_effect", "slope_shrinkage")
        config = replace(tuned, **{k: getattr(config, k) for k in kept})
    started = time.perf_counter()
    model = TrainableDFNEnsemble(config, n_products=preprocessor.n_products, members=args.members)
    model.fit(X["train"], y["train"], X["val"], y["val"])
    fit_s = time.perf_counter() - started

    truth = load_ground_truth(args.raw_dir / "ground_truth.csv")
    segments = pd.read_csv(args.raw_dir / "ground_truth_customers.csv").set_index("customer_id")["segment"]
    test = frames["test"].assign(segment=frames["test"]["customer_id"].map(segments).fillna("guest").to_numpy())
    codes = [c for c in products.sort_values("lines", ascending=False).index if c in truth.index][: args.top]
    rng = np.random.default_rng(1)
    scores = []
    for code in codes:
        product = products.loc[code]
        prices = price_grid(float(product["price_min"]), float(product["price_max"]), 100)
        contexts = test.iloc[rng.choice(len(test), args.samples, replace=False)]
        keyed = key_to_product(contexts[list(FEATURES)], code, products)
        swept = matrix(pd.concat([with_price(keyed, p, products) for p in prices], ignore_index=True))
        quantity = quantity_from_log(model.predict(swept)).reshape(len(prices), -1)
        chosen = prices[np.argmax(prices * np.median(quantity, axis=1))]
        revenue = true_revenue(prices, truth.loc[code], contexts)
        best = int(np.argmax(revenue))
        achieved = true_revenue(np.array([chosen]), truth.loc[code], contexts)[0]
        scores.append((1 - achieved / revenue[best], (chosen - prices[best]) / prices[best], chosen == prices[-1]))
    scores = np.array(scores)
    result = {
        "tag": args.tag,
        "data_dir": str(args.data_dir),
        "loss": args.loss,
        "members": args.members,
        "seed": args.seed,
        "relative_only": args.relative_only,
        "price_effect": args.price_effect,
        "slope_shrinkage": args.slope_shrinkage if args.price_effect == "loglinear" else None,
        "val_loss": round(min(model.history.val_loss), 5),
        "config": str(args.config or "fixed"),
        "pooled_slope": [round(m.network.pooled_slope(), 4) for m in model.members if m.network.price_effect != "free"],
        "fit_s": round(fit_s),
        "test_mse_log": round(float(np.mean((model.predict(X["test"]) - y["test"]) ** 2)), 4),
        "median_regret": round(float(np.median(scores[:, 0])), 5),
        "p90_regret": round(float(np.percentile(scores[:, 0], 90)), 5),
        "median_signed_price_error": round(float(np.median(scores[:, 1])), 4),
        "median_price_error": round(float(np.median(np.abs(scores[:, 1]))), 4),
        "share_at_range_top": round(float(np.mean(scores[:, 2])), 3),
    }
    print(json.dumps(result))
    args.results.parent.mkdir(parents=True, exist_ok=True)
    with open(args.results, "a") as handle:
        handle.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
