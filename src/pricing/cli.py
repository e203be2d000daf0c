"""The `pricing` command. Each sub-command has --help, works from the repository root with its defaults, and
fails with a non-zero exit and a one-line reason."""

from __future__ import annotations

import argparse
import contextlib
import json
import shutil
import sys
import time
from pathlib import Path

RAW_DIR = Path("data/raw")
PROCESSED_DIR = Path("data/processed")
BUNDLE_DIR = Path("models/bundle")
LOCAL_STORE = Path("models/production")


def _default_raw() -> Path:
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


def _stages(names: list[str], description: str):
    from tqdm import tqdm

    return tqdm(
        total=len(names),
        desc=description,
        unit="stage",
        file=sys.stderr,
        bar_format="{desc}: {n_fmt}/{total_fmt} {postfix} [{elapsed}]",
    )


def cmd_generate(args: argparse.Namespace) -> int:
    from pricing.data import generate

    bar = _stages(["generate", "write"], "generate")
    bar.set_postfix_str(f"{args.rows:,} rows")
    started = time.perf_counter()
    generated = generate.generate(
        rows=args.rows,
        seed=args.seed,
        confounding=args.confounding,
        incidence=args.incidence,
        within_day_prices=args.within_day_prices,
    )
    bar.update()
    bar.set_postfix_str("writing CSV")
    paths = generate.write(generated, args.out_dir)
    bar.update()
    bar.close()
    truth = generated.ground_truth
    print(
        f"wrote {len(generated.transactions):,} rows to {paths['transactions']} and the truth for "
        f"{len(truth):,} products to {paths['ground_truth']} in {time.perf_counter() - started:.1f} s"
        + (f"; unit costs (for --costs) to {paths['unit_costs']}" if "unit_costs" in paths else "")
    )
    return 0


def cmd_prepare(args: argparse.Namespace) -> int:
    from pricing.data.prepare import prepare

    bar = _stages(["load", "features", "write"], "prepare")
    try:
        report = prepare(
            args.raw,
            args.out_dir,
            val_days=args.val_days,
            test_days=args.test_days,
            on_stage=lambda name: (bar.set_postfix_str(name), bar.update()),
            date_order=args.date_order,
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


def cmd_train(args: argparse.Namespace) -> int:
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


def cmd_tune(args: argparse.Namespace) -> int:
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


def cmd_publish(args: argparse.Namespace) -> int:
    from pricing.artifacts.store import open_store

    store = open_store(args.store)
    before = store.latest()
    bundle_dir, temporary = args.bundle_dir, []
    if args.costs is not None:
        from pricing.artifacts.bundle import open_bundle
        from pricing.artifacts.costs import CostFileError, read_costs, with_costs

        products = open_bundle(bundle_dir).products().index
        try:
            costs, report = read_costs(args.costs.read_bytes(), products)
        except (CostFileError, OSError) as exc:  # nothing is published: the live version stays the live one
            print(f"pricing publish: --costs {args.costs}: {exc}; nothing published", file=sys.stderr)
            return 2
        print(f"costs: {json.dumps(report)}")
        bundle_dir = with_costs(args.bundle_dir, costs, report, args.costs.name)
        temporary.append(bundle_dir)
    from pricing.artifacts.export import with_export

    try:
        exported = with_export(bundle_dir)  # a bundle written before the serving arrays gains them
        if exported is not None:
            print("exported the networks' serving arrays (pricing.models.arrays): serves without torch")
            bundle_dir = exported
            temporary.append(exported)
        version = store.publish(bundle_dir)
    finally:
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)
    state = "was already published" if before == version else "published"
    print(f"bundle {version} {state}; LATEST -> {version} in {store!r}")
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    import logging
    from dataclasses import replace

    from pricing.config import Settings
    from pricing.serving.app import create_app
    from pricing.serving.local import check_port, serve_app
    from pricing.serving.state import service_of

    logging.basicConfig(level="INFO", format="%(asctime)s %(levelname)s %(name)s %(message)s")
    check_port(args.host, args.port)  # a port in use fails here, before the bundle loads or the cache is cleared
    settings = replace(Settings.from_env(), artifact_store=args.store) if args.store else Settings.from_env()
    app = create_app(settings)
    if args.cache_clear:
        deleted = service_of(app).cache.clear()
        print(f"cache: deleted {deleted} pricing-service keys (nothing else)")
    return serve_app(app, args.host, args.port, args.threads)


