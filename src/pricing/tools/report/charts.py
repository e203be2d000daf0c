"""The report's PNGs: recommended over median price per model, the held-out price effect (realised against
predicted), and the elasticities beside the published ones."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

CHART_LABELS = {
    "naive": "naive log-log",
    "log_normal": "fixed effects,\nlog-normal (feols)",
    "poisson": "fixed effects,\nPoisson (fepois)",
    "double_ml": "double ML\n(DoubleML PLR)",
}


def elasticity_chart(elasticity: dict, path: Path) -> Path:
    """Each design's estimate with its 95% CI (with all customers, and without the bulk customers where those
    differ), the published figure beside it (a range as a bar), and the bundle's weekly-units elasticity (median
    and IQR over the best sellers)."""
    plt = _pyplot()
    designs = elasticity["published_designs"]
    same = designs["bulk_customers"]["same_rows"]
    weekly = elasticity.get("model_weekly_units")
    labels = [CHART_LABELS.get(key, d["label"]) for key, d in designs["designs"].items()]
    fig, ax = plt.subplots(figsize=(8, 0.9 * (len(labels) + 2)))
    samples = (
        ("all_customers", 0.0 if same else 0.12, "#2b6cb0", "ours" if same else "ours, all customers"),
        ("without_bulk_customers", -0.12, "#38a169", "ours, without the one-off bulk customers"),
    )
    for y, d in enumerate(designs["designs"].values()):
        for name, shift, colour, legend in samples[: 1 if same else 2]:
            e = d[name]
            low, high = e["ci95"]
            error = [[e["elasticity"] - low], [high - e["elasticity"]]]
            ax.errorbar(e["elasticity"], y + shift, xerr=error, fmt="o", color=colour, capsize=3, label=legend)
        legend = "published"
        if d.get("published_range"):
            ax.plot(d["published_range"], [y - 0.3] * 2, color="#c53030", linewidth=3, label=legend)
        else:
            ax.plot(d["published"], y - 0.3, "x", color="#c53030", markersize=9, label=legend)
    if weekly and weekly.get("median") is not None:
        labels.append("the bundle:\nweekly units")
        low, high = weekly["iqr"]
        error = [[weekly["median"] - low], [high - weekly["median"]]]
        legend = f"the bundle's curve, median and IQR over {weekly['products']} best sellers"
        ax.errorbar(weekly["median"], len(labels) - 1, xerr=error, fmt="s", color="#6b46c1", capsize=3, label=legend)
    unique = {}
    for handle, name in zip(*ax.get_legend_handles_labels(), strict=True):
        unique.setdefault(name, handle)
    ax.legend(unique.values(), unique.keys(), fontsize=7, loc="lower left")
    ax.axvline(0, color="#718096", linewidth=0.8)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("price elasticity of daily units per stock code x date x country (95% CI)")
    ax.set_title("The data's own price elasticity by the published designs, beside the published figures", fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def recommendation_chart(report: dict, path: Path) -> Path:
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


def price_effect_chart(report: dict, path: Path) -> Path:
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
