"""One validation for every surface (issue 24, item 10): a parameter name a person meant but did not write as one
(`Floor`, `ceilling`, `unit_cots`, `Max_Change`) is refused, in the same words, by the API (a 400) and by the
batch job (the file, up front), never silently dropped; any other name is ignored and stays out of the cache key.
A batch row with an over-long cell is that row's error, not the file's. `pricing serve` on a port in use says so
in one line, and says "serving on" only once it listens."""

import gzip
import socket
import string
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pricing.artifacts.bundle import open_bundle
from pricing.artifacts.store import LocalStore
from pricing.cli import main
from pricing.config import Settings
from pricing.serving import batch
from pricing.serving.app import create_app
from pricing.serving.errors import RequestError
from pricing.serving.request import PARAMETER_NAMES, check_parameter_names
from pricing.tools.reliability.processes import free_port
from tests.standins import StandInPredictor

CODE = "85123A"
SETTINGS = Settings(env="test")
EXAMPLES = {  # the user's report: each was answered as if the rule had not been given
    "Floor=3": "Floor: unknown parameter; did you mean floor?",
    "ceilling=2.6": "ceilling: unknown parameter; did you mean ceiling?",
    "unit_cots=1&objective=profit": "unit_cots: unknown parameter; did you mean unit_cost?",
    "Max_Change=0.01": "Max_Change: unknown parameter; did you mean max_change?",
}
# names a client or a spreadsheet really sends that are no parameter's near miss: ignored
UNRELATED = ["utm_source", "cache_buster", "_", "callback", "format", "note", "description", "cost", "price", "qty"]
# a parameter name has no k, q, w or z: a name made of these (and digits) is nobody's near miss
FAR = st.text(alphabet="kqwzKQWZ0123456789", min_size=1, max_size=12)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def app():
    return create_app(SETTINGS, predictor=StandInPredictor())


@pytest.fixture(scope="module")
def client(app):
    return app.test_client()


def recased(name: str, flips: list[bool]) -> str:
    """`name` with the case of each letter flipped where `flips` says so."""
    return "".join(c.swapcase() if flip else c for c, flip in zip(name, flips + [False] * len(name), strict=False))


@st.composite
def other_casing(draw, names=PARAMETER_NAMES):
    """(parameter, the same name in another casing): at least one letter's case flipped."""
    name = draw(st.sampled_from(names))
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    flipped = draw(st.sets(st.sampled_from(letters), min_size=1))
    return name, "".join(c.swapcase() if i in flipped else c for i, c in enumerate(name))


@st.composite
def one_typo(draw, names=PARAMETER_NAMES, loose=False):
    """(parameter, the name with one typo: a letter dropped, doubled, replaced or swapped with its neighbour).
    `loose`: only typos of letters (a header ignores where its underscores go: `nu_mprice_bins` is no typo)."""
    name = draw(st.sampled_from(names))
    i = draw(st.integers(0, len(name) - 2))
    letter = draw(st.sampled_from(string.ascii_lowercase))
    typo = draw(
        st.sampled_from(
            [
                name[:i] + name[i + 1 :],  # dropped
                name[:i] + name[i] + name[i:],  # doubled
                name[:i] + letter + name[i + 1 :],  # replaced
                name[:i] + name[i + 1] + name[i] + name[i + 2 :],  # swapped
            ]
        )
    )
    same = typo.replace("_", "") == name.replace("_", "") if loose else typo == name
    if same or typo in names:  # a swap of two equal letters or of a letter and "_", or another name spelled
        typo = name + letter
    return name, typo


def suggested(message: str) -> list[str]:
    """The parameters a near-miss message names: `X: unknown parameter; did you mean a or b?` -> [a, b]."""
    return message.split("did you mean ", 1)[1].rstrip("?").split(" or ")


def every_one_letter_typo(name: str) -> set[str]:
    typos = set()
    for i in range(len(name)):
        typos |= {name[:i] + name[i + 1 :], name[:i] + name[i] + name[i:]}
        for letter in string.ascii_lowercase:
            typos |= {name[:i] + letter + name[i + 1 :], name[:i] + letter + name[i:]}
        typos.add(name[:i] + name[i + 1 : i + 2] + name[i] + name[i + 2 :])
    return typos


