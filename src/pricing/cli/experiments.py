"""The experiment commands: `pricing simulate` (pricing policies in a closed loop against the generator's truth,
pricing.experiments.simulate) and `pricing experiment update` (a shop's test weeks: the slopes' update, a new
bundle version and the report, pricing.experiments.update)."""

from __future__ import annotations

import argparse
from pathlib import Path

from pricing.cli.arguments import add_date_order, positive_int


def _fraction(text: str) -> float:
    value = float(text)
    if not 0 < value < 1:
        raise argparse.ArgumentTypeError(f"must be within (0, 1), got {text}")
    return value


def _positive(text: str) -> float:
    import math

    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def add_simulate(commands: argparse._SubParsersAction) -> None:
    """`pricing simulate`: its arguments, run by `cmd_simulate`."""
    from pricing.experiments.policies import POLICIES

    sim = commands.add_parser(
        "simulate", help="run pricing policies in a closed loop against the generator's truth (docs/EXPERIMENTS.md)"
    )
    sim.add_argument("--weeks", type=positive_int, default=26, help="test weeks (default: %(default)s)")
    sim.add_argument("--products", type=positive_int, default=300, help="best sellers priced (default: %(default)s)")
    sim.add_argument(
        "--policy",
        action="append",
        help=f"a policy to run, repeatable: {', '.join(POLICIES)} or budget-M (default: all of them)",
    )
    sim.add_argument("--seed", type=int, default=0, help="the market's seed (default: %(default)s)")
    sim.add_argument("--seeds", type=int, nargs="+", help="several seeds in one call (instead of --seed)")
    sim.add_argument(
        "--report-seeds",
        type=int,
        nargs="+",
        default=[],
        help="the seeds of --seeds the figures are reported on, summarised apart from the others (choose settings on "
        "the others)",
    )
    sim.add_argument(
        "--market",
        action="append",
        choices=("default", "confounded"),
        help="a market, repeatable (default: default): confounded's history was priced high when demand was high",
    )
    sim.add_argument(
        "--rows", type=positive_int, default=541_909, help="the generated file's rows (default: %(default)s)"
    )
    sim.add_argument(
        "--pre-weeks", type=positive_int, default=4, help="weeks at the status quo first (default: %(default)s)"
    )
    sim.add_argument(
        "--store",
        help="a bundle's store for the prior (trained on `pricing generate` of the same seed, rows and market; "
        "{seed} and {market} in it are filled in per run, e.g. bundles/s{seed}_{market}/store); default: the "
        "passive model of the market's history",
    )
    sim.add_argument(
        "--band", type=_fraction, default=0.2, help="band around the starting price (default: %(default)s)"
    )
    sim.add_argument("--step", type=_fraction, default=0.08, help="largest change a week (default: %(default)s)")
    sim.add_argument(
        "--min-weeks",
        type=positive_int,
        default=2,
        help="weeks at a price before the next change (default: %(default)s)",
    )
    sim.add_argument(
        "--stop-loss",
        type=_fraction,
        default=0.1,
        help="the share of status-quo profit a stop-loss guards (default: %(default)s)",
    )
    sim.add_argument(
        "--stop-loss-probability",
        type=_fraction,
        default=0.9,
        help="stop when the posterior probability of losing more than --stop-loss exceeds this (default: %(default)s)",
    )
    sim.add_argument(
        "--loss-budget",
        type=float,
        default=1.0,
        help="stop past this many weeks of status-quo profit lost (default: %(default)s)",
    )
    sim.add_argument(
        "--holdout", type=float, default=0.1, help="share of products that never move (default: %(default)s)"
    )
    sim.add_argument(
        "--loss-cap",
        type=_fraction,
        help="the worst-week guardrail: admit a price only where the posterior probability of a week losing more "
        "than this share of the status-quo profit is at most --loss-cap-probability (default: off)",
    )
    sim.add_argument(
        "--loss-cap-probability",
        type=_fraction,
        default=0.1,
        help="the worst-week guardrail's probability (default: %(default)s)",
    )
    sim.add_argument(
        "--learning-weeks",
        type=positive_int,
        help="thompson: draw from the posterior for this many test weeks, then price at its mean (default: draw "
        "throughout)",
    )
    sim.add_argument(
        "--pooled",
        action="store_true",
        help="learn the shift common to every product's slope as well (a hierarchical prior; default: off)",
    )
    sim.add_argument(
        "--start-price-factor",
        type=_positive,
        default=1.0,
        help="the status quo (start, band centre, holdout price) is this x the history's last list price, in whole "
        "pence; the truth and the prior's history unchanged, the prior read at the new price (default: %(default)s)",
    )
    sim.add_argument(
        "--price-ending", type=float, help="the pence every changed price ends in, e.g. 0.99 (default: none)"
    )
    sim.add_argument("--min-margin", type=float, help="(price - cost) / price at least this (default: none)")
    sim.add_argument(
        "--lines", action="store_true", help="write each run's test-week transaction lines (Online Retail CSV)"
    )
    sim.add_argument("--out", type=Path, default=Path("reports/simulate"), help="output folder (default: %(default)s)")
    sim.set_defaults(func=cmd_simulate)


