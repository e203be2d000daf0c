"""The one request model: a price recommendation request, parsed once, validated by one strict parser.

The API (`GET /v1/predict-price/<stockcode>?...`) and the batch job (one CSV row per request) both build a
`PriceRequest` with `parse_request`, pass it whole to `Predictor.recommend`, and turn its failures into messages
with `error_message`. The OpenAPI document's parameters come from `PARAMETERS` and the bounds in `Settings`, so
the contract, the parser and the documentation cannot drift. A new query parameter is one `Parameter` entry, one
`PriceRequest` field and its line in `parse_request`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass

from pricing.config import Settings
from pricing.data.features import canonical_stockcode
from pricing.numbers import NumberError, parse_decimal, parse_integer
from pricing.serving.decision import OBJECTIVE_KINDS, Rules
from pricing.serving.errors import RequestError
from pricing.serving.sweep import OBJECTIVES, PRICE_DECIMALS, PRICE_RESOLUTION, SWEEP_BASES

MAX_PRICE = 1_000_000.0  # currency units per unit sold
PRODUCTS_PAGE_MAX = 200  # GET /v1/products?page_size=


@dataclass(frozen=True)
class Parameter:
    """One request parameter as the API, the batch job and the OpenAPI document see it."""

    name: str
    # "price" (currency units, plain decimals), "fraction" (a plain decimal in [0, 1]), "ending" (pence: 0.00 to
    # 0.99), "integer", "text" or "choice" (one of `choices`, the first the default)
    kind: str
    description: str
    choices: tuple[str, ...] = ()

    def schema(self, settings: Settings) -> dict:
        """The parameter's JSON schema, with the bounds and default the parser applies."""
        if self.kind == "price":
            return {"type": "number", "minimum": PRICE_RESOLUTION, "maximum": MAX_PRICE}
        if self.kind == "fraction":
            return {"type": "number", "minimum": 0, "maximum": _FRACTION_MAX[self.name]}
        if self.kind == "ending":
            return {"type": "number", "minimum": 0, "maximum": 0.99, "multipleOf": 0.01}
        if self.kind == "integer" and self.name in _COUNT_BOUNDS:
            low, high, default = _COUNT_BOUNDS[self.name](settings)
            return {"type": "integer", "minimum": low, "maximum": high, "default": default}
        if self.kind == "choice":
            return {"type": "string", "enum": list(self.choices), "default": self.choices[0]}
        return {"type": "integer" if self.kind == "integer" else "string"}


