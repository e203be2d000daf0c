"""The simulation's plots (PNG, matplotlib's Agg backend): cumulative regret per policy against weeks, a few
products' price paths against their true optimum, and the share of products changed per week."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

PATH_PRODUCTS = 4  # products whose price paths are drawn
PATH_POLICIES = ("greedy", "thompson")


def write_plots(report: dict, weeks: pd.DataFrame, out_dir: Path, pre_weeks: int) -> dict[str, Path]:
    """regret.png (log-log axes: a slope of 0.5 is sqrt(weeks) growth, 1 linear), price_paths.png and
    changes.png in `out_dir` from the report's runs and the per-week table (pricing.experiments.simulate);
    returns their paths by name."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs = pd.DataFrame(report["runs"])
    markets = list(dict.fromkeys(runs["market"]))
    paths = {}
    for name, column, ylabel in (
        ("regret", "cumulative_regret_by_week", "cumulative profit regret (currency, all products)"),
        ("changes", "share_changed_by_week", "share of products whose price changed"),
    ):
        fig, axes = plt.subplots(1, len(markets), figsize=(6 * len(markets), 4), squeeze=False)
        for ax, market in zip(axes[0], markets, strict=True):
            for policy, group in runs[runs["market"] == market].groupby("policy", sort=False):
                curves = np.array(group[column].tolist(), dtype=float)
                mean = curves.mean(axis=0)
                weeks_axis = np.arange(1, len(mean) + 1)
                (line,) = ax.plot(weeks_axis, mean, label=policy)
                if len(curves) > 1:
                    ax.fill_between(
                        weeks_axis, curves.min(axis=0), curves.max(axis=0), color=line.get_color(), alpha=0.15
                    )
            if name == "regret":
                ax.set_xscale("log")
                ax.set_yscale("log")
            ax.set_title(f"{market} market ({runs['seed'].nunique()} seeds: mean, range)")
            ax.set_xlabel("test week")
            ax.set_ylabel(ylabel)
            ax.legend(fontsize=8)
        fig.tight_layout()
        paths[name] = out_dir / f"{name}.png"
        fig.savefig(paths[name], dpi=110)
        plt.close(fig)
    paths["price_paths"] = _price_paths(plt, weeks, markets, out_dir, pre_weeks)
    return paths


def _price_paths(plt, weeks: pd.DataFrame, markets: list[str], out_dir: Path, pre_weeks: int) -> Path:
    """Per market (first seed), PATH_PRODUCTS tested products (the largest gap between the starting price and
    the true optimum): each PATH_POLICIES policy's price per week, the true optimum dashed."""
    fig, axes = plt.subplots(
        len(markets), PATH_PRODUCTS, figsize=(4 * PATH_PRODUCTS, 3.2 * len(markets)), squeeze=False
    )
    for row, market in enumerate(markets):
        frame = weeks[
            (weeks["market"] == market) & (weeks["seed"] == weeks.loc[weeks["market"] == market, "seed"].min())
        ]
        first = frame[(frame["week"] == pre_weeks) & (frame["policy"] == frame["policy"].iloc[0]) & ~frame["holdout"]]
        gap = (first["optimum"] / first.groupby("stockcode")["price"].transform("first") - 1).abs()
        codes = first.assign(gap=gap.to_numpy()).nlargest(PATH_PRODUCTS, "gap")["stockcode"].tolist()
        for ax, code in zip(axes[row], codes, strict=False):
            product = frame[frame["stockcode"] == code]
            for policy in PATH_POLICIES:
                path = product[product["policy"] == policy].sort_values("week")
                if len(path):
                    ax.step(path["week"], path["price"], where="post", label=policy)
            truth = product[product["policy"] == product["policy"].iloc[0]].sort_values("week")
            ax.plot(truth["week"], truth["optimum"], "k--", label="true optimum")
            ax.axvline(pre_weeks - 0.5, color="grey", lw=0.6)
            ax.set_title(f"{market}: {code}", fontsize=9)
            ax.set_xlabel("week (pre-period left of the line)")
            ax.set_ylabel("list price")
            ax.legend(fontsize=7)
    fig.tight_layout()
    path = out_dir / "price_paths.png"
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
