"""The batch job's CSV keeps one output row per result whatever a cell holds: a lone carriage return echoed from
the input (a stock code or an error message quoting it) is quoted, not written bare (which splits the row in two
for any CSV reader)."""

import csv
import io

from hypothesis import given
from hypothesis import strategies as st

from pricing.serving.batch import OUTPUT_FIELDS, BatchReport


@given(st.lists(st.text(alphabet=st.sampled_from("AB12 \r\n,\"'=+-"), max_size=12), min_size=1, max_size=5))
def test_every_result_is_one_csv_row_whatever_its_text(texts):
    results = [
        {"line": i + 2, "stockcode": t, "status": "error", "error": f"stockcode: {t}"} for i, t in enumerate(texts)
    ]
    written = BatchReport("in.csv", None, results).to_csv().decode()
    rows = list(csv.DictReader(io.StringIO(written, newline="")))
    assert len(rows) == len(texts)
    assert list(rows[0]) == list(OUTPUT_FIELDS)
    # the text comes back as written, but for the guard against spreadsheet formulas (a leading ' on = + - @)
    assert [r["stockcode"].removeprefix("'") for r in rows] == [t.removeprefix("'") for t in texts]
