import re

import numpy as np
import pandas as pd
import pytest

from pricing.data import generate as G


@pytest.fixture(scope="module")
def lines(generated_200k) -> pd.DataFrame:
    t = generated_200k.transactions
    return t.assign(date=pd.to_datetime(t["InvoiceDate"], format="%m/%d/%Y %H:%M"))


def share(mask) -> float:
    return float(np.mean(mask))


def test_the_same_seed_writes_identical_bytes_and_another_seed_does_not(tmp_path):
    for name, seed in (("a", 11), ("b", 11), ("c", 12)):
        G.write(G.generate(rows=5_000, seed=seed), tmp_path / name)
    for file in ("online_retail.csv", "ground_truth.csv", "ground_truth_customers.csv"):
        assert (tmp_path / "a" / file).read_bytes() == (tmp_path / "b" / file).read_bytes()
    assert (tmp_path / "a" / "online_retail.csv").read_bytes() != (tmp_path / "c" / "online_retail.csv").read_bytes()


def test_the_file_has_the_real_exports_columns_and_date_format(tmp_path):
    paths = G.write(G.generate(rows=2_000, seed=1), tmp_path)
    header, first = paths["transactions"].read_text().splitlines()[:2]
    assert header == "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country"
    assert re.search(r",1?\d/[1-3]?\d/201[01] 1?\d:\d\d,", first)  # 12/1/2010 8:26: no zero padding


def test_it_writes_exactly_the_rows_asked_for(generated_200k):
    assert len(generated_200k.transactions) == 200_000


def test_dirt_comes_at_the_real_files_rates(lines):
    assert share(lines["CustomerID"].isna()) == pytest.approx(0.25, abs=0.02)
    assert share(lines["Description"].isna()) == pytest.approx(0.003, abs=0.001)
    assert share(lines.drop(columns="date").duplicated()) == pytest.approx(0.01, abs=0.004)
    assert share(lines["InvoiceNo"].str.startswith("C")) == pytest.approx(0.017, abs=0.003)
    adjustments = (lines["UnitPrice"] == 0) & lines["Description"].notna() & (lines["Quantity"] < 0)
    assert share(adjustments) == pytest.approx(0.0025, abs=0.001)
    assert set(lines.loc[adjustments, "Description"]) <= set(G.ADJUSTMENT_REASONS)
    assert lines.loc[adjustments, "CustomerID"].isna().all()


def test_cancellations_mirror_an_earlier_sale(lines):
    cancels = lines[lines["InvoiceNo"].str.startswith("C") & lines["StockCode"].str.match(r"^\d{5}")]
    assert (cancels["Quantity"] < 0).all()
    sales = lines[~lines["InvoiceNo"].str.startswith("C") & (lines["Quantity"] > 0)]
    keys = ["CustomerID", "StockCode", "UnitPrice"]
    matched = cancels.merge(sales[[*keys, "date"]].rename(columns={"date": "sold"}), on=keys)
    earlier = matched[matched["sold"] <= matched["date"]].drop_duplicates(subset=["InvoiceNo", "StockCode"])
    assert len(earlier) >= 0.99 * len(cancels.drop_duplicates(subset=["InvoiceNo", "StockCode"]))


def test_bad_debt_and_huge_lines_are_there(lines):
    bad_debt = lines[lines["InvoiceNo"].str.startswith("A")]
    assert len(bad_debt) >= 2 and (bad_debt["StockCode"] == "B").all() and (bad_debt["UnitPrice"] < 0).sum() >= 2
    huge = lines[(lines["Quantity"] >= 10_000) & ~lines["InvoiceNo"].str.startswith("C")]
    assert len(huge) >= 1
    for _, sale in huge.iterrows():
        undo = lines[
            lines["InvoiceNo"].str.startswith("C")
            & (lines["Quantity"] == -sale["Quantity"])
            & (lines["StockCode"] == sale["StockCode"])
        ]
        assert (undo["date"].dt.date == sale["date"].date()).any()


def test_non_product_codes_come_at_realistic_rates_and_prices(lines):
    codes = lines["StockCode"].value_counts()
    for code, (_, rate) in G.NON_PRODUCT.items():
        expected = max(1, round(rate * len(lines)))
        assert codes.get(code, 0) == expected, code
    post = lines.loc[lines["StockCode"] == "POST", "UnitPrice"]
    assert post.between(10, 50).all()
    assert (lines.loc[lines["StockCode"] == "C2", "UnitPrice"] == 50).all()
    assert (lines.loc[lines["StockCode"] == "POST", "Country"] != "United Kingdom").all()


