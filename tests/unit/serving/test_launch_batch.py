"""`pricing launch`'s file handling (pricing.serving.launch_batch) without a bundle: headers matched like `pricing
batch`'s with every other column carried through, bad rows reported in the API's words beside the good ones, the
encodings and forms read alike, a file refused as a whole writing nothing.

The unit tier has no trained bundle (tests/conftest.py refuses one here), so the rows are decided by `decide`
below: the real no_similar_json over a real SimilarityIndex for a description matching nothing, else a body of
launch.to_json's shape whose figures are read off the request. tests/integration/test_launch_batch.py runs the
real decision through the real CLI and checks the CSV's columns against launch.to_json."""

import csv
import io
import os

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.cli import main
from pricing.serving import batch
from pricing.serving.batch import BatchFileError
from pricing.serving.errors import NoContexts
from pricing.serving.launch import SimilarityIndex, no_similar_json
from pricing.serving.launch_batch import (
    OUTPUT_COLUMNS,
    LaunchReport,
    launch_rows,
    read_launch_file,
    write_report,
)
from pricing.serving.request import LaunchRequest

INDEX = SimilarityIndex(
    ["M1", "M2", "H1"], ["RED RETROSPOT MUG", "BLUE RETROSPOT MUG", "WHITE HANGING HEART T-LIGHT HOLDER"]
)


KNOWN_COUNTRIES = {"United Kingdom", "France"}
decided: list[LaunchRequest] = []  # every request `decide` was asked, in order


def decide(request: LaunchRequest) -> dict:
    """A launch answer for `request`: no_similar_json when nothing is similar, else to_json's shape at a price
    read off the request (its reference price, else 2.00) so a row's answer can be traced to the row. A country
    outside KNOWN_COUNTRIES raises NoContexts, as the Predictor does for a country without held-out contexts."""
    decided.append(request)
    if request.country is not None and request.country not in KNOWN_COUNTRIES:
        raise NoContexts(f"no held-out context matches country {request.country!r}")
    neighbours = INDEX.nearest(request.description)
    if not neighbours:
        return no_similar_json(request, INDEX)
    price = request.reference_price or 2.0
    return {
        "description": request.description,
        "decision": "test",
        "decision_reason": "a new product",
        "recommended": {"price": price},
        "interval": {"price": [round(price * 0.8, 2), round(price * 1.2, 2)]},
        "reference": {"price": price, "source": "query" if request.reference_price else "neighbours_median"},
        "probability_beats_reference": 0.5,
        "test": {"arms": [round(price * 0.9, 2), price, round(price * 1.1, 2)], "expected_cost": 1.5},
        "neighbours": [{"stockcode": n.stockcode, "similarity": round(n.similarity, 4)} for n in neighbours],
    }


def report_of(data: bytes) -> LaunchReport:
    table = read_launch_file(data)
    return LaunchReport("test", "v1", table.carried, launch_rows(table.rows, decide, progress=False), table.read_as)


def csv_rows(report: LaunchReport) -> list[dict]:
    return list(csv.DictReader(io.StringIO(report.to_csv().decode(), newline="")))


def test_headers_match_like_batch_and_every_other_column_is_carried_through_unchanged():
    data = (
        b"New SKU,Description,Unit-Cost,REFERENCE PRICE,note\n"
        b"SKU-001,GREEN RETROSPOT MUG,1.20,3.50,first\n"
        b"SKU-002,PINK HANGING HEART T-LIGHT HOLDER,,, second \n"
    )
    table = read_launch_file(data)
    assert table.carried == ["New SKU", "note"]
    assert table.rows[0].values == {
        "description": "GREEN RETROSPOT MUG",
        "unit_cost": "1.20",
        "reference_price": "3.50",
    }
    assert [r.carried for r in table.rows] == [
        {"New SKU": "SKU-001", "note": "first"},
        {"New SKU": "SKU-002", "note": " second "},  # unchanged: not even stripped
    ]
    rows = csv_rows(report_of(data))
    assert list(rows[0]) == ["New SKU", "note", *OUTPUT_COLUMNS]
    assert [(r["New SKU"], r["note"], r["line"]) for r in rows] == [
        ("SKU-001", "first", "2"),
        ("SKU-002", " second ", "3"),
    ]
    first = rows[0]
    assert first["decision"] == "test" and first["launch_price"] == "3.5" and first["reference_source"] == "query"
    assert (first["interval_low"], first["interval_high"]) == ("2.8", "4.2")
    assert first["arms"] == "3.15;3.50;3.85" and first["neighbours"].startswith("M1:0.")
    # the same file separated by semicolons reads the same
    assert read_launch_file(data.replace(b",", b";")).rows == table.rows


