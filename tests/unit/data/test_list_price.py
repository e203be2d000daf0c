"""The daily list price read through each product's price ladder (pricing.data.list_price)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.data import list_price as L


def _lines(rows):
    """rows: (stockcode, day of January 2011, unit_price, customer_id or None, quantity)."""
    frame = pd.DataFrame(rows, columns=["stockcode", "day", "unit_price", "customer_id", "quantity"])
    frame["invoice_date"] = pd.Timestamp("2011-01-01 09:30") + pd.to_timedelta(frame.pop("day") - 1, unit="D")
    frame["customer_id"] = frame["customer_id"].astype(float)
    return frame


@pytest.fixture
def lines():
    return _lines(
        [
            # A: 20% off lines of 24 units or more; guests pay twice the list
            ("A", 1, 2.00, 1, 6),
            ("A", 1, 1.60, 2, 30),
            ("A", 1, 4.00, None, 1),
            ("A", 2, 2.00, 3, 2),
            ("A", 2, 1.60, 4, 24),
            ("A", 3, 1.60, 5, 48),  # only a bulk line: the list is still 2.00
            ("A", 4, 4.40, None, 2),  # only a guest: the list rose to 2.20
            # B: no break; its guest line never shares a day with a known customer
            ("B", 1, 5.00, 1, 3),
            ("B", 2, 4.00, 2, 50),  # a big line at a new, lower list price, not a break
            ("B", 3, 9.90, None, 1),  # only a guest, no guest factor of its own: the last known list
            # C: only ever guests: the median guest factor of the products that have one
            ("C", 1, 6.00, None, 1),
        ]
    )


def test_the_ladder_finds_the_break_and_the_guest_premium(lines):
    ladder = L.price_ladder(lines)
    assert ladder.loc["A", "break_quantity"] == 24
    assert ladder.loc["A", "break_factor"] == pytest.approx(0.8)
    assert ladder.loc["A", "guest_factor"] == pytest.approx(2.0)
    # a lower price on a day of its own is a list change, not a break; B's guest never met a known customer
    assert np.isnan(ladder.loc["B", "break_quantity"]) and ladder.loc["B", "break_factor"] == 1.0
    assert np.isnan(ladder.loc["B", "guest_factor"]) and np.isnan(ladder.loc["C", "guest_factor"])


def test_a_day_without_a_line_at_the_list_price_still_reads_the_list(lines):
    days = L.daily_list_prices(lines).set_index(["stockcode", "day"])["list_price"]
    on = lambda code, day: days[(code, pd.Timestamp(f"2011-01-{day:02d}"))]  # noqa: E731
    assert on("A", 1) == pytest.approx(2.00) and on("A", 2) == pytest.approx(2.00)
    assert on("A", 3) == pytest.approx(2.00)  # the bulk line over the break factor
    assert on("A", 4) == pytest.approx(2.20)  # the guest's price over the guest factor
    assert on("B", 1) == 5.00 and on("B", 2) == 4.00  # the plain rule where no ladder step applies
    assert on("B", 3) == 4.00  # carried from the last day a known customer bought
    assert on("C", 1) == pytest.approx(3.00)  # 6.00 over A's guest factor, the only one known


def test_the_daily_table_counts_lines_and_units(lines):
    days = L.daily_list_prices(lines).set_index(["stockcode", "day"])
    first = days.loc[("A", pd.Timestamp("2011-01-01"))]
    assert first["lines"] == 3 and first["units"] == 37


def test_a_ladder_from_the_training_window_reads_later_days(lines):
    """Later windows (validation, test, serving history) read their days by the training window's ladder, even
    where their own lines show no day with both a small and a bulk line."""
    later = _lines([("A", 20, 1.76, 7, 60), ("A", 21, 4.40, None, 1)])
    trained = L.price_ladder(lines)
    assert L.line_list_prices(later, trained) == pytest.approx([2.20, 2.20])
    # its own lines show neither term: the bulk price reads as the list, carried over the guest's day
    assert L.line_list_prices(later) == pytest.approx([1.76, 1.76])


def test_lines_without_a_quantity_column_get_no_break(lines):
    ladder = L.price_ladder(lines.drop(columns="quantity"))
    assert ladder["break_quantity"].isna().all() and (ladder["break_factor"] == 1.0).all()
    assert ladder.loc["A", "guest_factor"] == pytest.approx(2.0)


def _youden_by_hand(counts: pd.DataFrame) -> dict:
    """Per product with MIN_BREAK_LINES discounted lines, the discounted quantity q maximising the share of its
    discounted lines at or above q plus the share of its other lines below q (the first such q), and that sum - 1:
    every candidate scored from the lines themselves."""
    found = {}
    for code, group in counts.groupby("stockcode"):
        cut, full = group[group["discounted"]], group[~group["discounted"]]
        if cut["n"].sum() < L.MIN_BREAK_LINES:
            continue
        scores = []
        for q in sorted(cut["quantity"]):
            above = cut.loc[cut["quantity"] >= q, "n"].sum() / cut["n"].sum()
            below = full.loc[full["quantity"] < q, "n"].sum() / full["n"].sum() if len(full) else 1.0
            scores.append((above + below, q))
        best = max(scores, key=lambda s: s[0])  # the first of equal scores, as sorted
        found[code] = (best[1], best[0] - 1.0)
    return found


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from("ABC"), st.sampled_from([1, 2, 3, 6, 12, 24]), st.booleans(), st.integers(1, 9)),
        max_size=30,
    )
)
def test_the_break_quantity_is_youdens_best_cut_for_every_table_of_counts(rows):
    counts = pd.DataFrame(rows, columns=["stockcode", "quantity", "discounted", "n"])
    counts = counts.groupby(["stockcode", "quantity", "discounted"], as_index=False)["n"].sum()
    found = L.break_quantities_from_counts(counts)
    expected = _youden_by_hand(counts)
    assert sorted(found.index) == sorted(expected)
    for code, (quantity, separation) in expected.items():
        assert found.loc[code, "break_quantity"] == quantity
        assert found.loc[code, "separation"] == pytest.approx(separation, abs=1e-12)