def test_products_customers_and_invoices_look_like_the_real_file(lines):
    products = lines[~lines["StockCode"].isin([*list(G.NON_PRODUCT), "B"])]
    assert products["StockCode"].str.fullmatch(r"\d{5}[A-Z]?").all()
    described = products["Description"].dropna()
    assert (described[products["UnitPrice"] > 0] == described[products["UnitPrice"] > 0].str.upper()).all()
    ids = lines["CustomerID"].dropna()
    assert ids.between(12_346, 18_287).all()
    per_invoice = lines.groupby("InvoiceNo").agg(customers=("CustomerID", "nunique"), countries=("Country", "nunique"))
    assert (per_invoice["customers"] <= 1).all() and (per_invoice["countries"] == 1).all()
    assert len(lines) / lines["InvoiceNo"].nunique() == pytest.approx(21, abs=3)


def test_countries_follow_the_real_mix(lines):
    shares = lines["Country"].value_counts(normalize=True)
    assert lines["Country"].nunique() == 38
    assert shares["United Kingdom"] == pytest.approx(0.914, abs=0.012)
    assert list(shares.index[1:4].sort_values()) == ["EIRE", "France", "Germany"]
    for country in ("Germany", "France", "EIRE"):
        assert 0.010 <= shares[country] <= 0.025, country


def test_quantities_and_prices_have_the_real_centre_and_tail(lines):
    assert lines["Quantity"].median() == 3
    sales = lines[~lines["InvoiceNo"].str.startswith("C") & lines["CustomerID"].notna() & (lines["UnitPrice"] > 0)]
    assert 5 <= sales["Quantity"].median() <= 7  # the real file: 6 after the usual cleaning
    assert lines["Quantity"].quantile(0.99) > 5 * lines["Quantity"].median()
    assert 1.6 <= lines["UnitPrice"].median() <= 2.5
    assert lines["UnitPrice"].quantile(0.99) > 5 * lines["UnitPrice"].median()


def test_the_calendar_is_the_real_shops(lines):
    d = lines["date"]
    assert d.min() >= pd.Timestamp("2010-12-01") and d.max() < pd.Timestamp("2011-12-10")
    assert (d.dt.day_of_week != 5).all()
    assert not d.between(pd.Timestamp("2010-12-24"), pd.Timestamp("2011-01-04")).any()
    assert d.dt.hour.between(7, 20).all()
    monthly = d.dt.to_period("M").value_counts()
    assert monthly[pd.Period("2011-11")] / monthly[pd.Period("2011-02")] == pytest.approx(2.9, abs=0.35)
    assert monthly[pd.Period("2011-09")] < monthly[pd.Period("2011-10")] < monthly[pd.Period("2011-11")]


def test_at_full_size_the_counts_of_codes_and_customers_match():
    t = G.generate(seed=0).transactions
    assert len(t) == G.REAL_ROWS
    assert t["StockCode"].nunique() == pytest.approx(4_070, rel=0.03)
    assert t["CustomerID"].nunique() == pytest.approx(4_372, rel=0.03)


def _sale_lines_with_truth(generated: G.Generated) -> pd.DataFrame:
    t = generated.transactions
    sales = t[
        ~t["InvoiceNo"].str.startswith("C")
        & (t["Quantity"] > 0)
        & (t["UnitPrice"] > 0)
        & t["StockCode"].isin(generated.ground_truth["stockcode"])
        & (t["Quantity"] < 10_000)
    ]
    sales = sales.drop_duplicates()
    truth = generated.ground_truth.set_index("stockcode").loc[sales["StockCode"]]
    segment = (
        sales["CustomerID"].map(generated.customers.set_index("customer_id")["segment"]).fillna("guest").to_numpy()
    )
    date = pd.to_datetime(sales["InvoiceDate"], format="%m/%d/%Y %H:%M")
    drawn_at = G.undo_within_day_prices(sales["UnitPrice"], sales["Quantity"], segment == "guest", truth)
    mu = G.true_expected_quantity(
        drawn_at,
        truth["theta"],
        truth["amplitude"],
        segment,
        sales["Country"],
        date.dt.month,
        date.dt.day_of_week,
        G.guest_multiplier_of(truth.iloc[0]),
    )
    return sales.assign(mu=mu, segment=segment, drawn_at=drawn_at)