def test_a_near_miss_of_a_parameter_or_an_output_columns_name_refuses_the_header():
    with pytest.raises(BatchFileError, match="descripton: unknown parameter; did you mean description"):
        read_launch_file(b"sku,descripton\nA,RED MUG\n")
    with pytest.raises(BatchFileError, match="'Decision' has the name of the output's 'decision' column"):
        read_launch_file(b"description,Decision\nRED MUG,x\n")
    with pytest.raises(BatchFileError, match="description: given more than once"):
        read_launch_file(b"description,Description\nRED MUG,RED MUG\n")


def test_bad_rows_become_error_rows_naming_the_parameter_while_the_good_rows_are_priced():
    data = (
        b"sku,description,unit_cost,country\n"
        b"A,GREEN RETROSPOT MUG,1.00,\n"  # line 2: priced
        b"B,,1.00,\n"  # line 3: empty description
        b"C,GREEN RETROSPOT MUG,abc,\n"  # line 4: unit_cost not a number
        b"D,MUG,1.00,\n"  # line 5: one word
        b"E,XYZZY QWERTY PLUGH,,\n"  # line 6: nothing similar
        b"F,RED HANGING HEART T-LIGHT HOLDER,0.5,,extra\n"  # line 7: more fields than the header
        b"G,GREEN RETROSPOT MUG,1.00,\n"  # line 8: priced (the same request as line 2)
        b"H,GREEN RETROSPOT MUG,1.00,Narnia\n"  # line 9: a country without held-out contexts
        b"I,GREEN RETROSPOT MUG,1.00,Narnia\n"  # line 10: the same
    )
    decided.clear()
    report = report_of(data)
    got = [(r["line"], r["input"]["sku"], r["decision"], r.get("error_reason")) for r in report.results]
    assert got == [
        (2, "A", "test", None),
        (3, "B", "error", "description"),
        (4, "C", "error", "unit_cost"),
        (5, "D", "error", "description"),
        (6, "E", "no_similar_product", None),
        (7, "F", "error", "malformed_row"),
        (8, "G", "test", None),
        (9, "H", "error", "country"),
        (10, "I", "error", "country"),
    ]
    assert len(decided) == 3  # lines 2 and 8 are one request, 9 and 10 another: each decided once
    errors = {r["line"]: r["error"] for r in report.results if r["decision"] == "error"}
    assert errors[3].startswith("description: missing")
    assert errors[4] == "unit_cost: not a number: 'abc'"
    assert errors[5].startswith("description: 'MUG' has 1 word(s)")
    assert errors[7] == "5 fields where the header has 4"
    assert errors[9] == errors[10] == "country: no held-out context matches country 'Narnia'"  # error_message's
    assert report.results[4]["closest"]["stockcode"] in {"M1", "M2", "H1"}  # no_similar_json's body, whole
    summary = report.summary()
    assert (summary["rows"], summary["priced"], summary["no_similar"], summary["errors"]) == (9, 2, 1, 6)
    assert summary["errors_by_reason"] == {"country": 2, "description": 2, "malformed_row": 1, "unit_cost": 1}
    rows = csv_rows(report)
    assert [r["decision"] for r in rows] == [r["decision"] for r in report.results]
    assert rows[2]["error"] == "unit_cost: not a number: 'abc'" and rows[2]["launch_price"] == ""
    assert rows[4]["decision_reason"].startswith("no product of the bundle has a description similar")


def test_a_cp1252_file_and_a_utf8_file_with_a_bom_read_the_same():
    text = "Référence,description,unit_cost\nCAFÉ-1,CRÈME RETROSPOT MUG £,1.20\nNOËL,BLUE RETROSPOT MUGS,0.80\n"
    cp1252 = read_launch_file(text.encode("cp1252"))
    utf8_bom = read_launch_file(b"\xef\xbb\xbf" + text.encode("utf-8"))
    assert cp1252.rows == utf8_bom.rows and cp1252.carried == utf8_bom.carried == ["Référence"]
    assert cp1252.rows[0].values["description"] == "CRÈME RETROSPOT MUG £"
    assert (cp1252.read_as["encoding"], utf8_bom.read_as["encoding"]) == ("cp1252", "utf-8-sig")


