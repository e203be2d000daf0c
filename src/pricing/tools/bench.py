"""`pricing bench`: serving speed, measured in one run on one bundle.

- sweep: the in-process recommendation (contexts keyed, prices swept, model, aggregation), uncached
- forward floor: the same model's bare predict on the same prebuilt matrix
- seed style: the reference design re-enacted per request (pandas cross-merge of contexts and price bins,
  only `unit_price` replaced, full preprocessor transform, forward, groupby) on the same bundle
- each model's sweep alone (`model_sweep_p50_ms`: Predictor.recommend with only that model, fallbacks included)
- HTTP through waitress over loopback, uncached and cached; cold start (process start to first 200);
  the import floor (what the serving process imports before it reads a bundle: pricing.serving.app and the
  networks' array classes); the server's peak RSS
- the Lambda init: `python -m awslambdaric app.handler` against a loopback Runtime API
  (pricing.tools.lambda_runtime), process start to its first request for an event
- the runtime's installed size: every distribution requirements.txt pins and what they require, as installed
Milliseconds unless a key says otherwise."""

from __future__ import annotations

import http.client
import importlib.metadata
import json
import os
import platform
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.artifacts.store import open_store
from pricing.data.features import FEATURES, quantity_from_log
from pricing.serving.predictor import Predictor, usable_cpus
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import price_grid, sweep_matrix

BINS, SAMPLES = 100, 1000


def percentile(values: list[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 3)


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def seed_style_request(
    predictor: Predictor, network, contexts: pd.DataFrame, stockcode: str, low: float, high: float
) -> pd.Series:
    """The reference per-request pipeline: the same sampled rows for any product, only unit_price swept."""
    sample = contexts.sample(SAMPLES, random_state=0, replace=len(contexts) < SAMPLES)
    bins = pd.DataFrame({"unit_price": price_grid(low, high, BINS)})
    merged = sample.drop(columns="unit_price").merge(bins, how="cross")
    X = predictor.preprocessor.transform(merged[list(FEATURES)])
    merged["quantity"] = quantity_from_log(network.predict(X))
    return merged.groupby("unit_price")["quantity"].median()


def in_process(predictor: Predictor, bundle, codes: list[str]) -> dict:
    network = dict(predictor.models)["network"]
    contexts = bundle.contexts()
    sweep, floor, seed = [], [], []
    for code in [codes[0], *codes]:  # the first pass warms up (steady-state latency; cold start is timed apart)
        product = predictor.product(code)
        low, high = float(product["price_min"]), float(product["price_max"])
        started = time.perf_counter()
        predictor.decide(PriceRequest(code, low, high, BINS, SAMPLES))  # the API's path: the curve and the decision
        sweep.append(_ms(started))
        prices = price_grid(low, high, BINS)
        X = sweep_matrix(
            predictor.keyed_contexts(code, SAMPLES), predictor.price_columns, predictor.scaled_prices(code, prices)
        )
        started = time.perf_counter()
        network.predict(X)
        floor.append(_ms(started))
        started = time.perf_counter()
        seed_style_request(predictor, network, contexts, code, low, high)
        seed.append(_ms(started))
    return {
        "sweep_p50_ms": percentile(sweep, 50),
        "sweep_p95_ms": percentile(sweep, 95),
        "forward_floor_p50_ms": percentile(floor, 50),
        "seed_style_p50_ms": percentile(seed, 50),
    }


def model_sweeps(predictor: Predictor, codes: list[str]) -> dict[str, float]:
    """Per model of the chain, the p50 of its sweep alone (ms), the first product run once more to warm up (and,
    for a lazily loaded fallback, to load it outside the timing)."""
    sweeps = {}
    for name in predictor.model_names:
        times = []
        for code in [codes[0], *codes]:
            product = predictor.product(code)
            request = PriceRequest(code, float(product["price_min"]), float(product["price_max"]), BINS, SAMPLES)
            started = time.perf_counter()
            predictor.recommend(request, only=name)
            times.append(_ms(started))
        sweeps[name] = percentile(times[1:], 50)
    return sweeps


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def over_http(store: str, codes: list[str], cached_repeats: int = 300) -> dict:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}  # the local default: in-process cache
    started = time.perf_counter()
    server = subprocess.Popen(
        [sys.executable, "-m", "pricing", "serve", "--store", store, "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        first = f"/v1/predict-price/{codes[0]}"
        cold_start = None
        deadline = time.monotonic() + 120
        while cold_start is None:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("the server never answered 200")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                connection.request("GET", first)
                response = connection.getresponse()
                response.read()
                if response.status == 200:
                    cold_start = time.perf_counter() - started
            except OSError:
                time.sleep(0.02)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)

        def timed(path: str) -> tuple[float, str]:
            begin = time.perf_counter()
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
            if response.status != 200:
                raise RuntimeError(f"{path}: HTTP {response.status}")
            return _ms(begin), response.getheader("X-Cache")

        uncached = [timed(f"/v1/predict-price/{code}") for code in codes[1:]]
        assert all(state == "MISS" for _, state in uncached)
        cached = [timed(first) for _ in range(cached_repeats)]
        assert all(state == "HIT" for _, state in cached)
        rss = _peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=10)
    return {
        "http_uncached_p50_ms": percentile([t for t, _ in uncached], 50),
        "http_cached_p50_ms": percentile([t for t, _ in cached], 50),
        "cold_start_s": round(cold_start, 3),
        "server_rss_mb": rss,
    }


