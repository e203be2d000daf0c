"""Training reads the prepared lines without holding them (issue 27): the weekly tables, ladders, days and evidence
it builds a group of products at a time equal the in-memory functions' on every line at once, and the sample the
per-line models learn from keeps every product."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from pricing.data import incidence as I
from pricing.data.list_price import daily_list_prices, ladder_of, price_ladder
from pricing.data.prepare import read_products, read_split
from pricing.training import evidence as E
from pricing.training.lines import KEEP_PER_PRODUCT, PreparedLines, sample_split

COLUMNS = ["stockcode", "invoice_date", "unit_price", "customer_id", "quantity"]


@pytest.fixture(scope="module")
def every(small_prepared) -> pd.DataFrame:
    return pd.concat([read_split(small_prepared, n, COLUMNS) for n in ("train", "val", "test")], ignore_index=True)


def sort(frame: pd.DataFrame, keys) -> pd.DataFrame:
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.parametrize("chunk_lines", [3_000, 10_000_000])  # several groups of products; one
def test_groups_of_products_give_what_every_line_at_once_gives(small_prepared, every, chunk_lines):
    products = read_products(small_prepared)
    lines = PreparedLines(small_prepared, chunk_lines=chunk_lines)
    assert sum(len(c) for c in lines.chunks()) == len(every)
    if chunk_lines < len(every):
        assert len(list(lines.chunks())) > 3
    # the ladder each split's incidence weeks read (its own lines', the codes only given)
    pd.testing.assert_frame_equal(lines.ladder().sort_index(), price_ladder(every).sort_index(), check_names=False)
    ladder = ladder_of(products, every)
    pd.testing.assert_frame_equal(
        sort(lines.days(ladder), ["stockcode", "day"]), sort(daily_list_prices(every, ladder), ["stockcode", "day"])
    )
    first = I.week_start(every["invoice_date"]).min()
    assert lines.first_week() == first
    pd.testing.assert_frame_equal(
        sort(lines.weekly(first, ladder), ["stockcode", "week"]),
        sort(I.weekly_table(every, first, products), ["stockcode", "week"]),
    )
    # the evidence: current prices, the observed history, the recent level
    pd.testing.assert_frame_equal(
        E.current_prices_from_days(lines.days(ladder)).sort_index(), E.current_prices(every, ladder).sort_index()
    )
    reference_from = read_split(small_prepared, "test", COLUMNS)["invoice_date"].min()
    history = E.price_history_from_weeks(lines.weekly(first, ladder), lines.lines_per_week(), reference_from)
    pd.testing.assert_frame_equal(
        sort(history, ["stockcode", "price"]),
        sort(E.price_history(every, products, reference_from), ["stockcode", "price"]),
    )
    window = E.recent_window(lines.lines_per_week().index)
    recent = PreparedLines(small_prepared, weeks=window, chunk_lines=chunk_lines)
    level, weeks = E.recent_level_from_weeks(recent.weekly(first, ladder), products, len(window))
    expected, expected_weeks = E.recent_level(every, products, first)
    pd.testing.assert_frame_equal(level, expected)
    np.testing.assert_allclose(weeks.trading_days, expected_weeks.trading_days)


def test_a_split_within_its_budget_is_read_whole(small_prepared):
    whole = read_split(small_prepared, "train")
    read = sample_split(small_prepared, "train", len(whole), seed=0)
    assert read.attrs["lines"] == len(whole)
    pd.testing.assert_frame_equal(read.reset_index(drop=True), whole.reset_index(drop=True), check_like=True)


@pytest.mark.parametrize("share", [0.2, 0.6])
def test_a_sample_keeps_every_product_and_about_its_budget(small_prepared, share):
    whole = read_split(small_prepared, "train")
    per_product = whole.groupby("stockcode").size()
    budget = int(len(whole) * share)
    sample = sample_split(small_prepared, "train", budget, seed=0)
    assert sample.attrs["lines"] == len(whole)
    assert abs(len(sample) - budget) < 0.03 * budget
    kept = sample.groupby("stockcode").size().reindex(per_product.index, fill_value=0)
    floor = min(KEEP_PER_PRODUCT, budget // len(per_product))  # 5 and 19 lines a product here
    assert (kept >= np.minimum(per_product, floor)).all()  # a rare product keeps its lines
    assert sample["invoice_date"].is_monotonic_increasing
    assert list(sample.columns) == list(whole.columns) and sample["customer_id"].dtype == "Int64"
    again, other = (sample_split(small_prepared, "train", budget, seed=s) for s in (0, 1))
    pd.testing.assert_frame_equal(again, sample)
    assert not other.equals(sample)