def cmd_simulate(args: argparse.Namespace) -> int:
    """Run the simulation (pricing.experiments.simulate), write the report, table and plots to --out, print the
    summary per market and policy; 0. ValueError for bad settings."""
    from pricing.experiments.policies import POLICIES, Guardrails
    from pricing.experiments.simulate import Settings, simulate
    from pricing.serving.decision import Rules

    seeds = args.seeds or [args.seed]
    unknown = [s for s in args.report_seeds if s not in seeds]
    if unknown:
        raise ValueError(f"--report-seeds {unknown} are not among the seeds run ({seeds})")
    guardrails = Guardrails(
        rules=Rules(price_ending=args.price_ending, min_margin=args.min_margin),
        band=args.band,
        step=args.step,
        min_weeks=args.min_weeks,
        stop_loss_share=args.stop_loss,
        stop_loss_probability=args.stop_loss_probability,
        loss_budget=args.loss_budget,
        holdout_share=args.holdout,
        loss_cap=args.loss_cap,
        loss_cap_probability=args.loss_cap_probability,
    )
    settings = Settings(
        weeks=args.weeks,
        products=args.products,
        pre_weeks=args.pre_weeks,
        rows=args.rows,
        policies=tuple(args.policy or POLICIES),
        guardrails=guardrails,
        store=args.store,
        pooled=args.pooled,
        learning_weeks=args.learning_weeks,
        start_price_factor=args.start_price_factor,
    )
    report = simulate(args.market or ["default"], seeds, settings, args.out, args.lines, args.report_seeds or None)
    summary = report.get("summary_report_seeds") or report["summary"]
    print(
        f"{'market':<11} {'policy':<11} {'regret':>8} {'last4 med':>9} {'last4 p90':>9} {'vs sq':>7} "
        f"{'changes':>7} {'worst wk':>8}"
    )
    for market, policies in summary.items():
        for policy, f in policies.items():
            print(
                f"{market:<11} {policy:<11} {f['regret_share']['mean']:>8.2%} {f['last4_median_regret']['mean']:>9.2%} "
                f"{f['last4_p90_regret']['mean']:>9.2%} {f['profit_over_status_quo']['mean']:>+7.2%} "
                f"{f['changes_per_product_mean']['mean']:>7.1f} {f['worst_week_loss']['mean']:>8.1%}"
            )
    print(f"wrote {', '.join(report['files'].values())}")
    return 0


EXPERIMENT_ACTIONS = ("update", "start", "plan")