@pytest.mark.parametrize("loose", [False, True])
def test_every_one_letter_typo_of_every_name_is_refused_naming_it_exhaustively(loose):
    """The rule the property tests sample, checked for all of its inputs: a typo is never taken for no
    parameter, and the parameter meant is among those named (two where it lies as close to two)."""
    names = ("stockcode", *PARAMETER_NAMES) if loose else PARAMETER_NAMES
    checked = 0
    for name in names:
        for typo in every_one_letter_typo(name) - set(names):
            if loose and typo.replace("_", "") == name.replace("_", ""):
                continue  # where a header puts its underscores is no typo
            with pytest.raises(RequestError) as refused:
                check_parameter_names([typo], names, loose=loose)
            assert name in suggested(str(refused.value)), typo
            checked += 1
    assert checked > 8000


# ---- the API ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("route", ["price-decision", "predict-price"])
@pytest.mark.parametrize(("query", "message"), EXAMPLES.items())
def test_the_reported_misspellings_are_a_400_naming_the_parameter_meant(client, route, query, message):
    response = client.get(f"/v1/{route}/{CODE}?{query}")
    assert response.status_code == 400 and response.get_json() == {"error": message}
    assert response.headers["Cache-Control"] == "no-store"


def test_the_rule_the_manager_meant_is_applied_when_spelled_right(client):
    """The report's case: the floor was ignored, so the recommendation went below it."""
    unruled = client.get(f"/v1/price-decision/{CODE}").get_json()["recommended"]["price"]
    floored = client.get(f"/v1/price-decision/{CODE}?floor=3").get_json()["recommended"]["price"]
    assert unruled < 3 <= floored


@FAST
@given(case=other_casing())
def test_every_other_casing_of_every_parameter_is_refused_naming_it(client, case):
    name, written = case
    response = client.get(f"/v1/price-decision/{CODE}?{written}=1")
    assert response.status_code == 400
    assert response.get_json()["error"] == f"{written}: unknown parameter; did you mean {name}?"


@FAST
@given(case=one_typo())
def test_every_one_letter_typo_of_every_parameter_is_refused_naming_it(client, case):
    name, typo = case
    response = client.get(f"/v1/price-decision/{CODE}?{typo}=1")
    assert response.status_code == 400, typo
    error = response.get_json()["error"]
    assert error.startswith(f"{typo}: unknown parameter; did you mean ") and name in suggested(error)


@FAST
@given(names=st.sets(st.sampled_from(PARAMETER_NAMES)))
def test_every_exact_name_is_accepted(client, names):
    """A blank value is the default, so any set of exact names, blank, is the request without them."""
    query = "&".join(f"{name}=" for name in sorted(names))
    response = client.get(f"/v1/price-decision/{CODE}?{query}")
    assert response.status_code == 200
    assert response.get_json() == client.get(f"/v1/price-decision/{CODE}").get_json()


@FAST
@given(names=st.lists(st.one_of(FAR, st.sampled_from(UNRELATED)), min_size=1, max_size=4, unique=True))
def test_other_unknown_names_are_ignored_and_stay_out_of_the_cache_key(client, names):
    base = f"/v1/price-decision/{CODE}?num_price_bins=23"
    client.get(base)  # the entry every variant below must hit
    response = client.get(base + "".join(f"&{name}=x" for name in names))
    assert response.status_code == 200 and response.headers["X-Cache"] == "HIT"


def test_the_product_list_checks_its_own_parameters(client):
    response = client.get("/v1/products?Page_Size=5")
    assert response.status_code == 400
    assert response.get_json() == {"error": "Page_Size: unknown parameter; did you mean page_size?"}
    assert client.get("/v1/products?page_size=2&utm_source=x").get_json()["page_size"] == 2


def test_the_product_lists_parameters_each_do_their_part(client):
    """q searches, page and page_size page (PRODUCTS_QUERY: the names the route reads)."""
    everything = client.get("/v1/products").get_json()["items"]
    second = client.get("/v1/products?page=2&page_size=1").get_json()
    assert (second["page"], second["page_size"], second["items"]) == (2, 1, everything[1:2])
    found = client.get("/v1/products?q=cakestand").get_json()
    assert [item["stockcode"] for item in found["items"]] == ["22423"] and found["total"] == 1


