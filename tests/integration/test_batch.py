"""Batch pricing: S3 ObjectCreated events end to end against moto's S3 server, and `pricing batch` locally.
Bad rows are reported in the output beside the good ones, never fatal."""

import csv
import io
import json
import time
import uuid

import pytest

from pricing.cli import main
from pricing.config import Settings
from pricing.serving import batch, events
from pricing.serving.app import create_app
from pricing.serving.state import service_of
from tests.integration.test_events_http import json_logging, json_logs, lambda_context  # noqa: F401  (fixtures)
from tests.servers import make_bucket

pytestmark = pytest.mark.usefixtures("json_logging")


@pytest.fixture(scope="module")
def app(store):
    return create_app(Settings(env="test", artifact_store=str(store.root)))


@pytest.fixture(scope="module")
def products(app):
    return service_of(app).predictor.products.sort_values("lines", ascending=False)


@pytest.fixture(scope="module")
def default_range(app):
    return service_of(app).predictor.default_range


@pytest.fixture
def handler(app, s3_env):
    # built inside the test so its S3 client is made against the moto server s3_env points boto3 at
    return events.lambda_handler(app, events.json_logger("INFO"), events.emf_metrics())


def upload_csv(products) -> bytes:
    """Good rows, and each kind of bad row the job must report without stopping (line numbers are 2-based)."""
    first, second, third = products.index[:3]
    low, high = float(products.loc[second, "price_min"]), float(products.loc[second, "price_max"]) * 1.5
    lines = [
        "StockCode,Unit Price Min,unitprice_max,num_price_bins,note",  # header variants; `note` is ignored
        f"{first},,,,default range",  # line 2: ok
        f"{second},{low},{high},12,explicit range",  # line 3: ok
        "NO-SUCH-CODE,,,,",  # line 4: unknown stockcode
        f"{third},cheap,,,",  # line 5: not a number
        f"{third},5,2,,",  # line 6: min above max
        ",,,,missing stockcode",  # line 7: no stockcode
        f"{third},,,1,",  # line 8: bins out of bounds
        f"{third},,,,,one field too many",  # line 9: more fields than the header
        f"{first},,,,default range again",  # line 10: ok (the same request as line 2, priced once)
        "=HYPERLINK(1),,,,",  # line 11: unknown, and must not become a spreadsheet formula
        f"{third},0.00000001,,,",  # line 12: a price the curve would report as 0
    ]
    return ("\n".join(lines) + "\n").encode()


EXPECTED_ERRORS = {
    4: "unknown stockcode 'NO-SUCH-CODE'",
    5: "unitprice_min: not a number: 'cheap'",
    6: "unitprice_min (5) must be below unitprice_max (2)",
    7: "stockcode: missing",
    8: "num_price_bins: must be within 2..500, got 1",
    9: "6 fields where the header has 5",
    11: "unknown stockcode '=HYPERLINK(1)'",
    12: "unitprice_min: must be at least 0.0001 (prices are reported to 4 decimals)",
}


def s3_event(bucket: str, key: str, event_name: str = "ObjectCreated:Put") -> dict:
    """S3 notification (AWS's sample `s3-notification`); keys arrive URL-encoded, spaces as '+'."""
    return {
        "Records": [
            {
                "eventVersion": "2.1",
                "eventSource": "aws:s3",
                "awsRegion": "us-east-1",
                "eventTime": "2026-11-22T03:00:00.000Z",
                "eventName": event_name,
                "userIdentity": {"principalId": "AWS:AIDAINPONIXQXHT3IKHL2"},
                "requestParameters": {"sourceIPAddress": "205.255.255.255"},
                "responseElements": {"x-amz-request-id": "D82B88E5F771F645", "x-amz-id-2": "vlR7PnpV2Ce81l0PRw6jlUpck"},
                "s3": {
                    "s3SchemaVersion": "1.0",
                    "configurationId": "batch-trigger",
                    "bucket": {
                        "name": bucket,
                        "ownerIdentity": {"principalId": "A3I5XTEXAMAI3E"},
                        "arn": f"arn:aws:s3:::{bucket}",
                    },
                    "object": {
                        "key": key.replace(" ", "+"),
                        "size": 1305107,
                        "eTag": "b21b84d653bb07b05b1e6b33684dc11b",
                        "sequencer": "0C0F6F405D6ED209E1",
                    },
                },
            }
        ]
    }


