"""report.md: the report's dict rendered a section a function, and the one elasticity table the Markdown and the
command's printout share."""

from __future__ import annotations

import json

from pricing.tools.report.bundle_checks import MIN_LINES_PER_SIDE


def _estimate(e: dict | None) -> str:
    if e is None or e.get("elasticity") is None:
        return "-"
    if "ci95" in e:
        return f"{e['elasticity']:.2f} ({e['ci95'][0]:.2f} to {e['ci95'][1]:.2f})"
    return f"{e['elasticity']:.2f}"


def _pooled(e: dict | None) -> str:
    if e is None or e.get("median") is None:
        return "-"
    return f"{e['median']:.2f} (IQR {e['iqr'][0]:.2f} to {e['iqr'][1]:.2f})"


def elasticity_rows(elasticity: dict) -> list[tuple[str, str, str, str, str]]:
    """The report's one elasticity table, as rows of (design, ours with all customers, ours without the one-off
    bulk customers, observations, published): the four published designs on daily units, then the bundle's own
    elasticities (weekly units and its two factors; units per order line per model) where the report has a
    bundle, then the generator's calibration measures. Ours: estimate (95% CI) or median (IQR) over products."""
    designs = elasticity["published_designs"]
    same = designs["bulk_customers"]["same_rows"]
    rows = []
    for d in designs["designs"].values():
        method = d["method"].split(":")[0]
        ours, without = d["all_customers"], d["without_bulk_customers"]
        observations = f"{ours['observations']:,}" + ("" if same else f" / {without['observations']:,}")
        if ours.get("subsampled"):
            observations += " (subsample)"
        rows.append(
            (
                f"daily units: {d['label']} ({method})",
                _estimate(ours),
                "same rows" if same else _estimate(without),
                observations,
                d["published_text"],
            )
        )
    weekly = elasticity.get("model_weekly_units")
    if weekly:
        where = f"{weekly['products']} best sellers at their median price"
        rows.append((f"bundle: weekly units = order lines x units per line, {where}", _pooled(weekly), "", "", "-"))
        rows.append(("bundle: its order lines per week", _pooled(weekly["orders_per_week"]), "", "", "-"))
        rows.append(("bundle: its mean units per order line", _pooled(weekly["units_per_line"]), "", "", "-"))
    for name, e in (elasticity.get("models_at_median_price") or {}).items():
        rows.append((f"bundle: units per order line, {name} alone", _pooled(e), "", "", "-"))
    fixed = elasticity["data_fixed_effects"]
    for key, label in (
        ("units_per_line", "calibration: log1p(units per line), stock-code, date and country effects"),
        ("daily_units", "calibration: daily units at the unweighted mean line price, no trim, the same effects"),
    ):
        rows.append((label, _estimate(fixed[key]), "", f"{fixed[key]['observations']:,}", "-"))
    return rows


def elasticity_markdown(elasticity: dict) -> str:
    """The elasticity table (`elasticity_rows`) as Markdown, with what it aggregates and what the columns hold."""
    designs = elasticity["published_designs"]
    aggregation, bulk = designs["aggregation"], designs["bulk_customers"]
    table = "\n".join("| " + " | ".join(row) + " |" for row in elasticity_rows(elasticity))
    cells = aggregation["cells"]["all_customers"]
    return f"""Daily units per {aggregation["unit"]} ({cells:,} cells, every split; units: {aggregation["units"]};
price: {aggregation["price"]}; {aggregation["price_trim"]}; kept: {aggregation["stock_codes"]}), standard errors
clustered by stock code. One-off bulk customers ({bulk["rule"]}): {bulk["note"]}.

| design | ours, all customers (95% CI) | ours, without the one-off bulk customers | observations | published |
|---|---|---|---|---|
{table}

The published figures: ../shared/data/README.md (Roemheld 2021). The bundle's rows are medians over products
(IQR), not confidence intervals; its weekly units are order lines per week x mean units per line, whose
elasticities add up; the per-line rows see only the second factor, not the orders a price wins or loses."""


def to_markdown(report: dict, charts: list[str]) -> str:
    """The report as Markdown: build_report's dict, the chart file names it links (recommendations, price
    effect, elasticity), prices relative to each product's training-median price, quantities per order line.
    One section a function below, in the report's order, a blank line between."""
    sections = [
        f"# What bundle {report['bundle']} learned",
        cleaning_section(report["cleaning"]),
        metrics_section(report["metrics"], report["metric_notes"]),
        recommendations_section(report["recommendations"], report["settings"], charts[0]),
        price_effect_section(report["price_effect"], charts[1]),
        price_structure_section(report["price_structure"]),
        f"## Elasticity\n{elasticity_markdown(report['elasticity'])}\n\n![elasticity]({charts[2]})",
    ]
    return "\n\n".join(sections) + "\n"


