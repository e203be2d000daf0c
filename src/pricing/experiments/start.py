"""`pricing experiment start`: plan a price experiment on the store's LATEST bundle and publish it with the bundle.

The steps (docs/EXPERIMENTS.md, "Running an experiment: start, plan, the API"):

1. the options, checked before anything is read (the start week an ISO week, the fractions inside their ranges,
   --unit-cost-share or --costs, not both; --top or --products);
2. the products: the decisions of the LATEST bundle, through the batch job's own in-process path
   (pricing.serving.batch.price_rows: the API's parser and Predictor.decide), for --products CODES or the --top N
   best sellers (by training lines), under --objective and the costs given: --unit-cost-share s prices each
   product's unit cost at s x its current price, --costs FILE reads a stockcode,unit_cost file as `pricing publish
   --costs` does (pricing.artifacts.costs.read_costs), neither leaves the bundle's own cost file (if any). The
   products whose verdict is `test` take part, with their test's arms (those within --band of the current price)
   and weeks per arm; named --products that are not `test` are refused by name;
3. the config (pricing.experiments.design.build): the holdout drawn by --seed, each product's schedule, the id;
   --weeks defaults to the most arms a product has x the test's weeks per arm (one pass through every arm);
4. the new version: the parent's files, `experiment.json` added (or replaced), the manifest re-written with every
   file's sha256 and `experiment_plan` naming the experiment, version `<parent>-e<8 hex digits>`, published through
   the store (pricing.artifacts.derive.publish_derived: files, manifest, LATEST last).

Any refusal (bad options, no bundle, a cost file refused, no product to test) raises before step 4: nothing is
published and LATEST is unchanged. The command prints one line per refusal (pricing.cli.main).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pricing.artifacts.bundle import Bundle, open_bundle
from pricing.artifacts.derive import derive, publish_derived
from pricing.artifacts.store import open_store
from pricing.data.features import canonical_stockcode
from pricing.experiments.design import EXPERIMENT_FILE, MAX_WEEKS, Candidate, Experiment, build, parse_week
from pricing.serving.decision import OBJECTIVE_KINDS
from pricing.serving.money import ceil_minor, floor_minor, to_minor

DEFAULT_TOP = 100
PLAN_KEY = "experiment_plan"  # the manifest's block naming the experiment ("experiment" is the update's)


@dataclass(frozen=True)
class StartOptions:
    """The command's options (pricing.cli.experiments): prices in currency per unit, fractions in (0, 1)."""

    store: str
    start_week: str
    weeks: int | None = None
    objective: str = "profit"
    unit_cost_share: float | None = None
    costs: Path | None = None
    top: int | None = None
    products: tuple[str, ...] | None = None
    holdout: float = 0.1
    band: float = 0.2
    step: float = 0.08
    seed: int = 0


@dataclass(frozen=True)
class StartResult:
    """What `start_experiment` published: the new version, its parent, the config, the verdicts of the products
    considered ({verdict or "error": count}) and the products left out with why ({stockcode: reason})."""

    version: str
    parent: str
    config: Experiment
    verdicts: dict[str, int]
    left_out: dict[str, str]


def check_options(options: StartOptions) -> None:
    """Step 1: ValueError naming the option for a value the command cannot take (before any file is read)."""
    parse_week(options.start_week, "--start-week")
    if options.weeks is not None and not 1 <= options.weeks <= MAX_WEEKS:
        raise ValueError(f"--weeks: must be from 1 to {MAX_WEEKS}, got {options.weeks}")
    if options.objective not in OBJECTIVE_KINDS:
        raise ValueError(f"--objective: must be one of {', '.join(OBJECTIVE_KINDS)}, got {options.objective!r}")
    if not 0 <= options.holdout < 1:
        raise ValueError(f"--holdout: must be a fraction from 0 and below 1, got {options.holdout}")
    for name, value in (("--band", options.band), ("--step", options.step)):
        if not 0 < value < 1:
            raise ValueError(f"{name}: must be a fraction above 0 and below 1, got {value}")
    if options.unit_cost_share is not None and options.costs is not None:
        raise ValueError("--unit-cost-share and --costs: give one of them, not both")
    if options.unit_cost_share is not None and not 0 < options.unit_cost_share < 1:
        raise ValueError(f"--unit-cost-share: must be a fraction above 0 and below 1, got {options.unit_cost_share}")
    if options.top is not None and options.products is not None:
        raise ValueError("--top and --products: give one of them, not both")
    if options.top is not None and options.top < 1:
        raise ValueError(f"--top: must be at least 1, got {options.top}")
    if options.products is not None and not [c for c in options.products if c.strip()]:
        raise ValueError("--products: no stockcode given")
    if options.seed < 0:
        raise ValueError(f"--seed: must be 0 or more, got {options.seed}")