def cmd_bench(args: argparse.Namespace) -> int:
    from pricing.tools.bench import run_bench, write_report

    report = run_bench(args.store, products=args.requests)
    write_report(report, args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    print(f"report: {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from pricing.tools.evaluate import evaluate, write_outputs

    report, curves = evaluate(
        args.store,
        args.truth,
        top=args.top,
        bins=args.bins,
        samples=args.samples,
        monotone=args.monotone,
        weekly=not args.per_line_truth,
        costs_path=args.costs,
    )
    paths = write_outputs(report, curves, args.out)
    print(f"truth: {report['truth']}; {report['products']} products")
    if report["interval"]:
        i = report["interval"]
        print(f"interval ({i['level']:.0%}): has the true optimum for {i['coverage']:.1%} of {i['products']}")
    if report["decisions"]:
        d = report["decisions"]
        print(
            f"decisions: hold {d['hold_share']:.1%}; median regret of the decision {d['median_regret_decision']:.2%}, "
            f"of the recommended price {d['median_regret_recommended']:.2%}"
        )
    print(f"{'method':<19} {'median regret':>14} {'P90 regret':>11} {'median price error':>19} {'uplift captured':>16}")
    for method, s in report["summary"].items():
        uplift = s["median_uplift_captured"]
        print(
            f"{method:<19} {s['median_regret']:>14.2%} {s['p90_regret']:>11.2%} {s['median_price_error']:>19.2%} "
            f"{(f'{uplift:.0%}' if uplift is not None else '-'):>16}"
        )
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from pricing.artifacts.store import open_store
    from pricing.tools.report import build_report, data_report, elasticity_rows, write_data_report, write_report

    def print_elasticities(elasticity: dict) -> None:
        designs = elasticity["published_designs"]
        print(f"one-off bulk customers: {designs['bulk_customers']['note']}")
        print(f"{'design':<92} {'all customers':>24} {'without bulk':>24} {'observations':>13} {'published':>13}")
        for design, ours, without, observations, published in elasticity_rows(elasticity):
            print(f"{design:<92} {ours:>24} {without:>24} {observations:>13} {published:>13}")

    if args.data_only:
        report = data_report(args.data_dir)
        paths = write_data_report(report, args.out)
        print_elasticities(report["elasticity"])
        print("wrote " + ", ".join(str(p) for p in paths))
        return 0

    bundle = open_store(args.store).fetch()
    report = build_report(bundle, args.data_dir, top=args.top, bins=args.bins, samples=args.samples)
    paths = write_report(report, args.out)
    recs = report["recommendations"]["per_model"]
    effect = report["price_effect"]["list_price_lines"].get("per_model", {})
    elasticity = report["elasticity"]["models_at_median_price"]
    print(
        f"{'model':<11} {'deviance':>9} {'rec/median':>11} {'at bottom':>10} {'at top':>7} {'list slope':>13} "
        f"{'corr':>6} {'elasticity':>11}"
    )
    for name, rec in recs.items():
        m, e = report["metrics"][name], effect.get(name, {})
        slope, correlation = e.get("slope", float("nan")), e.get("correlation", float("nan"))
        print(
            f"{name:<11} {m['poisson_deviance']:>9.3f} {rec['median_ratio']:>11.2f} {rec['share_at_bottom']:>10.0%} "
            f"{rec['share_at_top']:>7.0%} {slope:>13.2f} {correlation:>6.2f} {elasticity[name]['median']:>11.2f}"
        )
    print_elasticities(report["elasticity"])
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def cmd_batch(args: argparse.Namespace) -> int:
    from pricing.artifacts.store import open_store
    from pricing.config import Settings
    from pricing.serving.batch import csv_path_beside, run_local
    from pricing.serving.predictor import Predictor

    settings = Settings.from_env()
    predictor = Predictor(open_store(args.store).fetch(), torch_threads=settings.torch_threads)
    summary = run_local(predictor, settings, args.in_path, args.out).summary()
    print(
        f"priced {summary['rows_ok']:,} of {summary['rows']:,} rows ({summary['rows_failed']:,} reported as errors) "
        f"in {summary['seconds']:.2f} s with bundle {summary['bundle_version']}"
    )
    print(f"wrote {args.out} and {csv_path_beside(args.out)}")
    return 0


def cmd_reliability(args: argparse.Namespace) -> int:
    import shlex
    from dataclasses import replace

    from pricing.tools.reliability.faults import FULL, SHORT
    from pricing.tools.reliability.runner import run, write_report

    overrides = {"load_seconds": args.seconds, "clients": args.clients, "fuzz_cases": args.fuzz_cases}
    profile = replace(FULL if args.form == "full" else SHORT, **{k: v for k, v in overrides.items() if v})
    report = run(args.store, profile, seed=args.seed, progress=lambda line: print(line, file=sys.stderr, flush=True))
    report["command"] = shlex.join([Path(sys.argv[0]).name, *sys.argv[1:]])
    write_report(report, args.out)
    print(json.dumps(report["summary"], indent=2))
    print(f"report: {args.out}")
    if not report["summary"]["passed"]:
        print(f"pricing reliability: failed: see {args.out}", file=sys.stderr)
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="pricing", description="Revenue-maximising price recommendations.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    gen = commands.add_parser("generate", help="write synthetic Online Retail data with a known demand truth")
    gen.add_argument("--rows", type=_positive_int, default=541_909, help="lines to write (default: %(default)s)")
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
    gen.add_argument("--out-dir", type=Path, default=RAW_DIR, help="output folder (default: %(default)s)")
    gen.set_defaults(func=cmd_generate)

    prep = commands.add_parser("prepare", help="clean a raw file and write train/val/test feature tables")
    prep.add_argument(
        "--raw",
        type=Path,
        default=_default_raw(),
        help="CSV (any common encoding, .csv.gz too), xlsx (every sheet) or parquet in the Online Retail "
        "(or II) layout (default: %(default)s)",
    )
    prep.add_argument("--out-dir", type=Path, default=PROCESSED_DIR, help="output folder (default: %(default)s)")
    prep.add_argument(
        "--val-days", type=_positive_int, default=28, help="validation window in days (default: %(default)s)"
    )
    prep.add_argument(
        "--test-days", type=_positive_int, default=28, help="test window, the last days (default: %(default)s)"
    )
    order = prep.add_mutually_exclusive_group()
    order.add_argument(
        "--dayfirst",
        dest="date_order",
        action="store_const",
        const="dayfirst",
        help="read 01/12/2010 as 1 December (only needed when no date in the file has a day above 12)",
    )
    order.add_argument(
        "--monthfirst",
        dest="date_order",
        action="store_const",
        const="monthfirst",
        help="read 12/1/2010 as 1 December (only needed when no date in the file has a day above 12)",
    )
    prep.set_defaults(func=cmd_prepare)

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

    tu = commands.add_parser(
        "tune",
        help="a tuning worker: add network trials to a shared Optuna study and exit (start as many as you like)",
    )
    tu.add_argument(
        "--storage",
        required=True,
        type=_storage,
        help="journal:PATH (one machine) or a database URL (many): sqlite:///tuning.db, "
        "postgresql://USER:PASSWORD@HOST/DB (driver: psycopg, installed)",
    )
    tu.add_argument(
        "--study", required=True, type=_study_name, help="the study's name; it is tied to the data its trials ran on"
    )
    tu.add_argument("--data-dir", type=Path, default=PROCESSED_DIR, help="prepared data (default: %(default)s)")
    tu.add_argument("--profile", choices=["quick", "standard", "full"], default="standard")
    limit = tu.add_mutually_exclusive_group()
    limit.add_argument("--trials", type=_positive_int, help="trials this worker adds (default: the profile's)")
    limit.add_argument(
        "--budget", type=_positive_seconds, help="seconds this worker tunes for (default: the profile's)"
    )
    tu.add_argument("--seed", type=int, default=0, help="picks the tuning rows: the same for every worker of a study")
    tu.set_defaults(func=cmd_tune)

    pub = commands.add_parser("publish", help="publish a bundle to a store (folder or s3://bucket/prefix)")
    pub.add_argument("--bundle-dir", type=Path, default=BUNDLE_DIR, help="bundle to publish (default: %(default)s)")
    pub.add_argument("--store", default=str(LOCAL_STORE), help="folder or s3://bucket/prefix (default: %(default)s)")
    pub.add_argument(
        "--costs",
        type=Path,
        help="stockcode,unit_cost file to publish with the bundle (CSV in UTF-8, UTF-16 or Windows-1252, .csv.gz, "
        ".xlsx, parquet; validated as the API validates unit_cost; a new version, <version>-c<digest>): the profit "
        "objective's default costs. A file that leaves no cost, or has two cost columns, publishes nothing",
    )
    pub.set_defaults(func=cmd_publish)

    srv = commands.add_parser("serve", help="serve the API with waitress")
    srv.add_argument("--store", help="bundle store, folder or s3://bucket/prefix (default: $ARTIFACT_STORE)")
    srv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    srv.add_argument("--port", type=_positive_int, default=5002, help="port (default: %(default)s)")
    srv.add_argument("--threads", type=_positive_int, default=8, help="worker threads (default: %(default)s)")
    srv.add_argument("--cache-clear", action="store_true", help="delete this service's cache keys first")
    srv.set_defaults(func=cmd_serve)

    bench = commands.add_parser("bench", help="measure serving speed (in-process, HTTP, cold start, memory)")
    bench.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"), help="JSON report")
    bench.add_argument("--requests", type=_positive_int, default=30, help="products timed (default: %(default)s)")
    bench.set_defaults(func=cmd_bench)

    ev = commands.add_parser("evaluate", help="score recommended prices against the generator's true optimum")
    ev.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    ev.add_argument("--truth", type=Path, default=RAW_DIR / "ground_truth.csv", help="(default: %(default)s)")
    ev.add_argument("--out", type=Path, default=Path("reports/pricing_quality.json"), help="JSON report; plots beside")
    ev.add_argument("--top", type=_positive_int, default=300, help="best-selling products scored")
    ev.add_argument("--bins", type=_positive_int, default=100, help="price bins per product")
    ev.add_argument("--samples", type=_positive_int, default=1000, help="contexts per product")
    ev.add_argument("--monotone", action="store_true", help="score the sweep with non-increasing demand curves")
    ev.add_argument(
        "--per-line-truth",
        action="store_true",
        help="score against revenue per order line (the question before weekly demand) instead of weekly revenue",
    )
    ev.add_argument(
        "--costs",
        type=Path,
        help="CSV of stockcode,unit_cost (`pricing generate` writes unit_costs.csv): score weekly profit, "
        "(price - cost) x weekly units, instead of revenue",
    )
    ev.set_defaults(func=cmd_evaluate)

    rep = commands.add_parser("report", help="what a bundle learned, for data without a known truth (the real file)")
    rep.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    rep.add_argument(
        "--data-dir",
        type=Path,
        default=PROCESSED_DIR,
        help="the prepared data it was trained on (default: %(default)s)",
    )
    rep.add_argument("--out", type=Path, default=Path("reports/report.json"), help="JSON; .md and PNGs beside it")
    rep.add_argument("--top", type=_positive_int, default=150, help="best sellers priced (default: %(default)s)")
    rep.add_argument("--bins", type=_positive_int, default=50, help="price bins per product (default: %(default)s)")
    rep.add_argument("--samples", type=_positive_int, default=500, help="contexts per product (default: %(default)s)")
    rep.add_argument(
        "--data-only",
        action="store_true",
        help="only what the prepared data shows (cleaning, price structure, its elasticities): no bundle needed",
    )
    rep.set_defaults(func=cmd_report)

    bat = commands.add_parser("batch", help="price every row of a CSV of stockcodes (the S3 batch job, run locally)")
    bat.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    bat.add_argument(
        "--in",
        dest="in_path",
        type=Path,
        required=True,
        help="CSV with a stockcode column and optional unitprice_min, unitprice_max, ... columns",
    )
    bat.add_argument("--out", type=Path, default=Path("reports/batch.json"), help="JSON report; the CSV goes beside it")
    bat.set_defaults(func=cmd_batch)

    rel = commands.add_parser("reliability", help="load, faults, fuzzing and security checks on the real server")
    rel.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    rel.add_argument("--out", type=Path, default=Path("reports/reliability.json"), help="JSON report")
    rel.add_argument(
        "--form", choices=["full", "short"], default="full", help="full: 60 s of load, 5000 fuzz cases; short: seconds"
    )
    rel.add_argument("--seconds", type=_positive_int, help="seconds of load (default: the form's)")
    rel.add_argument("--clients", type=_positive_int, help="concurrent clients (default: the form's, 16)")
    rel.add_argument("--fuzz-cases", type=_positive_int, help="generated requests (default: the form's)")
    rel.add_argument("--seed", type=int, default=0, help="seed of the load mix and the fuzzer")
    rel.set_defaults(func=cmd_reliability)
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def _positive_seconds(text: str) -> float:
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


def _study_name(text: str) -> str:
    """A study name: not blank, at most STUDY_NAME_MAX characters; argparse's error otherwise."""
    if not text.strip():
        raise argparse.ArgumentTypeError("must name the study, got an empty name")
    if len(text) > STUDY_NAME_MAX:
        raise argparse.ArgumentTypeError(f"must be at most {STUDY_NAME_MAX} characters, got {len(text):,}")
    return text


def _storage(text: str) -> str:
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


def main(argv: list[str] | None = None) -> int:
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
