"""The `pricing` command. Each sub-command has --help, works from the repository root with its defaults, and
fails with a non-zero exit and a one-line reason.

One module a command group, each with its sub-commands' arguments (`add_<command>`) and what they run
(`cmd_<command>`): data (generate, prepare), training (train, tune), serving (publish, serve, batch, launch) and tools
(bench, evaluate, report, reliability); arguments has the default folders and the argument types they share.
"""

from __future__ import annotations

import argparse
import sys

from pricing.cli import data, experiments, serving, tools, training
from pricing.cli.arguments import BUNDLE_DIR, LOCAL_STORE, PROCESSED_DIR, RAW_DIR, STUDY_NAME_MAX
from pricing.cli.data import cmd_generate, cmd_prepare
from pricing.cli.serving import cmd_batch, cmd_publish, cmd_serve
from pricing.cli.tools import cmd_bench, cmd_evaluate, cmd_reliability, cmd_report
from pricing.cli.training import cmd_train, cmd_tune

__all__ = [
    "BUNDLE_DIR",
    "LOCAL_STORE",
    "PROCESSED_DIR",
    "RAW_DIR",
    "STUDY_NAME_MAX",
    "build_parser",
    "cmd_batch",
    "cmd_bench",
    "cmd_evaluate",
    "cmd_generate",
    "cmd_prepare",
    "cmd_publish",
    "cmd_reliability",
    "cmd_report",
    "cmd_serve",
    "cmd_train",
    "cmd_tune",
    "main",
]

# the sub-commands in the order `pricing --help` lists them
SUBCOMMANDS = (
    data.add_generate,
    data.add_prepare,
    training.add_train,
    training.add_tune,
    serving.add_publish,
    serving.add_serve,
    tools.add_bench,
    tools.add_evaluate,
    tools.add_report,
    serving.add_batch,
    serving.add_launch,
    tools.add_reliability,
    experiments.add_simulate,
    experiments.add_experiment,
)


def build_parser() -> argparse.ArgumentParser:
    """The `pricing` parser: one sub-command a SUBCOMMANDS entry, each parsed args carrying its `func`."""
    parser = argparse.ArgumentParser(prog="pricing", description="Revenue-maximising price recommendations.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in SUBCOMMANDS:
        add(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run `pricing` on `argv` (default: the command line): the sub-command's exit status, or 1 with a one-line
    reason on stderr for the errors a user can act on (bad data, bundle or store; a ValueError, an OSError).
    argparse exits 2 on a usage error."""
    args = build_parser().parse_args(argv)
    from pricing.artifacts.bundle import BundleIntegrityError
    from pricing.artifacts.store import StoreError
    from pricing.data.load import DataError

    try:
        return args.func(args)
    except (DataError, BundleIntegrityError, StoreError, ValueError, OSError) as exc:
        print(f"pricing {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
