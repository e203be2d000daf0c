"""Cost files as retailers keep them: every row kept or counted under its reason, never fatal; a cost the API
would refuse as `unit_cost` is refused in the API's words; a file that is ambiguous or holds no cost at all is
refused as a whole, so a version without costs is never published."""

import codecs
import gzip
import io

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pricing.artifacts.costs import DROP_REASONS, CostFileError, read_costs
from pricing.config import Settings
from pricing.serving.errors import RequestError
from pricing.serving.request import parse_request
from tests.standins import StandInPredictor

PRODUCTS = pd.Index(["85123A", "22423", "47566", "84879"])
GOOD = {"85123A": 1.2, "22423": 4.5}


def dropped(**counts: int) -> dict:
    return {reason: counts.get(reason, 0) for reason in DROP_REASONS}


def api_error(unit_cost: str) -> str:
    """What the API answers for `?unit_cost=<unit_cost>` (its parser, its words)."""
    with pytest.raises(RequestError) as refused:
        parse_request("85123A", {"unit_cost": unit_cost}, Settings(env="test"), StandInPredictor().default_range)
    return str(refused.value)


def test_good_rows_are_kept_and_every_bad_row_is_counted_under_its_reason():
    data = (
        b"StockCode,Unit Cost\n"
        b"85123a,1.20\n"  # lower case: the same code
        b"22423,4.5\n"
        b"99999,1.00\n"  # not in the bundle
        b"47566,\n"  # missing
        b"84879,abc\n"  # unparsable
        b"85123A,1.30\n"  # a second row for a code
        b",2.00\n"  # no code
    )
    costs, report = read_costs(data, PRODUCTS)
    assert dict(zip(costs["stockcode"], costs["unit_cost"], strict=True)) == GOOD
    assert report["rows_read"] == 7 and report["kept"] == 2
    assert report["dropped"] == dropped(
        unknown_stockcode=1, missing_cost=1, unparsable_cost=1, duplicate_stockcode=1, missing_stockcode=1
    )
    assert report["examples"]["unknown_stockcode"] == ["99999"] and report["products_without_cost"] == 2
    assert report["messages"] == {"unparsable_cost": "unit_cost: not a number: 'abc'"}


@pytest.mark.parametrize("cost", ["100000000000", "5000000", "1000000.01", "0.00001", "0.00004999"])
def test_a_cost_the_api_refuses_as_unit_cost_is_dropped_in_the_apis_words(cost):
    costs, report = read_costs(f"stockcode,unit_cost\n85123A,{cost}\n22423,4.5\n".encode(), PRODUCTS)
    assert list(costs["stockcode"]) == ["22423"]
    assert report["dropped"] == dropped(cost_out_of_bounds=1)
    assert report["messages"] == {"cost_out_of_bounds": api_error(cost)}


@pytest.mark.parametrize("cost", ["0", "-1", "0.0000"])
def test_a_non_positive_cost_is_dropped_in_the_apis_words(cost):
    _, report = read_costs(f"stockcode,unit_cost\n85123A,{cost}\n22423,4.5\n".encode(), PRODUCTS)
    assert report["dropped"] == dropped(non_positive_cost=1)
    assert report["messages"] == {"non_positive_cost": api_error(cost)}


def test_costs_at_the_bounds_are_kept_as_the_api_would_read_them():
    costs, _ = read_costs(b"stockcode,unit_cost\n85123A,0.0001\n22423,1000000\n47566,1.23456\n", PRODUCTS)
    assert dict(zip(costs["stockcode"], costs["unit_cost"], strict=True)) == {
        "85123A": 0.0001,
        "22423": 1_000_000.0,
        "47566": 1.2346,  # rounded to the response's 4 decimals, as `?unit_cost=1.23456` is
    }


@pytest.mark.parametrize(
    ("header", "columns"),
    [
        ("stockcode,cost,unit_cost", "'cost' and 'unit_cost'"),
        ("stockcode,Unit Cost,cost_price", "'Unit Cost' and 'cost_price'"),
        ("StockCode,code,unit_cost", "'StockCode' and 'code'"),
    ],
)
def test_a_header_with_two_cost_or_code_columns_is_refused_naming_both(header, columns):
    with pytest.raises(CostFileError, match=f"^ambiguous header: columns {columns} could each be"):
        read_costs(f"{header}\n85123A,12,1\n".encode(), PRODUCTS)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"stockcode,unit_cost\n", "^no rows under the header: the file holds no costs$"),
        (b"stockcode,unit_cost\n\n \n", "^no rows under the header"),
        (b"stockcode,unit_cost\nNOPE,1\n", "^no row holds a usable cost: 1 read, dropped unknown_stockcode 1$"),
        (
            b"stockcode,unit_cost\n85123A,5000000\n22423,0\n",
            r"^no row holds a usable cost: 2 read, dropped non_positive_cost 1, cost_out_of_bounds 1 "
            r"\(unit_cost: must be a positive price; unit_cost: must be at most 1e\+06\)$",
        ),
        (b"", "^the file is empty"),
    ],
)
def test_a_file_that_leaves_no_cost_is_refused_so_nothing_is_published(data, message):
    with pytest.raises(CostFileError, match=message):
        read_costs(data, PRODUCTS)


def test_a_file_without_a_cost_column_is_refused_in_one_line():
    with pytest.raises(CostFileError, match="unit cost column"):
        read_costs(b"stockcode,price\n85123A,2.95\n", PRODUCTS)


