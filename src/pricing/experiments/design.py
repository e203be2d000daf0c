"""A running price experiment's config (`experiment.json`, a file of a bundle version) and its schedule.

The config is small and versioned with the bundle (docs/EXPERIMENTS.md, "Running an experiment"): the products, the
start week and the number of weeks, the holdout share, the band around each product's status-quo price, the largest
step a week, the stop-loss, the seed; and per product its arms (prices, whole pence, the status quo among them) and
its week-by-week schedule. `pricing experiment start` writes it (pricing.experiments.start), the API's
`mode=experiment` and `pricing experiment plan` read it (pricing.serving.experiment).

The schedule, a pure function of (config, stockcode, week) (`price_for`):

- holdout: a `holdout_share` of the products (rounded), drawn once from the config's seed over the products in the
  config's order (`choose_holdout`, the simulator's rule), keeps `arms: [status quo]`
  and its status-quo price every week (binding `holdout`);
- every other product's arms are visited in a random order, each for `weeks_per_arm` consecutive weeks, a new order
  drawn for each cycle through them until the experiment's weeks are filled (so a longer experiment visits each arm
  again), from a generator seeded by (config seed, crc32 of the stockcode): reproducible, and each product's order
  independent of which other products are in the experiment. A uniformly random order puts each arm in each week
  with probability 1 / (number of arms): the `propensity` of the week's arm;
- the week's price is the arm's `target` moved to within `step` of the previous week's price (the first week: of the
  status quo), in whole pence (pricing.serving.money: the lower bound rounds up, the upper down, so the cap is never
  exceeded), binding `step` where the cap moved it. The price then always lies between the previous price and the
  target, so within the arms' range and so within the band. Where the cap is small against the price (a few pence)
  an arm may not be reached within its weeks: the schedule says so week by week (binding `step`);
- a week outside [start_week, start_week + weeks) is priced at the status quo (binding OUTSIDE).

Weeks are ISO 8601 weeks, `YYYY-Www` (`2026-W10`), through the standard library (date.fromisocalendar,
date.isocalendar). Prices are in the data's currency per unit (GBP for the Online Retail files).

`Experiment.from_json` validates everything and refuses, with a ValueError naming the field, a config whose id does
not match its contents, whose holdout is not its seed's draw or whose stored schedule is not the one its arms and seed
give: a config edited by hand cannot serve prices its own plan does not say.
"""

from __future__ import annotations

import hashlib
import json
import re
import zlib
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from pricing.serving.decision import OBJECTIVE_KINDS
from pricing.serving.money import MINOR_UNITS, ceil_minor, floor_minor, from_minor, is_whole_minor, to_minor

EXPERIMENT_FILE = "experiment.json"
CURRENCY = "GBP"  # the Online Retail files' pounds sterling; money.MINOR_UNITS is its 100 pence
OUTSIDE = "outside the experiment's weeks"
BINDINGS = (None, "step", "holdout", "stop-loss", OUTSIDE)
MAX_WEEKS = 520  # ten years of weeks: far beyond any test, so a typo (`--weeks 1000`) is refused
_WEEK = re.compile(r"(\d{4})-W(\d{2})")
_ID = re.compile(r"exp-\d{4}-W\d{2}-[0-9a-f]{8}")


