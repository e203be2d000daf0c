"""`pricing evaluate`'s slopes without a trained bundle: the truth's slope against the generator's own calculus, the
summary's rules for any input, and the issue's check that on the confounded market the passive regression that
evaluate reports beside the model is biased toward inelastic, more than on the default market of the same seed.

The bias test fits the passive regression (pricing.tools.evaluate.passive_slopes, evaluate's own code path) on a
small `pricing generate` file of each market; a trained network is not used here: a quick bundle per market would
add minutes to the suite, and its slopes move by +-0.3 from seed to seed (docs/PRICING_QUALITY.md, "The passive
model's bias on the confounded market", has the bundles' figures through `pricing evaluate`)."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.data import generate
from pricing.data.synthetic.truth import context_multiplier
from pricing.experiments.panel import weekly_panel
from pricing.experiments.update import read_lines
from pricing.tools.evaluate import SLOPE_STEP, passive_slopes, slope_summary, true_slope

SEED = 2
ROWS = 200_000
TOP = 150  # best sellers by lines
# Measured before choosing (this test's design, 200,000 rows, 150 best sellers, seeds 0-9): the plain regression's
# mean bias (passive - truth) is lower in the confounded market than in the default one by 0.50 to 1.00 (seed 2:
# 0.56), the shrunk estimate's by 0.375 to 0.76 (seed 2: 0.375, the smallest); the share below the truth is larger
# in the confounded market on every seed. The margin asked is half the plain's smallest, two thirds the shrunk's.
MARGIN = 0.25


def analytic_slope(price: float, truth: pd.Series, contexts: pd.DataFrame) -> float:
    """-d log E[weekly units] / d log p by calculus on the generator's model (docs/DATA.md): lines fall as
    p^-eta, and a line's units are amplitude x m(context) x exp(-k p / theta), k the tier factor on wholesale
    lines, so the slope is eta + (p / theta) x the m-and-exp-weighted mean of k."""
    date = pd.to_datetime(contexts["invoice_date"])
    m = context_multiplier(
        contexts["segment"].to_numpy(),
        contexts["country"].to_numpy(),
        date.dt.month.to_numpy(),
        date.dt.day_of_week.to_numpy(),
        float(truth["guest_quantity_multiplier"]),
    )
    k = np.where(contexts["segment"].to_numpy() == "wholesale", float(truth["wholesale_price_factor"]), 1.0)
    weight = m * np.exp(-k * price / float(truth["theta"]))
    return float(truth["incidence_elasticity"]) + price / float(truth["theta"]) * float(
        (weight * k).sum() / weight.sum()
    )


def contexts_of(lines: pd.DataFrame, customers: Path, n: int = 400) -> pd.DataFrame:
    """n of the file's lines as the truth's contexts (segment from the customers' hidden segments, guests else)."""
    segments = pd.read_csv(customers).set_index("customer_id")["segment"]
    sample = lines.sample(n, random_state=0)
    return pd.DataFrame(
        {
            "segment": sample["customer_id"].map(segments).fillna("guest").to_numpy(),
            "country": sample["country"].to_numpy(),
            "invoice_date": sample["invoice_date"].to_numpy(),
        }
    )


@pytest.fixture(scope="module")
def markets(tmp_path_factory) -> dict[str, dict]:
    """For each market, seed SEED's generated file read as `pricing evaluate` reads it: the TOP best sellers, their
    current price (the list price of the file's last week), the truth's slopes there and the passive regression's
    slopes and summary."""
    out = {}
    for market in ("default", "confounded"):
        folder = tmp_path_factory.mktemp(market)
        generate.write(generate.generate(rows=ROWS, seed=SEED, market=market), folder)
        lines, _ = read_lines(folder / "online_retail.csv")
        truth = generate.load_ground_truth(folder / "ground_truth.csv")
        counts = lines["stockcode"].astype(str).value_counts()
        codes = np.array([c for c in counts.index if c in truth.index][:TOP], dtype=str)
        current = weekly_panel(lines, codes).list_price[:, -1]
        contexts = contexts_of(lines, folder / "ground_truth_customers.csv")
        truth_slopes = np.array([true_slope(p, truth.loc[c], contexts) for c, p in zip(codes, current, strict=True)])
        passive = passive_slopes(folder / "online_retail.csv", codes, current)
        summary = slope_summary(truth_slopes, {"passive": passive.plain, "passive_shrunk": passive.shrunk})
        out[market] = {
            "truth": truth,
            "codes": codes,
            "current": current,
            "contexts": contexts,
            "truth_slopes": truth_slopes,
            "passive": passive,
            "summary": summary,
        }
    return out


def test_the_passive_regression_reads_the_confounded_market_as_less_elastic_than_the_default_one(markets):
    default, confounded = markets["default"]["summary"], markets["confounded"]["summary"]
    # the truth is the same kind of market in both: the confounder moves prices, not the demand curve
    assert abs(default["truth"]["mean"] - confounded["truth"]["mean"]) < 0.1
    for name in ("passive", "passive_shrunk"):
        assert default[name]["products"] >= 0.9 * TOP and confounded[name]["products"] >= 0.9 * TOP
        assert confounded[name]["bias"]["mean"] < default[name]["bias"]["mean"] - MARGIN, name
        assert confounded[name]["bias"]["mean"] < 0  # toward inelastic: below the truth
        assert confounded[name]["share_below_truth"] > default[name]["share_below_truth"]


def test_the_truth_slope_is_the_generators_calculus(markets):
    m = markets["confounded"]
    for code, price in list(zip(m["codes"], m["current"], strict=True))[:40]:
        exact = analytic_slope(price, m["truth"].loc[code], m["contexts"])
        # a central difference's error is O(step^2) times the curve's third derivative: under 1e-3 here
        assert true_slope(price, m["truth"].loc[code], m["contexts"]) == pytest.approx(exact, abs=1e-3)
    product = m["truth"].loc[m["codes"][0]]
    with pytest.raises(ValueError, match="positive"):
        true_slope(0.0, product, m["contexts"])
    with pytest.raises(ValueError, match="positive"):
        true_slope(1.0, product, m["contexts"], step=-SLOPE_STEP)


def test_a_product_the_file_never_sold_has_no_plain_passive_slope(markets, tmp_path):
    m = markets["default"]
    folder = Path(m["passive"].source).parent
    codes = np.append(m["codes"][:5], "NOT-A-CODE")
    passive = passive_slopes(folder / "online_retail.csv", codes, np.append(m["current"][:5], 1.0))
    assert np.isnan(passive.plain[-1]) and passive.weeks[-1] == 0 and passive.prices[-1] == 0
    assert np.isfinite(passive.shrunk[-1])  # the shrunk estimate is the pooled slope: the prior, unmoved
    # the other products' slopes do not depend on which products are fitted beside them
    assert passive.plain[:5] == pytest.approx(m["passive"].plain[:5], abs=1e-9)


def test_passive_slopes_refuse_bad_input(markets, tmp_path):
    m = markets["default"]
    raw = Path(m["passive"].source)
    with pytest.raises(ValueError, match="positive current price"):
        passive_slopes(raw, m["codes"][:3], np.array([1.0, 0.0, 2.0]))
    with pytest.raises(ValueError, match="one positive current price per product"):
        passive_slopes(raw, m["codes"][:3], np.array([1.0, 2.0]))
    empty = tmp_path / "empty.csv"
    empty.write_text("InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n")
    with pytest.raises(ValueError, match="no usable transaction lines"):
        passive_slopes(empty, m["codes"][:3], m["current"][:3])


finite = st.floats(-5, 5, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.tuples(finite, finite, st.booleans()), min_size=1, max_size=40),
)
def test_the_slope_summary_is_its_per_product_rows(rows):
    truth = np.array([t for t, _, _ in rows])
    model = np.array([m if known else np.nan for _, m, known in rows])
    summary = slope_summary(truth, {"model": model})
    known = ~np.isnan(model)
    s = summary["model"]
    assert summary["truth"]["products"] == len(rows) and s["products"] == known.sum()
    assert summary["truth"]["mean"] == pytest.approx(truth.mean(), abs=1e-4)
    if not known.any():
        assert s["mean"] is None and s["bias"]["mean"] is None and s["share_below_truth"] is None
        return
    bias = model[known] - truth[known]
    assert s["mean"] == pytest.approx(model[known].mean(), abs=1e-4)
    assert s["median"] == pytest.approx(np.median(model[known]), abs=1e-4)
    assert s["bias"]["mean"] == pytest.approx(bias.mean(), abs=1e-4)
    assert s["bias"]["median"] == pytest.approx(np.median(bias), abs=1e-4)
    assert s["bias"]["p10"] <= s["bias"]["median"] + 1e-4 and s["bias"]["median"] <= s["bias"]["p90"] + 1e-4
    assert s["share_below_truth"] == pytest.approx(np.mean(bias < 0), abs=1e-4)
    assert (s["bias"]["sd"] is None) == (known.sum() < 2)
