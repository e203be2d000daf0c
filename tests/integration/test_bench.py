"""`pricing bench` on the quick bundle's store with the smallest settings it allows (one product timed): every
figure it reports is there, a positive number of its unit, and the counts are the ones asked for."""

import json
import math
import subprocess
import sys
from pathlib import Path

from pricing.models.registry import MODEL_PRIORITY

ROOT = Path(__file__).resolve().parents[2]  # the Lambda init runs app.py, the installed size reads requirements.txt

TIMINGS_MS = (
    "sweep_p50_ms",
    "sweep_p95_ms",
    "forward_floor_p50_ms",
    "seed_style_p50_ms",
    "http_uncached_p50_ms",
    "http_cached_p50_ms",
)
SECONDS = ("cold_start_s", "import_floor_s", "lambda_init_s")


def positive(value) -> bool:
    return isinstance(value, int | float) and math.isfinite(value) and value > 0


def test_bench_on_the_quick_bundle_reports_every_figure(store, tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [sys.executable, "-m", "pricing", "bench", "--store", str(store.root), "--requests", "1", "--out", str(out)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(out.read_text())
    assert set(report) == {
        "bundle_version",
        "bins",
        "samples",
        "requests",
        *TIMINGS_MS,
        "model_sweep_p50_ms",
        "server_rss_mb",
        *SECONDS,
        "runtime_installed_mb",
        "ratios",
        "machine",
    }
    # what was asked for and what was benchmarked
    assert report["requests"] == 1 and report["bundle_version"] == store.latest()
    assert report["bins"] >= 2 and report["samples"] >= 1
    assert list(report["model_sweep_p50_ms"]) == list(MODEL_PRIORITY)  # each model of the bundle, in chain order
    # every figure a positive number of its unit
    for key in (*TIMINGS_MS, *SECONDS, "server_rss_mb", "runtime_installed_mb"):
        assert positive(report[key]), (key, report[key])
    assert all(positive(ms) for ms in report["model_sweep_p50_ms"].values()), report["model_sweep_p50_ms"]
    assert set(report["ratios"]) == {
        "sweep_over_forward_floor",
        "seed_style_over_sweep",
        "cold_start_over_import_floor",
    } and all(positive(r) for r in report["ratios"].values())
    # in their units: a sweep of bins x samples rows takes over a millisecond on any CPU, and no start-up here an hour
    assert report["sweep_p50_ms"] >= 1 and report["seed_style_p50_ms"] >= 1
    assert all(report[key] < 3600 for key in SECONDS)
    # orderings that hold however loaded the machine is
    assert report["sweep_p95_ms"] >= report["sweep_p50_ms"]
    assert report["http_cached_p50_ms"] < report["http_uncached_p50_ms"]  # a cache hit skips the sweep
    assert report["cold_start_s"] > report["import_floor_s"]  # start-up imports that, then loads a bundle
    assert report["machine"]["cpus"] >= 1 and report["machine"]["python"] == ".".join(map(str, sys.version_info[:3]))
    # the command prints the report without the machine, then where it wrote it
    printed, where = done.stdout.rsplit("\n", 2)[:2]
    assert json.loads(printed) == {k: v for k, v in report.items() if k != "machine"}
    assert where == f"report: {out}"
