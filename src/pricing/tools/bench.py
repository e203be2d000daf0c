"""`pricing bench`: serving speed, measured in one run on one bundle.

- sweep: the in-process recommendation (contexts keyed, prices swept, model, aggregation), uncached
- forward floor: the same model's bare predict on the same prebuilt matrix
- seed style: the reference design re-enacted per request (pandas cross-merge of contexts and price bins,
  only `unit_price` replaced, full preprocessor transform, forward, groupby) on the same bundle
- HTTP through waitress over loopback, uncached and cached; cold start (process start to first 200);
  the import floor (torch, pandas, scikit-learn and LightGBM alone); the server's peak RSS
Milliseconds unless a key says otherwise."""

from __future__ import annotations

import http.client
import json
import os
import platform
import socket
import subprocess
import sys
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
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", "import torch, pandas, sklearn, lightgbm"], check=True)
        times.append(time.perf_counter() - started)
    return round(min(times), 3)


def run_bench(store: str, products: int = 30) -> dict:
    bundle = open_store(store).fetch()
    predictor = Predictor(bundle)
    codes = list(predictor.products.sort_values("lines", ascending=False).index[: products + 1])
    report = {"bundle_version": bundle.version, "bins": BINS, "samples": SAMPLES, "requests": products}
    report.update(in_process(predictor, bundle, codes[1:]))
    report.update(over_http(store, codes))
    report["import_floor_s"] = import_floor()
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
