"""pricing.experiments.results: the experiment contract's `results` block and a product's state, read from a bundle
version's experiment files through their checksums, once per version; and the update's pieces they are built from
(the config reader, the expected weekly figure). Bundles here are folders of hand-written files with a manifest
of their sha256 (pricing.artifacts.bundle.Bundle), no trained model: the update itself is tested through the CLI
in tests/integration/test_experiment_update.py."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import norm

from pricing.artifacts.bundle import Bundle, BundleIntegrityError, sha256_of
from pricing.experiments import results
from pricing.experiments.learning import Posterior
from pricing.experiments.results import product_results, product_state
from pricing.experiments.update import expected_weekly, read_config

WEEKS = pd.DataFrame(
    {
        "stockcode": ["A", "A", "A", "B", "B", "B"],
        "week": ["2026-W09", "2026-W10", "2026-W11"] * 2,
        "price": [np.nan, 2.95, 3.25, 1.50, 1.50, 1.50],
        "units": [0.0, 120.0, 101.0, 40.0, 44.0, 38.0],
        "orders": [0, 60, 50, 20, 22, 19],
        "realised": [0.0, 180.4, 170.1, 30.0, 33.0, 28.5],
        "expected": [np.nan, 171.2, 160.5, 31.0, 32.0, 29.0],
        "post": [False, True, True, False, True, True],
    }
)
EVIDENCE = pd.DataFrame(
    {
        "stockcode": ["A", "B"],
        "slope_mean": [2.1, 1.4],
        "slope_sd": [0.1, 0.2],
        "prior_mean": [1.5, 1.4],
        "prior_sd": [0.2, 0.2],
        "status_quo_price": [2.95, 1.50],
        "weeks": [2, 3],
        "units": [221.0, 122.0],
        "prices_seen": [2, 1],
        "tested": [True, False],
        "state": ["stopped", "holdout"],
    }
)
DID = {
    "estimate": 6.4,
    "low": -22.7,
    "high": 35.5,
    "std_error": 17.1,
    "treated": 1,
    "control": 1,
    "level": 0.9,
    "unit": "GBP per product-week",
    "scope": "all tested products vs holdout",
    "pre_weeks": 1,
    "post_weeks": 2,
}
REPORT = {"updated": "2026-03-16T09:00:00+00:00", "experiment": None, "did": DID}


@pytest.fixture(autouse=True)
def fresh_cache():
    """Each test reads its own folders: the module's cache must not answer from another test's."""
    results.clear_cache()
    yield
    results.clear_cache()


def make_bundle(root: Path, version: str = "v1", **files) -> Bundle:
    """A bundle folder holding `files` ({name: DataFrame (parquet) or dict (JSON)}, `_` in a keyword standing for
    `.` and the extension: experiment_weeks=... writes experiment_weeks.parquet) and a manifest of their sha256."""
    root.mkdir(parents=True, exist_ok=True)
    names = {}
    for key, content in files.items():
        if isinstance(content, pd.DataFrame):
            name = f"{key}.parquet"
            content.to_parquet(root / name, index=False)
        else:
            name = "experiment.json" if key == "experiment" else f"{key}.json"
            (root / name).write_text(json.dumps(content))
        names[name] = sha256_of(root / name)
    return Bundle(root, {"version": version, "files": names})


def full_bundle(root: Path, **overrides) -> Bundle:
    files = {"experiment_weeks": WEEKS, "experiment_evidence": EVIDENCE, "experiment_report": REPORT, **overrides}
    return make_bundle(root, **{k: v for k, v in files.items() if v is not None})


def test_the_results_block_is_the_contracts(tmp_path):
    bundle = full_bundle(tmp_path / "b")
    z = norm.ppf(0.95)
    got = product_results(bundle, "A")
    assert got == {
        "updated": "2026-03-16T09:00:00+00:00",
        "weeks": [
            {
                "week": "2026-W09",
                "price": None,  # before the first sale: no price, nothing expected
                "units": 0.0,
                "orders": 0,
                "realised": 0.0,
                "expected": None,
                "post": False,
            },
            {
                "week": "2026-W10",
                "price": 2.95,
                "units": 120.0,
                "orders": 60,
                "realised": 180.4,
                "expected": 171.2,
                "post": True,
            },
            {
                "week": "2026-W11",
                "price": 3.25,
                "units": 101.0,
                "orders": 50,
                "realised": 170.1,
                "expected": 160.5,
                "post": True,
            },
        ],
        "slope": {
            "prior": [1.5, round(1.5 - z * 0.2, 4), round(1.5 + z * 0.2, 4)],
            "posterior": [2.1, round(2.1 - z * 0.1, 4), round(2.1 + z * 0.1, 4)],
        },
        "did": {k: DID[k] for k in ("estimate", "low", "high", "unit", "scope")},
    }
    assert json.loads(json.dumps(got, allow_nan=False)) == got  # the API's JSON as it is: no NaN, no numpy types
    assert product_state(bundle, "A") == "stopped" and product_state(bundle, "B") == "holdout"


def test_none_where_the_bundle_or_the_product_has_no_results(tmp_path):
    bundle = full_bundle(tmp_path / "b")
    assert product_results(bundle, "C") is None and product_state(bundle, "C") is None
    bare = make_bundle(tmp_path / "bare")
    assert product_results(bare, "A") is None and product_state(bare, "A") is None
    # an update of before the weeks' table: the state serves, there are no results to draw
    older = full_bundle(tmp_path / "older", experiment_weeks=None, experiment_report=None)
    assert product_results(older, "A") is None and product_state(older, "A") == "stopped"


def test_no_did_is_null_and_the_rest_still_served(tmp_path):
    bundle = full_bundle(tmp_path / "b", experiment_report={**REPORT, "did": None})
    got = product_results(bundle, "A")
    assert got["did"] is None and len(got["weeks"]) == 3 and got["slope"]["posterior"][0] == 2.1


def test_an_altered_file_is_refused_naming_it(tmp_path):
    bundle = full_bundle(tmp_path / "b")
    WEEKS.assign(realised=WEEKS["realised"] * 2).to_parquet(tmp_path / "b" / "experiment_weeks.parquet", index=False)
    with pytest.raises(BundleIntegrityError, match=r"experiment_weeks\.parquet: checksum mismatch"):
        product_results(bundle, "A")


def test_each_version_is_read_once(tmp_path):
    """The second request reads no file: the folder's files removed after the first, it still answers. Another
    version (or folder) is read afresh."""
    bundle = full_bundle(tmp_path / "b")
    first = product_results(bundle, "A")
    for path in (tmp_path / "b").iterdir():
        path.unlink()
    assert product_results(bundle, "A") == first and product_state(bundle, "A") == "stopped"
    moved = Bundle(bundle.root, {**bundle.manifest, "version": "v2"})
    with pytest.raises(BundleIntegrityError, match="missing"):
        product_results(moved, "A")


def test_a_callers_edit_does_not_reach_the_cache(tmp_path):
    bundle = full_bundle(tmp_path / "b")
    product_results(bundle, "A")["weeks"][1]["price"] = 99.0
    assert product_results(bundle, "A")["weeks"][1]["price"] == 2.95


@pytest.mark.parametrize(
    ("recorded", "config", "served"),
    [
        (None, None, True),  # inferred design, no config: the bundle's own update
        ("exp-2026-W10-0123abcd", {"id": "exp-2026-W10-0123abcd"}, True),  # the config's own update
        ("exp-2026-W10-0123abcd", {"id": "exp-2026-W20-89abcdef"}, False),  # a new experiment started since
        (None, {"id": "exp-2026-W20-89abcdef"}, False),  # a config started on an inferred update
    ],
)
def test_another_experiments_files_are_not_this_ones(tmp_path, recorded, config, served):
    extra = {} if config is None else {"experiment": config}
    bundle = full_bundle(tmp_path / "b", experiment_report={**REPORT, "experiment": recorded}, **extra)
    assert (product_results(bundle, "A") is not None) is served
    assert (product_state(bundle, "A") == "stopped") is served and (product_state(bundle, "A") is None) is not served


rows = st.lists(
    st.tuples(
        st.one_of(st.just(math.nan), st.floats(0.01, 1e5)),  # price
        st.floats(0, 1e6),  # units
        st.integers(0, 10_000),  # orders
        st.floats(-1e6, 1e6),  # realised (a loss is negative profit)
        st.one_of(st.just(math.nan), st.floats(0, 1e6)),  # expected
        st.booleans(),
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=rows, mean=st.floats(-5, 5), sd=st.floats(0.001, 3))
def test_every_week_is_served_as_written(tmp_path_factory, rows, mean, sd):
    """For any weeks' table: the block's weeks are the product's rows in order, NaN as null, strict JSON; the
    slope's interval is mean -+ z(0.95) x sd."""
    results.clear_cache()
    frame = pd.DataFrame(rows, columns=["price", "units", "orders", "realised", "expected", "post"])
    frame.insert(0, "week", [f"2026-W{k + 1:02d}" for k in range(len(frame))])
    frame.insert(0, "stockcode", "A")
    evidence = EVIDENCE.assign(slope_mean=[mean, 1.0], slope_sd=[sd, 0.1])
    bundle = full_bundle(tmp_path_factory.mktemp("b"), experiment_weeks=frame, experiment_evidence=evidence)
    got = product_results(bundle, "A")
    assert json.loads(json.dumps(got, allow_nan=False)) == got
    for week, row in zip(got["weeks"], frame.itertuples(index=False), strict=True):
        assert week["week"] == row.week and week["orders"] == row.orders and week["post"] == row.post
        for key in ("price", "units", "realised", "expected"):
            value = getattr(row, key)
            assert week[key] == (None if math.isnan(value) else value)
    low, high = mean - norm.ppf(0.95) * sd, mean + norm.ppf(0.95) * sd
    assert got["slope"]["posterior"] == pytest.approx([mean, low, high], abs=1e-4)


