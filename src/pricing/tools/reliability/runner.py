"""The whole reliability run: one main server (Redis behind a proxy) for load, Redis faults, over-bound
requests, security probes and fuzzing; then one server per broken bundle and one with its store down."""

from __future__ import annotations

import json
import os
import platform
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from pricing.tools.reliability import faults, security
from pricing.tools.reliability.faults import Profile, Target, get_json
from pricing.tools.reliability.fuzz import run_fuzz
from pricing.tools.reliability.processes import ApiServer, ProxyProcess, RedisProcess
from pricing.tools.reliability.traffic import Connection, LoadRun, summarize


class CannotStart(ValueError):
    """The run cannot begin: the store holds no bundle this code can serve (the CLI prints one line)."""


CACHE_TIMEOUT_SECONDS = 0.25  # the documented default, set explicitly so the report's bound is the server's


def catalogue(port: int) -> list[str]:
    """Every stockcode the server knows, most sold first."""
    codes, page = [], 1
    while True:
        status, _, body = get_json(port, f"/v1/products?page_size=200&page={page}")
        items = json.loads(body)["items"] if status == 200 else []
        if not items:
            return codes
        codes += [item["stockcode"] for item in items]
        page += 1


def warm(port: int, codes: list[str]) -> None:
    connection = Connection(port, timeout=120)
    for code in codes:
        connection.get(f"/v1/predict-price/{code}")
    connection.close()


def start_target(store: str, workdir: Path, profile: Profile) -> Target:
    redis = RedisProcess(workdir).start()
    proxy = ProxyProcess(redis.port, profile.redis_delay_seconds).start()
    env = {
        "REDIS_URL": proxy.url,
        "CACHE_TIMEOUT_SECONDS": str(CACHE_TIMEOUT_SECONDS),
        "CORS_ORIGINS": security.ALLOWED_ORIGIN,
    }
    api = ApiServer(store, workdir, env, name="main")
    try:
        api.start()
        status, _, _ = get_json(api.port, "/health")
        if status != 200:
            # the log's own words: its folder is removed when the run ends
            said = next((line for line in reversed(api.log().splitlines()) if " ERROR " in line), "")
            raise CannotStart(f"the server cannot serve the bundle in {store}: {said.partition(' ERROR ')[2]}")
        codes = catalogue(api.port)
    except Exception:
        api.stop()
        proxy.stop()
        redis.stop()
        raise
    return Target(api, redis, proxy, codes, codes[: profile.hot_products], CACHE_TIMEOUT_SECONDS)


def _timed(name: str, section, progress) -> dict:
    progress(f"{name} ...")
    started = time.perf_counter()
    try:
        result = section()
    except Exception as exc:  # a crashed section is a finding for the report, not the end of the run
        result = {"survived": False, "passed": False, "crashed": f"{type(exc).__name__}: {str(exc)[:500]}"}
    result["wall_s"] = round(time.perf_counter() - started, 1)
    verdict = result.get("survived", result.get("passed"))
    progress(f"{name}: {'ok' if verdict in (True, None) else 'FAILED'} ({result['wall_s']} s)")
    return result


def run(store: str, profile: Profile, seed: int = 0, progress=print) -> dict:
    started = time.perf_counter()
    report: dict = {
        "form": profile.name,
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "store": store,
        "profile": {k: v for k, v in vars(profile).items() if k != "name"},
        "seed": seed,
        "machine": {
            "platform": platform.platform(),
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        },
    }
    with tempfile.TemporaryDirectory(prefix="pricing-reliability-") as scratch:
        workdir = Path(scratch)
        target = start_target(store, workdir, profile)
        try:
            report["bundle_version"] = json.loads(get_json(target.api.port, "/health")[2]).get("bundle_version")
            report["server_start_s"] = target.api.start_seconds
            report["products"] = len(target.catalogue)
            warm(target.api.port, target.hot)
            report["load"] = _timed("load", lambda: _load(target, profile, seed), progress)
            report["faults"] = {
                "redis_killed": _timed("redis killed", lambda: faults.redis_killed(target, profile, seed), progress),
                "redis_slow": _timed("redis slow", lambda: faults.redis_slow(target, profile, seed), progress),
                "over_bounds": _timed("over bounds", lambda: faults.over_bounds(target, profile, seed), progress),
            }
            report["security"] = {
                "cors": _timed("cors", lambda: security.cors(target), progress),
                "headers_and_leaks": _timed("headers", lambda: security.headers_and_leaks(target), progress),
                "cache_inflation": _timed("inflation", lambda: security.cache_inflation(target, seed=seed), progress),
            }
            report["fuzz"] = _timed(
                f"fuzz ({profile.fuzz_cases} cases)",
                lambda: run_fuzz(target.api.port, target.catalogue, profile.fuzz_cases, seed),
                progress,
            )
        finally:
            target.api.stop()
            target.proxy.stop()
            target.redis.stop()
        broken = {
            "corrupted_primary_model": faults.corrupted_primary_model,
            "non_finite_predictions": faults.non_finite_predictions,
            "store_unreachable_at_cold_start": faults.store_unreachable_at_cold_start,
        }
        for name, scenario in broken.items():
            report["faults"][name] = _timed(
                name.replace("_", " "), lambda s=scenario: s(store, workdir, target, profile, seed), progress
            )
    checksum = report["faults"]["corrupted_primary_model"]
    report["security"]["checksum"] = {
        "passed": checksum["refused_by_checksum"] and not checksum["deserialised"],
        "tampered_file": checksum["tampered_file"],
        "refused_by_checksum": checksum["refused_by_checksum"],
        "deserialised": checksum["deserialised"],
    }
    report["machine"]["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    report["summary"] = summary(report)
    report["wall_s"] = round(time.perf_counter() - started, 1)
    return report


def _load(target: Target, profile: Profile, seed: int) -> dict:
    run = LoadRun(target.api.port, target.plan(profile), profile.clients, seed)
    outcomes = run.run_for(profile.load_seconds)
    return {
        "clients": profile.clients,
        "cached_share_planned": profile.cached_share,
        "hot_products": len(target.hot),
        "catalogue_products": len(target.catalogue),
        **summarize(outcomes, run.now()),
    }


def summary(report: dict) -> dict:
    """The figures the closing note quotes, and the verdict."""
    faults_survived = {name: bool(section.get("survived")) for name, section in report["faults"].items()}
    security_passed = {name: bool(section.get("passed")) for name, section in report["security"].items()}
    fuzz = report["fuzz"]
    return {
        "load_requests": report["load"]["requests"],
        "load_errors": report["load"]["errors"],
        "load_latency_ms": report["load"]["latency_ms"],
        "load_throughput_rps": report["load"]["throughput_rps"],
        "fault_requests": sum(section.get("requests", 0) for section in report["faults"].values()),
        "fault_errors": sum(section.get("errors", 0) for section in report["faults"].values()),
        "faults_survived": faults_survived,
        "fuzz_cases": fuzz["cases"],
        "fuzz_server_errors": fuzz["server_errors"],
        "fuzz_failures": fuzz["failures"],
        "security_passed": security_passed,
        "passed": report["load"]["errors"] == 0
        and all(faults_survived.values())
        and fuzz["server_errors"] == 0
        and fuzz["failures"] == 0
        and all(security_passed.values()),
    }


def write_report(report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n")
