import json
import subprocess
import sys

import pandas as pd

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


def test_a_bad_input_fails_with_one_line_and_a_non_zero_exit(tmp_path):
    done = pricing("prepare", "--raw", str(tmp_path / "absent.csv"), "--out-dir", str(tmp_path / "out"))
    assert done.returncode == 1
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and "absent.csv" in errors[0] and "no such file" in errors[0]
    assert "Traceback" not in done.stderr


def test_bad_flags_are_refused_by_the_parser(tmp_path):
    done = pricing("generate", "--rows", "-5", "--out-dir", str(tmp_path))
    assert done.returncode == 2 and "positive integer" in done.stderr


def test_every_command_has_help():
    for command in ("generate", "prepare"):
        done = pricing(command, "--help")
        assert done.returncode == 0 and "--out-dir" in done.stdout