def test_observed_quantities_average_to_the_documented_truth(generated_200k):
    sales = _sale_lines_with_truth(generated_200k)
    assert (sales["mu"] >= 1).all()
    for segment, group in sales.groupby("segment"):
        assert group["Quantity"].mean() / group["mu"].mean() == pytest.approx(1.0, abs=0.03), segment
    # and along price: cheap and dear halves of each product's range both match
    rank = sales.groupby("StockCode")["drawn_at"].rank(pct=True)
    for half in (rank <= 0.5, rank > 0.5):
        assert sales.loc[half, "Quantity"].mean() / sales.loc[half, "mu"].mean() == pytest.approx(1.0, abs=0.03)


def test_the_recorded_optimum_maximises_true_revenue_within_the_historical_range(generated_200k):
    truth = generated_200k.ground_truth.sample(200, random_state=0)
    for row in truth.itertuples():
        grid = np.linspace(row.price_min, row.price_max, 2001)
        revenue = grid * G.true_expected_quantity(grid, row.theta, row.amplitude, "retail", "Germany", 3, 1)
        assert grid[np.argmax(revenue)] == pytest.approx(row.optimal_price, abs=(row.price_max - row.price_min) / 1000)
    assert truth["optimum_interior"].mean() > 0.5


def test_prices_move_within_the_documented_band_and_vary_over_time(generated_200k):
    sales = _sale_lines_with_truth(generated_200k)
    base = generated_200k.ground_truth.set_index("stockcode").loc[sales["StockCode"], "base_price"].to_numpy()
    ratio = sales["drawn_at"].to_numpy() / base
    assert ratio.min() >= G.MIN_PRICE_FACTOR - 0.06 and ratio.max() <= G.MAX_PRICE_FACTOR + 0.06
    distinct = sales.groupby("StockCode")["UnitPrice"].nunique()
    assert (distinct[sales["StockCode"].value_counts().reindex(distinct.index) >= 50] >= 3).mean() > 0.9


@pytest.mark.parametrize("confounding, expect_discount", [(0.5, True), (0.0, False)])
def test_the_wholesale_tier_discount_is_the_documented_confounder(confounding, expect_discount):
    generated = G.generate(rows=60_000, seed=5, confounding=confounding)
    sales = _sale_lines_with_truth(generated)
    base = generated.ground_truth.set_index("stockcode").loc[sales["StockCode"], "base_price"].to_numpy()
    sales = sales.assign(ratio=sales["drawn_at"].to_numpy() / base)
    gap = sales.groupby("segment")["ratio"].median()
    discount = 1 - gap["wholesale"] / gap["retail"]
    if expect_discount:
        assert discount > 0.08
    else:
        assert abs(discount) < 0.02


def test_it_refuses_settings_it_cannot_honour():
    with pytest.raises(ValueError, match="rows"):
        G.generate(rows=10)
    with pytest.raises(ValueError, match="confounding"):
        G.generate(rows=5_000, confounding=2)


# ---- purchase incidence -------------------------------------------------------------------------------
# sha256 of online_retail.csv for rows=20,000, seed=5, written by the generator before incidence existed
# (commit d78d6fb, whose default confounding was 0.5, without within-day price terms): both off keep every
# earlier file reproducible.
BEFORE_INCIDENCE_SHA256 = "bf05d32a22fc654a257c793b6ff9315675337293a93141577cee0117890ba072"


def test_incidence_0_writes_the_files_of_the_version_before_incidence(tmp_path):
    import hashlib

    paths = G.write(G.generate(rows=20_000, seed=5, incidence=0.0, confounding=0.5, within_day_prices=False), tmp_path)
    assert hashlib.sha256(paths["transactions"].read_bytes()).hexdigest() == BEFORE_INCIDENCE_SHA256


@pytest.fixture(scope="module")
def incidence_world():
    """The builder itself, so the list price in force on each line's day is known (the file shows paid prices)."""
    builder = G._Builder(200_000, 11, G.DEFAULT_CONFOUNDING, incidence=1.0)
    generated = builder.build()
    sales = {k: v[: builder.sale_count] for k, v in builder.lines.blocks[0].items()}
    day = np.concatenate(builder.doc_day)[sales["doc"]]
    return builder, generated, sales["product"], day


