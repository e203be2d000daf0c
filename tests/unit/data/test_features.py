import numpy as np
import pandas as pd
import pytest

from pricing.data import features as F
from pricing.data.load import load
from pricing.data.prepare import build_tables, invoice_times, read_products, windows_for
from tests.reference_features import key_to_product, with_price


@pytest.fixture(scope="module")
def tables(small_prepared):
    return {name: pd.read_parquet(small_prepared / f"{name}.parquet") for name in ("train", "val", "test")}


@pytest.fixture(scope="module")
def products(small_prepared):
    return read_products(small_prepared)


def test_price_features_give_exactly_the_training_time_features(tables, products):
    train = tables["train"]
    product = products.loc[train["stockcode"]]
    recomputed = F.price_features(train["unit_price"], product["price_median"], product["price_max"])
    pd.testing.assert_frame_equal(recomputed, train[list(F.PRICE_FEATURES)].reset_index(drop=True))


def test_a_held_out_row_keyed_to_its_own_product_at_its_own_price_is_unchanged(tables, products):
    """The serving path (key the context to a product, set a price) reproduces the stored features."""
    test = tables["test"]
    for stockcode, rows in list(test.groupby("stockcode"))[:25]:
        served = with_price(key_to_product(rows[list(F.FEATURES)], stockcode, products), rows["unit_price"], products)
        pd.testing.assert_frame_equal(served, rows[list(F.FEATURES)])


def test_keying_a_context_to_another_product_changes_every_product_feature(tables, products):
    test = tables["test"]
    contexts = test[test["stockcode"] == test["stockcode"].iat[0]][list(F.FEATURES)].head(10)
    other = next(code for code in products.index if code != contexts["stockcode"].iat[0])
    keyed = key_to_product(contexts, other, products)
    assert (keyed["stockcode"] == other).all()
    expected = products.loc[other, list(F.PRODUCT_FEATURES)].to_numpy(dtype=float)
    assert np.allclose(keyed[list(F.PRODUCT_FEATURES)].to_numpy(dtype=float), expected)
    context_columns = list(F.CONTEXT_NUMERIC + F.CONTEXT_CATEGORICAL)
    pd.testing.assert_frame_equal(keyed[context_columns], contexts[context_columns])


def test_the_price_sweep_changes_every_price_feature_and_nothing_else(tables, products):
    rows = tables["test"].head(5)[list(F.FEATURES)]
    stockcode = rows["stockcode"].iat[0]
    keyed = key_to_product(rows, stockcode, products)
    low, high = with_price(keyed, 1.0, products), with_price(keyed, 2.0, products)
    for column in F.PRICE_FEATURES:
        assert (low[column] != high[column]).all(), column
    others = [c for c in F.FEATURES if c not in F.PRICE_FEATURES]
    pd.testing.assert_frame_equal(low[others], high[others])


def test_the_target_inverse_is_expm1():
    quantity = np.array([1, 2, 6, 80_995])
    assert np.allclose(F.quantity_from_log(F.log_quantity(quantity)), quantity)
    assert F.quantity_from_log(F.log_quantity(0)) == 0  # exp would give 1


