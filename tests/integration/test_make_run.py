"""`make run RAW=FILE`: a user's own file gets data, bundle and store folders of its own, prepared with the flags
given, trained, published and reported; the generated data keeps the default folders."""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="needs GNU make")


def dry_run(*variables: str) -> str:
    result = subprocess.run(
        ["make", "-n", "--always-make", "bundle", *variables], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return result.stdout


def test_a_users_file_gets_folders_of_its_own(tmp_path):
    raw = tmp_path / "Online Retail (UK export).csv.gz"
    raw.write_bytes(b"")
    commands = dry_run(f"RAW={raw}", "PREPARE_ARGS=--dayfirst")
    link = ROOT / "data" / "raw" / "Online_Retail__UK_export_.csv.gz"  # make takes no spaces in a file name
    assert link.resolve() == raw.resolve()
    link.unlink()
    assert (
        f"prepare --raw {link.relative_to(ROOT)} --out-dir data/processed-Online_Retail__UK_export_ --dayfirst"
        in commands
    )
    assert "train --profile standard --data-dir data/processed-Online_Retail__UK_export_" in commands
    name = "Online_Retail__UK_export_"
    assert f"publish --bundle-dir models/bundle-{name} --store models/production-{name}" in commands
    assert "report --store models/production-Online_Retail__UK_export_" in commands
    assert "pricing generate" not in commands


def test_a_missing_file_is_named():
    result = subprocess.run(["make", "-n", "bundle", "RAW=no/such.csv"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode != 0 and "RAW=no/such.csv: no such file" in result.stderr


def test_the_generated_data_keeps_the_default_folders():
    commands = dry_run()
    assert "prepare --raw data/raw/online_retail.csv --out-dir data/processed " in commands + " "
    assert "--store models/production\n" in commands