# -- the update's pieces the results are built from --------------------------------------------------------------
CONFIG = {
    "id": "exp-2026-W10-0123abcd",
    "start_week": "2026-W10",
    "objective": "profit",
    "stop_loss": {"share": 0.15, "probability": 0.8},
    "products": [
        {"stockcode": "A", "status_quo_price": 2.95, "unit_cost": 1.48, "holdout": False},
        {"stockcode": "B", "status_quo_price": 1.5, "unit_cost": None, "holdout": True},
    ],
}


def test_the_config_is_read_through_its_checksum(tmp_path):
    bundle = make_bundle(tmp_path / "b", experiment=CONFIG)
    config = read_config(bundle)
    assert (config.id, config.start_week, config.objective) == ("exp-2026-W10-0123abcd", "2026-W10", "profit")
    assert config.start_monday == pd.Timestamp("2026-03-02")
    assert (config.stop_share, config.stop_probability) == (0.15, 0.8)
    assert config.products["status_quo_price"].to_dict() == {"A": 2.95, "B": 1.5}
    assert config.products.loc["A", "unit_cost"] == 1.48 and math.isnan(config.products.loc["B", "unit_cost"])
    assert config.products["holdout"].to_dict() == {"A": False, "B": True}
    assert read_config(make_bundle(tmp_path / "none")) is None
    (tmp_path / "b" / "experiment.json").write_text(json.dumps({**CONFIG, "objective": "revenue"}))
    with pytest.raises(BundleIntegrityError, match=r"experiment\.json: checksum mismatch"):
        read_config(bundle)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"start_week": "2026-W54"}, "start_week: 2026-W54 is not a week of 2026"),
        ({"start_week": "2026-10"}, "start_week: expected an ISO week"),
        ({"objective": "margin"}, "objective must be 'profit' or 'revenue'"),
        ({"products": []}, "'products' must be a non-empty list"),
        ({"id": ""}, "'id' must be a non-empty string"),
        ({"stop_loss": {"share": 1.5}}, "stop_loss.share must be in (0, 1]"),
        ({"products": [{**CONFIG["products"][0], "status_quo_price": "2.95"}]}, "A: status_quo_price must be a number"),
        ({"products": [{**CONFIG["products"][0], "status_quo_price": 0}]}, "A: status_quo_price must be in (0, inf]"),
        ({"products": [{**CONFIG["products"][0], "unit_cost": -1}]}, "A: unit_cost must be in [0, inf]"),
        ({"products": [{**CONFIG["products"][0], "holdout": "no"}]}, "A: 'holdout' must be true or false"),
        ({"products": [{"status_quo_price": 2.95}]}, "products[0] needs a 'stockcode' string"),
        ({"products": [CONFIG["products"][0]] * 2}, "product A listed more than once"),
    ],
)
def test_a_config_the_update_cannot_use_is_refused_naming_the_field(tmp_path, change, message):
    bundle = make_bundle(tmp_path / "b", experiment={**CONFIG, **change})
    with pytest.raises(ValueError, match=r"experiment\.json of bundle v1") as refused:
        read_config(bundle)
    assert message in str(refused.value)