def test_no_test_window_row_influences_any_training_feature(small_raw):
    cleaned = load(small_raw / "online_retail.csv").frame
    windows = windows_for(invoice_times(cleaned["invoice_date"]), 28, 28)
    baseline, baseline_products, _ = build_tables(cleaned, windows)

    in_test = cleaned["invoice_date"] >= windows.test_start
    assert in_test.sum() > 500
    tampered = cleaned.copy()
    tampered.loc[in_test, "quantity"] *= 9
    tampered.loc[in_test, "unit_price"] *= 3.0
    # and a new test-window customer with a new product, buying a lot
    extra = tampered[in_test].head(50).assign(customer_id=pd.array([99_999] * 50, dtype="Int64"), stockcode="99999Z")
    # and customers seen earlier in the test window's first month coming back inside it, buying in bulk
    month_start = windows.test_start.to_period("M").start_time
    same_month = tampered[(tampered["invoice_date"] >= month_start) & ~in_test & tampered["customer_id"].notna()]
    assert len(same_month) > 50
    returning = same_month.assign(
        invoice_date=windows.test_start + pd.Timedelta(hours=10), quantity=same_month["quantity"] * 50
    )
    tampered = pd.concat([tampered, extra, returning], ignore_index=True).sort_values("invoice_date", kind="stable")
    changed, changed_products, _ = build_tables(tampered.reset_index(drop=True), windows)

    pd.testing.assert_frame_equal(changed["train"], baseline["train"])
    pd.testing.assert_frame_equal(changed["val"], baseline["val"])
    pd.testing.assert_frame_equal(changed_products, baseline_products)
    assert not changed["test"][F.PRICE_FEATURES[0]].equals(baseline["test"][F.PRICE_FEATURES[0]])


def test_customer_history_only_looks_at_earlier_months(small_raw, products):
    cleaned = load(small_raw / "online_retail.csv").frame
    history = F.customer_history(cleaned, products)
    known = cleaned[cleaned["customer_id"].notna()]
    first_month = known.groupby("customer_id")["invoice_date"].min().dt.to_period("M")
    firsts = history.monthly.loc[list(zip(first_month.index, first_month, strict=True))]
    assert (firsts["customer_prev_log_lines"] == 0).all()
    # a customer's second month sees exactly the lines of the months before it
    customer = known["customer_id"].value_counts().index[0]
    rows = known[known["customer_id"] == customer]
    months = sorted(rows["invoice_date"].dt.to_period("M").unique())
    earlier = rows[rows["invoice_date"].dt.to_period("M") < months[2]]
    assert history.monthly.loc[(customer, months[2]), "customer_prev_log_lines"] == pytest.approx(
        np.log1p(len(earlier))
    )


def test_the_price_tier_reads_the_customers_other_lines_up_to_the_invoice_never_its_own(small_raw, products):
    cleaned = load(small_raw / "online_retail.csv").frame
    history = F.customer_history(cleaned, products)
    known = cleaned[cleaned["customer_id"].notna() & cleaned["stockcode"].isin(products.index)]
    customer = known["customer_id"].value_counts().index[0]
    rows = known[known["customer_id"] == customer].sort_values("invoice_date", kind="stable")
    invoice_time = rows["invoice_date"].drop_duplicates().iloc[3]
    through = rows[rows["invoice_date"] <= invoice_time]
    ratios = np.log(through["unit_price"].to_numpy() / products.loc[through["stockcode"], "price_median"].to_numpy())
    own = np.flatnonzero(through["invoice_date"].to_numpy() == invoice_time)
    assert len(own) > 1 and len(through) > len(own)

    tiers = F.context_features(through.iloc[own], history, products, 0.0)["customer_price_tier"].to_numpy()

    np.testing.assert_allclose(tiers, (ratios.sum() - ratios[own]) / (len(ratios) - 1))


def test_the_price_paid_history_tells_tier_customers_from_retail_ones(small_raw, small_prepared, products):
    """The generator's confounder: wholesale customers pay a tier price. Their history shows it."""
    train = pd.read_parquet(small_prepared / "train.parquet")
    segments = pd.read_csv(small_raw / "ground_truth_customers.csv").set_index("customer_id")["segment"]
    seen = train[train["customer_id"].notna()]  # first months included: the tier reads the month itself
    segment = seen["customer_id"].astype("Int64").map(segments)
    by_segment = seen.groupby(segment.to_numpy())["customer_price_tier"].median()
    assert by_segment["wholesale"] < by_segment["retail"] - 0.08


def test_val_and_test_rows_of_products_unseen_in_training_are_dropped(tables, products):
    for name in ("val", "test"):
        assert tables[name]["stockcode"].isin(products.index).all()
    assert not tables["train"][list(F.FEATURES)].isna().any().any()