def check_results(results: list[dict], products, default_range) -> None:
    by_line = {r["line"]: r for r in results}
    assert sorted(by_line) == list(range(2, 13))
    assert {line: r["error"] for line, r in by_line.items() if r["status"] == "error"} == EXPECTED_ERRORS
    ok = [r for r in results if r["status"] == "ok"]
    assert [r["line"] for r in ok] == [2, 3, 10]
    for row in ok:
        assert row["unitprice_min"] <= row["optimal_unit_price"] <= row["unitprice_max"]
        assert row["max_predicted_sales"] > 0 and row["model"] == "network"
    assert by_line[3]["num_price_bins"] == 12 and by_line[2]["num_price_bins"] == 100
    # a blank range is the API's default: the product's list prices widened by the sweep band
    assert (by_line[2]["unitprice_min"], by_line[2]["unitprice_max"]) == default_range(by_line[2]["stockcode"])
    assert {k: v for k, v in by_line[10].items() if k != "line"} == {k: v for k, v in by_line[2].items() if k != "line"}


def test_an_uploaded_csv_is_priced_into_batch_out_as_json_and_csv(handler, products, default_range, json_logs, capsys):  # noqa: F811
    bucket = f"batch-{uuid.uuid4().hex[:12]}"
    client = make_bucket(bucket)
    client.put_object(Bucket=bucket, Key="batch/in/weekly prices.csv", Body=upload_csv(products))

    result = handler(s3_event(bucket, "batch/in/weekly prices.csv"), lambda_context("req-batch"))

    (summary,) = result["batch"]
    assert (summary["rows"], summary["rows_ok"], summary["rows_failed"]) == (11, 3, 8)
    report = json.loads(client.get_object(Bucket=bucket, Key="batch/out/weekly prices.json")["Body"].read())
    assert report["source"] == f"s3://{bucket}/batch/in/weekly prices.csv"
    assert report["ignored_columns"] == ["note"]
    check_results(report["results"], products, default_range)
    table = client.get_object(Bucket=bucket, Key="batch/out/weekly prices.csv")
    assert table["ContentType"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(table["Body"].read().decode())))
    assert [int(r["line"]) for r in rows] == list(range(2, 13))
    assert [r["status"] for r in rows].count("ok") == 3
    assert rows[-2]["stockcode"] == "'=HYPERLINK(1)"  # inert text in a spreadsheet
    assert any(line.get("function_request_id") == "req-batch" for line in json_logs())
    emf = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line.startswith('{"_aws"')]
    assert emf[-1]["BatchRows"] == [11.0] and emf[-1]["BatchRowsFailed"] == [8.0]


def test_a_file_that_is_not_a_batch_table_gets_a_report_saying_why_and_the_invocation_succeeds(handler):
    bucket = f"batch-{uuid.uuid4().hex[:12]}"
    client = make_bucket(bucket)
    client.put_object(Bucket=bucket, Key="batch/in/orders.csv", Body=b"invoice,quantity\n536365,6\n")
    (summary,) = handler(s3_event(bucket, "batch/in/orders.csv"), lambda_context())["batch"]
    assert summary["error"].startswith("no stockcode column in the header")
    report = json.loads(client.get_object(Bucket=bucket, Key="batch/out/orders.json")["Body"].read())
    assert report["error"] == summary["error"] and report["results"] == []


def test_objects_outside_batch_in_or_not_csv_are_skipped_and_nothing_is_written(handler):
    bucket = f"batch-{uuid.uuid4().hex[:12]}"
    client = make_bucket(bucket)
    client.put_object(Bucket=bucket, Key="batch/in/notes.txt", Body=b"x")
    client.put_object(Bucket=bucket, Key="bundles/LATEST", Body=b"v1\n")
    result = handler(
        {
            "Records": [
                *s3_event(bucket, "batch/in/notes.txt")["Records"],
                *s3_event(bucket, "bundles/LATEST")["Records"],
            ]
        },
        lambda_context(),
    )
    assert [r.get("skipped") for r in result["batch"]] == ["not a new batch/in/*.csv object"] * 2
    assert client.list_objects_v2(Bucket=bucket, Prefix="batch/out/")["KeyCount"] == 0


def test_rows_past_the_deadline_are_reported_not_lost(app, products):
    service = service_of(app)
    rows, _ = batch.read_rows(f"stockcode\n{products.index[0]}\n{products.index[1]}\n")
    results = batch.price_rows(service.predictor, service.settings, rows, deadline=time.monotonic() - 1)
    assert [r["error"] for r in results] == ["not priced: out of time; split the file"] * 2


