"""Cost files as retailers keep them: every row kept or counted under its reason, never fatal."""

import pandas as pd
import pytest

from pricing.artifacts.costs import CostFileError, read_costs

PRODUCTS = pd.Index(["85123A", "22423", "47566", "84879"])


def test_good_rows_are_kept_and_every_bad_row_is_counted_under_its_reason():
    data = (
        b"StockCode,Unit Cost\n"
        b"85123a,1.20\n"  # lower case: the same code
        b"22423,4.5\n"
        b"99999,1.00\n"  # not in the bundle
        b"47566,\n"  # missing
        b"84879,abc\n"  # unparsable
        b"85123A,1.30\n"  # a second row for a code
    )
    costs, report = read_costs(data, PRODUCTS)
    assert dict(zip(costs["stockcode"], costs["unit_cost"], strict=True)) == {"85123A": 1.2, "22423": 4.5}
    assert report["rows_read"] == 6 and report["kept"] == 2
    assert report["dropped"] == {
        "unknown_stockcode": 1,
        "missing_cost": 1,
        "unparsable_cost": 1,
        "non_positive_cost": 0,
        "duplicate_stockcode": 1,
    }
    assert report["examples"]["unknown_stockcode"] == ["99999"] and report["products_without_cost"] == 2


@pytest.mark.parametrize(
    "data",
    [
        "\ufeffstockcode;unit_cost\n85123A;0\n22423;-1\n".replace(";", ",").encode("utf-8"),  # a BOM, as Excel writes
        "stock code,cost\n85123A,0\n22423,-1\n".encode("cp1252"),
    ],
)
def test_headers_and_encodings_people_write_are_read_and_non_positive_costs_dropped(data):
    costs, report = read_costs(data, PRODUCTS)
    assert costs.empty and report["dropped"]["non_positive_cost"] == 2


def test_a_file_without_a_cost_column_is_refused_in_one_line():
    with pytest.raises(CostFileError, match="unit cost column"):
        read_costs(b"stockcode,price\n85123A,2.95\n", PRODUCTS)
