"""What a price decision rests on, computed once at training and shipped in the bundle (`evidence.parquet`,
`price_history.parquet`; pricing.serving.decision reads them):

- the current price: each product's list price (read through its price ladder, pricing.data.list_price, as the
  incidence model reads it) on the last day it sold in the prepared data, with that date;
- the observed history: per product and list-price level (to the penny), the weeks at that level and the mean
  order lines, units and sales per week there (weeks without a sale count, at the carried price), each week
  scaled to the season the predictions are for: by the shop's order lines in the reference weeks (the held-out
  window serving averages over) over its lines that week, so a week of February and a week of November read
  as the same week of demand (a November week has ~2.9x February's lines);
- the uncertainty of each product's price slopes, for the interval around the optimal price: a normal
  approximation of the posterior of the incidence model's slope b_j (log lines per week, per unit of log price)
  and of the per-line network's slope s_j (log units per line, per unit of its standardised price ratio). The
  fitted slopes are shrunk toward a pooled one by a penalty, so their spread says little about how much
  products truly differ; the prior variance tau^2 comes from the products' own one-step (unshrunk) slope
  estimates instead, by the DerSimonian-Laird moment estimator (DerSimonian & Laird 1986, Controlled Clinical
  Trials 7:177), and each product's posterior sd combines it with the sampling variance of the product's own
  estimate, by the sandwich (Huber-White) formula, which holds whatever the counts' over-dispersion (weekly
  counts and units per line are far from Poisson):

      I_j  = sum_i w_i (x_i - xbar_j)^2                (w: the fitted mean, Poisson; 1, squared error)
      v_j  = sum_i r_i^2 (x_i - xbar_j)^2 / I_j^2      (r: the residual y - mu)
      sd_j = 1 / sqrt(1 / v_j + 1 / tau^2)

  with x_i the price term the slope multiplies and xbar_j its w-weighted mean over the product's rows (the
  level is profiled out). Gelman et al., Bayesian Data Analysis (3rd ed.), ch. 5 (hierarchical normal model).
  The moment estimate of tau collapses where the products' own estimates are mostly noise (0.09 and 0.01 per
  line on the generator's seeds 0 and 1, whose true slopes spread by 0.15-0.16): tau is taken as at least
  PRIOR_SD_FLOOR (pricing.serving.decision), so a product with little data of its own gets that whole width and
  one whose data pin its slope down gets less: the uncertainty follows each product's evidence;
- the recent level (`recent_level.parquet`): each product's units and order lines over the data's last
  RECENT_WEEKS weeks and its list price there, with those weeks' season features (the manifest's
  `evidence.recent_weeks`), so serving can anchor the curve's level to what the product sold lately
  (pricing.serving.predictor.Predictor.level_factor).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.data import incidence as I
from pricing.data.list_price import daily_list_prices
from pricing.serving.decision import PRIOR_SD_FLOOR

EVIDENCE = "evidence.parquet"
PRICE_HISTORY = "price_history.parquet"
RECENT_LEVEL = "recent_level.parquet"
RECENT_WEEKS = 8  # the weeks the recent level is read over: two months, long enough for a slow seller's lines


def current_prices(lines: pd.DataFrame, ladder: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per product: `current_price`, the list price on the last day it sold, and `current_price_date`
    (YYYY-MM-DD). `lines`: prepared lines (stockcode, invoice_date, unit_price, customer_id, quantity); `ladder`:
    the training window's price ladder (pricing.data.list_price; None: read from `lines`). Index stockcode."""
    return current_prices_from_days(daily_list_prices(lines, ladder))


def current_prices_from_days(days: pd.DataFrame) -> pd.DataFrame:
    """`current_prices` from the products' days (`list_price.daily_list_prices` of the lines)."""
    last = days.sort_values(["stockcode", "day"]).groupby("stockcode").tail(1).set_index("stockcode")
    return pd.DataFrame(
        {
            "current_price": last["list_price"].round(4),
            "current_price_date": last["day"].dt.strftime("%Y-%m-%d"),
        }
    )


def price_history(lines: pd.DataFrame, products: pd.DataFrame | pd.Index, reference_from: pd.Timestamp) -> pd.DataFrame:
    """Per product and list-price level (rounded to the penny): `weeks` at that level, mean `orders_per_week`,
    `units_per_week` and `sales_per_week` (level x units, in the data's currency), every week scaled to the
    shop's volume in the reference weeks (those from `reference_from` on; module docstring). `lines`: prepared
    lines with quantity; `products`: the product table (its price ladder) or only the codes. Columns
    stockcode, price, weeks, orders_per_week, units_per_week, sales_per_week."""
    first = I.week_start(lines["invoice_date"]).min()
    weekly = I.weekly_table(lines, first, products)
    shop = lines.groupby(I.week_start(lines["invoice_date"])).size()
    return price_history_from_weeks(weekly, shop, reference_from)