PARAMETERS = (
    Parameter(
        "unitprice_min",
        "price",
        "Lowest price swept (default: the lowest of the product's list prices and its current price, less the sweep "
        "band, 20%; with sweep=line_prices: the lowest price a line paid)",
    ),
    Parameter(
        "unitprice_max",
        "price",
        "Highest price swept (default: the highest of the product's list prices and its current price, plus the "
        "sweep band, 20%; with sweep=line_prices: the highest price a line paid)",
    ),
    Parameter(
        "sweep",
        "choice",
        "The default range unitprice_min..unitprice_max is read from: list_prices (the product's list prices, "
        "widened by 20%; the default) or line_prices (every price a line paid, quantity-break discounts and the "
        "guests' premium included)",
        SWEEP_BASES,
    ),
    Parameter("num_price_bins", "integer", "Number of prices in the sweep, evenly spaced from min to max"),
    Parameter("num_samples", "integer", "Held-out contexts the predicted quantity is the median over, per price"),
    Parameter("country", "text", "Only held-out contexts from this country"),
    Parameter("customerid", "integer", "Only held-out contexts of this customer"),
    Parameter(
        "optimise",
        "choice",
        "What the optimum maximises: sales_per_week (price x order lines per week x units per line; the default) "
        "or sales_per_line (price x units per order line, which ignores the orders a higher price loses)",
        OBJECTIVES,
    ),
    Parameter(
        "objective",
        "choice",
        "revenue (the default) or profit: (price - unit cost) x units; profit without a known unit cost is "
        "answered as revenue, and the response says so",
        OBJECTIVE_KINDS,
    ),
    Parameter("unit_cost", "price", "Unit cost (default: the bundle's cost file, where one was published)"),
    Parameter("floor", "price", "Lowest price the recommendation may take"),
    Parameter("ceiling", "price", "Highest price the recommendation may take"),
    Parameter("max_change", "fraction", "Largest move from the current price, as a fraction (0.1: within 10%)"),
    Parameter("price_ending", "ending", "The pence every recommended price ends in (0.99: 4.99, 12.99)"),
    Parameter("min_margin", "fraction", "Smallest margin (price - unit cost) / price, as a fraction; needs a cost"),
    Parameter(
        "min_probability",
        "fraction",
        "Smallest share of the model's draws in which the recommended price must beat the current one for the "
        "decision to be change (default 0.5; higher holds more often)",
    ),
    Parameter(
        "min_gain",
        "fraction",
        "Smallest expected gain of a change, as a fraction of the objective at the current price (default 0; "
        "0.01: hold unless the change is expected to earn at least 1% more)",
    ),
)
PARAMETER_NAMES = tuple(p.name for p in PARAMETERS)
# /v1/price-decision's answer mode (pricing.serving.experiment): the decision, or the running experiment's price of
# the week; not batch columns, and in experiment mode the PARAMETERS above are refused (the experiment fixed them)
MODES = ("decision", "experiment")
MODE_PARAMETERS = (
    Parameter(
        "mode",
        "choice",
        "decision (the default): the price decision; experiment: this week's price of the bundle's running price "
        "experiment for the product (the same for every request in an ISO week), with its arm, holdout, propensity, "
        "binding guardrail, state and schedule; the decision's other parameters are refused in experiment mode",
        MODES,
    ),
    Parameter(
        "experiment",
        "text",
        "mode=experiment only: the experiment's id (default: the loaded bundle's experiment; another id is a 404)",
    ),
    Parameter(
        "week",
        "text",
        "mode=experiment only: the ISO week to price, YYYY-Www (default: the server's current week, UTC)",
    ),
)
MODE_NAMES = tuple(p.name for p in MODE_PARAMETERS)
_FRACTION_MAX = {"max_change": 1.0, "min_margin": 0.99, "min_probability": 1.0, "min_gain": 1.0}
_COUNT_BOUNDS = {
    "num_price_bins": lambda s: (2, s.max_price_bins, s.default_price_bins),
    "num_samples": lambda s: (1, s.max_samples, s.default_samples),
}


@dataclass(frozen=True)
class PriceRequest:
    """A validated, defaulted recommendation request: the whole cache key.

    Prices are in the data's currency per unit, rounded to the response's 4 decimals; `num_price_bins` prices
    from `unitprice_min` to `unitprice_max` inclusive, at least PRICE_RESOLUTION apart."""

    stockcode: str
    unitprice_min: float
    unitprice_max: float
    num_price_bins: int
    num_samples: int
    sweep: str = "list_prices"  # where the default range came from (SWEEP_BASES)
    country: str | None = None
    customerid: int | None = None
    optimise: str = OBJECTIVES[0]
    objective: str = OBJECTIVE_KINDS[0]
    unit_cost: float | None = None
    floor: float | None = None
    ceiling: float | None = None
    max_change: float | None = None
    price_ending: float | None = None
    min_margin: float | None = None
    min_probability: float | None = None  # the decision's thresholds (pricing.serving.decision.verdict)
    min_gain: float | None = None

    @property
    def rules(self) -> Rules:
        return Rules(self.floor, self.ceiling, self.max_change, self.price_ending, self.min_margin)

    def key_fields(self) -> dict:
        """Every field but the stockcode (which the cache key carries on its own), in a stable order."""
        fields = asdict(self)
        del fields["stockcode"]
        return fields


