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

The grid p* is searched on: EVAL_BAND x the product's base price, whole pence (wide enough that the truth's best is
interior for every product drawn: theta in 0.78-1.1 x base, pricing.data.synthetic.market).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pandas as pd

HOLDOUT_COLUMNS = ("StockCode",)


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
    args = parser.parse_args(argv)
    if args.step == "holdout":
        codes = holdout(args.raw, args.truth, args.products, args.seed, args.out, args.codes_out, args.costs)
        print(json.dumps({"held_out": len(codes), "file": str(args.out), "codes": str(args.codes_out)}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
