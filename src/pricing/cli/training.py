"""The training commands: `pricing train` (tune, fit and evaluate the models into a bundle) and `pricing tune` (a
tuning worker of a shared Optuna study)."""

from __future__ import annotations

import argparse
import contextlib
from pathlib import Path

from pricing.cli.arguments import (
    BUNDLE_DIR,
    PROCESSED_DIR,
    positive_int,
    positive_seconds,
    storage_location,
    study_name,
)


def add_train(commands: argparse._SubParsersAction) -> None:
    """`pricing train`: its arguments, run by `cmd_train`."""
    tr = commands.add_parser("train", help="tune, fit and evaluate the four models; write a bundle")
    tr.add_argument(
        "--profile",
        choices=["quick", "standard", "full"],
        default="standard",
        help="wall-clock budget: quick (tests, <3 min), standard (<15 min), full (<60 min)",
    )
    tr.add_argument("--data-dir", type=Path, default=PROCESSED_DIR, help="prepared data (default: %(default)s)")
    tr.add_argument("--bundle-dir", type=Path, default=BUNDLE_DIR, help="bundle output (default: %(default)s)")
    tr.add_argument("--reports-dir", type=Path, default=Path("reports"), help="charts and summary")
    tr.add_argument(
        "--storage",
        help="Optuna storage shared by several tuning processes: an RDB URL "
        "(sqlite:///tuning.db, postgresql://...) or journal:PATH",
    )
    tr.add_argument(
        "--study",
        help="with --storage: take the network's configuration from this study's best trial (filled by pricing "
        "tune workers) instead of tuning it here",
    )
    tr.add_argument("--refine", action="store_true", help="grid refinement around the best network trial")
    tr.add_argument("--seed", type=int, default=0)
    tr.set_defaults(func=cmd_train)


def cmd_train(args: argparse.Namespace) -> int:
    """Train a bundle into --bundle-dir and print its summary table; 0. ValueError for --study without
    --storage, or a storage that fails (`_storage_errors`)."""
    from pricing.training.model_card import summary_table
    from pricing.training.train import train

    if args.study is not None and args.storage is None:
        raise ValueError("--study needs --storage (the storage the pricing tune workers wrote to)")
    with _storage_errors(args.storage):
        summary = train(
            args.data_dir,
            args.bundle_dir,
            args.profile,
            storage=args.storage,
            refine=args.refine,
            seed=args.seed,
            reports_dir=args.reports_dir,
            study=args.study,
        )
    print(summary_table(summary))
    return 0


def add_tune(commands: argparse._SubParsersAction) -> None:
    """`pricing tune`: its arguments, run by `cmd_tune`."""
    tu = commands.add_parser(
        "tune",
        help="a tuning worker: add network trials to a shared Optuna study and exit (start as many as you like)",
    )
    tu.add_argument(
        "--storage",
        required=True,
        type=storage_location,
        help="journal:PATH (one machine) or a database URL (many): sqlite:///tuning.db, "
        "postgresql://USER:PASSWORD@HOST/DB (driver: psycopg, installed)",
    )
    tu.add_argument(
        "--study", required=True, type=study_name, help="the study's name; it is tied to the data its trials ran on"
    )
    tu.add_argument("--data-dir", type=Path, default=PROCESSED_DIR, help="prepared data (default: %(default)s)")
    tu.add_argument("--profile", choices=["quick", "standard", "full"], default="standard")
    limit = tu.add_mutually_exclusive_group()
    limit.add_argument("--trials", type=positive_int, help="trials this worker adds (default: the profile's)")
    limit.add_argument("--budget", type=positive_seconds, help="seconds this worker tunes for (default: the profile's)")
    tu.add_argument("--seed", type=int, default=0, help="picks the tuning rows: the same for every worker of a study")
    tu.set_defaults(func=cmd_tune)


def cmd_tune(args: argparse.Namespace) -> int:
    """Add this worker's trials to the shared study and print the study's state; 0. ValueError for a
    storage that fails (`_storage_errors`)."""
    from pricing.training.train import tune_worker

    with _storage_errors(args.storage):
        summary = tune_worker(
            args.data_dir,
            args.storage,
            args.study,
            args.profile,
            trials=args.trials,
            seconds=args.budget,
            seed=args.seed,
        )
    print(
        f"study {summary['study']}: this worker added {summary['trials_added']} trials in {summary['seconds']} s; "
        f"{summary['trials_in_study']} in the study, best validation loss {summary['best_value']}"
    )
    return 0


@contextlib.contextmanager
def _storage_errors(storage: str | None):
    """Turn a storage failure (SQLAlchemy's, Optuna's, a driver that is not installed) into one ValueError line
    naming the storage (its password masked), so the command prints one line instead of a traceback."""
    import optuna
    from sqlalchemy.exc import SQLAlchemyError

    from pricing.training.tuning import StorageError, describe_storage

    try:
        yield
    except StorageError as exc:
        raise ValueError(f"--storage {describe_storage(storage)}: {exc}") from None
    except (SQLAlchemyError, optuna.exceptions.OptunaError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"--storage {describe_storage(storage)}: {type(exc).__name__}: {first}") from None