def price_history_from_weeks(weekly: pd.DataFrame, shop: pd.Series, reference_from: pd.Timestamp) -> pd.DataFrame:
    """`price_history` from the lines' weekly table (`incidence.weekly_table` over every line, the product
    table's ladder, from the lines' first week) and `shop`, the shop's order lines per week (index: the
    weeks' Mondays)."""
    reference = shop[shop.index >= I.week_start(pd.Series([reference_from])).iloc[0]]
    scale = (reference.mean() if len(reference) else shop.mean()) / shop
    factor = weekly["week"].map(scale).to_numpy(dtype=float)
    weekly = weekly.assign(
        price=weekly["list_price"].round(2), lines=weekly["lines"] * factor, units=weekly["units"] * factor
    )
    table = (
        weekly.groupby(["stockcode", "price"])
        .agg(weeks=("week", "size"), orders_per_week=("lines", "mean"), units_per_week=("units", "mean"))
        .reset_index()
    )
    table["sales_per_week"] = table["price"] * table["units_per_week"]
    return table.round({"orders_per_week": 4, "units_per_week": 4, "sales_per_week": 4})


def posterior_slope_sd(
    slope: np.ndarray,
    weight: np.ndarray,
    residual: np.ndarray,
    x: np.ndarray,
    group: np.ndarray,
    cluster: np.ndarray | None = None,
    min_tau: float = PRIOR_SD_FLOOR,
) -> tuple[np.ndarray, float]:
    """Posterior sd of each group's slope (n,) and the prior variance tau^2, at least min_tau^2 (module docstring).

    slope (n,): the fitted slopes (log outcome per unit of x, positive: the outcome falls with x); per row
    (n_rows,): working weight w (the Poisson mean, or 1 for squared error), residual y - mu (on the loss's scale),
    price term x, group index and, optionally, a cluster id: the rows of one cluster (one product-day's order
    lines, which share the day's list price) are first summed into one observation at their weighted mean price
    term, so the slope is identified by variation across clusters only and each cluster counts once in the
    sandwich variance (cluster-robust; Cameron & Miller 2015, J. Human Resources 50:317). Within a day the price
    moves with the line, not the list: quantity breaks give big lines lower prices (reverse causation), which
    would read as a steep slope. Groups without price variation get the prior sd, tau."""
    n = len(slope)
    if cluster is not None:
        # one row per cluster: its weight, its summed residual, its weighted mean price term; the slope is then
        # identified by variation across clusters only (across days, the variation a list price decision moves)
        keys, where = np.unique(np.column_stack([group, cluster]), axis=0, return_inverse=True)
        where = where.ravel()
        cluster_weight = np.bincount(where, weight, minlength=len(keys))
        x = np.bincount(where, weight * x, minlength=len(keys)) / np.maximum(cluster_weight, 1e-12)
        residual = np.bincount(where, residual, minlength=len(keys))
        weight, group = cluster_weight, keys[:, 0]
    total = np.bincount(group, weight, minlength=n)
    centre = np.bincount(group, weight * x, minlength=n) / np.maximum(total, 1e-12)
    dx = x - centre[group]
    information = np.bincount(group, weight * dx**2, minlength=n)
    score = np.bincount(group, residual * dx, minlength=n)
    meat = np.bincount(group, (residual * dx) ** 2, minlength=n)
    informed = (information > 1e-9) & (meat > 0)
    # one Newton step from the fitted slope with the product's own rows only: log mu = ... - slope * x
    unshrunk = slope[informed] - score[informed] / information[informed]
    sampling = np.full(n, np.inf)
    sampling[informed] = meat[informed] / information[informed] ** 2
    tau2 = max(_dersimonian_laird(unshrunk, sampling[informed]), min_tau**2)
    return 1.0 / np.sqrt(1.0 / sampling + 1.0 / tau2), tau2


def _dersimonian_laird(estimates: np.ndarray, variances: np.ndarray) -> float:
    """The between-group variance of estimates with known sampling variances (at least 1e-4: a spread of 0.01)."""
    if len(estimates) < 2:
        return 1.0
    w = 1.0 / variances
    mean = float(np.sum(w * estimates) / np.sum(w))
    q = float(np.sum(w * (estimates - mean) ** 2))
    scale = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    return max((q - (len(estimates) - 1)) / scale, 1e-4) if scale > 0 else 1e-4


def incidence_slope_sd(model, split, n_products: int) -> np.ndarray:
    """Posterior sd of each product's incidence slope b_j (n_products,), by vocabulary index: the network's
    weekly Poisson counts on the training weeks (split: pricing.training.incidence_fit.WeeklySplit)."""
    import torch

    expected = model.predict_rate(split.X, split.product) * split.days
    with torch.no_grad():
        slope = model.module.slope(torch.arange(n_products)).numpy().astype(float)
    price_x = split.X[:, I.PRICE_COLUMN].astype(float)
    sd, _ = posterior_slope_sd(slope, expected, split.lines - expected, price_x, split.product)
    return sd


def list_ratio_shift(frame: pd.DataFrame) -> np.ndarray:
    """Per row (n_rows,): how far the price / median feature moves when the line's price is replaced by its day's
    list price, (list - paid) / median = price_ratio x (exp(-line_price_to_list) - 1). `frame`: model-ready rows
    (pricing.data.features.build_features) with `price_ratio` and `line_price_to_list`."""
    ratio = frame["price_ratio"].to_numpy(dtype=float)
    return ratio * np.expm1(-frame["line_price_to_list"].to_numpy(dtype=float))


