import argparse
import json
import os
import re
import subprocess
import sys

import pandas as pd
import pytest

from pricing.cli import build_parser, main
from pricing.data import features as F


def pricing(*args, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pricing", *args], capture_output=True, text=True, cwd=cwd, timeout=300
    )


def test_generate_then_prepare_writes_every_table_and_an_accounted_quality_report(tmp_path):
    raw, processed = tmp_path / "raw", tmp_path / "processed"
    done = pricing("generate", "--rows", "12000", "--seed", "4", "--out-dir", str(raw))
    assert done.returncode == 0, done.stderr
    assert "12,000 rows" in done.stdout
    assert {p.name for p in raw.iterdir()} == {
        "online_retail.csv",
        "ground_truth.csv",
        "ground_truth_customers.csv",
        "ground_truth_weeks.csv",
        "unit_costs.csv",
    }

    done = pricing("prepare", "--raw", str(raw / "online_retail.csv"), "--out-dir", str(processed))
    assert done.returncode == 0, done.stderr
    report = json.loads((processed / "data_quality.json").read_text())
    assert report["rows_read"] == 12_000 == report["rows_kept"] + sum(report["dropped"].values())
    splits = {name: pd.read_parquet(processed / f"{name}.parquet") for name in ("train", "val", "test")}
    assert {name: len(frame) for name, frame in splits.items()} == report["split"]["rows"]
    assert splits["train"]["invoice_date"].max() < splits["val"]["invoice_date"].min()
    assert splits["val"]["invoice_date"].max() < splits["test"]["invoice_date"].min()
    for frame in splits.values():
        assert list(frame.columns) == [*F.FEATURES, F.TARGET, *F.META]
    products = pd.read_parquet(processed / "products.parquet")
    assert {"stockcode", "description", "price_min", "price_median", "price_max", "lines", "units"} <= set(products)
    assert report["engine"]["name"] == "duckdb" and report["engine"]["memory_limit"] == "3GB"  # the default

    # the engine's limit and spill folder from the flags, else from the environment (Settings)
    limited = tmp_path / "limited"
    done = pricing(
        "prepare",
        "--raw",
        str(raw / "online_retail.csv"),
        "--out-dir",
        str(limited),
        "--memory-limit",
        "256MB",
        "--spill-dir",
        str(tmp_path / "spill"),
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((limited / "data_quality.json").read_text())["engine"]["memory_limit"] == "256MB"
    assert (tmp_path / "spill").is_dir() and not any((tmp_path / "spill").iterdir())
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pricing",
            "prepare",
            "--raw",
            str(raw / "online_retail.csv"),
            "--out-dir",
            str(limited),
            "--engine",
            "pandas",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "ENGINE_MEMORY_LIMIT": "lots"},
    )
    assert done.returncode == 1 and "ENGINE_MEMORY_LIMIT" in done.stderr and "Traceback" not in done.stderr


def test_a_bad_input_fails_with_one_line_and_a_non_zero_exit(tmp_path):
    done = pricing("prepare", "--raw", str(tmp_path / "absent.csv"), "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "absent.csv" in errors[0] and "no such file" in errors[0]
    assert "Traceback" not in done.stderr


def test_bad_flags_are_refused_by_the_parser(tmp_path):
    done = pricing("generate", "--rows", "-5", "--out-dir", str(tmp_path))
    assert done.returncode == 2 and "positive integer" in done.stderr


def subcommands() -> dict[str, argparse.ArgumentParser]:
    """Every sub-command of `pricing`, read from its parser: a command added later is tested with the others."""
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def test_the_top_level_help_lists_every_command_with_its_summary(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    printed = " ".join(capsys.readouterr().out.split())  # argparse wraps long summaries
    (action,) = [a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction)]
    summaries = {choice.dest: choice.help for choice in action._choices_actions}
    assert set(summaries) == set(subcommands()) and len(summaries) >= 11
    for name, summary in summaries.items():
        assert f"{name} {' '.join(summary.split())}" in printed, name


@pytest.mark.parametrize("command", sorted(subcommands()))
def test_every_command_has_help(command, capsys):
    """`pricing <command> --help` exits 0 and shows that command's usage and every option it takes."""
    with pytest.raises(SystemExit) as exited:
        main([command, "--help"])
    assert exited.value.code == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"usage: pricing {command} ")
    options = [o for a in subcommands()[command]._actions for o in a.option_strings if o not in ("-h", "--help")]
    assert options, f"{command} takes no option"
    shown = set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", printed))
    assert set(options) <= shown, f"{command}: not in its help: {set(options) - shown}"


def test_publish_with_costs_makes_a_new_version_whose_decisions_use_them(quick_bundle, tmp_path):
    """The cost file is validated (a bad row is counted, not fatal), published as <version>-c<digest>, and a
    profit request without unit_cost takes the product's cost from it."""
    from pricing.artifacts.store import LocalStore
    from pricing.serving.decision_json import to_json
    from pricing.serving.predictor import Predictor
    from pricing.serving.request import PriceRequest

    products = pd.read_parquet(quick_bundle / "products.parquet").sort_values("lines", ascending=False)
    code, median = products.iloc[0]["stockcode"], float(products.iloc[0]["price_median"])
    costs = tmp_path / "costs.csv"
    costs.write_text(f"StockCode,UnitCost\n{code},{median / 2:.2f}\nNOPE,1.00\n")
    store = tmp_path / "store"
    done = pricing("publish", "--bundle-dir", str(quick_bundle), "--store", str(store), "--costs", str(costs))
    assert done.returncode == 0, done.stderr
    assert '"unknown_stockcode": 1' in done.stdout and '"kept": 1' in done.stdout
    bundle = LocalStore(store).fetch()
    assert bundle.version.startswith(json.loads((quick_bundle / "manifest.json").read_text())["version"] + "-c")
    predictor = Predictor(bundle)
    low, high = predictor.default_range(code)
    decision = to_json(predictor.decide(PriceRequest(code, low, high, 20, 50, objective="profit")))
    assert decision["unit_cost"] == round(median / 2, 2) and decision["unit_cost_source"] == "cost_file"
    assert decision["objective"] == "profit"


def test_publish_refuses_a_cost_file_without_a_cost_column_in_one_line(quick_bundle, tmp_path):
    costs = tmp_path / "costs.csv"
    costs.write_text("stockcode,price\n85123A,2.95\n")
    done = pricing("publish", "--bundle-dir", str(quick_bundle), "--store", str(tmp_path / "s"), "--costs", str(costs))
    assert done.returncode == 2 and "unit cost column" in done.stderr and "Traceback" not in done.stderr