# ---- the batch job ----------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ["ceilling=2.6", "unit_cots=1&objective=profit"])
def test_a_misspelled_column_refuses_the_file_in_the_apis_words(client, query):
    name = query.split("=", 1)[0]
    with pytest.raises(batch.BatchFileError) as refused:
        batch.read_rows(f"stockcode,{name}\n{CODE},3\n")
    api = client.get(f"/v1/price-decision/{CODE}?{query}").get_json()["error"]
    assert str(refused.value) == f"header: {api}" == f"header: {EXAMPLES[query]}"  # the API's words, verbatim


def test_a_header_is_read_loosely_so_the_wrongly_cased_columns_are_their_parameters():
    """A spreadsheet header is not a query: `Floor` and `Max_Change` columns are floor and max_change."""
    rows, ignored = batch.read_rows(f"StockCode,Floor,Max_Change,note\n{CODE},3,0.1,x\n")
    assert rows == [(2, {"stockcode": CODE, "floor": "3", "max_change": "0.1"})] and ignored == ["note"]


def test_two_columns_for_one_parameter_are_refused_as_ambiguous():
    with pytest.raises(batch.BatchFileError, match=r"^header: floor: given more than once \('floor' and 'Floor'\)$"):
        batch.read_rows(f"stockcode,floor,Floor\n{CODE},3,2.6\n")
    with pytest.raises(batch.BatchFileError, match="stockcode: given more than once"):
        batch.read_rows(f"StockCode,stock code\n{CODE},{CODE}\n")


def test_a_refused_header_is_the_s3_jobs_report_not_a_lost_file():
    """price_file is the Lambda's and `pricing batch`'s entry: the refusal is one BatchFileError line."""
    with pytest.raises(batch.BatchFileError, match="did you mean ceiling"):
        batch.price_file(StandInPredictor(), SETTINGS, f"stockcode,ceilling\n{CODE},2.6\n".encode(), "test")


@FAST
@given(case=other_casing(("stockcode", *PARAMETER_NAMES)), separator=st.sampled_from(["", " ", "-", "_"]))
def test_every_casing_and_spacing_of_a_column_is_that_parameter(case, separator):
    """A spreadsheet header is read loosely, as before: `Unit Price Min`, `MAX-CHANGE`, `StockCode`."""
    name, written = case
    header = written.replace("_", separator)
    if name == "stockcode":
        rows, ignored = batch.read_rows(f"{header},note\n{CODE},x\n")
        assert rows[0][1] == {"stockcode": CODE} and ignored == ["note"]
    else:
        rows, ignored = batch.read_rows(f"stockcode,{header},note\n{CODE},5,x\n")
        assert rows[0][1] == {"stockcode": CODE, name: "5"} and ignored == ["note"]


@FAST
@given(case=one_typo(("stockcode", *PARAMETER_NAMES), loose=True))
def test_every_one_letter_typo_of_a_column_refuses_the_file_naming_it(case):
    name, typo = case
    with pytest.raises(batch.BatchFileError) as refused:
        batch.read_rows(f"stockcode,{typo}\n{CODE},1\n" if name != "stockcode" else f"{typo}\n{CODE}\n")
    assert str(refused.value).startswith(f"header: {typo}: unknown parameter") and name in suggested(str(refused.value))


def test_the_reported_floor_column_is_applied_when_spelled_right():
    predictor = StandInPredictor()
    rows, _ = batch.read_rows(f"StockCode,Floor\n{CODE},3\n{CODE},\n")
    floored, unruled = batch.price_rows(predictor, SETTINGS, rows)
    assert floored["status"] == unruled["status"] == "ok" and floored["floor"] == 3
    assert unruled["optimal_unit_price"] < 3 <= floored["optimal_unit_price"]


def test_an_over_long_cell_is_its_rows_error_and_the_other_rows_are_priced():
    long = "x" * (batch.MAX_CELL_CHARS + 1)
    text = f'stockcode,country,note\n{CODE},{long},\n{CODE},,"{long}"\n{long},,\n{CODE},France,ok\n'
    rows, _ = batch.read_rows(text)
    results = batch.price_rows(StandInPredictor(), SETTINGS, rows)
    assert [(r["line"], r["status"]) for r in results] == [(2, "error"), (3, "error"), (4, "error"), (5, "ok")]
    assert results[0]["error"] == "country: a cell of 131,073 characters; a cell holds at most 131,072"
    assert results[1]["error"] == "note: a cell of 131,073 characters; a cell holds at most 131,072"
    assert results[2]["error"] == "stockcode: a cell of 131,073 characters; a cell holds at most 131,072"
    assert results[2]["stockcode"] == "x" * 40  # the output echoes the row, not the cell
    assert len(batch.BatchReport("t", "v", results).to_json()) < 10_000
    ok, _ = batch.read_rows(f"stockcode,note\n{CODE},{'x' * batch.MAX_CELL_CHARS}\n")
    assert "__error__" not in ok[0][1]  # the limit itself is allowed


