"""`pricing prepare` writes what it wrote when its outputs were recorded (tests/prepare_golden.py, issue 27: the
out-of-core engine is held to today's outputs), on both of its local paths (DuckDB, the default, and the in-memory
pandas path): on the real fixture, a generated file and, where ../shared is beside the clone, the real file's first
60,000 lines."""

import json

import pandas as pd
import pytest

from tests import prepare_golden as G


def recorded(name: str) -> dict:
    return json.loads((G.GOLDEN / f"{name}.json").read_text())


ENGINES = pytest.mark.parametrize("engine", ["duckdb", "pandas"])


@ENGINES
def test_the_fixtures_report_is_todays(tmp_path, engine):
    out = G.run_prepare(G.FIXTURE, tmp_path / "out", G.DATE_ORDER["fixture"], engine)
    assert G.differences(recorded("fixture"), G.fingerprint(out)) == []


@ENGINES
def test_a_generated_files_tables_and_report_are_todays(tmp_path, engine):
    out = G.run_prepare(G.generated(tmp_path / "raw"), tmp_path / "out", engine=engine)
    assert G.differences(recorded("generated"), G.fingerprint(out)) == []


@pytest.mark.skipif(not G.REAL_FILE.exists(), reason="needs ../shared/data/online_retail.csv.gz beside the clone")
@ENGINES
def test_the_real_files_first_months_prepare_as_today(tmp_path, engine):
    out = G.run_prepare(G.real_slice(tmp_path / "slice.csv"), tmp_path / "out", engine=engine)
    assert G.differences(recorded("real_slice"), G.fingerprint(out)) == []


def test_a_single_changed_cell_or_row_is_a_difference(tmp_path):
    frame = pd.DataFrame({"stockcode": ["A", "B"], "quantity": [1, 2], "unit_price": [1.5, 2.25]})
    base = G._table(frame)
    assert G.differences(base, G._table(frame.assign(unit_price=[1.5, 2.25 * (1 + 1e-12)]))) == []  # float noise
    assert G.differences(base, G._table(frame.assign(unit_price=[1.5, 2.26]))) != []
    assert G.differences(base, G._table(frame.assign(stockcode=["A", "C"]))) != []
    assert G.differences(base, G._table(frame.iloc[:1])) != []
    assert G.differences(base, G._table(frame.assign(extra=0))) == ["/columns/extra: added"]
