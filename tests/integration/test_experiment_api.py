"""A running price experiment through the CLI and the Flask app, on the session's quick bundle: `pricing experiment
start` publishes it, `GET /v1/price-decision/<stockcode>?mode=experiment` answers the week's price (the same for
every request in a week, across app instances, from the cache after the first), changing across weeks only as the
plan says (`pricing experiment plan`'s CSV and the config's schedule); holdout products stay at their status quo;
bad parameters are 400/404 naming them; a product outside the experiment gets its decision with a note; the
warm-up caches the week's prices; the stop-loss returns a stopped product to its status quo; a start that cannot
run exits 1 with one line and publishes nothing."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

from pricing.artifacts.derive import publish_derived
from pricing.artifacts.store import LocalStore
from pricing.cli import main
from pricing.config import Settings
from pricing.experiments.design import EXPERIMENT_FILE, OUTSIDE, Experiment, add_weeks, parse_week, price_for
from pricing.serving.app import create_app
from pricing.serving.cache import MemoryCache
from pricing.serving.state import service_of
from pricing.serving.warmup import warm_top_products

START = "2026-W10"
TOP = 30
HOLDOUT = 0.3  # of the test products: at least one held out for any count from 2 up


def pricing(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pricing", *args], capture_output=True, text=True, timeout=600)


def monday(week: str, seconds: int = 0) -> datetime:
    """The week's Monday at midnight UTC, plus `seconds`."""
    day = parse_week(week)
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def started(store) -> tuple[LocalStore, str, str]:
    """The module's store with an experiment started on the quick bundle through the CLI: (store, parent, version)."""
    parent = store.latest()
    done = pricing(
        "experiment", "start", "--store", str(store.root), "--start-week", START, "--top", str(TOP),
        "--objective", "profit", "--unit-cost-share", "0.5", "--holdout", str(HOLDOUT), "--seed", "1",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    version = store.latest()
    assert version != parent and version.startswith(parent + "-e"), done.stdout
    assert f"published {version}" in done.stdout
    return store, parent, version


@pytest.fixture(scope="module")
def config(started) -> Experiment:
    store, _, version = started
    bundle = store.fetch(version)
    return Experiment.read(bundle.verified(EXPERIMENT_FILE))


def app_for(store: LocalStore, cache=None, now: datetime | None = None):
    app = create_app(Settings(env="test", artifact_store=str(store.root)), store=store, cache=cache or MemoryCache())
    if now is not None:
        service_of(app).clock = lambda: now
    return app


def experiment(client, code: str, **query):
    return client.get(f"/v1/price-decision/{code}", query_string={"mode": "experiment", **query})


def test_start_publishes_the_experiment_with_the_bundle_from_the_decisions_test_verdicts(started, config):
    store, parent, version = started
    bundle = store.fetch(version)
    assert EXPERIMENT_FILE in bundle.manifest["files"]  # checksummed like every file
    assert bundle.manifest["experiment_plan"]["id"] == config.id and config.bundle == parent
    assert config.start_week == START and config.objective == "profit"
    held = [p for p in config.products if p.holdout]
    assert held and len(held) < len(config.products)
    # every product is one the parent's API says `test` for, with that test's arms (the band is the test's 20%)
    parent_client = app_for(_store_at(store, parent)).test_client()
    for product in config.products:
        current = parent_client.get(f"/v1/price-decision/{product.stockcode}").get_json()["current"]["price"]
        unit_cost = f"{0.5 * current:.4f}"
        decision = parent_client.get(
            f"/v1/price-decision/{product.stockcode}", query_string={"objective": "profit", "unit_cost": unit_cost}
        ).get_json()
        assert decision["decision"] == "test"
        assert product.status_quo_price == decision["price_to_set"] == current
        if not product.holdout:
            assert list(product.arms) == decision["test"]["arms"]
    assert config.weeks == config.arms * config.weeks_per_arm == max(len(p.arms) for p in config.products) * 2


def _store_at(store: LocalStore, version: str) -> LocalStore:
    """A store whose LATEST is `version`: a copy of the version folder (the module's store keeps its own)."""
    import shutil
    import tempfile
    from pathlib import Path

    root = Path(tempfile.mkdtemp(prefix="store-at-"))
    shutil.copytree(store.root / version, root / version)
    (root / "LATEST").write_text(version + "\n")
    return LocalStore(root)


def test_the_price_is_the_same_for_every_request_in_a_week_across_instances_and_cached_after_the_first(started, config):
    store, _, version = started
    week = add_weeks(START, 2)
    shared = MemoryCache()
    # two instances, one early on Monday, one late on Sunday of the same ISO week
    first = app_for(store, shared, monday(week, 36)).test_client()
    second = app_for(store, shared, monday(week, 7 * 86_400 - 36)).test_client()
    tested = next(p for p in config.products if not p.holdout)
    answers, caches = [], []
    for i in range(20):
        response = experiment(first if i % 2 == 0 else second, tested.stockcode)
        assert response.status_code == 200
        answers.append(response.data)
        caches.append(response.headers["X-Cache"])
    assert len(set(answers)) == 1 and caches[0] == "MISS" and set(caches[1:]) == {"HIT"}
    body = json.loads(answers[0])
    planned = price_for(config, tested.stockcode, week)
    assert (body["week"], body["week_index"], body["price"], body["arm"]) == (week, 2, planned.price, planned.arm)
    assert body["bundle_version"] == version and body["mode"] == "experiment" and body["in_experiment"] is True
    assert body["propensity"] == pytest.approx(1 / len(tested.arms))
    assert body["experiment"]["id"] == config.id and body["experiment"]["status"] == "running"
    assert body["experiment"]["end_week"] == add_weeks(START, config.weeks - 1)
    assert body["arms"] == list(tested.arms) and body["state"] == "planned" and body["results"] is None
    assert len(body["schedule"]) == config.weeks and body["currency"] == "GBP"
    # a client may keep "this week's" answer no longer than the week lasts (36 s left in the second's week)
    late = experiment(second, tested.stockcode)
    assert late.headers["Cache-Control"] == "public, max-age=36"
    # the next week's clock asks for the next week's price, whatever the cache holds
    following = experiment(app_for(store, shared, monday(add_weeks(week, 1))).test_client(), tested.stockcode)
    assert following.get_json()["week"] == add_weeks(week, 1)


def test_prices_change_across_weeks_only_as_the_plan_and_the_schedule_say(started, config, tmp_path):
    store, _, _ = started
    client = app_for(store, now=monday(START)).test_client()
    for offset in range(-1, config.weeks + 1):
        week = add_weeks(START, offset)
        out = tmp_path / f"plan-{week}.csv"
        assert main(["experiment", "plan", "--store", str(store.root), "--week", week, "--out", str(out)]) == 0
        with open(out, newline="") as handle:
            rows = {row["stockcode"]: row for row in csv.DictReader(handle)}
        summary = json.loads(out.with_suffix(".json").read_text())
        assert summary["products"] == len(config.products) == len(rows) and summary["week"] == week
        for product in config.products:
            body = experiment(client, product.stockcode, week=week).get_json()
            row = rows[product.stockcode]
            planned = price_for(config, product.stockcode, week)
            assert body["price"] == float(row["price_to_set"]) == planned.price
            assert (row["decision"], row["verdict"], row["week"]) == ("experiment", "experiment", week)
            assert float(row["current_price"]) == product.status_quo_price == body["status_quo_price"]
            assert row["binding_guardrail"] == (body["binding_guardrail"] or "")
            assert row["holdout"] == str(product.holdout) and row["state"] == body["state"]
            if 0 <= offset < config.weeks:
                assert body["price"] == product.schedule[offset].price and body["arm"] == product.schedule[offset].arm
                assert row["arm"] == str(body["arm"]) and float(row["propensity"]) == body["propensity"]
            else:
                assert body["binding_guardrail"] == OUTSIDE and body["week_index"] is None
                assert body["price"] == product.status_quo_price and row["arm"] == ""
                assert body["experiment"]["status"] == ("planned" if offset < 0 else "ended")


def test_holdout_products_answer_their_status_quo_every_week(started, config):
    store, _, _ = started
    client = app_for(store, now=monday(START)).test_client()
    held = [p for p in config.products if p.holdout]
    for product in held:
        for offset in range(config.weeks):
            body = experiment(client, product.stockcode, week=add_weeks(START, offset)).get_json()
            assert (body["price"], body["binding_guardrail"], body["holdout"], body["arms"]) == (
                product.status_quo_price,
                "holdout",
                True,
                [product.status_quo_price],
            )
            assert body["state"] == "holdout"


@pytest.mark.parametrize(
    ("query", "status", "named"),
    [
        ({"mode": "bogus"}, 400, "mode"),
        ({"mode": "experiment", "week": "2026-W60"}, 400, "week"),
        ({"mode": "experiment", "week": "next week"}, 400, "week"),
        ({"week": "2026-W10"}, 400, "week"),
        ({"experiment": "exp-2026-W10-00000000"}, 400, "experiment"),
        ({"mode": "experiment", "experiment": "exp-2026-W10-00000000"}, 404, "experiment"),
        ({"mode": "experiment", "objective": "revenue"}, 400, "objective"),
        ({"mode": "experiment", "unit_cost": "1.2", "floor": "1"}, 400, "unit_cost, floor"),
        ({"Mode": "experiment"}, 400, "Mode"),
    ],
)
def test_bad_experiment_parameters_are_refused_naming_them(started, config, query, status, named):
    store, _, _ = started
    client = app_for(store, now=monday(START)).test_client()
    response = client.get(f"/v1/price-decision/{config.products[0].stockcode}", query_string=query)
    assert response.status_code == status and response.is_json
    assert response.get_json()["error"].startswith(f"{named}:"), response.get_json()


def test_a_bundle_without_an_experiment_says_so_naming_experiment(started):
    store, parent, _ = started
    client = app_for(_store_at(store, parent)).test_client()
    code = client.get("/v1/products?page_size=1").get_json()["items"][0]["stockcode"]
    response = experiment(client, code)
    assert response.status_code == 404
    assert response.get_json() == {"error": "experiment: this bundle runs no experiment"}


def test_a_product_outside_the_experiment_gets_its_decision_with_a_note_and_an_unknown_one_a_404(started, config):
    store, _, _ = started
    client = app_for(store, now=monday(START)).test_client()
    inside = {p.stockcode for p in config.products}
    items = client.get("/v1/products?page_size=200").get_json()["items"]
    outside = next(item["stockcode"] for item in items if item["stockcode"] not in inside)
    response = experiment(client, outside)
    assert response.status_code == 200
    body = response.get_json()
    assert body["experiment_note"] == f"{outside} is not in experiment {config.id}; this is its decision"
    plain = client.get(f"/v1/price-decision/{outside}").get_json()
    assert {k: v for k, v in body.items() if k != "experiment_note"} == plain
    assert experiment(client, "NO-SUCH-CODE").status_code == 404


def test_the_warm_up_caches_this_weeks_experiment_prices(started, config):
    store, _, _ = started
    week = add_weeks(START, 3)
    app = app_for(store, MemoryCache(), monday(week, 30 * 3600))
    summary = warm_top_products(app, 1)["experiment"]
    assert summary["id"] == config.id and summary["week"] == week
    assert (summary["products"], summary["warmed"], summary["failed"]) == (len(config.products),) * 2 + ([],)
    client = app.test_client()
    for product in config.products:
        response = experiment(client, product.stockcode)
        assert response.headers["X-Cache"] == "HIT"
        assert response.get_json()["price"] == price_for(config, product.stockcode, week).price


def test_the_stop_loss_returns_a_stopped_product_to_its_status_quo(started, config):
    store, _, version = started
    bundle = store.fetch(version)
    # a week where the stopped product's plan is away from its status quo, so the stop-loss is seen to move it
    tested = [p for p in config.products if not p.holdout]
    stopped, week = next(
        (p, w.week) for p in tested for w in p.schedule if w.price != p.status_quo_price and w.binding is None
    )
    evidence = pd.DataFrame(
        {
            "stockcode": [p.stockcode for p in config.products],
            "slope_mean": 1.5,
            "slope_sd": 0.3,
            "prior_mean": 1.5,
            "prior_sd": 0.3,
            "status_quo_price": [p.status_quo_price for p in config.products],
            "weeks": 4,
            "units": 100.0,
            "prices_seen": 2,
            "tested": [not p.holdout for p in config.products],
            "state": ["stopped" if p is stopped else "holdout" if p.holdout else "learning" for p in config.products],
        }
    )

    def write(folder):
        evidence.to_parquet(folder / "experiment_evidence.parquet", index=False)
        return ["experiment_evidence.parquet"]

    local = _store_at(store, version)
    published = publish_derived(local, bundle, version + "-xstopped0", write)
    assert local.latest() == published
    client = app_for(local, now=monday(week)).test_client()
    body = experiment(client, stopped.stockcode).get_json()
    assert (body["price"], body["binding_guardrail"], body["state"]) == (
        stopped.status_quo_price,
        "stop-loss",
        "stopped",
    )
    other = next(p for p in tested if p is not stopped)
    body = experiment(client, other.stockcode).get_json()
    assert body["price"] == price_for(config, other.stockcode, week).price and body["state"] == "learning"


def _retrained(quick_bundle, tmp_path) -> Path:
    """The quick bundle as a retrain would publish it: the same files under a new version."""
    import shutil

    folder = tmp_path / "retrained"
    shutil.copytree(quick_bundle, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["version"] = manifest["version"] + "r"
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_a_retrain_published_mid_experiment_carries_it_on_unless_ended(started, config, quick_bundle, tmp_path):
    store, _, version = started
    local = _store_at(store, version)
    retrained = _retrained(quick_bundle, tmp_path)
    done = pricing("publish", "--bundle-dir", str(retrained), "--store", str(local.root))
    assert done.returncode == 0, done.stderr[-2000:]
    new = json.loads((retrained / "manifest.json").read_text())["version"]
    carried = local.latest()
    assert carried.startswith(new + "-e"), done.stdout
    # the same experiment, byte for byte: every week's price goes on as planned, from the new models
    assert local.fetch(carried).verified(EXPERIMENT_FILE).read_bytes() == (
        store.fetch(version).verified(EXPERIMENT_FILE).read_bytes()
    )
    week = add_weeks(START, 2)
    client = app_for(local, now=monday(week, 3600)).test_client()
    for product in config.products[:5]:
        body = experiment(client, product.stockcode).get_json()
        assert (body["experiment"]["id"], body["price"]) == (
            config.id,
            price_for(config, product.stockcode, week).price,
        )
    # --end-experiment: the retrain alone goes live, and the experiment mode says there is none
    again = _store_at(store, version)
    done = pricing("publish", "--bundle-dir", str(retrained), "--store", str(again.root), "--end-experiment")
    assert done.returncode == 0 and again.latest() == new, done.stderr[-2000:]
    response = experiment(app_for(again).test_client(), config.products[0].stockcode)
    assert response.status_code == 404 and "experiment" in response.get_json()["error"]


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--start-week", "2026-W60"], "--start-week: 2026-W60 is not a week of 2026"),
        (["--start-week", START, "--holdout", "1.5"], "--holdout: "),
        (["--start-week", START, "--step", "0"], "--step: "),
        (["--start-week", START, "--products", "NO-SUCH-CODE"], "--products: NO-SUCH-CODE not in bundle"),
        (["--start-week", START, "--costs", "/no/such/costs.csv"], "No such file"),
    ],
)
def test_a_start_that_cannot_run_exits_1_with_one_line_and_publishes_nothing(started, arguments, fragment):
    store, _, version = started
    before = sorted(p.name for p in store.root.iterdir())
    done = pricing("experiment", "start", "--store", str(store.root), *arguments)
    assert done.returncode == 1, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and fragment in done.stderr, done.stderr
    assert store.latest() == version and sorted(p.name for p in store.root.iterdir()) == before


def test_a_start_on_a_store_without_a_bundle_exits_1_and_publishes_nothing(tmp_path):
    done = pricing("experiment", "start", "--store", str(tmp_path / "empty"), "--start-week", START)
    assert done.returncode == 1 and len(done.stderr.strip().splitlines()) == 1
    assert "no bundle published" in done.stderr
    assert not (tmp_path / "empty").exists() or not any((tmp_path / "empty").iterdir())


def test_the_openapi_documents_the_mode_and_the_experiment_answer(started, config):
    store, _, _ = started
    client = app_for(store, now=monday(START)).test_client()
    spec = client.get("/openapi.json").get_json()
    names = {p["name"] for p in spec["paths"]["/v1/price-decision/{stockcode}"]["get"]["parameters"]}
    assert {"mode", "experiment", "week"} <= names
    body = experiment(client, config.products[0].stockcode).get_json()
    assert list(body) == spec["components"]["schemas"]["ExperimentAnswer"]["required"]