def cleaning_section(cleaning: dict) -> str:
    """## Cleaning: rows read and kept, what was dropped, how the file was read and split (data_quality.json)."""
    split = {k: v for k, v in (cleaning.get("split") or {}).items() if k != "fill_log_quantity"}
    dropped = ", ".join(f"{k} {v:,}" for k, v in cleaning["dropped"].items() if v)
    return f"""## Cleaning
{cleaning["rows_read"]:,} rows read from `{cleaning["source"]}`, {cleaning["rows_kept"]:,} kept; dropped: {dropped}.
Read as {json.dumps(cleaning.get("read"))}; split: {json.dumps(split)}."""


def metrics_section(metrics: dict, metric_notes: dict) -> str:
    """## Held-out metrics: one row a model (the baseline too), then what each metric scores."""
    metric_rows = "\n".join(
        f"| {n} | {m['poisson_deviance']:.3f} | {m['mse_log']:.4f} | {m['rmsle']:.4f} | {m['mae']:.3f} |"
        for n, m in metrics.items()
    )
    notes = "\n".join(f"- **{k}**: {v}" for k, v in metric_notes.items())
    return f"""## Held-out metrics (lower is better)
| model | Poisson deviance | MSE (log) | RMSLE | MAE (units) |
|---|---|---|---|---|
{metric_rows}

{notes}"""


def recommendations_section(recs: dict, settings: dict, chart: str) -> str:
    """## Recommended prices: per model the recommended / median price and the shares at the range's ends, the
    models' agreement pair by pair, and the chart."""
    rec_rows = "\n".join(
        f"| {n} | {s['median_ratio']:.2f} | {s['ratio_q25']:.2f}-{s['ratio_q75']:.2f} | {s['share_at_bottom']:.0%} "
        f"| {s['share_at_top']:.0%} |"
        for n, s in recs["per_model"].items()
    )
    agreement = "\n".join(f"| {pair} | {v:.3f} |" for pair, v in recs["agreement_median_abs_log_difference"].items())
    return f"""## Recommended prices of the {settings["top"]} best sellers
{settings["bins"]} bins over each product's default sweep (its list prices and current price, +-20%: the API's
default), {settings["samples"]} held-out contexts.

| model | median recommended / median price | quartiles | at the range's bottom | at its top |
|---|---|---|---|---|
{rec_rows}

Agreement (median absolute log difference of recommended prices; 0.10 is about 10%):

| models | difference |
|---|---|
{agreement}

![recommendations]({chart})"""


def price_effect_section(effect: dict, chart: str) -> str:
    """## The price effect on held-out price variation: per line set and model, the slope and correlation of
    realised on predicted log ratios, and the chart."""
    effect_rows = "\n".join(
        f"| {variant.replace('_', ' ')} ({e['products']} products, {e['lines']:,} lines, realised median "
        f"{e.get('median_realised_log_ratio')}) | {n} | {s['slope']:.2f} | {s['correlation']:.2f} "
        f"| {s['median_predicted_log_ratio']:.3f} |"
        for variant, e in effect.items()
        for n, s in e.get("per_model", {}).items()
    )
    return f"""## The price effect on held-out price variation
Products with at least {MIN_LINES_PER_SIDE["all_lines"]} held-out lines (list price lines:
{MIN_LINES_PER_SIDE["list_price_lines"]}) below and above their training-median price: the
realised log ratio of mean quantity per line above / below, against the ratio each model predicts for the same
rows. Slope of realised on predicted across products (1: calibrated; 0: no relation). "all lines" includes the
quantity breaks and the guest channel, which every model reads from the context; "list price lines" keeps known
customers' lines at their day's list price, where what differs is the list price over time.

| lines | model | slope | correlation | median predicted log ratio |
|---|---|---|---|---|
{effect_rows}

![price effect]({chart})"""


def price_structure_section(structure: dict) -> str:
    """## The price structure of the data: product-days at several prices, the within-day and over-time shares of
    the log-price variance, the guest premium and the quantity breaks (`data_checks.price_structure`)."""
    return f"""## The price structure of the data (training window)
{structure["share_of_product_days_with_2_or_more_prices"]:.0%} of {structure["product_days"]:,} product-days sell at two
or more prices; of the within-product variance of log price ({structure["log_price_variance_within_products"]}),
{structure["share_within_day"]:.0%} lies between lines of one day (quantity breaks, the guest channel: guests take
{structure["guest_line_share"]:.0%} of lines at a log premium of {structure["guest_price_premium_log"]} over the
product's mean, {structure["guest_premium_over_known_same_day_log_median"]} over known customers that day, median) and
{structure["share_across_days"]:.0%} over time (list-price changes), the variation a pricing decision can use.
Known customers' lines below the day's highest known price, by units per line (quantity breaks):
{", ".join(f"{band}: {share:.0%}" for band, share in structure["known_lines_below_day_top_by_quantity"].items())}."""
