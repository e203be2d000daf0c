"""What the `pricing` command's sub-commands share: the default folders (relative to the repository root) and
the types that parse their arguments (each raises argparse.ArgumentTypeError, which argparse prints as a one-line
usage error)."""

from __future__ import annotations

import argparse
from pathlib import Path

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
BUNDLE_DIR = Path("models/bundle")
LOCAL_STORE = Path("models/production")


def default_raw() -> Path:
    """The real file when a user has put it in data/raw/, else the generated one."""
    for name in (
        "Online Retail.xlsx",
        "online_retail.xlsx",
        "online_retail_II.xlsx",
        "Online Retail.csv",
        "online_retail.csv.gz",
    ):
        if (RAW_DIR / name).is_file():
            return RAW_DIR / name
    return RAW_DIR / "online_retail.csv"


def add_date_order(parser: argparse.ArgumentParser) -> None:
    """--dayfirst / --monthfirst (one of them, as `date_order`): how the transactions loader reads an ambiguous
    date such as 01/12/2010 (pricing.data.load), for every command that reads transaction lines."""
    order = parser.add_mutually_exclusive_group()
    for flag, example in (("dayfirst", "01/12/2010"), ("monthfirst", "12/1/2010")):
        order.add_argument(
            f"--{flag}",
            dest="date_order",
            action="store_const",
            const=flag,
            help=f"read {example} as 1 December (only needed when no date in the file has a day above 12)",
        )


def positive_int(text: str) -> int:
    """A positive integer; argparse's error otherwise."""
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def positive_seconds(text: str) -> float:
    """A positive, finite number of seconds (`90`, `0.5`); argparse's error otherwise."""
    import math

    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, got {text[:40]!r}")
    return value


STUDY_NAME_MAX = 512  # Optuna's RDB storage holds a study name in a VARCHAR(512)


def study_name(text: str) -> str:
    """A study name: not blank, at most STUDY_NAME_MAX characters; argparse's error otherwise."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name the study, got an empty name")
    if len(text) > STUDY_NAME_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {STUDY_NAME_MAX} characters, got {len(text):,}")
    return text


def storage_location(text: str) -> str:
    """A --storage value: `journal:PATH` or a database URL SQLAlchemy can parse; argparse's error otherwise (the
    database's driver is checked when the storage is opened: pricing.training.tuning.storage_url)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    usage = "journal:PATH or a database URL (sqlite:///tuning.db, postgresql://USER:PASSWORD@HOST/DB)"
    if text.startswith("journal:"):
        if not text.removeprefix("journal:").strip():
            raise argparse.ArgumentTypeError(f"journal: needs a file path: {usage}")
        return text
    try:
        make_url(text)
    except ArgumentError:
        raise argparse.ArgumentTypeError(f"must be {usage}, got {text[:60]!r}") from None
    return text