# -- ISO weeks -------------------------------------------------------------------------------------------------
def parse_week(text: str, name: str = "week") -> date:
    """The Monday of ISO week `text` (`2026-W10`). ValueError naming `name` for anything else, or a week the year
    does not have (W53 of a 52-week year)."""
    match = _WEEK.fullmatch(str(text).strip())
    if match is None:
        raise ValueError(f"{name}: expected an ISO week YYYY-Www (e.g. 2026-W10), got {str(text)[:40]!r}")
    try:
        return date.fromisocalendar(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(f"{name}: {text} is not a week of {match[1]}") from None


def format_week(day: date) -> str:
    """The ISO week `YYYY-Www` holding `day`."""
    year, week, _ = day.isocalendar()
    return f"{year:04d}-W{week:02d}"


def add_weeks(week: str, count: int) -> str:
    """The ISO week `count` weeks after `week` (before, for a negative count)."""
    return format_week(parse_week(week) + timedelta(weeks=count))


def weeks_between(start: str, week: str) -> int:
    """How many weeks `week` lies after `start` (negative before it)."""
    return (parse_week(week) - parse_week(start)).days // 7


def week_of(moment: datetime) -> str:
    """The ISO week of a moment, read on the UTC clock (a naive datetime is taken as UTC)."""
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return format_week(moment.astimezone(UTC).date())


def week_end(week: str) -> datetime:
    """The moment (UTC) the week ends: the next Monday's midnight."""
    monday = parse_week(week) + timedelta(weeks=1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC)


# -- the config --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScheduledWeek:
    """One week of a product's schedule: `arm` (index into the product's arms), its `target` price, the `price`
    set (currency per unit, whole pence) and `binding` (None, `step` or `holdout`)."""

    week: str
    arm: int
    target: float
    price: float
    binding: str | None


@dataclass(frozen=True)
class ExperimentProduct:
    """A product of the experiment: its status-quo price and unit cost (currency per unit; cost None: unknown),
    whether it is held out, its arms (ascending, whole pence, the status quo among them) and its schedule."""

    stockcode: str
    status_quo_price: float
    unit_cost: float | None
    holdout: bool
    arms: tuple[float, ...]
    schedule: tuple[ScheduledWeek, ...]


@dataclass(frozen=True)
class StopLoss:
    """Return a product to its status quo when the posterior probability that its tested price loses more than
    `share` of the status-quo weekly figure passes `probability` (pricing.experiments.update's states)."""

    share: float = 0.1
    probability: float = 0.7


@dataclass(frozen=True)
class Experiment:
    """The whole config (module docstring). `weeks`: the experiment's length; `arms`: the most arms a product has;
    `weeks_per_arm`: consecutive weeks at an arm; `band`, `step`, `holdout_share`: fractions."""

    id: str
    created: str
    bundle: str
    start_week: str
    weeks: int
    objective: str
    holdout_share: float
    band: float
    step: float
    arms: int
    weeks_per_arm: int
    seed: int
    stop_loss: StopLoss
    products: tuple[ExperimentProduct, ...]

    @property
    def end_week(self) -> str:
        """The experiment's last week."""
        return add_weeks(self.start_week, self.weeks - 1)

    def product(self, stockcode: str) -> ExperimentProduct | None:
        """The product's entry, None for a product not in the experiment."""
        return next((p for p in self.products if p.stockcode == stockcode), None)

    def status(self, week: str) -> str:
        """`planned` before the start week, `running` within the weeks, `ended` after."""
        index = weeks_between(self.start_week, week)
        return "planned" if index < 0 else "running" if index < self.weeks else "ended"

    # -- JSON ---------------------------------------------------------------------------------------------------
    def to_json(self) -> dict:
        """The contract's JSON (docs/EXPERIMENTS.md): products with lists, schedule weeks as objects."""
        document = asdict(self)
        document["products"] = list(document["products"])
        for product in document["products"]:
            product["arms"] = list(product["arms"])
            product["schedule"] = [dict(week) for week in product["schedule"]]
        return document

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=1) + "\n"

    @classmethod
    def from_json(cls, document: dict) -> Experiment:
        """The config from its JSON, validated (`validate`). ValueError naming the first field that is wrong."""
        if not isinstance(document, dict):
            raise ValueError("experiment: expected a JSON object")
        fields = [f for f in cls.__dataclass_fields__ if f not in ("stop_loss", "products")]
        missing = [f for f in [*fields, "stop_loss", "products"] if f not in document]
        if missing:
            raise ValueError(f"experiment: missing {', '.join(missing)}")
        stop = document["stop_loss"]
        if not isinstance(stop, dict) or set(stop) != {"share", "probability"}:
            raise ValueError("stop_loss: expected {share, probability}")
        if not isinstance(document["products"], list):
            raise ValueError("products: expected a list")
        products = tuple(_product_from_json(p, i) for i, p in enumerate(document["products"]))
        experiment = cls(**{f: document[f] for f in fields}, stop_loss=StopLoss(**stop), products=products)
        validate(experiment)
        return experiment

    @classmethod
    def read(cls, path: Path) -> Experiment:
        """Read and validate a config file; ValueError (not JSON, or invalid), OSError."""
        try:
            document = json.loads(Path(path).read_text())
        except json.JSONDecodeError as exc:
            raise ValueError(f"{Path(path).name}: not valid JSON ({exc.msg})") from None
        return cls.from_json(document)


