import numpy as np

from pricing.serving.sweep import aggregate


def test_aggregation_takes_the_median_min_max_and_the_best_revenue():
    prices = np.array([1.0, 2.0, 3.0])
    quantities = np.array([[10, 12, 14], [6, 7, 8], [2, 3, 4]], dtype=float)
    result = aggregate(prices, quantities.ravel())
    assert np.allclose(result.quantity, [12, 7, 3])
    assert np.allclose(result.quantity_min, [10, 6, 2]) and np.allclose(result.quantity_max, [14, 8, 4])
    assert result.optimal_price == 2.0 and np.allclose(result.sales, [12, 14, 9])
    rows = result.rows("X")
    assert [r["optimal_unit_price"] for r in rows] == [2.0] * 3 and rows[1]["max_predicted_sales"] == 14.0


def test_weekly_units_are_order_lines_times_mean_units_per_line_and_the_optimum_follows_the_objective():
    prices = np.array([1.0, 2.0, 3.0])
    quantities = np.array([[10, 12, 20], [6, 7, 11], [2, 3, 4]], dtype=float)  # mean 14, 8, 3; median 12, 7, 3
    orders = np.array([30.0, 10.0, 4.0])
    weekly = aggregate(prices, quantities.ravel(), orders_per_week=orders)
    assert np.allclose(weekly.units_per_week, orders * [14, 8, 3])
    assert np.allclose(weekly.sales_per_week, prices * orders * [14, 8, 3])  # 420, 160, 36
    assert weekly.optimal_price == 1.0 and weekly.rows("X")[0]["sales_per_week"] == 420.0
    per_line = aggregate(prices, quantities.ravel(), orders_per_week=orders, objective="sales_per_line")
    assert per_line.optimal_price == 2.0  # 12, 14, 9 per line
    without = aggregate(prices, quantities.ravel())  # a bundle without an incidence model: per line, nulls
    assert without.optimal_price == 2.0 and without.rows("X")[0]["orders_per_week"] is None