def add_experiment(commands: argparse._SubParsersAction) -> None:
    """`pricing experiment update|start|plan`: their arguments, run by `cmd_experiment`. The action is a positional
    choice rather than a nested sub-parser so that `pricing experiment --help` lists every option (tests/integration/
    test_cli.py checks each command's help shows its options); each action says which options it takes."""
    from pricing.experiments.start import DEFAULT_TOP
    from pricing.experiments.update import CURVE_SAMPLES, DEFAULT_OUT

    exp = commands.add_parser(
        "experiment",
        help="run a price test: start one on the LATEST bundle, plan a week's prices, learn from its weeks "
        "(docs/EXPERIMENTS.md)",
    )
    exp.add_argument(
        "action",
        choices=EXPERIMENT_ACTIONS,
        help="update: read the test weeks' transaction lines, update each product's price slope with the LATEST "
        "bundle as the prior, publish the result as a new version (models unchanged) and write the report; "
        "start: choose the products whose decision is test, plan their arms and weeks, and publish the experiment "
        "(experiment.json) with the bundle as a new version; plan: write every experiment product's price for "
        "--week (CSV in the batch job's shape, a JSON summary beside it)",
    )
    exp.add_argument(
        "--raw",
        type=Path,
        help="update: the test weeks' transaction lines, with a pre-period and holdout products for the difference "
        "in differences (any form `pricing prepare` reads); required",
    )
    exp.add_argument(
        "--store", required=True, help="the store whose LATEST bundle is the prior and receives the update"
    )
    exp.add_argument(
        "--out",
        type=Path,
        help=f"update: report folder (default: {DEFAULT_OUT}); plan: the CSV to write (required), the JSON summary "
        "beside it",
    )
    exp.add_argument(
        "--samples",
        type=positive_int,
        default=CURVE_SAMPLES,
        help="update: held-out contexts per price when reading the bundle's curve for the prior (default: %(default)s)",
    )
    add_date_order(exp)  # as `pricing prepare`'s: the same loader reads the file
    exp.add_argument("--start-week", help="start: the experiment's first ISO week, YYYY-Www (e.g. 2026-W10); required")
    exp.add_argument(
        "--weeks",
        type=int,
        help="start: the experiment's weeks (default: the most arms a product has x the test's weeks per arm)",
    )
    exp.add_argument(
        "--objective",
        default="profit",
        help="start: the decisions' objective, revenue or profit (default: %(default)s)",
    )
    costs = exp.add_mutually_exclusive_group()
    costs.add_argument(
        "--unit-cost-share",
        type=float,
        help="start: each product's unit cost as this share of its current price (default: the bundle's cost file)",
    )
    costs.add_argument(
        "--costs",
        type=Path,
        help="start: a stockcode,unit_cost file, read as `pricing publish --costs` reads one (default: the "
        "bundle's cost file)",
    )
    chosen = exp.add_mutually_exclusive_group()
    chosen.add_argument(
        "--top",
        type=int,
        help=f"start: consider the N best sellers, keep those whose decision is test (default: {DEFAULT_TOP})",
    )
    chosen.add_argument("--products", help="start: comma-separated stockcodes to test (each decision must be test)")
    exp.add_argument(
        "--holdout", type=float, default=0.1, help="start: share of products kept at their price (default: %(default)s)"
    )
    exp.add_argument(
        "--band",
        type=float,
        default=0.2,
        help="start: arms within this fraction of the current price (default: %(default)s)",
    )
    exp.add_argument(
        "--step", type=float, default=0.08, help="start: largest price change a week (default: %(default)s)"
    )
    exp.add_argument(
        "--seed",
        type=int,
        default=0,
        help="start: the holdout draw's and the arms' orders' seed (default: %(default)s)",
    )
    exp.add_argument("--week", help="plan: the ISO week to price, YYYY-Www; required")
    exp.set_defaults(func=cmd_experiment, experiment_parser=exp)