def test_an_xlsx_workbook_reads_as_its_csv(tmp_path):
    frame = pd.DataFrame(
        {"sku": ["A1", "B2"], "Description": ["GREEN RETROSPOT MUG", "RED MUG"], "unit cost": [1.2, 3]}
    )
    path = tmp_path / "new.xlsx"
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        pd.DataFrame({"notes": ["not this sheet"]}).to_excel(writer, sheet_name="readme", index=False)
        frame.to_excel(writer, sheet_name="products", index=False)
    from_workbook = read_launch_file(path.read_bytes())
    from_csv = read_launch_file(b"sku,Description,unit cost\nA1,GREEN RETROSPOT MUG,1.2\nB2,RED MUG,3\n")
    assert from_workbook.rows == from_csv.rows and from_workbook.read_as == {"format": "xlsx", "sheet": "products"}


def test_a_file_without_a_description_column_is_refused_and_writes_nothing(tmp_path, capsys):
    source = tmp_path / "new.csv"
    source.write_text("sku,name,unit_cost\nA,RED MUG,1.00\n")
    out = tmp_path / "out" / "launch.json"
    assert main(["launch", "--in", str(source), "--out", str(out)]) == 2
    printed = capsys.readouterr()
    assert "no description column in the header (sku, name, unit_cost)" in printed.err and printed.out == ""
    assert not out.parent.exists()
    # nor does a file over the batch job's size limit (checked before anything is decoded)
    with pytest.raises(BatchFileError, match="the limit is"):
        read_launch_file(b"description\n" + b"A B\n" * (batch.MAX_FILE_BYTES // 4 + 1))


def test_no_output_is_half_written_when_writing_fails(tmp_path):
    report = report_of(b"sku,description\nA,GREEN RETROSPOT MUG\n")
    out = tmp_path / "launch.json"
    write_report(report, out)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    assert set(before) == {"launch.json", "launch.csv"}
    umask = os.umask(0o022)
    os.umask(umask)
    assert {p.stat().st_mode & 0o777 for p in tmp_path.iterdir()} == {0o666 & ~umask}  # as a plain write leaves it
    broken = LaunchReport("test", "v2", ["sku"], [{"line": 2, "decision": "test"}])  # no carried cells: to_csv fails
    with pytest.raises(KeyError):
        write_report(broken, out)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # the last whole outputs, no temporaries


def test_a_cell_that_would_be_a_formula_is_written_as_text():
    rows = csv_rows(report_of(b"sku,description\n=HYPERLINK(1),=GREEN RETROSPOT MUG\n"))
    assert rows[0]["sku"] == "'=HYPERLINK(1)" and rows[0]["description"] == "'=GREEN RETROSPOT MUG"


cells = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(st.tuples(cells, cells, cells), min_size=1, max_size=12), delimiter=st.sampled_from(",;\t"))
def test_every_row_gives_one_output_row_in_order_with_its_carried_cells_unchanged(rows, delimiter):
    """Whatever the cells (blank, quotes, separators, newlines, a description or not), every non-blank input row
    is one output row, in order, its carried cells as written (a cell a spreadsheet would run as a formula
    behind a quote, batch.spreadsheet_cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)  # "\r\n" lines: a cell holding either is quoted
    writer.writerow(["id", "description", "Note"])
    writer.writerows(rows)
    kept = [row for row in rows if any(cell.strip() for cell in row)]
    output = csv_rows(report_of(buffer.getvalue().encode()))
    safe = batch.spreadsheet_cell
    assert [(r["id"], r["Note"]) for r in output] == [(safe(row[0]), safe(row[2])) for row in kept]
    assert [r["decision"] in ("test", "no_similar_product", "error") for r in output] == [True] * len(kept)


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_any_bytes_are_read_as_a_table_or_refused_in_one_line(data):
    try:
        read_launch_file(b"description\n" + data)
        read_launch_file(data)
    except BatchFileError as exc:
        assert "\n" not in str(exc)


def test_batch_still_reads_its_rows_through_the_shared_reader():
    rows, ignored = batch.read_rows("StockCode,Floor,note\n85123A,2.5,x\n\n85099B,,y,z\n")
    assert ignored == ["note"]
    assert rows == [
        (2, {"stockcode": "85123A", "floor": "2.5"}),
        (4, {"stockcode": "85099B", "floor": "", "__error__": "4 fields where the header has 3"}),
    ]