def parse_request(
    stockcode: str,
    values: Mapping[str, str | None],
    settings: Settings,
    default_range: Callable[[str, str], tuple[float, float]],
) -> PriceRequest:
    """Build a PriceRequest from text values (a query's or a CSV row's; a missing or blank value means the default).

    `default_range(stockcode, sweep)` gives the product's (low, high) price range for `sweep`, one of SWEEP_BASES
    (`Predictor.default_range`), and raises
    UnknownStockcode for a product the bundle does not know; RequestError naming the parameter for a bad
    value: numbers in plain decimal notation only (`1_0`, `1e3`, `nan`, non-ASCII digits are refused), an
    integer parameter refuses a fraction, bounds from `settings`."""
    stockcode = canonical_stockcode(stockcode or "")
    if not stockcode:
        raise RequestError("stockcode: missing")

    def text(name: str) -> str | None:
        value = values.get(name)
        return value.strip() or None if value is not None else None  # a blank cell or `?country=` is not set

    basis = text("sweep")
    # UnknownStockcode first: 404 beats 400 (a bad `sweep` is refused below, with the other choices)
    default_low, default_high = default_range(stockcode, basis if basis in SWEEP_BASES else SWEEP_BASES[0])
    try:
        low = _price("unitprice_min", text("unitprice_min"), default_low)
        high = _price("unitprice_max", text("unitprice_max"), default_high)
        counts = {
            name: parse_integer(name, given, bounds[0], bounds[1]) if (given := text(name)) is not None else bounds[2]
            for name, bounds in ((n, b(settings)) for n, b in _COUNT_BOUNDS.items())
        }
        customer = text("customerid")
        customer = parse_integer("customerid", customer) if customer is not None else None
        optional = {
            p.name: (_OPTIONAL_PARSERS[p.kind](p.name, given) if (given := text(p.name)) is not None else None)
            for p in PARAMETERS
            if p.kind in _OPTIONAL_PARSERS and p.name not in ("unitprice_min", "unitprice_max")
        }
    except NumberError as exc:
        raise RequestError(str(exc)) from None
    if low >= high:
        raise RequestError(f"unitprice_min ({low:g}) must be below unitprice_max ({high:g})")
    bins = counts["num_price_bins"]
    if (high - low) / (bins - 1) < PRICE_RESOLUTION - 1e-12:
        most = int((high - low) / PRICE_RESOLUTION + 1e-9) + 1
        raise RequestError(
            f"num_price_bins: {bins} prices from {low:g} to {high:g} would be closer together than the response's"
            f" resolution ({PRICE_RESOLUTION:g}): ask for at most {most}, or widen unitprice_min..unitprice_max"
        )
    choices = {p.name: _choice(p, text(p.name)) for p in PARAMETERS if p.kind == "choice"}
    return PriceRequest(
        stockcode,
        low,
        high,
        bins,
        counts["num_samples"],
        country=text("country"),
        customerid=customer,
        **choices,
        **optional,
    )


@dataclass(frozen=True)
class ModeRequest:
    """How /v1/price-decision answers: `mode` (MODES), and for experiment mode the experiment's id (None: the
    bundle's) and the ISO week (`YYYY-Www`, canonical; None: the server's current week)."""

    mode: str = MODES[0]
    experiment: str | None = None
    week: str | None = None