def test_a_row_with_an_extra_field_is_counted_not_a_tokenizer_error():
    data = b"stockcode,unit_cost\n85123A,1.2,oops\n22423,4.5\n47566,1.1,\n"
    costs, report = read_costs(data, PRODUCTS)
    assert list(costs["stockcode"]) == ["22423"]
    assert report["dropped"] == dropped(malformed_row=2) and report["rows_read"] == 3
    assert report["messages"] == {"malformed_row": "line 2: 3 fields where the header has 2"}


def test_an_over_long_cell_is_its_rows_problem():
    """Cells beyond the csv module's default limit (131,072 characters) stop nothing but their row."""
    huge, code = "9" * 200_000, "X" * 200_000
    data = f"stockcode,unit_cost\n85123A,{huge}\n{code},1\n22423,4.5\n".encode()
    costs, report = read_costs(data, PRODUCTS)
    assert list(costs["stockcode"]) == ["22423"]
    assert report["dropped"] == dropped(unparsable_cost=1, unknown_stockcode=1)
    assert report["messages"] == {"unparsable_cost": api_error(huge)}  # beyond float: "must be finite"
    assert report["examples"]["unknown_stockcode"] == ["X" * 40]  # the report does not carry the cell


def workbook(sheets: dict[str, pd.DataFrame]) -> bytes:
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return buffer.getvalue()


TEXT = "StockCode,Unit Cost\n85123A,1.20\n22423,4.5\n"
FORMS = {
    "utf-8": TEXT.encode(),
    "utf-8 with a BOM": codecs.BOM_UTF8 + TEXT.encode(),
    "cp1252, semicolons, CRLF": "StockCode;Unit Cost;Note\r\n85123A;1.20;CAFÉ £\r\n22423;4.5;\r\n".encode("cp1252"),
    "utf-16 with a BOM, tab separated (Excel's Unicode Text)": TEXT.replace(",", "\t").encode("utf-16"),
    "utf-16-le without a BOM": TEXT.encode("utf-16-le"),
    "utf-16-be without a BOM": TEXT.encode("utf-16-be"),
    "gzipped": gzip.compress(TEXT.encode()),
    "gzipped utf-16": gzip.compress(TEXT.encode("utf-16")),
    "xlsx": workbook({"Sheet1": pd.DataFrame({"StockCode": ["85123A", 22423], "Unit Cost": [1.2, 4.5]})}),
    "xlsx, costs on the second sheet": workbook(
        {
            "Notes": pd.DataFrame({"note": ["costs from the supplier's list"]}),
            "Costs": pd.DataFrame({"stockcode": ["85123A", "22423"], "cost": [1.2, 4.5]}),
        }
    ),
    "parquet": pd.DataFrame({"stockcode": ["85123A", "22423"], "unit_cost": [1.2, 4.5]}).to_parquet(),
}


@pytest.mark.parametrize("form", FORMS)
def test_the_forms_people_produce_are_read_alike(form):
    costs, report = read_costs(FORMS[form], PRODUCTS)
    assert dict(zip(costs["stockcode"], costs["unit_cost"], strict=True)) == GOOD, report
    assert report["rows_read"] == 2 and report["dropped"] == dropped()
    if form.startswith("cp1252"):
        assert report["read_as"] == {"format": "csv", "encoding": "cp1252", "delimiter": ";"}


def test_a_workbooks_cells_are_read_as_plain_decimals():
    """Excel keeps 0.00001 as a float whose str() is 1e-05: read as the API reads `0.00001`, not as unparsable."""
    data = workbook({"c": pd.DataFrame({"stockcode": ["85123A", 22423.0], "unit_cost": [0.00001, 4.5]})})
    costs, report = read_costs(data, PRODUCTS)
    assert list(costs["stockcode"]) == ["22423"]
    assert report["messages"] == {"cost_out_of_bounds": api_error("0.00001")} and report["read_as"]["sheet"] == "c"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 64, r"\.xls\) is not read: save it as \.xlsx or CSV"),
        (b"PK\x03\x04 not really a workbook", "^not a readable xlsx workbook"),
        (b"\x1f\x8b\x08\x00 truncated", "^not a readable gzip file"),
    ],
)
def test_files_that_are_none_of_the_forms_are_refused_in_one_line(data, message):
    with pytest.raises(CostFileError, match=message) as refused:
        read_costs(data, PRODUCTS)
    assert "\n" not in str(refused.value)


cells = st.one_of(
    st.sampled_from(["85123A", "22423", "47566", "84879", "99999", "", " 85123a "]),
    st.text(max_size=8),
)
costs_text = st.one_of(
    st.sampled_from(["1.2", "0", "-1", "", "abc", "1e3", "5000000", "0.00001", "1000000", "0.0001", "2.50"]),
    st.text(max_size=8),
)


@settings(max_examples=200, deadline=None)
@given(rows=st.lists(st.tuples(cells, costs_text, st.booleans()), min_size=1, max_size=12))
def test_every_row_is_accounted_for_and_every_kept_cost_is_one_the_api_accepts(rows):
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["stockcode", "unit_cost"])
    for code, cost, extra in rows:
        writer.writerow([code, cost, "x"] if extra else [code, cost])
    try:
        costs, report = read_costs(buffer.getvalue().encode(), PRODUCTS)
    except CostFileError as exc:  # refused as a whole only when no row holds a usable cost
        assert str(exc).startswith(("no row holds a usable cost", "no rows under the header")), exc
        return
    assert report["rows_read"] == report["kept"] + sum(report["dropped"].values())
    assert report["kept"] == len(costs) >= 1 and costs["stockcode"].is_unique
    for cost in costs["unit_cost"]:
        parse_request("85123A", {"unit_cost": repr(cost)}, Settings(env="test"), StandInPredictor().default_range)
