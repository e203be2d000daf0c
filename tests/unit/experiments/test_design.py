"""The experiment config's schedule (pricing.experiments.design): for every config, every week's price is whole
pence, within the band and the arms, within `step` of the previous week; holdout products never move; each tested
product visits every arm for weeks_per_arm consecutive weeks a cycle (the price reaching the arm unless the step cap
stops it, which the week then says); the schedule is a pure function of (config, stockcode, week); bad configs
raise a ValueError naming the field."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.experiments.design import (
    OUTSIDE,
    Candidate,
    Experiment,
    add_weeks,
    arm_order,
    build,
    format_week,
    parse_week,
    price_for,
    week_end,
    week_of,
    weeks_between,
)
from pricing.serving.money import ceil_minor, floor_minor, is_whole_minor, to_minor

CREATED = datetime(2026, 3, 1, tzinfo=UTC)


@st.composite
def candidates(draw, band: float) -> list[Candidate]:
    """2 to 8 products, each a status quo (whole pence) and 2 to 5 arms among the pence within `band` of it."""
    products = []
    for j in range(draw(st.integers(2, 8))):
        sq = draw(st.integers(8, 20_000))
        low, high = ceil_minor(sq / 100 * (1 - band)), floor_minor(sq / 100 * (1 + band))
        others = draw(st.lists(st.integers(low, high).filter(lambda p, sq=sq: p != sq), min_size=1, max_size=4))
        arms = sorted({sq, *others})
        if len(arms) < 2:
            continue
        products.append(Candidate(f"P{j:03d}", sq / 100, None, tuple(a / 100 for a in arms)))
    return products


@st.composite
def configs(draw) -> Experiment:
    band = draw(st.floats(0.05, 0.4))
    products = draw(candidates(band))
    if not products:
        products = [Candidate("P000", 2.95, 1.48, (2.95, 3.25))]
    return build(
        products,
        bundle="v1",
        start_week=draw(st.sampled_from(["2026-W10", "2020-W50", "2021-W01"])),
        weeks=draw(st.integers(1, 30)),
        objective=draw(st.sampled_from(["profit", "revenue"])),
        holdout_share=draw(st.sampled_from([0.0, 0.25, 0.5])),
        band=band,
        step=draw(st.floats(0.01, 0.3)),
        weeks_per_arm=draw(st.integers(1, 3)),
        seed=draw(st.integers(0, 10_000)),
        created=CREATED,
    )


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_every_weeks_price_is_whole_pence_in_the_band_within_a_step_and_holdout_products_never_move(config):
    for product in config.products:
        sq = int(to_minor(product.status_quo_price))
        low, high = (
            ceil_minor(product.status_quo_price * (1 - config.band)),
            floor_minor(product.status_quo_price * (1 + config.band)),
        )
        arms = [int(a) for a in to_minor(product.arms)]
        assert len(product.schedule) == config.weeks
        previous = sq
        for t, week in enumerate(product.schedule):
            assert week.week == add_weeks(config.start_week, t)
            assert bool(is_whole_minor(week.price)) and bool(is_whole_minor(week.target))
            price = int(to_minor(week.price))
            assert low <= price <= high and arms[0] <= price <= arms[-1]
            # the step: never more than `step` of the previous week's price (the first week: of the status quo)
            assert abs(price - previous) <= config.step * previous + 1e-6
            if product.holdout:
                assert (price, week.binding, product.arms) == (sq, "holdout", (product.status_quo_price,))
            else:
                assert int(to_minor(week.target)) == arms[week.arm]
                if week.binding is None:
                    assert price == arms[week.arm]
                else:
                    # the cap moved it: as far toward the arm as the step allows, and the week says so
                    assert week.binding == "step" and price != arms[week.arm]
                    bound = (
                        floor_minor(previous / 100 * (1 + config.step))
                        if arms[week.arm] > previous
                        else ceil_minor(previous / 100 * (1 - config.step))
                    )
                    assert price == bound
            previous = price


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs())
def test_each_tested_product_visits_every_arm_for_weeks_per_arm_weeks_a_cycle(config):
    for product in config.products:
        if product.holdout:
            continue
        arms = [week.arm for week in product.schedule]
        cycle = len(product.arms) * config.weeks_per_arm
        # consecutive runs of weeks_per_arm weeks at one arm
        for start in range(0, len(arms), config.weeks_per_arm):
            assert len(set(arms[start : start + config.weeks_per_arm])) == 1
        # every full cycle visits every arm once
        for start in range(0, len(arms) - cycle + 1, cycle):
            counts = Counter(arms[start : start + cycle])
            assert counts == dict.fromkeys(range(len(product.arms)), config.weeks_per_arm)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(config=configs(), offset=st.integers(-5, 40))
def test_the_schedule_is_a_pure_function_of_config_stockcode_and_week(config, offset):
    again = Experiment.from_json(json.loads(config.dumps()))
    assert again == config
    week = add_weeks(config.start_week, offset)
    for product in config.products:
        first = price_for(config, product.stockcode, week)
        assert first == price_for(again, product.stockcode, week) == price_for(config, product.stockcode, week)
        if 0 <= offset < config.weeks:
            planned = product.schedule[offset]
            assert (first.week_index, first.arm, first.price, first.binding) == (
                offset,
                planned.arm,
                planned.price,
                planned.binding,
            )
            assert first.propensity == pytest.approx(1 / len(product.arms))
        else:
            assert (first.price, first.binding, first.arm, first.week_index) == (
                product.status_quo_price,
                OUTSIDE,
                None,
                None,
            )
    # a product's schedule does not depend on which other products are in the experiment
    tested = [p for p in config.products if not p.holdout]
    if not tested:
        return
    lone = tested[0]
    alone = build(
        [Candidate(lone.stockcode, lone.status_quo_price, lone.unit_cost, lone.arms)],
        bundle=config.bundle,
        start_week=config.start_week,
        weeks=config.weeks,
        objective=config.objective,
        holdout_share=0.0,
        band=config.band,
        step=config.step,
        weeks_per_arm=config.weeks_per_arm,
        seed=config.seed,
        created=CREATED,
    )
    assert alone.products[0].schedule == lone.schedule


def test_a_uniformly_random_order_puts_each_arm_in_each_week_with_probability_one_over_the_arms():
    # the propensity the API reports: 4,000 products' orders, 5 arms, 2 weeks each, 23 weeks (two cycles and a part)
    orders = np.array([arm_order(5, 23, 2, 7, f"C{j}") for j in range(4_000)])
    shares = np.stack([(orders == arm).mean(axis=0) for arm in range(5)])
    # binomial sd at n = 4,000 and p = 0.2: 0.0063; 4.5 sds
    assert np.abs(shares - 0.2).max() < 0.029


def test_the_holdout_is_the_seeds_draw_of_the_share():
    products = [Candidate(f"P{j}", 2.0, None, (1.8, 2.0, 2.2)) for j in range(20)]
    config = build(
        products,
        bundle="v",
        start_week="2026-W10",
        weeks=6,
        objective="revenue",
        holdout_share=0.1,
        band=0.2,
        step=0.08,
        weeks_per_arm=2,
        seed=3,
        created=CREATED,
    )
    held = [p.stockcode for p in config.products if p.holdout]
    assert len(held) == 2
    assert held == [p.stockcode for p in build(products, **_settings(config)).products if p.holdout]
    assert held != [p.stockcode for p in build(products, **{**_settings(config), "seed": 4}).products if p.holdout]


def _settings(config: Experiment) -> dict:
    return {
        "bundle": config.bundle,
        "start_week": config.start_week,
        "weeks": config.weeks,
        "objective": config.objective,
        "holdout_share": config.holdout_share,
        "band": config.band,
        "step": config.step,
        "weeks_per_arm": config.weeks_per_arm,
        "seed": config.seed,
        "created": CREATED,
    }


# -- ISO weeks ------------------------------------------------------------------------------------------------------
def test_iso_weeks_cross_years_as_the_calendar_does():
    assert add_weeks("2020-W52", 1) == "2020-W53" and add_weeks("2020-W53", 1) == "2021-W01"
    assert add_weeks("2026-W01", -1) == "2025-W52"
    assert weeks_between("2025-W50", "2026-W03") == 5
    assert format_week(parse_week("2026-W10")) == "2026-W10" and parse_week("2026-W10").isoweekday() == 1
    assert week_of(datetime(2026, 3, 8, 23, 59, tzinfo=UTC)) == "2026-W10"  # Sunday: still week 10
    assert week_of(datetime(2026, 3, 9, 0, 0, tzinfo=UTC)) == "2026-W11"
    assert week_end("2026-W10") == datetime(2026, 3, 9, tzinfo=UTC)


@pytest.mark.parametrize("text", ["2026-10", "2026W10", "2021-W53", "2026-W00", "2026-W54", "26-W10", "", "W10"])
def test_a_malformed_week_is_a_value_error_naming_it(text):
    with pytest.raises(ValueError, match=r"^start_week: "):
        parse_week(text, "start_week")


# -- bad configs ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def document() -> dict:
    products = [Candidate(f"P{j}", 2.95, 1.48, (2.36, 2.66, 2.95, 3.25, 3.54)) for j in range(10)]
    config = build(
        products,
        bundle="v",
        start_week="2026-W10",
        weeks=10,
        objective="profit",
        holdout_share=0.1,
        band=0.2,
        step=0.08,
        weeks_per_arm=2,
        seed=0,
        created=CREATED,
    )
    return json.loads(config.dumps())


def _tested(document: dict) -> int:
    return next(i for i, p in enumerate(document["products"]) if not p["holdout"])


def _held(document: dict) -> int:
    return next(i for i, p in enumerate(document["products"]) if p["holdout"])


EDITS = {
    "id": (lambda d: d.update(id="exp-2026-W10-00000000"), r"^id: .* does not match"),
    "id form": (lambda d: d.update(id="my-test"), r"^id: expected"),
    "created": (lambda d: d.update(created="yesterday"), r"^created: "),
    "weeks": (lambda d: d.update(weeks=0), r"^weeks: "),
    "weeks type": (lambda d: d.update(weeks=2.5), r"^weeks: "),
    "step": (lambda d: d.update(step=1.5), r"^step: "),
    "band": (lambda d: d.update(band=0), r"^band: "),
    "holdout_share": (lambda d: d.update(holdout_share=1.0), r"^holdout_share: "),
    "objective": (lambda d: d.update(objective="sales"), r"^objective: "),
    "start_week": (lambda d: d.update(start_week="2026-W54"), r"^start_week: "),
    "seed": (lambda d: d.update(seed=-1), r"^seed: "),
    "stop_loss": (lambda d: d["stop_loss"].update(probability=2), r"^stop_loss.probability: "),
    "missing": (lambda d: d.pop("band"), r"^experiment: missing band"),
    "no products": (lambda d: d.update(products=[]), r"^products: "),
    "twice": (lambda d: d["products"].append(dict(d["products"][0])), r"^products: .* more than once"),
    "schedule edited": (
        lambda d: d["products"][_tested(d)]["schedule"][3].update(price=9.99),
        r"\.schedule: not the schedule",
    ),
    "holdout flipped": (lambda d: d["products"][_held(d)].update(holdout=False), r"\.holdout: "),
    "arms without the status quo": (
        lambda d: d["products"][_tested(d)].update(arms=[2.36, 2.66, 3.25]),
        r"\.arms: must include the status-quo",
    ),
    "arms outside the band": (
        lambda d: d["products"][_tested(d)].update(arms=[2.0, 2.66, 2.95]),
        r"\.arms: .* leave the band",
    ),
    "arms not in pence": (lambda d: d["products"][_tested(d)].update(arms=[2.655, 2.95]), r"\.arms: .* pence"),
    "arms descending": (lambda d: d["products"][_tested(d)].update(arms=[3.25, 2.95]), r"\.arms: must be ascending"),
    "status quo": (lambda d: d["products"][_tested(d)].update(status_quo_price=-1), r"\.status_quo_price: "),
}


@pytest.mark.parametrize("edit", list(EDITS))
def test_a_bad_config_is_refused_naming_the_field(document, edit):
    change, message = EDITS[edit]
    edited = json.loads(json.dumps(document))
    change(edited)
    with pytest.raises(ValueError, match=message):
        Experiment.from_json(edited)


def test_the_unedited_config_reads_back(document):
    assert Experiment.from_json(json.loads(json.dumps(document))).to_json() == document


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weeks": 0}, r"^weeks: "),
        ({"step": 0.0}, r"^step: "),
        ({"start_week": "March"}, r"^start_week: "),
        ({"holdout_share": -0.1}, r"^holdout_share: "),
    ],
)
def test_build_refuses_bad_settings(change, message):
    settings_ = {
        "bundle": "v",
        "start_week": "2026-W10",
        "weeks": 4,
        "objective": "revenue",
        "holdout_share": 0.0,
        "band": 0.2,
        "step": 0.08,
        "weeks_per_arm": 2,
        "seed": 0,
        **change,
    }
    with pytest.raises(ValueError, match=message):
        build([Candidate("A", 1.0, None, (1.0, 1.1))], **settings_)
