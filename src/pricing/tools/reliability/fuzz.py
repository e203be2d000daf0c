"""Property-based fuzzing of the API's paths and queries with Hypothesis, over HTTP against the real server.

The properties, for every generated request: no 5xx; every 4xx is JSON `{"error": "<message>"}`; every 200
keeps the contract (finite numbers, positive increasing prices, the asked product's rows); every response
has nosniff and a deliberate Cache-Control and leaks nothing (reliability.checks). Failures are collected,
not raised, so the run tries every case and the report counts them all."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote, quote_from_bytes

from pricing.tools.reliability.checks import response_problems
from pricing.tools.reliability.traffic import Connection

PREDICT_PARAMS = ("unitprice_min", "unitprice_max", "num_price_bins", "num_samples", "country", "customerid")
PRODUCTS_PARAMS = ("q", "page", "page_size")
# hand-picked edges next to the generated ones: bounds and one past them, the spellings float() and int()
# accept or refuse, overflow, the digit limit of int(), sub-cent prices that round to zero
EDGE_VALUES = (
    *("0", "1", "2", "-1", "-0", "500", "501", "5000", "5001", "200", "201", "1000000", "1000000.0000001"),
    *("1e6", "1e-7", "0.00001", "0.0001", "0.00005", "1e309", "-1e309", "nan", "NaN", "inf", "-inf", "Infinity"),
    *("1_000", "0x10", "1e", ".", "+5", "5.", ".5", " 7 ", "\u0663", "\uff11\uff12", "", " ", "9" * 5000),
    *("United Kingdom", "France", "EIRE", "12346", "12346.0", "true", "null", "[]", "{}", "%", "'", '"'),
)
ODD_STOCKCODES = (".", "..", "...", "85123a", " 85123A", "A" * 3000, "\u0000", "null", "%2F", "%00", "\u202e")


@dataclass(frozen=True)
class FuzzCase:
    route: str
    path: str  # as sent: already percent-encoded
    stockcode: str | None  # a real product's code, when the case used one


def _encode(value: str | bytes) -> str:
    return quote_from_bytes(value, safe="") if isinstance(value, bytes) else quote(value, safe="")


def strategies(catalogue: list[str]):
    from hypothesis import strategies as st

    text = st.one_of(st.text(max_size=24), st.binary(max_size=16))
    number = st.one_of(
        st.integers(-5, 40).map(str),  # mostly small: a valid case stays cheap to compute
        st.sampled_from(EDGE_VALUES),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
        st.floats(min_value=1e-9, max_value=1e7).map(lambda v: f"{v:.9g}"),
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
    )
    value = st.one_of(number, text)

    def query(known: tuple[str, ...]):
        if not known:
            return st.lists(st.tuples(text, value), max_size=3).map(
                lambda pairs: "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
            )
        name = st.one_of(st.sampled_from(known), st.sampled_from(known), st.sampled_from(known), text)
        return st.lists(st.tuples(name, value), max_size=6).map(
            lambda pairs: "&".join(f"{_encode(k)}={_encode(v)}" for k, v in pairs)
        )

    def with_query(path: str, encoded: str) -> str:
        return f"{path}?{encoded}" if encoded else path

    known_code = st.sampled_from(catalogue).map(lambda code: (code, code))
    other_code = st.one_of(text, st.sampled_from(ODD_STOCKCODES)).map(lambda code: (code, None))
    predict = st.builds(
        lambda code, q: FuzzCase("predict", with_query(f"/v1/predict-price/{_encode(code[0])}", q), code[1]),
        st.one_of(known_code, known_code, other_code),
        query(PREDICT_PARAMS),
    )
    products = st.builds(lambda q: FuzzCase("products", with_query("/v1/products", q), None), query(PRODUCTS_PARAMS))
    fixed = st.sampled_from(["/health", "/openapi.json"]).flatmap(
        lambda path: st.builds(lambda q: FuzzCase(path.strip("/"), with_query(path, q), None), query(()))
    )
    elsewhere = st.builds(
        lambda prefix, segments, q: FuzzCase(
            "unknown", with_query(prefix + "/".join(_encode(s) for s in segments), q), None
        ),
        st.sampled_from(["/v1/", "/v2/", "/v1/predict-price/", "/health/", "/api/", "/openapi.json/"]),
        st.lists(text, min_size=1, max_size=3),
        query(PREDICT_PARAMS),
    )
    return st.one_of(predict, predict, predict, products, fixed, elsewhere)


def probe(connection: Connection, case: FuzzCase) -> tuple[int | None, list[str]]:
    try:
        status, headers, body = connection.get(case.path)
    except Exception as exc:  # a dropped connection is a failure of the server, not of the fuzzer
        return None, [f"no response: {type(exc).__name__}: {exc}"]
    problems = [f"HTTP {status}"] if status >= 500 else []
    problems += response_problems(case.path, status, headers, body, case.stockcode if status == 200 else None)
    return status, problems


def run_fuzz(port: int, catalogue: list[str], cases: int, seed: int = 0) -> dict:
    """`cases` generated requests against the server on `port`; the report's fuzz section."""
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as fixed_seed

    connection = Connection(port, timeout=120)
    statuses: Counter = Counter()
    routes: Counter = Counter()
    failures: list[tuple[str, list[str]]] = []

    @fixed_seed(seed)
    @settings(
        max_examples=cases,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategies(catalogue))
    def fuzz(case: FuzzCase) -> None:
        status, problems = probe(connection, case)
        statuses[str(status)] += 1
        routes[case.route] += 1
        if problems:
            failures.append((case.path, problems))

    started = time.perf_counter()
    fuzz()
    connection.close()
    shortest = sorted(failures, key=lambda failure: len(failure[0]))[:8]
    return {
        "cases": sum(statuses.values()),
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
        "statuses": dict(sorted(statuses.items())),
        "routes": dict(sorted(routes.items())),
        "server_errors": sum(n for status, n in statuses.items() if status.startswith("5") or status == "None"),
        "failures": len(failures),
        "failure_examples": [{"path": path[:300], "problems": problems[:4]} for path, problems in shortest],
    }