def test_the_csv_carries_the_decision_with_its_rules_as_columns(app, products):
    """A profit row with a 10% max change: the decision's columns are filled, the rule respected and named when
    it binds; a row with rules that admit no price is an error naming them, beside it."""
    service = service_of(app)
    code = products.index[0]
    cost = round(float(products.loc[code, "price_median"]) * 0.4, 2)
    low = float(products.loc[code, "price_min"])
    text = (
        f"stockcode,objective,unit_cost,max_change,floor,ceiling\n{code},profit,{cost},0.1,,\n"
        f"{code},,,,{low * 1.5:.2f},{low * 1.2:.2f}\n"  # both inside the range, the floor above the ceiling
    )
    rows, _ = batch.read_rows(text)
    report = batch.BatchReport(
        "test", service.predictor.version, batch.price_rows(service.predictor, service.settings, rows)
    )
    table = list(csv.DictReader(io.StringIO(report.to_csv().decode())))
    good, bad = table
    assert good["status"] == "ok" and good["objective_used"] == "profit" and float(good["unit_cost_used"]) == cost
    current, recommended = float(good["current_price"]), float(good["optimal_unit_price"])
    assert abs(recommended / current - 1) <= 0.1 + 1e-6
    assert good["decision"] in ("change", "hold", "test") and good["current_price_date"]
    # a test's plan in its columns, none for change or hold
    assert (good["test_arms"] != "") == (good["decision"] == "test")
    assert float(good["price_interval_low"]) <= recommended <= float(good["price_interval_high"])
    assert float(good["price_to_set"]) == (recommended if good["decision"] == "change" else current)
    assert bad["status"] == "error" and "floor" in bad["error"] and "ceiling" in bad["error"]


@pytest.mark.parametrize(
    ("key", "outputs"),
    [
        ("batch/in/a.csv", ("batch/out/a.json", "batch/out/a.csv")),
        ("batch/in/2026/w47.CSV", ("batch/out/2026/w47.json", "batch/out/2026/w47.csv")),
        ("batch/out/a.csv", None),
        ("batch/in/.csv", None),
        ("batch/in/a.json", None),
    ],
)
def test_output_keys_mirror_the_input_name_under_batch_out(key, outputs):
    assert batch.output_keys(key) == outputs


def test_the_cli_runs_the_same_job_on_local_files(store, products, default_range, tmp_path, capsys):
    source = tmp_path / "prices.csv"
    source.write_bytes(upload_csv(products))
    out = tmp_path / "out" / "prices.json"
    started = time.perf_counter()
    assert main(["batch", "--store", str(store.root), "--in", str(source), "--out", str(out)]) == 0
    elapsed = time.perf_counter() - started
    report = json.loads(out.read_text())
    check_results(report["results"], products, default_range)
    assert len(list(csv.DictReader(out.with_suffix(".csv").open()))) == 11
    assert "priced 3 of 11 rows (8 reported as errors)" in capsys.readouterr().out
    print(f"\n[measure] pricing batch, 11 rows incl. bundle load: {elapsed:.2f} s")


def test_the_cli_refuses_an_unreadable_file_with_one_line(store, tmp_path, capsys):
    source = tmp_path / "orders.csv"
    source.write_text("invoice,quantity\n1,2\n")
    assert main(["batch", "--store", str(store.root), "--in", str(source), "--out", str(tmp_path / "o.json")]) == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("pricing batch: error: no stockcode column") and "\n" not in error


def test_batch_throughput_on_the_quick_bundle(app, products):
    """A measurement for the deployment notes (rows per second): every row priced, in order, each with what the
    API answers for its product (checked on three of them)."""
    service = service_of(app)
    codes = list(products.index[:60])
    rows, _ = batch.read_rows("stockcode\n" + "\n".join(codes) + "\n")
    started = time.perf_counter()
    results = batch.price_rows(service.predictor, service.settings, rows)
    elapsed = time.perf_counter() - started
    assert [(r["line"], r["stockcode"], r["status"]) for r in results] == [
        (line, code, "ok") for line, code in enumerate(codes, start=2)
    ]
    client = app.test_client()
    for result in results[::25]:
        curve = client.get(f"/v1/predict-price/{result['stockcode']}").get_json()
        assert result["optimal_unit_price"] == curve[0]["optimal_unit_price"], result["stockcode"]
    print(
        f"\n[measure] batch: {len(codes)} distinct rows (100 bins x 1000 contexts) in {elapsed:.2f} s "
        f"= {len(codes) / elapsed:.1f} rows/s"
    )