def parse_mode(values: Mapping[str, str | None]) -> ModeRequest:
    """The ModeRequest of a query's `mode`, `experiment` and `week` (blank means not given). RequestError naming the
    parameter: a mode not in MODES, a week that is not an ISO week YYYY-Www, `experiment` or `week` without
    mode=experiment."""
    from pricing.experiments.design import format_week, parse_week

    def text(name: str) -> str | None:
        value = values.get(name)
        return value.strip() or None if value is not None else None

    mode = _choice(MODE_PARAMETERS[0], text("mode"))
    experiment, week = text("experiment"), text("week")
    if mode != "experiment":
        given = [name for name, value in (("experiment", experiment), ("week", week)) if value is not None]
        if given:
            raise RequestError(f"{', '.join(given)}: only taken with mode=experiment")
        return ModeRequest(mode)
    if week is not None:
        try:
            week = format_week(parse_week(week, "week"))
        except ValueError as exc:
            raise RequestError(str(exc)) from None
    return ModeRequest(mode, experiment, week)


def _choice(parameter: Parameter, given: str | None) -> str:
    value = given or parameter.choices[0]
    if value not in parameter.choices:
        raise RequestError(f"{parameter.name}: must be one of {', '.join(parameter.choices)}, got {value[:40]!r}")
    return value


def _fraction(name: str, given: str) -> float:
    value = parse_decimal(name, given)
    if not 0 <= value <= _FRACTION_MAX[name]:
        raise NumberError(f"{name}: must be a fraction from 0 to {_FRACTION_MAX[name]:g} (0.1 is 10%)")
    return value


def _ending(name: str, given: str) -> float:
    value = parse_decimal(name, given)
    if not 0 <= value <= 0.99 or abs(value * 100 - round(value * 100)) > 1e-9:
        raise NumberError(f"{name}: must be the pence a price ends in, 0.00 to 0.99 (e.g. 0.99), got {given[:20]!r}")
    return round(value, 2)


_OPTIONAL_PARSERS = {
    "price": lambda name, given: _price(name, given, 0.0),
    "fraction": _fraction,
    "ending": _ending,
}


def _price(name: str, given: str | None, default: float) -> float:
    value = default if given is None else parse_decimal(name, given)
    if value <= 0:
        raise NumberError(f"{name}: must be a positive price")
    if value < PRICE_RESOLUTION:
        raise NumberError(f"{name}: must be at least {PRICE_RESOLUTION:g} (prices are reported to 4 decimals)")
    if value > MAX_PRICE:
        raise NumberError(f"{name}: must be at most {MAX_PRICE:g}")
    return round(value, PRICE_DECIMALS)  # what the response reports, so the sweep prices what it says


def check_parameter_names(
    names: list[str], known: tuple[str, ...] = PARAMETER_NAMES, loose: bool = False, cutoff: float = 0.8
) -> dict[str, str]:
    """The known parameters among `names` (a query's parameter names, a batch file's header), as {name: the
    parameter it is}; a name that is no parameter is left out (ignored: never part of a request or a cache key).

    A name is a parameter when it is one of `known` exactly; with `loose` (a spreadsheet's header) also when it
    is one but for case, spaces, underscores and hyphens (`Unit Price Min` is unitprice_min). Raises RequestError
    for a name a person meant as a parameter but did not write as one, so that a rule is never silently dropped:
    the same name but for case and separators where `loose` is off (`Floor`), or a typo, a difflib similarity of
    at least `cutoff` to a parameter on the names so reduced (`ceilling`, `unit_cots`): `"Floor: unknown
    parameter; did you mean floor?"` (every parameter that close, the closest first, joined by "or"). Also for two
    names that are one parameter (`floor` and `Floor` in one header): `"floor: given more than once ('floor' and
    'Floor')"`, the API's words for a repeated parameter."""
    import difflib
    import re

    def reduced(name: str) -> str:
        return re.sub(r"[\s_-]+", "", name).lower()

    by_key = {reduced(name): name for name in known}
    found: dict[str, str] = {}
    given_as: dict[str, str] = {}  # parameter -> the first name that gave it
    for name in names:
        key = reduced(name)
        meant = name if name in known else by_key.get(key) if loose else None
        if meant is None:
            # the parameter it is but for case and separators, else every one that close, the closest first
            close = [key] if key in by_key else difflib.get_close_matches(key, by_key, n=len(by_key), cutoff=cutoff)
            if close:
                meant = " or ".join(by_key[k] for k in close)
                raise RequestError(f"{name[:40]}: unknown parameter; did you mean {meant}?")
            continue
        if meant in given_as:
            raise RequestError(f"{meant}: given more than once ({given_as[meant][:40]!r} and {name[:40]!r})")
        given_as[meant] = name
        found[name] = meant
    return found


