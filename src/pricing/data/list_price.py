"""The list price of a product on a day, read from what its lines paid: the one definition every part uses (the
per-line network's `line_price_to_list`, the incidence model's weekly price, the evidence's current price and
history).

A line's price is not always the list price. On the real Online Retail file (../shared/data/README.md) two terms
of a day's price list move it, and the generator writes both (pricing.data.generate):

- quantity breaks: a big line pays less per unit (85123A: 2.55 in lines of median 32 units, 2.95 in lines of
  median 6);
- a guest channel: lines without a CustomerID pay about twice the list price (median log premium 0.69).

The plain rule, "the highest price a known customer paid that day, else the day's highest price", is wrong on two
kinds of day: a day when only guests bought reads the guest price (about 2x the list), and a day when every known
line was a bulk line reads the break price. On the generator's data (seed 0, standard profile, training window)
those are 20% and a few percent of product-days: the plain rule is more than 1% off on 89% of the guest-only days
and on 28% of the days of products with a break; the weekly list price, the per-line network's price term and the
products' own slope estimates all inherit it.

The **price ladder** (`price_ladder`) learns each product's two terms from the days that show both:
- break: on days with known customers' lines at two or more prices, the lines below the day's highest price
  ("discounted"); the break quantity is the one that best tells discounted lines from full-price ones (Youden's
  J, `_break_quantities`: real files hold stray discounted small lines, 85123A's 2.55 lines are mostly of 32
  units), and the product has a break when that separation reaches MIN_BREAK_SEPARATION (MIN_BREAK_LINES
  discounted lines at least); the break factor is the discounted lines' median price over the day's highest;
- guest factor: the median of guests' prices over the day's highest known-customer price, on days with both
  (MIN_GUEST_LINES guest lines at least).

A day's list price (`line_list_prices`, `daily_list_prices`) is then the highest of its known customers' lines'
implied list prices (a line at or above the break quantity implies its price over the break factor, any other
its price); on a day with only guests, their highest price over the product's guest factor; without a guest
factor, the last known list price carried forward (the first one back); failing that, over the median guest
factor of all products. Measured against the generator's truth (`undo_within_day_prices`) on the same data, the
share of product-days more than 1% off falls from 27.5% to 6.6% for products with a break (it finds 139 of the 507
breaks: most bulk lines share their day with a small one, which then sets the list), from 17.5% to 0.7% for the
others, and from 89% to 4.1% on guest-only days (docs/PRICING_QUALITY.md, "The list price").
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LADDER_COLUMNS = ("break_quantity", "break_factor", "guest_factor")
DISCOUNT_TOLERANCE = 0.005  # a line more than 0.5% below the day's highest price is discounted (pennies round)
MIN_BREAK_LINES = 2  # discounted lines a product needs before its break is believed
MIN_BREAK_SEPARATION = 0.5  # Youden's J a break quantity must reach (`_break_quantities`)
MIN_GUEST_LINES = 1  # guest lines beside known customers' a product needs for its own guest factor (2: 4.1% -> 5.9%)


def _keys(lines: pd.DataFrame) -> list[pd.Series]:
    return [lines["stockcode"].astype(str), pd.to_datetime(lines["invoice_date"]).dt.normalize()]


def price_ladder(lines: pd.DataFrame) -> pd.DataFrame:
    """Per product: `break_quantity` (units per line; NaN: no break found), `break_factor` (break price over list
    price, 1 without a break) and `guest_factor` (guests' price over list price; NaN: too few guest lines beside
    known customers' to tell). `lines`: stockcode, invoice_date, unit_price, customer_id and quantity (without a
    quantity column no break is looked for). Index stockcode (every product of `lines`). Module docstring."""
    keys = _keys(lines)
    price = lines["unit_price"].astype(float)
    known = lines["customer_id"].notna()
    codes = pd.Index(keys[0].unique(), name="stockcode")
    ladder = pd.DataFrame(index=codes, columns=list(LADDER_COLUMNS), dtype=float)
    ladder["break_factor"] = 1.0
    known_price = price.where(known)
    day_max = known_price.groupby(keys).transform("max")
    if "quantity" in lines:
        ratio = known_price / day_max
        multi = known_price.groupby(keys).transform("nunique") > 1
        discounted = multi & (ratio < 1 - DISCOUNT_TOLERANCE)
        breaks = _break_quantities(keys[0][multi], lines["quantity"][multi].astype(float), discounted[multi])
        found = breaks.index[breaks["separation"] >= MIN_BREAK_SEPARATION]
        ladder.loc[found, "break_quantity"] = breaks.loc[found, "break_quantity"]
        at_break = discounted & (lines["quantity"] >= keys[0].map(ladder["break_quantity"]))
        ladder.loc[found, "break_factor"] = ratio.where(at_break).groupby(keys[0]).median().reindex(found)
    guest_ratio = (price / day_max).where(~known)  # NaN on guest-only days (no known price that day)
    per_product = guest_ratio.groupby(keys[0])
    factor = per_product.median().where(per_product.count() >= MIN_GUEST_LINES)
    ladder["guest_factor"] = factor.reindex(codes)
    return ladder


def _break_quantities(code: pd.Series, quantity: pd.Series, discounted: pd.Series) -> pd.DataFrame:
    """`break_quantities_from_counts` of these lines (known customers' lines on days with two or more prices)."""
    lines = pd.DataFrame({"stockcode": code, "quantity": quantity, "discounted": discounted})
    counts = lines.groupby(["stockcode", "quantity", "discounted"]).size().rename("n").reset_index()
    return break_quantities_from_counts(counts)


def break_quantities_from_counts(counts: pd.DataFrame) -> pd.DataFrame:
    """Per product with MIN_BREAK_LINES discounted lines: the `break_quantity` that best tells its discounted lines
    from its lines at the day's highest price, and that `separation` (Youden's J: the share of discounted lines at
    or above it plus the share of the others below it, minus 1; 1 for a clean break). `counts`: lines per
    stockcode, quantity and discounted (bool), column `n`, over the lines on days with two or more prices (what an
    engine aggregates: pricing.data.relational). Index stockcode; empty when no product qualifies."""
    # every product at once (a loop over products took 2 s of the real file's 8 s prepare): per candidate, a
    # discounted line's quantity, the shares of the product's discounted lines at or above it and of its other
    # lines below it; the rows sorted so that at one quantity the discounted row comes before the full-price one
    rows = counts.assign(discounted=counts["discounted"].astype(bool)).sort_values(
        ["stockcode", "quantity", "discounted"], ascending=[True, True, False]
    )
    code, n = rows["stockcode"].to_numpy(), rows["n"].to_numpy(dtype=np.int64)
    cut_n = np.where(rows["discounted"], n, 0)
    lines = pd.DataFrame({"cut": cut_n, "full": n - cut_n})
    per_product = lines.groupby(code)
    totals, before = per_product.transform("sum"), per_product.cumsum() - lines  # lines at lower rows, per product
    n_cut, n_full = totals["cut"].to_numpy(), totals["full"].to_numpy()
    cut_before, full_below = before["cut"].to_numpy(), before["full"].to_numpy()
    candidate = rows["discounted"].to_numpy() & (n_cut >= MIN_BREAK_LINES)
    with np.errstate(divide="ignore", invalid="ignore"):
        at_or_above = 1.0 - cut_before / n_cut
        below = np.where(n_full > 0, full_below / np.where(n_full > 0, n_full, 1), 1.0)
    scored = pd.DataFrame(
        {
            "stockcode": code[candidate],
            "break_quantity": rows["quantity"].to_numpy(dtype=float)[candidate],
            "score": (at_or_above + below)[candidate],
        }
    )
    best = scored.loc[scored.groupby("stockcode", sort=True)["score"].idxmax()]
    return pd.DataFrame(
        {"break_quantity": best["break_quantity"].to_numpy(), "separation": best["score"].to_numpy() - 1.0},
        index=pd.Index(best["stockcode"].to_numpy(), name="stockcode"),
    )


def line_list_prices(lines: pd.DataFrame, ladder: pd.DataFrame | None = None) -> np.ndarray:
    """The list price of each line's product on its day (n_lines,), in the lines' currency per unit (module
    docstring). `ladder`: `price_ladder` of the training window (None: estimated from `lines` themselves);
    products missing from it are read by the plain rule."""
    if ladder is None:
        ladder = price_ladder(lines)
    keys = _keys(lines)
    price = lines["unit_price"].astype(float).to_numpy()
    known = lines["customer_id"].notna().to_numpy()
    rows = ladder.reindex(keys[0])
    if "quantity" in lines:
        at_break = lines["quantity"].to_numpy(dtype=float) >= rows["break_quantity"].fillna(np.inf).to_numpy()
    else:
        at_break = np.zeros(len(lines), dtype=bool)
    factor = rows["break_factor"].fillna(1.0).to_numpy()
    implied = pd.Series(np.where(known, np.where(at_break, price / factor, price), np.nan), index=lines.index)
    guest = pd.Series(np.where(known, np.nan, price / rows["guest_factor"].to_numpy()), index=lines.index)
    line_day = pd.MultiIndex.from_arrays(keys)
    # per product-day (sorted by day within product): the known customers' list price, then the last one carried
    # forward over guest-only days (the first one back)
    day_list = implied.groupby(keys).max()
    carried_list = day_list.groupby(level=0).ffill().groupby(level=0).bfill()
    known_list = pd.Series(day_list.reindex(line_day).to_numpy(), index=lines.index)
    carried = pd.Series(carried_list.reindex(line_day).to_numpy(), index=lines.index)
    guest_list = guest.groupby(keys).transform("max")
    pooled = float(np.nanmedian(ladder["guest_factor"])) if ladder["guest_factor"].notna().any() else 1.0
    fallback = pd.Series(price / pooled, index=lines.index).groupby(keys).transform("max")
    return known_list.fillna(guest_list).fillna(carried).fillna(fallback).to_numpy(dtype=float)


def daily_list_prices(lines: pd.DataFrame, ladder: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per product and day: `list_price` (`line_list_prices`) and `lines`, the day's order lines (and `units`, the
    day's quantity, when the lines have a quantity column). Columns stockcode, day, list_price, lines[, units]."""
    frame = pd.DataFrame(
        {
            "stockcode": lines["stockcode"].astype(str).to_numpy(),
            "day": pd.to_datetime(lines["invoice_date"]).dt.normalize().to_numpy(),
            "list_price": line_list_prices(lines, ladder),
        }
    )
    sums = {"lines": ("list_price", "size")}
    if "quantity" in lines:
        frame["units"] = lines["quantity"].to_numpy()
        sums["units"] = ("units", "sum")
    return frame.groupby(["stockcode", "day"]).agg(list_price=("list_price", "first"), **sums).reset_index()


def ladder_of(products: pd.DataFrame | pd.Index, lines: pd.DataFrame) -> pd.DataFrame:
    """The price ladder a product table carries (`pricing.data.features.product_table` writes it from the training
    window), or, for a bare index of codes or a table written before the ladder, the one `lines` show."""
    carried = carried_ladder(products)
    return price_ladder(lines) if carried is None else carried


def carried_ladder(products: pd.DataFrame | pd.Index) -> pd.DataFrame | None:
    """The price ladder (LADDER_COLUMNS, one row a product) a product table carries; None for a bare index of
    codes or a table written before the ladder."""
    if isinstance(products, pd.DataFrame) and set(LADDER_COLUMNS) <= set(products.columns):
        return products[list(LADDER_COLUMNS)]
    return None
