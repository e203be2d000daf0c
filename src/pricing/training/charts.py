"""The training run's chart: the held-out metrics of every model and the baseline, as reports/metrics.png."""

from __future__ import annotations

import textwrap
from pathlib import Path

from pricing.training.metrics import METRIC_TABLE_NOTE


def write_metrics_chart(reports_dir: Path, metrics: dict, version: str) -> Path:
    """Bar charts of each metric for every model and the baseline (metrics: {name: regression_metrics}, in bar
    order) to reports_dir/metrics.png, created with its folder; returns its path."""
    import matplotlib  # here, not at the top: only a training run draws

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    reports_dir.mkdir(parents=True, exist_ok=True)
    names = list(metrics)
    fig, axes = plt.subplots(1, 4, figsize=(17, 4.6))
    labels = {
        "mse_log": "MSE on log1p(quantity)",
        "rmsle": "RMSLE",
        "mae": "MAE (units)",
        "poisson_deviance": "Poisson deviance (mean quantity)",
    }
    for ax, key in zip(axes, labels, strict=True):
        values = [metrics[n][key] for n in names]
        bars = ax.bar(names, values, color=["#2b6cb0" if n != "baseline" else "#a0aec0" for n in names])
        ax.bar_label(bars, fmt="%.3f", fontsize=8)
        ax.set_title(labels[key])
        ax.tick_params(axis="x", rotation=30)
    fig.suptitle(f"Held-out metrics, bundle {version} (lower is better)")
    fig.text(0.5, 0.01, textwrap.fill(METRIC_TABLE_NOTE, 190), ha="center", va="bottom", fontsize=7.5)
    fig.tight_layout(rect=(0, 0.09, 1, 1))
    chart = reports_dir / "metrics.png"
    fig.savefig(chart, dpi=110)
    plt.close(fig)
    return chart