def _product_from_json(entry, index: int) -> ExperimentProduct:
    if not isinstance(entry, dict):
        raise ValueError(f"products[{index}]: expected an object")
    keys = ("stockcode", "status_quo_price", "unit_cost", "holdout", "arms", "schedule")
    missing = [k for k in keys if k not in entry]
    if missing:
        raise ValueError(f"products[{index}]: missing {', '.join(missing)}")
    if not isinstance(entry["arms"], list) or not isinstance(entry["schedule"], list):
        raise ValueError(f"products[{index}]: arms and schedule must be lists")
    try:
        schedule = tuple(ScheduledWeek(**week) for week in entry["schedule"])
    except TypeError:
        raise ValueError(f"products[{index}].schedule: each week is {{week, arm, target, price, binding}}") from None
    return ExperimentProduct(
        entry["stockcode"],
        entry["status_quo_price"],
        entry["unit_cost"],
        entry["holdout"],
        tuple(entry["arms"]),
        schedule,
    )


# -- the schedule --------------------------------------------------------------------------------------------------
def arm_order(n_arms: int, weeks: int, weeks_per_arm: int, seed: int, stockcode: str) -> list[int]:
    """The arm (index into the product's arms) of each of `weeks` weeks: cycles of a random order of the arms,
    each arm `weeks_per_arm` consecutive weeks, a new order each cycle, drawn from (seed, crc32(stockcode))."""
    rng = np.random.default_rng([seed, zlib.crc32(stockcode.encode())])
    order: list[int] = []
    while len(order) < weeks:
        for arm in rng.permutation(n_arms):
            order += [int(arm)] * weeks_per_arm
    return order[:weeks]


def capped(previous: int, target: int, step: float) -> int:
    """`target` moved to within `step` (a fraction) of `previous`, both in whole pence: the cap's lower bound
    rounded up and its upper bound down, so the result never moves by more than the step."""
    low = ceil_minor(previous * (1 - step) / MINOR_UNITS)
    high = floor_minor(previous * (1 + step) / MINOR_UNITS)
    return min(max(target, low), high)


def product_schedule(
    stockcode: str,
    status_quo: float,
    arms: tuple[float, ...],
    holdout: bool,
    start_week: str,
    weeks: int,
    weeks_per_arm: int,
    step: float,
    seed: int,
) -> tuple[ScheduledWeek, ...]:
    """The product's weeks (module docstring): prices in currency per unit, whole pence."""
    current = int(to_minor(status_quo))
    if holdout:
        price = float(from_minor(current))
        return tuple(ScheduledWeek(add_weeks(start_week, t), 0, price, price, "holdout") for t in range(weeks))
    minor = [int(m) for m in to_minor(arms)]
    schedule, previous = [], current
    for t, arm in enumerate(arm_order(len(minor), weeks, weeks_per_arm, seed, stockcode)):
        price = capped(previous, minor[arm], step)
        target, set_price = float(from_minor(minor[arm])), float(from_minor(price))
        schedule.append(
            ScheduledWeek(add_weeks(start_week, t), arm, target, set_price, "step" if price != minor[arm] else None)
        )
        previous = price
    return tuple(schedule)


@dataclass(frozen=True)
class WeekPrice:
    """A product's price in one week (`price_for`): `week_index` 0-based within the experiment (None outside it),
    `arm` (None outside), the arm's `target` and the `price` set (currency per unit, whole pence), `binding`
    (BINDINGS) and `propensity` (the probability the design put the product at this arm this week; None outside)."""

    week: str
    week_index: int | None
    arm: int | None
    target: float
    price: float
    binding: str | None
    propensity: float | None


def price_for(config: Experiment, stockcode: str, week: str) -> WeekPrice:
    """The product's price in `week` (module docstring), recomputed from the config's arms and seed: a pure function
    of (config, stockcode, week). KeyError for a product not in the experiment; ValueError for a malformed week."""
    product = config.product(stockcode)
    if product is None:
        raise KeyError(stockcode)
    index = weeks_between(config.start_week, week)
    week = add_weeks(config.start_week, index)  # canonical spelling
    if not 0 <= index < config.weeks:
        sq = product.status_quo_price
        return WeekPrice(week, None, None, sq, sq, OUTSIDE, None)
    schedule = product_schedule(
        product.stockcode,
        product.status_quo_price,
        product.arms,
        product.holdout,
        config.start_week,
        index + 1,  # the price is path-dependent: the weeks up to this one
        config.weeks_per_arm,
        config.step,
        config.seed,
    )
    chosen = schedule[index]
    return WeekPrice(week, index, chosen.arm, chosen.target, chosen.price, chosen.binding, 1 / len(product.arms))