def import_floor(runs: int = 3) -> float:
    """Seconds, the fastest of `runs`: a fresh interpreter importing what serving imports before a bundle."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import pricing.serving.app, pricing.models.arrays"], check=True)
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def lambda_init(store: str, app_dir: Path, timeout: float = 120) -> float | None:
    """Seconds from starting `python -m awslambdaric app.handler` (in app_dir, with the store) to its first
    request for an event: Lambda's init phase. None where app_dir has no app.py (an installed package)."""
    from pricing.tools.lambda_runtime import RuntimeApi, start_runtime
    from pricing.tools.reliability.processes import stop_process

    if not (app_dir / "app.py").is_file():
        return None
    api = RuntimeApi()
    with tempfile.TemporaryDirectory() as scratch:
        started = time.monotonic()
        process = start_runtime(api, store, Path(scratch) / "runtime.log", app_dir, LOG_LEVEL="WARNING")
        try:
            while api.first_next_at is None:
                if time.monotonic() - started > timeout or process.poll() is not None:
                    raise RuntimeError("the Lambda runtime never asked for an event")
                time.sleep(0.01)
            return round(api.first_next_at - started, 3)
        finally:
            stop_process(process)
            api.close()


def installed_size_mb(requirements: Path) -> float:
    """MB on disk of every distribution `requirements` pins (markers evaluated) and, recursively, what their
    installed metadata requires: the runtime as this environment installs it (RECORD's sizes)."""
    from packaging.requirements import Requirement

    lines = (line.split("#", 1)[0].strip() for line in requirements.read_text().splitlines())
    todo = [Requirement(line) for line in lines if line and not line.startswith("-")]
    seen, total = set(), 0
    while todo:
        requirement = todo.pop()
        name = re.sub(r"[-_.]+", "-", requirement.name).lower()
        if name in seen or (requirement.marker is not None and not requirement.marker.evaluate()):
            continue
        seen.add(name)
        try:
            distribution = importlib.metadata.distribution(requirement.name)
        except importlib.metadata.PackageNotFoundError:
            continue
        total += sum(f.size or 0 for f in distribution.files or [])
        extras = requirement.extras or {""}
        for required in map(Requirement, distribution.requires or []):
            if required.marker is None or any(required.marker.evaluate({"extra": e}) for e in extras):
                todo.append(required)
    return round(total / 2**20, 1)


def run_bench(store: str, products: int = 30) -> dict:
    bundle = open_store(store).fetch()
    predictor = Predictor(bundle)
    codes = list(predictor.products.sort_values("lines", ascending=False).index[: products + 1])
    report = {"bundle_version": bundle.version, "bins": BINS, "samples": SAMPLES, "requests": products}
    report.update(in_process(predictor, bundle, codes[1:]))
    report["model_sweep_p50_ms"] = model_sweeps(predictor, codes[1:])
    report.update(over_http(store, codes))
    report["import_floor_s"] = import_floor()
    report["lambda_init_s"] = lambda_init(store, Path.cwd())
    report["runtime_installed_mb"] = installed_size_mb(Path.cwd() / "requirements.txt")
    report["ratios"] = {
        "sweep_over_forward_floor": round(report["sweep_p50_ms"] / report["forward_floor_p50_ms"], 3),
        "seed_style_over_sweep": round(report["seed_style_p50_ms"] / report["sweep_p50_ms"], 2),
        "cold_start_over_import_floor": round(report["cold_start_s"] / report["import_floor_s"], 3),
    }
    report["machine"] = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": usable_cpus(),
        "processor": platform.processor() or platform.machine(),
    }
    return report


def write_report(report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