def test_a_config_without_a_field_is_refused_naming_it(tmp_path):
    for field in ("id", "start_week", "objective", "products"):
        bundle = make_bundle(tmp_path / field, experiment={k: v for k, v in CONFIG.items() if k != field})
        with pytest.raises(ValueError, match=f"no '{field}'"):
            read_config(bundle)


@settings(max_examples=200, deadline=None)
@given(
    level=st.floats(-3, 8),
    slope=st.floats(-1, 5),
    p0=st.floats(0.1, 100),
    ratios=st.lists(st.floats(0.5, 2.0), min_size=2, max_size=6),
    offsets=st.lists(st.floats(-1, 1), min_size=6, max_size=6),
    cost_share=st.one_of(st.none(), st.floats(0, 0.9)),
)
def test_expected_follows_the_prior_curve_and_the_volume(level, slope, p0, ratios, offsets, cost_share):
    """For any prior and prices: expected = (p - c) x exp(a0 + o - b0 log(p / p0)): at p0 with no offset the
    model's weekly figure at the status quo; between two weeks, the ratio (p1 - c)/(p2 - c) x (p1 / p2)^-b0 x
    exp(o1 - o2); revenue (c = 0) without a cost."""
    prices = p0 * np.array(ratios)
    offset = np.array(offsets[: len(ratios)])
    cost = np.array([math.nan if cost_share is None else cost_share * p0])
    prior = Posterior.prior(np.array([level]), np.array([slope]), np.array([0.2]))
    got = expected_weekly(prior, np.array([p0]), prices[None, :], offset[None, :], cost)[0]
    c = 0.0 if cost_share is None else cost_share * p0
    at_p0 = expected_weekly(prior, np.array([p0]), np.array([[p0]]), np.zeros((1, 1)), cost)[0, 0]
    assert at_p0 == pytest.approx((p0 - c) * math.exp(level), rel=1e-9)
    want = (prices - c) * np.exp(level + offset - slope * np.log(prices / p0))
    np.testing.assert_allclose(got, want, rtol=1e-9)
    assert np.isnan(expected_weekly(prior, np.array([p0]), np.array([[np.nan]]), np.zeros((1, 1)), cost)).all()