def test_lines_per_week_fall_with_the_list_price_as_documented(incidence_world):
    """A Poisson fit of product-day line counts on log relative incidence, with the documented expectation as the
    exposure, finds a coefficient of 1: counts follow (p / 0.6 base) ** -eta with each product's own eta."""
    from sklearn.linear_model import PoissonRegressor

    builder, _, product, day = incidence_world
    counts = np.zeros((builder.n_products, len(builder.days)))
    np.add.at(counts, (product, day), 1)
    every = np.arange(builder.n_products)
    listed = np.stack([builder.list_price(every, np.full(builder.n_products, d)) for d in range(len(builder.days))], 1)
    relative = G.relative_incidence(listed, builder.base_price[:, None], builder.incidence_elasticity[:, None])
    expected_lines = builder.sale_count * builder.day_weight[None, :]
    exposure = expected_lines * builder.popularity[:, None] / builder.keep_rate()[None, :]
    busy = builder.popularity > np.quantile(builder.popularity, 0.5)  # products with counts worth fitting
    x = np.log(relative[busy]).ravel()
    fit = PoissonRegressor(alpha=0.0, max_iter=300).fit(
        x[:, None], counts[busy].ravel() / exposure[busy].ravel(), sample_weight=exposure[busy].ravel()
    )
    assert fit.coef_[0] == pytest.approx(1.0, abs=0.08)
    assert np.exp(fit.intercept_) == pytest.approx(1.0, abs=0.08)  # and the level: lines = exposure x relative


def test_the_weekly_optimum_maximises_weekly_revenue_within_the_range_and_sits_below_the_per_line_one(
    incidence_world,
):
    _, generated, _, _ = incidence_world
    truth = generated.ground_truth
    contexts = pd.DataFrame(
        {"segment": ["retail", "wholesale", "guest"], "country": "United Kingdom", "invoice_date": "2011-05-02"}
    )
    for row in truth.sample(50, random_state=1).itertuples(index=False):
        grid = np.linspace(row.price_min, row.price_max, 401)
        weekly = grid * G.true_expected_weekly_units(grid, row._asdict(), contexts, week_scale=1.0)
        per_line = grid * G.true_expected_weekly_units(
            grid, {**row._asdict(), "incidence_elasticity": 0}, contexts, 1.0
        )
        assert grid[np.argmax(weekly)] <= grid[np.argmax(per_line)] + 1e-9
    assert (truth["optimal_weekly_price"] <= truth["optimal_price"] / truth["wholesale_price_factor"] + 1e-6).all()
    assert (truth["optimal_weekly_price"] >= truth["price_min"] - 1e-9).all()
    # elastic weekly demand (per line about -1.1, lines -0.55 at the base price) puts most optima below the per-line
    # one; the rest share the bottom of the range with it
    below = truth["optimal_weekly_price"] < truth["optimal_price"] - 1e-9
    at_bottom = np.isclose(truth["optimal_weekly_price"], truth["price_min"])
    assert below.mean() > 0.7 and (below | at_bottom).all()


def test_the_week_table_scales_lines_so_a_year_of_expected_lines_matches_the_file(incidence_world):
    builder, generated, _, _ = incidence_world
    weeks = generated.weeks
    assert len(weeks) >= 50 and (weeks["lines_scale"] > 0).all()
    assert weeks["lines_scale"].sum() * (builder.keep_rate().mean()) == pytest.approx(builder.sale_count, rel=0.05)


# ---- within-day price terms -----------------------------------------------------------------------------
def test_lines_pay_the_list_price_times_the_documented_guest_premium_or_quantity_break(incidence_world):
    """Guests pay guest_price_factor x list; known customers' lines of break_quantity units or more pay
    break_price_factor x list; every other line the list price itself (within a penny of rounding)."""
    builder, generated, product, day = incidence_world
    sales = {k: v[: builder.sale_count] for k, v in builder.lines.blocks[0].items()}
    truth = generated.ground_truth.iloc[product]
    guest = sales["customer"] <= 0
    listed = np.round(builder.list_price(product, day), 2)  # no wholesale tier at the default confounding
    breaks = truth["break_quantity"].to_numpy()
    broken = ~guest & (breaks > 0) & (sales["quantity"] >= breaks)
    factor = np.where(guest, truth["guest_price_factor"], np.where(broken, truth["break_price_factor"], 1.0))
    assert np.abs(sales["price"] - listed * factor).max() <= 0.01 + 1e-9
    assert guest.mean() > 0.2 and broken.sum() > 100
    assert (truth["guest_price_factor"][guest] > 1.8).mean() > 0.8  # most guests pay about twice the list price
    # and the price each quantity was drawn at comes back from the recorded one
    drawn_at = G.undo_within_day_prices(sales["price"], sales["quantity"], guest, truth)
    assert np.abs(drawn_at - listed).max() <= 0.01 / 0.75 + 1e-9


