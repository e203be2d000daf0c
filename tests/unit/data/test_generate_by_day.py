"""The history written a day at a time (`pricing generate --history by-day`, the default from 5 M rows; issue 27,
Build 5): the same demand truth as the whole-year history of the seed, a truth summed day by day equal to what the
whole file's lines give, documents numbered in time order across days, the real file's mix of lines."""

import numpy as np
import pandas as pd
import pytest

from pricing.cli import main
from pricing.data import generate as G

ROWS, SEED = 200_000, 7  # the whole-year twin is conftest's generated_200k
# ground_truth.csv's columns drawn with the market, before any line: the demand truth
MARKET_COLUMNS = [
    "stockcode",
    "description",
    "base_price",
    "theta",
    "amplitude",
    "popularity",
    "incidence_elasticity",
    "wholesale_price_factor",
    "guest_quantity_multiplier",
    "guest_price_factor",
    "break_quantity",
    "break_price_factor",
]


# sha256 of the whole-year history's files for rows=20,000, seed=3, written before the by-day history existed
# (commit 6fb8076): sharing its code with the by-day history left every earlier file the same bytes
BEFORE_BY_DAY_SHA256 = {
    "transactions": "36d39357f281651ff6d67b0a5044572b0fc0cae534d569c49a4295371ad422d0",
    "ground_truth": "b0fad8628989cdf5099b19fb30fc1eb70dc4fd3312a8a9b4fadab360b0d91dbb",
}


def test_the_whole_year_history_writes_the_bytes_of_the_version_before_by_day(tmp_path):
    import hashlib

    paths = G.write(G.generate(rows=20_000, seed=3), tmp_path)
    for name, digest in BEFORE_BY_DAY_SHA256.items():
        assert hashlib.sha256(paths[name].read_bytes()).hexdigest() == digest, name


@pytest.fixture(scope="module")
def by_day(tmp_path_factory):
    paths, truth = G.write_by_day(tmp_path_factory.mktemp("by_day"), ROWS, seed=SEED)
    lines = pd.read_csv(paths["transactions"], dtype={"InvoiceNo": str, "StockCode": str})
    return paths, truth, lines


def test_the_demand_truth_is_the_whole_year_historys_for_the_seed(by_day, generated_200k):
    paths, truth, _ = by_day
    whole = generated_200k.ground_truth
    pd.testing.assert_frame_equal(truth[MARKET_COLUMNS], whole[MARKET_COLUMNS])
    pd.testing.assert_frame_equal(pd.read_csv(paths["customers"]), generated_200k.customers)
    pd.testing.assert_frame_equal(pd.read_csv(paths["unit_costs"], dtype={"stockcode": str}), generated_200k.unit_costs)
    weeks = pd.read_csv(paths["weeks"])
    np.testing.assert_allclose(weeks["lines_scale"], generated_200k.weeks["lines_scale"], rtol=1e-9)
    # the history's columns are other draws of the same lines: the same totals, products' shares alike
    assert truth["sale_lines"].sum() == whole["sale_lines"].sum()
    assert np.corrcoef(truth["sale_lines"], whole["sale_lines"])[0, 1] > 0.97
    assert (truth["price_min"] <= truth["price_max"]).all()


def test_the_truth_summed_day_by_day_is_what_the_whole_files_sale_lines_give(by_day):
    _, truth, lines = by_day
    sale = lines[
        ~lines["InvoiceNo"].str.startswith("C")
        & (lines["Quantity"] > 0)
        & (lines["Quantity"] < 12_000)  # the huge orders cancelled the same day are not sales
        & (lines["UnitPrice"] > 0)
        & lines["StockCode"].isin(truth["stockcode"])
    ]
    by_product = sale.groupby("StockCode")["UnitPrice"].agg(["min", "max", "size"])
    truth = truth.set_index("stockcode")
    sold = truth.index[truth["sale_lines"] > 0]
    pd.testing.assert_series_equal(by_product["min"].reindex(sold), truth.loc[sold, "price_min"], check_names=False)
    pd.testing.assert_series_equal(by_product["max"].reindex(sold), truth.loc[sold, "price_max"], check_names=False)
    # the file's sale lines are the truth's plus the duplicated ones (DUPLICATE_RATE of the file)
    extra = by_product["size"].reindex(truth.index, fill_value=0) - truth["sale_lines"]
    assert (extra >= 0).all() and extra.sum() == pytest.approx(G.DUPLICATE_RATE * ROWS, rel=0.02)


def test_documents_are_numbered_in_time_order_across_days(by_day):
    """A cancellation dated days after its sale is printed, and numbered, on its own day."""
    _, _, lines = by_day
    assert len(lines) == ROWS
    docs = lines.drop_duplicates("InvoiceNo")
    number = docs["InvoiceNo"].str.lstrip("CA").astype(int).to_numpy()
    stamp = pd.to_datetime(docs["InvoiceDate"], format="%m/%d/%Y %H:%M").to_numpy()
    assert (np.diff(number) > 0).all()  # printed in number order, each document once
    assert (np.diff(stamp) >= np.timedelta64(0)).all()
    assert number[0] in (G.FIRST_INVOICE, G.FIRST_INVOICE + 1)
    # and such cancellations exist: a C-document's lines mirror a sale of an earlier day
    sale = lines[~lines["InvoiceNo"].str.startswith("C")]
    cancel = lines[lines["InvoiceNo"].str.startswith("C") & (lines["Quantity"] > -12_000)]
    day = pd.to_datetime(lines["InvoiceDate"], format="%m/%d/%Y %H:%M").dt.normalize()
    first_sale = day[sale.index].groupby([sale["CustomerID"], sale["StockCode"]]).min()
    key = pd.MultiIndex.from_frame(cancel[["CustomerID", "StockCode"]])
    later = day[cancel.index].to_numpy() > first_sale.reindex(key).to_numpy()
    assert later.mean() > 0.3


def test_prepare_reads_it_as_it_reads_the_whole_year_file(by_day, generated_200k, tmp_path):
    """The lines of each kind come at the whole-year file's counts: exactly where the count is set (stock
    adjustments, missing descriptions, bad debt), within a few per cent where lines are drawn."""
    from pricing.data.prepare import prepare

    paths, _, _ = by_day
    whole_raw = tmp_path / "whole.csv"
    generated_200k.export.write_csv(whole_raw, float_format="%.15g", lineterminator="\n")
    reports = [prepare(raw, tmp_path / name) for raw, name in ((paths["transactions"], "a"), (whole_raw, "b"))]
    day, whole = (r["dropped"] for r in reports)
    for reason in ("missing_description", "stock_adjustment", "bad_debt", "non_product"):
        assert day[reason] == whole[reason], reason
    for reason in ("cancellation", "cancelled_same_day", "duplicate"):
        assert day[reason] == pytest.approx(whole[reason], rel=0.05), reason
    assert reports[0]["stockcodes"] == pytest.approx(reports[1]["stockcodes"], rel=0.005)  # a rare product or two


def test_the_same_seed_writes_the_same_bytes_and_too_few_rows_are_refused(by_day, tmp_path, capsys):
    first = by_day[0]
    again, _ = G.write_by_day(tmp_path / "again", ROWS, seed=SEED)
    for name in first:
        assert first[name].read_bytes() == again[name].read_bytes(), name
    assert not list(first["transactions"].parent.glob("*.partial"))
    code = main(["generate", "--rows", "50000", "--history", "by-day", "--out-dir", str(tmp_path / "c")])
    assert code == 1 and "rows must be at least 100000" in capsys.readouterr().err