def choose_holdout(n: int, share: float, rng: np.random.Generator) -> np.ndarray:
    """A random `share` of n products (rounded), chosen once: booleans (n,). The simulator's rule
    (pricing.experiments.policies.choose_holdout), restated here because the serving image carries this module and
    not the simulator's (whose scipy it does not install: Dockerfile)."""
    holdout = np.zeros(n, dtype=bool)
    holdout[rng.choice(n, round(share * n), replace=False)] = True
    return holdout


# -- building and validating ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A product a config is built for: its status-quo price, unit cost (None: unknown) and test arms (currency
    per unit, whole pence, the status quo among them)."""

    stockcode: str
    status_quo_price: float
    unit_cost: float | None
    arms: tuple[float, ...]


def experiment_id(config: Experiment) -> str:
    """`exp-<start week>-<8 hex digits>`: the sha256 of the config's JSON without its id and creation time."""
    document = config.to_json()
    del document["id"], document["created"]
    digest = hashlib.sha256(json.dumps(document, sort_keys=True).encode()).hexdigest()[:8]
    return f"exp-{config.start_week}-{digest}"


def build(
    candidates: list[Candidate],
    *,
    bundle: str,
    start_week: str,
    weeks: int,
    objective: str,
    holdout_share: float,
    band: float,
    step: float,
    weeks_per_arm: int,
    seed: int,
    stop_loss: StopLoss | None = None,
    created: datetime | None = None,
) -> Experiment:
    """A validated config for `candidates` (in the order given: the holdout is drawn over it). ValueError naming
    the field for any setting or product `validate` refuses."""
    start_week = format_week(parse_week(start_week, "start_week"))  # canonical spelling
    _check_settings(weeks, holdout_share, band, step, weeks_per_arm, seed, objective)
    holdout = choose_holdout(len(candidates), holdout_share, np.random.default_rng(seed))
    products = []
    for candidate, held in zip(candidates, holdout, strict=True):
        arms = (candidate.status_quo_price,) if held else tuple(candidate.arms)
        products.append(
            ExperimentProduct(
                candidate.stockcode,
                candidate.status_quo_price,
                candidate.unit_cost,
                bool(held),
                arms,
                product_schedule(
                    candidate.stockcode,
                    candidate.status_quo_price,
                    arms,
                    bool(held),
                    start_week,
                    weeks,
                    weeks_per_arm,
                    step,
                    seed,
                ),
            )
        )
    config = Experiment(
        id="",
        created=(created or datetime.now(UTC)).isoformat(timespec="seconds"),
        bundle=bundle,
        start_week=start_week,
        weeks=weeks,
        objective=objective,
        holdout_share=holdout_share,
        band=band,
        step=step,
        arms=max((len(p.arms) for p in products), default=0),
        weeks_per_arm=weeks_per_arm,
        seed=seed,
        stop_loss=stop_loss or StopLoss(),
        products=tuple(products),
    )
    config = replace(config, id=experiment_id(config))
    validate(config)
    return config


def _number(name: str, value, low: float, high: float, low_open: bool = True, high_open: bool = True) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not np.isfinite(value):
        raise ValueError(f"{name}: expected a number, got {value!r}")
    if (value <= low if low_open else value < low) or (value >= high if high_open else value > high):
        left, right = "(" if low_open else "[", ")" if high_open else "]"
        raise ValueError(f"{name}: must be within {left}{low:g}, {high:g}{right}, got {value!r}")


def _integer(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name}: must be a whole number from {low} to {high:,}, got {value!r}")