def test_the_price_ladder_reads_the_list_price_in_force_where_the_highest_price_does_not(incidence_world):
    """pricing.data.list_price on the file's lines (what a retailer has) against the list price the builder set:
    within 1% on all but a few product-days, where the plain rule (the day's highest known customer's price, else
    its highest) misses about a fifth (guest-only days read the guest premium, bulk-only days the break)."""
    from pricing.data.list_price import daily_list_prices

    builder, _, product, day = incidence_world
    sales = {k: v[: builder.sale_count] for k, v in builder.lines.blocks[0].items()}
    first = pd.Timestamp("2011-01-03")
    lines = pd.DataFrame(
        {
            "stockcode": product.astype(str),
            "invoice_date": first + pd.to_timedelta(day, unit="D"),
            "unit_price": sales["price"],
            "customer_id": np.where(sales["customer"] > 0, sales["customer"], np.nan),
            "quantity": sales["quantity"],
        }
    )
    days = daily_list_prices(lines)
    index = days["stockcode"].astype(int).to_numpy(), (days["day"] - first).dt.days.to_numpy()
    in_force = np.round(builder.list_price(*index), 2)
    keys = [lines["stockcode"], lines["invoice_date"].dt.normalize()]
    plain = lines["unit_price"].where(lines["customer_id"].notna()).groupby(keys).max()
    plain = plain.fillna(lines["unit_price"].groupby(keys).max()).to_numpy()  # same (stockcode, day) order
    assert np.mean(np.abs(days["list_price"] / in_force - 1) > 0.01) < 0.03
    assert np.mean(np.abs(plain / in_force - 1) > 0.01) > 0.1


def test_within_day_terms_lower_the_price_of_big_lines_and_raise_the_guests(incidence_world):
    """What `pricing report` would see: within a product-day, bigger known-customer lines pay less and guests
    pay more than known customers."""
    builder, _, _, day = incidence_world
    sales = pd.DataFrame({k: v[: builder.sale_count] for k, v in builder.lines.blocks[0].items()}).assign(day=day)
    sales = sales.assign(log_price=np.log(sales["price"]), guest=sales["customer"] <= 0)
    top = sales[~sales["guest"]].groupby(["product", "day"])["log_price"].max().rename("known_top")
    sales = sales.join(top, on=["product", "day"]).dropna(subset=["known_top"])
    below = (sales["log_price"] < sales["known_top"] - 0.01) & ~sales["guest"]
    small, big = ~sales["guest"] & (sales["quantity"] <= 5), ~sales["guest"] & (sales["quantity"] >= 100)
    assert below[big].mean() > 5 * below[small].mean()
    premium = (sales["log_price"] - sales["known_top"])[sales["guest"]]
    assert premium.median() == pytest.approx(np.log(2), abs=0.1)


def test_the_export_is_written_in_chunks_with_the_same_bytes_whatever_their_size(tmp_path):
    """`pricing generate` formats and writes its lines a chunk at a time (issue 27: tens of millions of lines in
    bounded memory): the file is byte for byte the whole table's CSV, for any chunk size."""
    generated = G.generate(rows=5_000, seed=4)
    whole = generated.transactions.to_csv(index=False, float_format="%.15g", lineterminator="\n").encode()
    for chunk_rows in (3, 4_999, 10**9):  # a short chunk, an uneven one, one chunk
        paths = G.write(generated, tmp_path / str(chunk_rows), chunk_rows=chunk_rows)
        assert paths["transactions"].read_bytes() == whole, chunk_rows
    with pytest.raises(ValueError, match="chunk_rows"):
        G.write(generated, tmp_path / "none", chunk_rows=0)
