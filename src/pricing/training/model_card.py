"""The texts a training run leaves: the bundle's model card (Markdown) and the summary table `pricing train`
prints."""

from __future__ import annotations

import json
import textwrap

from pricing.models.registry import in_priority_order
from pricing.training.metrics import METRIC_TABLE_NOTE
from pricing.training.profiles import Profile


def price_effect_note(network) -> str:
    """The network's price effect in a sentence: with the loglinear effect, each member's pooled slope."""
    members = getattr(network, "members", [network])
    if members[0].config.price_effect != "loglinear":
        return "The network reads the price as a free input: its price effect has whatever shape it learned."
    slopes = ", ".join(f"{m.network.pooled_slope():.3f}" for m in members)
    return (
        f"The network's log E[q] falls linearly in price / median, one slope per product shrunk toward the pooled "
        f"slope (per member: {slopes}); a product's recommended price is about its median price / its slope."
    )


def model_card(
    version: str, profile: Profile, metrics: dict, entries: dict, frames: dict, price_effect: str = ""
) -> str:
    """The bundle's model_card.md. metrics: {model or "baseline": regression_metrics}, in table order; entries:
    the manifest's {model: {"params": ...}}; frames: the train, val and test splits (with invoice_date);
    price_effect: price_effect_note's sentence."""
    rows = "\n".join(
        f"| {name} | {m['mse_log']:.4f} | {m['rmsle']:.4f} | {m['mae']:.3f} | {m['poisson_deviance']:.3f} |"
        for name, m in metrics.items()
    )
    params = "\n".join(f"- **{name}**: `{json.dumps(entry['params'])}`" for name, entry in entries.items())
    train = frames["train"]
    return f"""# Model card: pricing bundle {version}

**Task**: weekly demand in two parts, order lines per week at a list price (the incidence models) times the units
of an order line (this table's models: log1p(quantity) from price, product and context); the API sweeps the price
(by default the product's list prices and current price, +-20%) and decides the price that maximises weekly sales
or, with a unit cost, weekly profit under the request's rules. **Profile**: {profile.name}. **Serving order**
(fallback): {" -> ".join(in_priority_order(entries))}.

## Data
Training window {train["invoice_date"].min():%Y-%m-%d} to {train["invoice_date"].max():%Y-%m-%d}
({len(train):,} rows); validation {len(frames["val"]):,} rows; held-out test
{frames["test"]["invoice_date"].min():%Y-%m-%d} to {frames["test"]["invoice_date"].max():%Y-%m-%d}
({len(frames["test"]):,} rows). Chronological split; product statistics from the training window only.

## Held-out metrics (lower is better)
| model | MSE (log) | RMSLE | MAE (units) | Poisson deviance |
|---|---|---|---|---|
{rows}

The baseline predicts each product's median quantity in the training window. {METRIC_TABLE_NOTE} The network is
trained for the mean quantity (Poisson deviance), the fallbacks for log1p(quantity) (squared error). What matters
for pricing is the recommended price: see `pricing evaluate` (generated data) and `pricing report` (any data).

## Models
{params}

{price_effect}

## Limits
- Quantities are per invoice line; demand that never became a line (lost sales) is invisible.
- Prices outside the list prices a product sold at are extrapolation: the API's answers mark them (support).
- The fallbacks' target is log1p(quantity), so expm1 of their prediction estimates a typical line, not the mean
  (the network's is the mean).
- A log-linear price effect cannot show a demand that drops at a threshold price; a product's own price
  history moves its slope only as far as its evidence outweighs the prior.
"""


def summary_table(summary: dict) -> str:
    """What `pricing train` prints: the encodings compared, each model's held-out metrics, the stage timings.
    `summary`: train()'s return value."""
    lines = [
        f"bundle {summary['version']} ({summary['profile']}) in {summary['bundle_dir']}",
        "",
        "product encoding, validation loss: "
        + ", ".join(f"{name} {value:.4f}" for name, value in summary["encodings_val_loss"].items()),
        "",
        f"{'model':<11} {'MSE(log)':>9} {'RMSLE':>8} {'MAE':>8} {'deviance':>9}",
    ]
    for name, m in summary["metrics"].items():
        lines.append(
            f"{name:<11} {m['mse_log']:>9.4f} {m['rmsle']:>8.4f} {m['mae']:>8.3f} {m['poisson_deviance']:>9.3f}"
        )
    lines += [
        textwrap.fill(METRIC_TABLE_NOTE, 110),
        "",
        "stage timings (s): " + ", ".join(f"{k} {v}" for k, v in summary["timings_s"].items()),
        f"total {summary['total_s']} s, peak RSS {summary['peak_rss_mb']} MB, chart {summary['chart']}",
    ]
    return "\n".join(lines)