def _require(args: argparse.Namespace, *names: str) -> None:
    """A usage error (exit 2, as argparse's own) for an option the action needs."""
    missing = [f"--{n.replace('_', '-')}" for n in names if getattr(args, n) is None]
    if missing:
        args.experiment_parser.error(f"{args.action} needs {', '.join(missing)}")


def cmd_experiment(args: argparse.Namespace) -> int:
    """`pricing experiment update|start|plan`: runs the action; 0. StoreError, DataError, ValueError (one line, exit 1
    through main; nothing published)."""
    if args.action == "start":
        return _cmd_start(args)
    if args.action == "plan":
        return _cmd_plan(args)
    return _cmd_update(args)


def _cmd_start(args: argparse.Namespace) -> int:
    """`pricing experiment start` (pricing.experiments.start): prints the new version and the experiment."""
    from pricing.experiments.start import StartOptions, start_experiment

    _require(args, "start_week")
    products = None if args.products is None else tuple(args.products.split(","))
    options = StartOptions(
        store=args.store,
        start_week=args.start_week,
        weeks=args.weeks,
        objective=args.objective,
        unit_cost_share=args.unit_cost_share,
        costs=args.costs,
        top=args.top,
        products=products,
        holdout=args.holdout,
        band=args.band,
        step=args.step,
        seed=args.seed,
    )
    result = start_experiment(options)
    config = result.config
    held = sum(p.holdout for p in config.products)
    print(f"published {result.version} (parent {result.parent}) to {args.store}")
    print(
        f"experiment {config.id}: {len(config.products)} products ({len(config.products) - held} tested, {held} "
        f"holdout), weeks {config.start_week} to {config.end_week} ({config.weeks}), {config.arms} arms at most, "
        f"{config.weeks_per_arm} weeks each, step {config.step:g}, band {config.band:g}"
    )
    print("decisions of the products considered: " + ", ".join(f"{k} {v}" for k, v in sorted(result.verdicts.items())))
    if held == 0 and config.holdout_share > 0:
        print(f"note: --holdout {config.holdout_share:g} of {len(config.products)} products rounds to none held out")
    return 0


def _cmd_plan(args: argparse.Namespace) -> int:
    """`pricing experiment plan` (pricing.experiments.plan): prints the week's counts and the files written."""
    from pricing.experiments.plan import summary_path, write_plan

    _require(args, "week", "out")
    summary = write_plan(args.store, args.week, args.out)
    print(
        f"{summary['experiment']} ({summary['status']}) week {summary['week']}: {summary['products']} products, "
        f"{summary['holdout']} holdout, {summary['at_status_quo']} at their status-quo price; guardrails "
        + ", ".join(f"{k} {v}" for k, v in summary["binding_guardrail"].items())
    )
    print(f"wrote {args.out} and {summary_path(args.out)}")
    return 0


def _cmd_update(args: argparse.Namespace) -> int:
    """`pricing experiment update` (pricing.experiments.update.update_experiment): prints the new version, the
    states and where the report is; 0."""
    from pricing.experiments.update import DEFAULT_OUT, update_experiment

    _require(args, "raw")
    args.out = args.out or DEFAULT_OUT
    result = update_experiment(args.raw, args.store, args.out, args.samples, args.date_order)
    report = result.report
    did = report["difference_in_differences"]
    print(f"published {result.version} (parent {result.parent}) to {args.store}")
    print(
        f"{report['products']} products ({report['tested']} tested, {report['holdout']} holdout) over "
        f"{len(report['weeks'])} weeks; states: " + ", ".join(f"{k} {v}" for k, v in report["states"].items())
    )
    if did:
        print(
            f"difference in differences, weekly {report['outcome']} per product: {did['estimate']:+.2f} "
            f"(90% interval {did['low']:+.2f} to {did['high']:+.2f})"
        )
    else:
        print(f"no difference in differences: {report['difference_in_differences_missing']}")
    print(f"wrote {args.out / 'report.json'}, {args.out / 'report.md'}")
    return 0