def _check_settings(weeks, holdout_share, band, step, weeks_per_arm, seed, objective) -> None:
    _integer("weeks", weeks, 1, MAX_WEEKS)
    _number("holdout_share", holdout_share, 0, 1, low_open=False)
    _number("band", band, 0, 1)
    _number("step", step, 0, 1)
    _integer("weeks_per_arm", weeks_per_arm, 1, MAX_WEEKS)
    _integer("seed", seed, 0, 2**32 - 1)
    if objective not in OBJECTIVE_KINDS:
        raise ValueError(f"objective: must be one of {', '.join(OBJECTIVE_KINDS)}, got {objective!r}")


def _price(name: str, value) -> None:
    _number(name, value, 0, 1_000_000, high_open=False)
    if not bool(is_whole_minor(value)):
        raise ValueError(f"{name}: {value!r} is not a whole number of pence")


def validate(config: Experiment) -> None:
    """Refuse, with a ValueError naming the field, a config that is not one `build` makes (module docstring)."""
    if not isinstance(config.id, str) or not _ID.fullmatch(config.id):
        raise ValueError(f"id: expected exp-YYYY-Www-<8 hex digits>, got {config.id!r}")
    try:
        datetime.fromisoformat(str(config.created))
    except ValueError:
        raise ValueError(f"created: not an ISO time, got {config.created!r}") from None
    if not isinstance(config.bundle, str) or not config.bundle:
        raise ValueError("bundle: expected the version the experiment was planned on")
    parse_week(config.start_week, "start_week")
    _check_settings(
        config.weeks,
        config.holdout_share,
        config.band,
        config.step,
        config.weeks_per_arm,
        config.seed,
        config.objective,
    )
    _number("stop_loss.share", config.stop_loss.share, 0, 1)
    _number("stop_loss.probability", config.stop_loss.probability, 0, 1)
    if not config.products:
        raise ValueError("products: the experiment has none")
    codes = [p.stockcode for p in config.products]
    if len(set(codes)) != len(codes):
        raise ValueError(f"products: {sorted({c for c in codes if codes.count(c) > 1})[:3]} listed more than once")
    _integer("arms", config.arms, 1, 1_000)
    expected_holdout = choose_holdout(len(codes), config.holdout_share, np.random.default_rng(config.seed))
    for product, held in zip(config.products, expected_holdout, strict=True):
        _check_product(config, product, bool(held))
    if config.id != experiment_id(config):
        raise ValueError(f"id: {config.id} does not match the config's contents (edited after it was built?)")


def _check_product(config: Experiment, product: ExperimentProduct, held: bool) -> None:
    name = f"products[{product.stockcode!r}]"
    if not isinstance(product.stockcode, str) or not product.stockcode:
        raise ValueError(f"{name}.stockcode: expected a non-empty string")
    _price(f"{name}.status_quo_price", product.status_quo_price)
    if product.unit_cost is not None:
        _number(f"{name}.unit_cost", product.unit_cost, 0, 1_000_000, high_open=False)
    if product.holdout is not held:
        raise ValueError(f"{name}.holdout: {product.holdout} is not the seed's draw ({held})")
    for arm in product.arms:
        _price(f"{name}.arms", arm)
    minor = [int(m) for m in to_minor(product.arms)]
    sq = int(to_minor(product.status_quo_price))
    if minor != sorted(set(minor)):
        raise ValueError(f"{name}.arms: must be ascending and distinct, got {list(product.arms)}")
    if sq not in minor:
        raise ValueError(f"{name}.arms: must include the status-quo price {product.status_quo_price}")
    if held and minor != [sq]:
        raise ValueError(f"{name}.arms: a holdout product has only its status-quo price")
    if not held and len(minor) < 2:
        raise ValueError(f"{name}.arms: a tested product needs at least two prices")
    if len(minor) > config.arms:
        raise ValueError(f"{name}.arms: {len(minor)} arms, more than the experiment's {config.arms}")
    low = ceil_minor(product.status_quo_price * (1 - config.band))
    high = floor_minor(product.status_quo_price * (1 + config.band))
    if minor[0] < low or minor[-1] > high:
        raise ValueError(f"{name}.arms: {list(product.arms)} leave the band of +-{config.band:.0%} around {sq / 100}")
    expected = product_schedule(
        product.stockcode,
        product.status_quo_price,
        product.arms,
        held,
        config.start_week,
        config.weeks,
        config.weeks_per_arm,
        config.step,
        config.seed,
    )
    if tuple(product.schedule) != expected:
        raise ValueError(f"{name}.schedule: not the schedule its arms, seed and step give (edited by hand?)")
