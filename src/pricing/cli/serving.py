"""The serving commands: `pricing publish` (a bundle into a store), `pricing serve` (the API), `pricing batch`
(the batch job on local files) and `pricing launch` (launch prices for a file of new products)."""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

from pricing.cli.arguments import BUNDLE_DIR, LOCAL_STORE, positive_int


def add_publish(commands: argparse._SubParsersAction) -> None:
    """`pricing publish`: its arguments, run by `cmd_publish`."""
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
    pub.add_argument(
        "--end-experiment",
        action="store_true",
        help="do not carry the price experiment the store's live bundle runs (its experiment.json) into this one: "
        "the experiment ends and its products answer their decisions (default: it carries on as planned)",
    )
    pub.set_defaults(func=cmd_publish)


def cmd_publish(args: argparse.Namespace) -> int:
    """Publish --bundle-dir to --store (with --costs, a copy carrying them; a bundle without the serving
    arrays gains them first; where the store's live bundle runs a price experiment, a copy carrying its
    experiment.json unless --end-experiment); 0, or 2 when the cost file is refused and nothing is published."""
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
        if before is not None and not args.end_experiment:
            from pricing.experiments.start import carry_experiment

            carried = carry_experiment(bundle_dir, store.fetch(before))
            if carried is not None:  # a retrain mid-experiment: the week's prices go on as planned
                print(f"carried the experiment of {before} (experiment.json) into the new bundle")
                bundle_dir = carried
                temporary.append(carried)
        version = store.publish(bundle_dir)
    finally:
        for folder in temporary:
            shutil.rmtree(folder, ignore_errors=True)
    state = "was already published" if before == version else "published"
    print(f"bundle {version} {state}; LATEST -> {version} in {store!r}")
    return 0


def add_serve(commands: argparse._SubParsersAction) -> None:
    """`pricing serve`: its arguments, run by `cmd_serve`."""
    srv = commands.add_parser("serve", help="serve the API with waitress")
    srv.add_argument("--store", help="bundle store, folder or s3://bucket/prefix (default: $ARTIFACT_STORE)")
    srv.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    srv.add_argument("--port", type=positive_int, default=5002, help="port (default: %(default)s)")
    srv.add_argument("--threads", type=positive_int, default=8, help="worker threads (default: %(default)s)")
    srv.add_argument("--cache-clear", action="store_true", help="delete this service's cache keys first")
    srv.set_defaults(func=cmd_serve)


def cmd_serve(args: argparse.Namespace) -> int:
    """Serve the API with waitress until interrupted (a port in use fails first); the process's exit status."""
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


def add_batch(commands: argparse._SubParsersAction) -> None:
    """`pricing batch`: its arguments, run by `cmd_batch`."""
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


def cmd_batch(args: argparse.Namespace) -> int:
    """Price every row of --in with the store's bundle; write the JSON report at --out, the CSV beside it; 0."""
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


def add_launch(commands: argparse._SubParsersAction) -> None:
    """`pricing launch`: its arguments, run by `cmd_launch`."""
    lau = commands.add_parser(
        "launch", help="launch prices for a file of new products, from the products with similar descriptions"
    )
    lau.add_argument(
        "--in",
        dest="in_path",
        type=Path,
        required=True,
        help="CSV (comma, semicolon or tab; UTF-8, UTF-16 or Windows-1252) or xlsx with a description column and "
        "optional unit_cost, reference_price, country columns; any other column (a new SKU) is carried through",
    )
    lau.add_argument(
        "--out", type=Path, default=Path("reports/launch.json"), help="JSON report; the CSV goes beside it"
    )
    source = lau.add_mutually_exclusive_group()
    source.add_argument("--store", help=f"bundle store, its latest bundle (default: {LOCAL_STORE})")
    source.add_argument("--bundle-dir", type=Path, help="a bundle folder instead of a store")
    lau.add_argument(
        "--samples",
        type=positive_int,
        help="held-out contexts per neighbour curve (default: the API's, 1000; at most $MAX_SAMPLES, 5000 unless "
        "set); fewer answer faster with a noisier curve",
    )
    lau.set_defaults(func=cmd_launch)


def cmd_launch(args: argparse.Namespace) -> int:
    """Launch prices for every row of --in (pricing.serving.launch_batch) with the store's latest bundle or
    --bundle-dir: the JSON report at --out, the CSV beside it, the summary as JSON on stdout; 0. 2, with nothing
    written, when the file is refused as a whole or --samples is above the API's bound."""
    from pricing.config import Settings
    from pricing.serving.batch import BatchFileError
    from pricing.serving.launch_batch import api_decider, price_launch_table, read_launch_file, write_report

    settings = Settings.from_env()
    samples = args.samples or settings.default_samples
    if samples > settings.max_samples:
        print(f"pricing launch: --samples {samples}: at most {settings.max_samples}; nothing written", file=sys.stderr)
        return 2
    try:  # the file first: a refused one costs no bundle load
        table = read_launch_file(args.in_path.read_bytes())
    except BatchFileError as exc:
        print(f"pricing launch: --in {args.in_path}: {exc}; nothing written", file=sys.stderr)
        return 2
    from pricing.serving.predictor import Predictor

    if args.bundle_dir is not None:
        from pricing.artifacts.bundle import open_bundle

        bundle = open_bundle(args.bundle_dir, lazy_models=True)
    else:
        from pricing.artifacts.store import open_store

        bundle = open_store(args.store or str(LOCAL_STORE)).fetch()
    predictor = Predictor(bundle, torch_threads=settings.torch_threads)
    report = price_launch_table(table, api_decider(predictor, samples), str(args.in_path), predictor.version)
    written = write_report(report, args.out)
    print(json.dumps({**report.summary(), "outputs": [str(path) for path in written]}))
    return 0