def line_slope_sd(
    network,
    X: np.ndarray,
    y: np.ndarray,
    n_products: int,
    day: np.ndarray | None = None,
    list_shift: np.ndarray | None = None,
) -> np.ndarray | None:
    """Posterior sd of each product's per-line slope s_j (n_products,), by vocabulary index, for a network with
    the structural ("loglinear") price effect; None for one without (its price response has no one slope).

    `network`: a DFNRegressor or DFNEnsemble (its first member's structure is used); X, y: training rows and
    their log1p(quantity); `day` (n_rows,): each row's day as an integer, to cluster a product-day's lines (its
    list price moves across days, not across the lines of one day)."""
    import torch

    from pricing.models.network import as_tensors

    member = network.members[0] if hasattr(network, "members") else network
    module = member.network
    if module is None or module.price_effect != "loglinear":
        return None
    module.eval()
    dense, product, _ = as_tensors(X, None, next(module.parameters()).device)
    with torch.inference_mode():
        term = (dense[:, module.ratio_column] - module.expected_ratio(dense, product)) * module.ratio_scale
        slope = module.slope(torch.arange(n_products)).float().numpy().astype(float)
    outputs = member.raw_outputs(dense, product)
    x = term.float().numpy().astype(float) + (0.0 if list_shift is None else list_shift)
    group = product.numpy().astype(np.int64)
    if member.config.loss == "poisson":
        mean = np.exp(outputs)
        sd, _ = posterior_slope_sd(slope, mean, np.expm1(y) - mean, x, group, day)
    else:  # squared error on log1p(quantity)
        sd, _ = posterior_slope_sd(slope, np.ones(len(y)), y - outputs, x, group, day)
    return sd


def evidence_table(
    current: pd.DataFrame,
    product_index,
    incidence_sd: np.ndarray | None,
    line_sd: np.ndarray | None,
) -> pd.DataFrame:
    """Per product: current price and date, `incidence_slope_sd` and `line_slope_sd` (NaN where a part has no
    slope), and `prior_sd_floor` (the floor the sds' prior spread was held to: serving takes them as they are;
    a bundle without the column had the floor applied at serving instead). `current`: `current_prices` of every
    prepared line through the training window's ladder; `product_index(codes)`: the preprocessor's vocabulary
    index of each code. Columns as listed, with stockcode first."""
    table = current.copy()
    index = np.asarray(product_index(table.index), dtype=np.int64)
    for name, sd in (("incidence_slope_sd", incidence_sd), ("line_slope_sd", line_sd)):
        table[name] = np.nan if sd is None else np.round(sd[index], 6)
    table["prior_sd_floor"] = PRIOR_SD_FLOOR
    return table.reset_index()


def recent_level(
    lines: pd.DataFrame, products: pd.DataFrame, first_week: pd.Timestamp, weeks: int = RECENT_WEEKS
) -> tuple[pd.DataFrame, I.ReferenceWeeks]:
    """What each product sold over the data's last `weeks` weeks, for the level of its curve.

    `lines`: prepared lines (stockcode, invoice_date, unit_price, customer_id, quantity); `products`: the product
    table (its price ladder reads the list prices); `first_week`: the Monday the incidence model's trend counts
    from (the training window's first week). Returns the table (one row per product of `products`:
    `recent_units`, `recent_lines` (totals over the window, 0 for a product that did not sell), `recent_price`
    (its median weekly list price there, NaN where it did not sell), `recent_weeks`) and the window's weeks
    (season, trend, mean price ratio, trading days) for the incidence model, as pricing.data.incidence's
    reference weeks are."""
    week = I.week_start(lines["invoice_date"])
    window = recent_window(week.unique(), weeks)
    recent = lines[week.isin(window)]
    return recent_level_from_weeks(I.weekly_table(recent, first_week, products), products, len(window))


def recent_window(weeks_sold, weeks: int = RECENT_WEEKS) -> np.ndarray:
    """The last `weeks` of the distinct weeks (Mondays) in which the shop sold anything."""
    return np.sort(np.asarray(weeks_sold))[-weeks:]


def recent_level_from_weeks(
    weekly: pd.DataFrame, products: pd.DataFrame, n_weeks: int
) -> tuple[pd.DataFrame, I.ReferenceWeeks]:
    """`recent_level` from the weekly table of the recent window's lines (`incidence.weekly_table`) and the
    window's number of weeks."""
    _, week_mean = I.training_features(weekly, products)
    by_product = weekly.groupby("stockcode").agg(
        recent_units=("units", "sum"), recent_lines=("lines", "sum"), recent_price=("list_price", "median")
    )
    table = by_product.reindex(products.index)
    table[["recent_units", "recent_lines"]] = table[["recent_units", "recent_lines"]].fillna(0)
    table["recent_weeks"] = n_weeks
    table.index.name = "stockcode"
    return table.reset_index(), I.reference_weeks(weekly, week_mean)
