"""What a decision rests on: the current price, the observed history, and the slopes' posterior sd."""

import numpy as np
import pandas as pd
import pytest

from pricing.training import evidence as E


def lines(rows) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=["stockcode", "invoice_date", "unit_price", "customer_id", "quantity"])
    return frame.assign(invoice_date=pd.to_datetime(frame["invoice_date"]))


def test_the_current_price_is_the_list_price_on_the_last_day_sold():
    """On its last day the product sold to a guest at 5.90 (a premium), to a customer at 2.95 and, in bulk, at
    2.55: the list price is the customer's 2.95."""
    table = E.current_prices(
        lines(
            [
                ("A", "2011-11-01 10:00", 2.75, 1.0, 6),
                ("A", "2011-12-08 10:00", 5.90, None, 1),
                ("A", "2011-12-08 11:00", 2.95, 2.0, 6),
                ("A", "2011-12-08 12:00", 2.55, 3.0, 120),
            ]
        )
    )
    assert table.loc["A", "current_price"] == 2.95 and table.loc["A", "current_price_date"] == "2011-12-08"


def test_the_history_counts_weeks_at_each_list_price_level_with_the_weeks_without_sales():
    rows = lines(
        [
            ("A", "2011-01-03 10:00", 2.00, 1.0, 10),  # week 1 at 2.00
            ("A", "2011-01-10 10:00", 2.00, 1.0, 30),  # week 2 at 2.00
            ("B", "2011-01-17 10:00", 9.00, 1.0, 1),  # week 3: the shop trades, A sells nothing (still 2.00)
            ("A", "2011-01-24 10:00", 3.00, 1.0, 4),  # week 4 at 3.00
        ]
    )
    history = E.price_history(rows, pd.Index(["A", "B"]), pd.Timestamp("2011-01-03")).set_index(["stockcode", "price"])
    assert history.loc[("A", 2.0), "weeks"] == 3
    assert history.loc[("A", 2.0), "units_per_week"] == pytest.approx(40 / 3, abs=1e-3)
    assert history.loc[("A", 3.0), "sales_per_week"] == pytest.approx(12.0)


def test_the_history_is_scaled_to_the_shop_volume_of_the_reference_weeks():
    """Week 2 is a busy week (the shop sells 4 lines, else 1): A's 30 units there count as 30 x 1/4 of a
    reference week (the last one, a quiet week)."""
    rows = lines(
        [
            ("A", "2011-01-03 10:00", 2.00, 1.0, 10),
            ("A", "2011-01-10 10:00", 2.00, 1.0, 30),
            *[("B", "2011-01-10 11:00", 9.00, 1.0, 1)] * 3,
            ("B", "2011-01-17 10:00", 9.00, 1.0, 1),
        ]
    )
    history = E.price_history(rows, pd.Index(["A", "B"]), pd.Timestamp("2011-01-17")).set_index(["stockcode", "price"])
    assert history.loc[("A", 2.0), "units_per_week"] == pytest.approx((10 + 30 / 4 + 0) / 3, abs=1e-3)


def simulate(slopes: np.ndarray, weeks: int, seed: int = 0):
    """Poisson weekly counts of products whose log rate falls by slope_j per unit of log price."""
    rng = np.random.default_rng(seed)
    group = np.repeat(np.arange(len(slopes)), weeks)
    x = rng.normal(0, 0.15, len(group))
    level = np.log(20.0)
    mean = np.exp(level - slopes[group] * x)
    return group, x, rng.poisson(mean).astype(float)


def test_the_prior_spread_is_recovered_from_the_products_own_estimates_not_the_shrunk_fit():
    """Products whose true slopes spread with sd 0.3; the fitted slopes given are all the pooled 1.0 (fully shrunk,
    as a penalised fit leaves them), which must not make the prior collapse."""
    rng = np.random.default_rng(1)
    true = 1.0 + rng.normal(0, 0.3, 400)
    group, x, counts = simulate(true, weeks=52)
    fitted = np.full(len(true), 1.0)
    mean = 20.0 * np.exp(-fitted[group] * x)
    sd, tau2 = E.posterior_slope_sd(fitted, mean, counts - mean, x, group)
    assert np.sqrt(tau2) == pytest.approx(0.3, abs=0.08)
    assert (sd < np.sqrt(tau2)).all()  # the data always tell something


def test_more_weeks_give_a_narrower_posterior():
    true = np.full(50, 1.0) + np.random.default_rng(2).normal(0, 0.3, 50)
    widths = []
    for weeks in (20, 200):
        group, x, counts = simulate(true, weeks=weeks, seed=3)
        mean = 20.0 * np.exp(-true[group] * x)
        sd, _ = E.posterior_slope_sd(true, mean, counts - mean, x, group)
        widths.append(np.median(sd))
    assert widths[1] < widths[0] * 0.6


def test_the_prior_spread_never_collapses_and_a_product_with_one_line_gets_its_whole_width():
    """Issue 24: every product's slope sd was the same floor, a product sold once included. With identical true
    slopes the moment estimate of the spread is ~0; the prior is held at PRIOR_SD_FLOOR, a product without price
    variation of its own (one line) gets that whole width, and the sds shrink as a product's own data grow."""
    from pricing.serving.decision import PRIOR_SD_FLOOR

    rng = np.random.default_rng(4)
    weeks = np.array([1, 8, 30, 200])
    group = np.repeat(np.arange(4), weeks)
    x = rng.normal(0, 0.15, len(group))
    x[0] = 0.0  # the one-line product: no price variation of its own
    mean = 20.0 * np.exp(-x)
    counts = rng.poisson(mean).astype(float)
    sd, tau2 = E.posterior_slope_sd(np.ones(4), mean, counts - mean, x, group)
    assert tau2 == pytest.approx(PRIOR_SD_FLOOR**2)
    assert sd[0] == pytest.approx(PRIOR_SD_FLOOR)
    assert sd[0] > sd[1] > sd[2] > sd[3]  # less data of its own, wider
