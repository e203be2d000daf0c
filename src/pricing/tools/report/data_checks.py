"""What the prepared data shows of its prices: how often a product sells at several prices on one day, how its
log-price variance splits between lines of one day and days, and the two within-day terms behind it."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pricing.data.features import PRODUCT_ID

# quantity bands (units per line, lower bound included) for the quantity-break share
QUANTITY_BANDS = (1, 6, 12, 24, 48, 100, np.inf)
QUANTITY_BAND_NAMES = ("1-5", "6-11", "12-23", "24-47", "48-99", "100+")


def price_structure(rows: pd.DataFrame) -> dict:
    """How a product's prices vary: the share of product-days sold at two or more prices, and the within-product
    variance of log price split into between lines of one day and across days (the sum of the two); and the two
    within-day terms behind it: quantity breaks (per quantity band, the share of known customers' lines priced
    below the highest known customer's price for the product that day) and the guest premium (log price over
    the product's mean, and over that day's highest known customer's price: median over guests' lines)."""
    frame = rows.assign(day=rows["invoice_date"].dt.normalize(), log_price=np.log(rows["unit_price"]))
    by_day = frame.groupby([PRODUCT_ID, "day"])["log_price"]
    day_mean = by_day.transform("mean")
    product_mean = frame.groupby(PRODUCT_ID)["log_price"].transform("mean")
    within_day = float(((frame["log_price"] - day_mean) ** 2).mean())
    across_days = float(((day_mean - product_mean) ** 2).mean())
    total = within_day + across_days
    levels = by_day.nunique()
    guest = frame["customer_id"].isna()
    known_top = frame[~guest].groupby([PRODUCT_ID, "day"])["log_price"].max().rename("known_top")
    frame = frame.join(known_top, on=[PRODUCT_ID, "day"])
    known = frame[~guest]
    below = known["log_price"] < known["known_top"] - 0.01  # a penny's rounding is not a price level
    bands = pd.cut(known["quantity"], QUANTITY_BANDS, right=False, labels=QUANTITY_BAND_NAMES)
    same_day_premium = (frame["log_price"] - frame["known_top"])[guest].dropna()
    return {
        "product_days": len(levels),
        "share_of_product_days_with_2_or_more_prices": round(float((levels >= 2).mean()), 3),
        "mean_prices_per_product_day": round(float(levels.mean()), 3),
        "log_price_variance_within_products": round(total, 4),
        "share_within_day": round(within_day / total, 3) if total else None,
        "share_across_days": round(across_days / total, 3) if total else None,
        "guest_line_share": round(float(guest.mean()), 3),
        "guest_price_premium_log": round(float((frame["log_price"] - product_mean)[guest].mean()), 3),
        "guest_premium_over_known_same_day_log_median": (
            round(float(same_day_premium.median()), 3) if len(same_day_premium) else None
        ),
        "known_lines_below_day_top_by_quantity": {
            str(band): round(float(share), 3) for band, share in below.groupby(bands, observed=True).mean().items()
        },
    }