def start_experiment(options: StartOptions) -> StartResult:
    """The whole command (module docstring). Raises ValueError (an option, a product, a cost file, nothing to
    test), StoreError (no bundle in the store), BundleIntegrityError: all before anything is published."""
    from pricing.config import Settings
    from pricing.serving.batch import price_rows
    from pricing.serving.predictor import Predictor

    check_options(options)
    store = open_store(options.store)
    parent = store.fetch()
    settings = Settings.from_env()
    predictor = Predictor(parent, torch_threads=settings.torch_threads)
    known = predictor.products.index
    if options.products is not None:
        codes = list(dict.fromkeys(canonical_stockcode(c) for c in options.products if c.strip()))
        unknown = [c for c in codes if c not in known]
        if unknown:
            raise ValueError(f"--products: {', '.join(unknown[:5])} not in bundle {parent.version}")
    else:
        top = options.top or DEFAULT_TOP
        codes = list(predictor.products.sort_values("lines", ascending=False).index[:top])

    costs = _costs(options, predictor, codes)
    rows = []
    for line, code in enumerate(codes, start=1):
        row = {"stockcode": code, "objective": options.objective}
        if code in costs:
            row["unit_cost"] = f"{costs[code]:.4f}"
        rows.append((line, row))
    results = price_rows(predictor, settings, rows)

    verdicts: Counter[str] = Counter()
    left_out: dict[str, str] = {}
    candidates: list[Candidate] = []
    weeks_per_arm = None
    for result in results:
        code = result["stockcode"]
        if result["status"] != "ok":
            verdicts["error"] += 1
            left_out[code] = result["error"]
            continue
        verdicts[result["decision"]] += 1
        if result["decision"] != "test":
            left_out[code] = f"its decision is {result['decision']}, not test"
            continue
        status_quo = float(result["current_price"])
        arms = [float(a) for a in result["test_arms"].split()]
        low, high = ceil_minor(status_quo * (1 - options.band)), floor_minor(status_quo * (1 + options.band))
        inside = tuple(a for a in arms if low <= int(to_minor(a)) <= high)
        if len(inside) < 2:
            left_out[code] = f"no arm but the status quo within --band {options.band:g} (arms {arms})"
            continue
        weeks_per_arm = result["test_weeks"] // len(arms)
        cost = result["unit_cost_used"]
        candidates.append(Candidate(code, status_quo, None if cost is None else float(cost), inside))
    if options.products is not None and left_out:
        named = "; ".join(f"{code}: {why}" for code, why in list(left_out.items())[:5])
        raise ValueError(f"--products: not every product can be tested ({named})")
    if not candidates:
        counts = ", ".join(f"{n} {verdict}" for verdict, n in sorted(verdicts.items()))
        raise ValueError(
            f"no product to test: the decisions of the {len(codes)} products considered under objective "
            f"{options.objective} are {counts}; none is test with two arms within the band"
        )
    most_arms = max(len(c.arms) for c in candidates)
    config = build(
        candidates,
        bundle=parent.version,
        start_week=options.start_week,
        weeks=options.weeks or most_arms * weeks_per_arm,
        objective=options.objective,
        holdout_share=options.holdout,
        band=options.band,
        step=options.step,
        weeks_per_arm=weeks_per_arm,
        seed=options.seed,
    )
    published = publish_derived(store, parent, *_experiment_files(parent, config), prefix="bundle-experiment-start-")
    return StartResult(published, parent.version, config, dict(verdicts), left_out)


def _experiment_files(parent: Bundle, config: Experiment) -> tuple[str, Callable[[Path], list[str]], dict]:
    """What a bundle carrying `config` adds to `parent` (pricing.artifacts.derive): its version, `<parent>-e<8 hex
    digits of parent and config>` (a new experiment replaces the last suffix), the writer of experiment.json, and
    the manifest's PLAN_KEY block naming the experiment."""
    text = config.dumps()
    base = re.sub(r"-e[0-9a-f]{8}$", "", parent.version)
    version = f"{base}-e{hashlib.sha256((parent.version + text).encode()).hexdigest()[:8]}"

    def write(folder: Path) -> list[str]:
        (folder / EXPERIMENT_FILE).write_text(text)
        return [EXPERIMENT_FILE]

    plan = {
        "id": config.id,
        "file": EXPERIMENT_FILE,
        "parent": parent.version,
        "products": len(config.products),
        "holdout": sum(p.holdout for p in config.products),
    }
    return version, write, {PLAN_KEY: plan}


def carry_experiment(bundle_dir: Path, previous: Bundle | None) -> Path | None:
    """A retrained bundle keeps the experiment its store runs: a temporary copy of `bundle_dir` (for the caller
    to publish and remove) carrying `previous`'s experiment.json unchanged (its id, products, holdout and
    schedule: the prices customers see go on as planned), or None where `previous` (the store's LATEST before the
    publish) runs no experiment or the new bundle has one of its own. The new bundle's other experiment files
    (experiment_evidence, experiment_weeks: the old model's prior and posterior) are not carried: `pricing
    experiment update` on the test weeks so far gives the new model's (docs/EXPERIMENTS.md, "A retrain during
    an experiment"). BundleIntegrityError where the previous experiment.json fails its checksum."""
    if previous is None or EXPERIMENT_FILE not in previous.manifest["files"]:
        return None
    bundle = open_bundle(bundle_dir)
    if EXPERIMENT_FILE in bundle.manifest["files"]:
        return None
    config = Experiment.read(previous.verified(EXPERIMENT_FILE))
    return derive(bundle, *_experiment_files(bundle, config), prefix="bundle-experiment-carry-")


def _costs(options: StartOptions, predictor, codes: list[str]) -> dict[str, float]:
    """{stockcode: unit cost} for the request's `unit_cost` (currency per unit): --unit-cost-share x the current
    price, or the --costs file's (CostFileError, a ValueError, for a file refused as a whole; OSError); {} to leave
    the bundle's cost file to the decision."""
    if options.unit_cost_share is not None:
        return {code: options.unit_cost_share * predictor.current_price(code)[0] for code in codes}
    if options.costs is not None:
        from pricing.artifacts.costs import CostFileError, read_costs

        try:
            costs, _ = read_costs(Path(options.costs).read_bytes(), predictor.products.index)
        except CostFileError as exc:
            raise ValueError(f"--costs {options.costs}: {exc}") from None
        return dict(zip(costs["stockcode"], costs["unit_cost"].astype(float), strict=True))
    return {}