# ---- pricing serve ----------------------------------------------------------------------------------
def serve_command(port: int, store) -> list[str]:
    return [sys.executable, "-m", "pricing", "serve", "--store", str(store), "--port", str(port)]


def test_serve_on_a_port_in_use_is_one_line_naming_it_and_never_says_serving(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [*serve_command(port, tmp_path / "store"), "--cache-clear"], capture_output=True, text=True, timeout=120
        )
    assert done.returncode == 1 and done.stdout == ""  # refused before the bundle loads or the cache is cleared
    assert done.stderr == (
        f"pricing serve: error: cannot serve on 127.0.0.1:{port}: port {port} is already in use "
        "(--port picks another)\n"
    )


def test_a_port_taken_after_the_check_is_refused_by_the_server_itself_without_saying_serving(app, capsys):
    """check_port and the server's bind are apart in time: the server's own bind failing is the same one line."""
    from pricing.serving.local import PortUnavailable, serve_app

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(PortUnavailable, match=f"^cannot serve on 127.0.0.1:{port}: port {port} is already in use"):
            serve_app(app, "127.0.0.1", port)
    assert capsys.readouterr().out == ""


def test_serve_says_serving_on_only_once_it_listens(tmp_path):
    port = free_port()
    server = subprocess.Popen(serve_command(port, tmp_path / "store"), stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()  # blocks until the server says it serves
        assert line.startswith(f"serving on http://127.0.0.1:{port} with bundle (none: 503)")
        with socket.create_connection(("127.0.0.1", port), timeout=5):  # and it does, at once
            pass
    finally:
        server.terminate()
        server.wait(timeout=30)


# ---- pricing publish --costs --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"stockcode,unit_cost\n", "no rows under the header: the file holds no costs"),
        (b"stockcode,unit_cost\nNOPE,1\n", "no row holds a usable cost: 1 read, dropped unknown_stockcode 1"),
        (b"stockcode,cost,unit_cost\nNOPE,12,1\n", "ambiguous header: columns 'cost' and 'unit_cost' could each be"),
    ],
)
def test_a_cost_file_that_gives_no_cost_publishes_nothing_and_the_live_version_stays(
    quick_bundle, tmp_path, capsys, data, reason
):
    store = tmp_path / "store"
    assert main(["publish", "--bundle-dir", str(quick_bundle), "--store", str(store)]) == 0
    live, files = LocalStore(store).latest(), sorted(store.rglob("*"))
    costs = tmp_path / "costs.csv"
    costs.write_bytes(data)
    capsys.readouterr()
    assert main(["publish", "--bundle-dir", str(quick_bundle), "--store", str(store), "--costs", str(costs)]) == 2
    error = capsys.readouterr().err
    assert error.startswith(f"pricing publish: --costs {costs}: {reason}") and error.endswith("; nothing published\n")
    assert error.count("\n") == 1
    assert LocalStore(store).latest() == live and sorted(store.rglob("*")) == files


def test_a_gzipped_utf16_cost_file_is_published(quick_bundle, tmp_path, capsys):
    """Excel's "Unicode Text" (UTF-16, tabs), gzipped: read as the CSV it is, not its raw bytes."""
    code = open_bundle(quick_bundle).products().index[0]
    costs = tmp_path / "costs.csv.gz"
    costs.write_bytes(gzip.compress(f"Stock Code\tUnit Cost\n{code}\t1.25\nNOPE\t1\n".encode("utf-16")))
    store = tmp_path / "store"
    assert main(["publish", "--bundle-dir", str(quick_bundle), "--store", str(store), "--costs", str(costs)]) == 0
    assert '"kept": 1' in capsys.readouterr().out
    bundle = LocalStore(store).fetch()
    assert "-c" in bundle.version and bundle.manifest["costs"]["read_as"]["encoding"] == "utf-16"
    assert bundle.manifest["costs"]["dropped"]["unknown_stockcode"] == 1
