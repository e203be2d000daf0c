"""The data commands: `pricing generate` (synthetic data with a known truth) and `pricing prepare` (clean a raw
file into feature tables)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from pricing.cli.arguments import PROCESSED_DIR, RAW_DIR, add_date_order, default_raw, positive_int


def add_generate(commands: argparse._SubParsersAction) -> None:
    """`pricing generate`: its arguments, run by `cmd_generate`."""
    gen = commands.add_parser("generate", help="write synthetic Online Retail data with a known demand truth")
    gen.add_argument("--rows", type=positive_int, default=541_909, help="lines to write (default: %(default)s)")
    gen.add_argument("--seed", type=int, default=0, help="random seed; same seed, same bytes (default: %(default)s)")
    gen.add_argument(
        "--confounding",
        type=float,
        default=0.0,
        help="strength of the wholesale tier-price confounder in [0, 1]; 0 turns it off (default: %(default)s)",
    )
    gen.add_argument(
        "--incidence",
        type=float,
        default=1.0,
        help="scale of each product's elasticity of order lines per week to its list price, in [0, 5]; 0: line "
        "counts ignore price; with --confounding 0.5 --no-within-day-prices too, the files of earlier versions "
        "byte for byte (default: %(default)s)",
    )
    gen.add_argument(
        "--within-day-prices",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write the real file's within-day price terms: quantity breaks (a lower unit price for a bigger line) "
        "and guests paying about twice the list price; the truth stays on the list price (default: on)",
    )
    gen.add_argument(
        "--market",
        choices=("default", "confounded"),
        default="default",
        help="confounded: historic list prices rose with an unobserved demand level, so passive estimates of the "
        "price effect are biased toward inelastic (docs/DATA.md) (default: %(default)s)",
    )
    gen.add_argument(
        "--history",
        choices=("auto", "whole", "by-day"),
        default="auto",
        help="how the year of lines is drawn: whole (in memory, about 0.3 KB a line) or by-day (a trading day at a "
        "time in bounded memory, the same demand truth, other draws of the lines; from 100,000 rows); auto: "
        "by-day from 5,000,000 rows, generate.BY_DAY_FROM_ROWS (default: %(default)s)",
    )
    gen.add_argument("--out-dir", type=Path, default=RAW_DIR, help="output folder (default: %(default)s)")
    gen.set_defaults(func=cmd_generate)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate and write the files to --out-dir (pricing.data.generate) and print where they went; 0."""
    from pricing.data import generate

    settings = {
        "rows": args.rows,
        "seed": args.seed,
        "confounding": args.confounding,
        "incidence": args.incidence,
        "within_day_prices": args.within_day_prices,
        "market": args.market,
    }
    started = time.perf_counter()
    if args.history == "by-day" or (args.history == "auto" and args.rows >= generate.BY_DAY_FROM_ROWS):
        paths, truth = generate.write_by_day(args.out_dir, progress=True, **settings)
    else:
        bar = _stages(["generate", "write"], "generate")
        bar.set_postfix_str(f"{args.rows:,} rows")
        generated = generate.generate(**settings)
        bar.update()
        bar.set_postfix_str("writing CSV")
        paths = generate.write(generated, args.out_dir)
        bar.update()
        bar.close()
        truth = generated.ground_truth
    print(
        f"wrote {args.rows:,} rows to {paths['transactions']} and the truth for "
        f"{len(truth):,} products to {paths['ground_truth']} in {time.perf_counter() - started:.1f} s"
        + (f"; unit costs (for --costs) to {paths['unit_costs']}" if "unit_costs" in paths else "")
    )
    return 0


