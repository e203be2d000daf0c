"""The report's fixed-effect elasticity recovers a known slope that fixed effects confound."""

import numpy as np
import pandas as pd
import pytest

from pricing.tools.report import _fixed_effect_slope, fixed_effect_elasticities


def test_the_slope_is_recovered_when_product_day_and_country_effects_move_price_too():
    rng = np.random.default_rng(0)
    n = 40_000
    product, day, country = rng.integers(0, 300, n), rng.integers(0, 200, n), rng.integers(0, 5, n)
    effect_p, effect_d, effect_c = rng.normal(size=300), rng.normal(size=200), rng.normal(size=5)
    # prices rise with each effect, which also raises demand: a naive slope is biased upwards, to about +0.6
    x = 0.5 * (effect_p[product] + effect_d[day] + effect_c[country]) + 0.3 * rng.normal(size=n)
    y = -1.7 * x + 2 * (effect_p[product] + effect_d[day] + effect_c[country]) + 0.2 * rng.normal(size=n)
    frame = pd.DataFrame({"stockcode": product, "day": day, "country": country, "x": x, "y": y})
    assert np.polyfit(x, y, 1)[0] > 0
    assert _fixed_effect_slope(frame) == pytest.approx(-1.7, abs=0.02)


def test_daily_units_count_the_lines_a_price_loses():
    """Lines per day fall with price (elasticity -1), units per line do not: only the daily measure sees it."""
    rng = np.random.default_rng(1)
    rows = []
    for code in range(60):
        for day in pd.date_range("2011-01-03", periods=120, freq="D"):
            price = float(np.exp(rng.normal(0, 0.25)))
            for _ in range(rng.poisson(6 / price)):  # E[lines] = 6 / price
                rows.append((str(code), price, int(1 + rng.poisson(4)), day, "United Kingdom"))
    lines = pd.DataFrame(rows, columns=["stockcode", "unit_price", "quantity", "invoice_date", "country"])
    figures = fixed_effect_elasticities(lines)
    assert figures["units_per_line"]["elasticity"] == pytest.approx(0.0, abs=0.05)
    assert -1.15 < figures["daily_units"]["elasticity"] < -0.8  # log of a positive count: near, not at, -1
