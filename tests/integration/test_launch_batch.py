"""`pricing launch` through the real CLI on the session's quick bundle (issue 26, Build 1): a file of new products
gets, row for row, the launch decision GET /v1/launch-decision's function gives for the same request, a
description matching nothing gets no_similar_product and a bad row an error in the API's words, with the summary
counting them."""

import csv
import io
import json
import subprocess
import sys

import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.serving import launch
from pricing.serving.predictor import Predictor
from pricing.serving.request import parse_launch

SAMPLES = 200  # held-out contexts per neighbour curve, in the CLI and the direct call alike


@pytest.fixture(scope="module")
def predictor(quick_bundle):
    return Predictor(open_bundle(quick_bundle, lazy_models=True))


@pytest.fixture(scope="module")
def look_alikes(predictor) -> list[str]:
    """Two best sellers' descriptions made into a new product's ("LARGE " before them) that still find the best
    seller among their neighbours."""
    index = launch.catalogue_index(predictor)
    products = predictor.products.sort_values("lines", ascending=False)
    found = []
    for code in products.index[:50]:
        description = f"LARGE {products.loc[code, 'description']}"
        if code in {n.stockcode for n in index.nearest(description)}:
            found.append(description)
        if len(found) == 2:
            return found
    pytest.fail("fewer than 2 of the quick bundle's 50 best sellers find themselves from a look-alike description")


@pytest.fixture(scope="module")
def launched(quick_bundle, look_alikes, tmp_path_factory):
    """The CLI on a 4-row file: two look-alikes (one with a unit cost, one with a reference price), gibberish, a
    bad unit_cost. (rows as written, the summary printed, the JSON report, the CSV's rows)."""
    folder = tmp_path_factory.mktemp("launch")
    rows = [
        {"New SKU": "NEW-1", "description": look_alikes[0], "unit_cost": "0.80", "reference_price": ""},
        {"New SKU": "NEW-2", "description": look_alikes[1], "unit_cost": "", "reference_price": "2.50"},
        {"New SKU": "NEW-3", "description": "XYZZY QWERTY PLUGH", "unit_cost": "1.00", "reference_price": ""},
        {"New SKU": "NEW-4", "description": "RED RETROSPOT MUG", "unit_cost": "abc", "reference_price": ""},
    ]
    source = folder / "new products.csv"
    with source.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=["New SKU", "Description", "Unit Cost", "reference_price"])
        writer.writeheader()
        for row in rows:
            writer.writerow(dict(zip(writer.fieldnames, row.values(), strict=True)))
    out = folder / "out" / "launch.json"
    command = [sys.executable, "-m", "pricing", "launch", "--in", str(source), "--out", str(out)]
    command += ["--bundle-dir", str(quick_bundle), "--samples", str(SAMPLES)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(out.read_text())
    table = list(csv.DictReader(io.StringIO(out.with_suffix(".csv").read_text(), newline="")))
    return rows, json.loads(done.stdout), report, table


def test_each_row_gets_the_launch_decision_the_api_function_gives_it(predictor, launched):
    rows, _, report, table = launched
    assert (
        [r["input"]["New SKU"] for r in report["results"]]
        == [r["New SKU"] for r in table]
        == ["NEW-1", "NEW-2", "NEW-3", "NEW-4"]
    )
    assert [r["line"] for r in report["results"]] == [2, 3, 4, 5]
    for row, result, written in zip(rows[:2], report["results"][:2], table[:2], strict=True):
        request = parse_launch(row)
        direct = launch.to_json(launch.launch_decision(predictor, request, samples=SAMPLES))
        assert result["decision"] == written["decision"] == "test"
        assert result["recommended"]["price"] == direct["recommended"]["price"]
        assert result["interval"]["price"] == direct["interval"]["price"]
        assert [n["stockcode"] for n in result["neighbours"]] == [n["stockcode"] for n in direct["neighbours"]]
        # the report leaves the curves to the API: about 50 KB a row with them
        assert "curve" not in result and direct["curve"] and not any("units" in n for n in result["neighbours"])
        # the CSV's columns are the body's figures
        assert float(written["launch_price"]) == direct["recommended"]["price"]
        low, high = direct["interval"]["price"]
        assert (float(written["interval_low"]), float(written["interval_high"])) == (low, high)
        assert float(written["reference_price"]) == direct["reference"]["price"]
        assert written["reference_source"] == direct["reference"]["source"]
        assert float(written["probability_beats_reference"]) == direct["probability_beats_reference"]
        assert [float(a) for a in written["arms"].split(";")] == direct["test"]["arms"]
        assert float(written["expected_test_cost"]) == direct["test"]["expected_cost"]
        assert written["neighbours"].split(";") == [
            f"{n['stockcode']}:{n['similarity']:.4f}" for n in direct["neighbours"]
        ]
    assert report["results"][0]["objective"] == "profit" and report["results"][0]["unit_cost"] == 0.8
    assert report["results"][1]["reference"] == {"price": 2.5, "source": "query"}


def test_gibberish_finds_no_similar_product_and_a_bad_row_names_its_parameter(launched):
    _, summary, report, table = launched
    nothing, bad = report["results"][2], report["results"][3]
    assert nothing["decision"] == table[2]["decision"] == "no_similar_product" and nothing["closest"] is not None
    assert table[2]["launch_price"] == "" and table[2]["decision_reason"].startswith("no product of the bundle")
    assert bad["decision"] == table[3]["decision"] == "error"
    assert bad["error"] == table[3]["error"] == "unit_cost: not a number: 'abc'"
    assert {k: summary[k] for k in ("rows", "priced", "no_similar", "errors", "errors_by_reason")} == {
        "rows": 4,
        "priced": 2,
        "no_similar": 1,
        "errors": 1,
        "errors_by_reason": {"unit_cost": 1},
    }
    assert {k: report[k] for k in summary if k != "outputs"} == {k: v for k, v in summary.items() if k != "outputs"}