def add_prepare(commands: argparse._SubParsersAction) -> None:
    """`pricing prepare`: its arguments, run by `cmd_prepare`."""
    prep = commands.add_parser("prepare", help="clean a raw file and write train/val/test feature tables")
    prep.add_argument(
        "--raw",
        type=raw_source,
        default=default_raw(),
        help="CSV (any common encoding, .csv.gz too), xlsx (every sheet) or parquet in the Online Retail "
        "(or II) layout; or a folder of such files, or a quoted glob ('exports/2011-*.csv'), read as one; with "
        "--engine spark a URI the session reads too (s3://bucket/exports/) (default: %(default)s)",
    )
    prep.add_argument("--out-dir", type=Path, default=PROCESSED_DIR, help="output folder (default: %(default)s)")
    prep.add_argument(
        "--val-days", type=positive_int, default=28, help="validation window in days (default: %(default)s)"
    )
    prep.add_argument(
        "--test-days", type=positive_int, default=28, help="test window, the last days (default: %(default)s)"
    )
    add_date_order(prep)
    prep.add_argument(
        "--engine",
        choices=("duckdb", "spark", "pandas"),
        default="duckdb",
        help="where the relational work runs: duckdb (in-process, out of core: bounded memory whatever the file's "
        "size), spark (the SparkSession of spark-submit or the environment; the tables are folders of parts), "
        "pandas (every line in memory: the reference the engines are held to) (default: %(default)s)",
    )
    prep.add_argument(
        "--memory-limit",
        default=None,
        help="DuckDB's memory limit, e.g. 3GB or 512MB (default: ENGINE_MEMORY_LIMIT, else 3GB)",
    )
    prep.add_argument(
        "--spill-dir",
        type=Path,
        default=None,
        help="where DuckDB keeps its database file and spills (default: ENGINE_SPILL_DIR, else the system's "
        "temporary folder); it needs about the prepared tables' size free",
    )
    prep.set_defaults(func=cmd_prepare)


def raw_source(text: str) -> Path | str:
    """--raw: a path, or a URI kept as text (a Path would fold s3://bucket into s3:/bucket)."""
    from pricing.data.sources import is_uri

    return text if is_uri(text) else Path(text)


def cmd_prepare(args: argparse.Namespace) -> int:
    """Clean --raw into --out-dir's feature tables and print what was kept and dropped; 0. A ValueError
    names the cleaning report when the cleaning itself worked."""
    from pricing.config import Settings
    from pricing.data.prepare import prepare

    settings = Settings.from_env()
    bar = _stages(["load", "features", "write"], "prepare")
    try:
        report = prepare(
            args.raw,
            args.out_dir,
            val_days=args.val_days,
            test_days=args.test_days,
            on_stage=lambda name: (bar.set_postfix_str(name), bar.update()),
            date_order=args.date_order,
            engine=args.engine,
            memory_limit=args.memory_limit or settings.engine_memory_limit,
            spill_dir=args.spill_dir or (Path(settings.engine_spill_dir) if settings.engine_spill_dir else None),
        )
    except ValueError as exc:
        bar.close()
        if (args.out_dir / "data_quality.json").is_file():  # the cleaning worked: its report says what was dropped
            raise ValueError(f"{exc} (cleaning report: {args.out_dir / 'data_quality.json'})") from None
        raise
    bar.close()
    dropped = {k: v for k, v in report["dropped"].items() if v}
    print(f"read {report['rows_read']:,} rows, kept {report['rows_kept']:,}; dropped {json.dumps(dropped)}")
    print(
        f"wrote {', '.join(f'{k} {v:,}' for k, v in report['split']['rows'].items())} rows and "
        f"{report['split']['products']:,} products to {args.out_dir}/ (report: {args.out_dir / 'data_quality.json'})"
    )
    return 0


def _stages(names: list[str], description: str):
    """A progress bar on stderr counting the stages in `names`."""
    from tqdm import tqdm

    return tqdm(
        total=len(names),
        desc=description,
        unit="stage",
        file=sys.stderr,
        bar_format="{desc}: {n_fmt}/{total_fmt} {postfix} [{elapsed}]",
    )