# ---- GET /v1/launch-decision (pricing.serving.launch): a new product's launch price from similar products --------
# A product description as shops write them (the real file's longest is 35 characters): 200 leaves room for a
# longer one and refuses a pasted document (the 5,000-character case) with a 400 instead of a guess.
MAX_DESCRIPTION_CHARS = 200
# One word ("MUG", "HEART") matches half a catalogue as well as the other half: too loose to borrow demand from.
MIN_DESCRIPTION_WORDS = 2
LAUNCH_PARAMETERS = (
    Parameter(
        "description",
        "text",
        f"The new product's description (required; {MIN_DESCRIPTION_WORDS} words at least, at most "
        f"{MAX_DESCRIPTION_CHARS} characters): the bundle's products with the most similar descriptions lend it "
        "their demand",
    ),
    Parameter("unit_cost", "price", "Unit cost: the launch price maximises weekly profit (without it: revenue)"),
    Parameter(
        "reference_price",
        "price",
        "The price the neighbours' relative prices are read against (default: the similarity-weighted median of "
        "the neighbours' current prices)",
    ),
    Parameter("country", "text", "Only held-out contexts from this country (the neighbours' curves for it)"),
)
LAUNCH_NAMES = tuple(p.name for p in LAUNCH_PARAMETERS)


@dataclass(frozen=True)
class LaunchRequest:
    """A validated launch request: the whole cache key. `description` stripped, with runs of white space as one
    space; prices in the data's currency per unit (None: not given)."""

    description: str
    unit_cost: float | None = None
    reference_price: float | None = None
    country: str | None = None

    def key_fields(self) -> dict:
        return asdict(self)


def parse_launch(values: Mapping[str, str | None]) -> LaunchRequest:
    """The LaunchRequest of a query's text values (a missing or blank value means not given). RequestError naming
    the parameter: `description` missing or blank, shorter than MIN_DESCRIPTION_WORDS words or longer than
    MAX_DESCRIPTION_CHARS characters; `unit_cost` or `reference_price` not a plain positive decimal (at most
    MAX_PRICE); `reference_price` below a penny (a launch price is whole pence)."""

    def text(name: str) -> str | None:
        value = values.get(name)
        return value.strip() or None if value is not None else None

    description = text("description")
    if description is None:
        raise RequestError("description: missing; describe the new product (e.g. 'RED RETROSPOT MUG')")
    if len(description) > MAX_DESCRIPTION_CHARS:
        raise RequestError(
            f"description: {len(description):,} characters, more than the {MAX_DESCRIPTION_CHARS} a product "
            "description may have"
        )
    description = " ".join(description.split())
    words = [w for w in description.split(" ") if any(ch.isalnum() for ch in w)]
    if len(words) < MIN_DESCRIPTION_WORDS:
        raise RequestError(
            f"description: {description[:40]!r} has {len(words)} word(s); give at least {MIN_DESCRIPTION_WORDS} "
            "(a one-word description matches too many products to borrow demand from)"
        )
    try:
        cost = _price("unit_cost", given, 0.0) if (given := text("unit_cost")) is not None else None
        reference = _price("reference_price", given, 0.0) if (given := text("reference_price")) is not None else None
    except NumberError as exc:
        raise RequestError(str(exc)) from None
    if reference is not None and reference < 0.01:
        raise RequestError("reference_price: must be at least 0.01 (a launch price is whole pence)")
    return LaunchRequest(description, cost, reference, text("country"))
