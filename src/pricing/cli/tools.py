"""The measuring commands: `pricing bench` (serving speed), `pricing evaluate` (against the generator's truth),
`pricing report` (what a bundle learned, without a truth) and `pricing reliability` (load, faults, fuzzing)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from pricing.cli.arguments import LOCAL_STORE, PROCESSED_DIR, RAW_DIR, positive_int


def add_bench(commands: argparse._SubParsersAction) -> None:
    """`pricing bench`: its arguments, run by `cmd_bench`."""
    bench = commands.add_parser("bench", help="measure serving speed (in-process, HTTP, cold start, memory)")
    bench.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    bench.add_argument("--out", type=Path, default=Path("reports/bench.json"), help="JSON report")
    bench.add_argument("--requests", type=positive_int, default=30, help="products timed (default: %(default)s)")
    bench.set_defaults(func=cmd_bench)


def cmd_bench(args: argparse.Namespace) -> int:
    """Measure serving speed on the store's bundle, print the figures and write the JSON report; 0."""
    from pricing.tools.bench import run_bench, write_report

    report = run_bench(args.store, products=args.requests)
    write_report(report, args.out)
    print(json.dumps({k: v for k, v in report.items() if k != "machine"}, indent=2))
    print(f"report: {args.out}")
    return 0


def add_evaluate(commands: argparse._SubParsersAction) -> None:
    """`pricing evaluate`: its arguments, run by `cmd_evaluate`."""
    ev = commands.add_parser("evaluate", help="score recommended prices against the generator's true optimum")
    ev.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    ev.add_argument("--truth", type=Path, default=RAW_DIR / "ground_truth.csv", help="(default: %(default)s)")
    ev.add_argument("--out", type=Path, default=Path("reports/pricing_quality.json"), help="JSON report; plots beside")
    ev.add_argument("--top", type=positive_int, default=300, help="best-selling products scored")
    ev.add_argument("--bins", type=positive_int, default=100, help="price bins per product")
    ev.add_argument("--samples", type=positive_int, default=1000, help="contexts per product")
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
    ev.add_argument(
        "--raw",
        type=Path,
        help="the transaction lines the truth was drawn with, for the passive regression's slopes beside the "
        "model's (default: online_retail.csv beside --truth, skipped when there is none)",
    )
    ev.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Score the store's bundle against the generator's truth (pricing.tools.evaluate): print the summary
    table, write the JSON report and its plots; 0."""
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
        raw_path=args.raw,
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
    if report["slopes"]:
        summary = report["slopes"]["summary"]
        print(f"slopes of weekly units at the current price (truth: mean {summary['truth']['mean']:.3f})")
        print(f"{'slope':<15} {'mean':>7} {'median':>7} {'bias':>7} {'bias sd':>8} {'below truth':>12} {'products':>9}")
        for name, s in list(summary.items())[1:]:
            cells = (s["mean"], s["median"], s["bias"]["mean"], s["bias"]["sd"], s["share_below_truth"])
            specs = (">7.3f", ">7.3f", ">+7.3f", ">8.3f", ">12.0%")
            widths = (7, 7, 7, 8, 12)  # a figure over no product (None) prints as '-'
            shown = [f"{'-':>{w}}" if v is None else format(v, f) for v, f, w in zip(cells, specs, widths, strict=True)]
            print(f"{name:<15} {' '.join(shown)} {s['products']:>9}")
        if report["slopes"]["passive_missing"]:
            print(f"passive regression not run: {report['slopes']['passive_missing']}")
    else:
        print(f"slopes not computed: {report['slopes_missing']}")
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def add_report(commands: argparse._SubParsersAction) -> None:
    """`pricing report`: its arguments, run by `cmd_report`."""
    rep = commands.add_parser("report", help="what a bundle learned, for data without a known truth (the real file)")
    rep.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    rep.add_argument(
        "--data-dir",
        type=Path,
        default=PROCESSED_DIR,
        help="the prepared data it was trained on (default: %(default)s)",
    )
    rep.add_argument("--out", type=Path, default=Path("reports/report.json"), help="JSON; .md and PNGs beside it")
    rep.add_argument("--top", type=positive_int, default=150, help="best sellers priced (default: %(default)s)")
    rep.add_argument("--bins", type=positive_int, default=50, help="price bins per product (default: %(default)s)")
    rep.add_argument("--samples", type=positive_int, default=500, help="contexts per product (default: %(default)s)")
    rep.add_argument(
        "--data-only",
        action="store_true",
        help="only what the prepared data shows (cleaning, price structure, its elasticities): no bundle needed",
    )
    rep.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    """`pricing report` (pricing.tools.report): with --data-only the data's own sections, else the store's
    bundle's too; print the summary and elasticity tables and write the report beside --out; 0."""
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


def add_reliability(commands: argparse._SubParsersAction) -> None:
    """`pricing reliability`: its arguments, run by `cmd_reliability`."""
    rel = commands.add_parser("reliability", help="load, faults, fuzzing and security checks on the real server")
    rel.add_argument("--store", default=str(LOCAL_STORE), help="bundle store (default: %(default)s)")
    rel.add_argument("--out", type=Path, default=Path("reports/reliability.json"), help="JSON report")
    rel.add_argument(
        "--form", choices=["full", "short"], default="full", help="full: 60 s of load, 5000 fuzz cases; short: seconds"
    )
    rel.add_argument("--seconds", type=positive_int, help="seconds of load (default: the form's)")
    rel.add_argument("--clients", type=positive_int, help="concurrent clients (default: the form's, 16)")
    rel.add_argument("--fuzz-cases", type=positive_int, help="generated requests (default: the form's)")
    rel.add_argument("--seed", type=int, default=0, help="seed of the load mix and the fuzzer")
    rel.set_defaults(func=cmd_reliability)


def cmd_reliability(args: argparse.Namespace) -> int:
    """Run load, faults, fuzzing and security checks against the real server (pricing.tools.reliability);
    write the report; 0 when every check passed, 1 otherwise."""
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
