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
from pricing.serving.errors import RequestError
from pricing.serving.sweep import OBJECTIVES, PRICE_DECIMALS, PRICE_RESOLUTION

MAX_PRICE = 1_000_000.0  # currency units per unit sold
PRODUCTS_PAGE_MAX = 200  # GET /v1/products?page_size=


@dataclass(frozen=True)
class Parameter:
    """One request parameter as the API, the batch job and the OpenAPI document see it."""

    name: str
    kind: str  # "price" (currency units, plain decimals), "integer", "text" or "choice" (one of OBJECTIVES)
    description: str

    def schema(self, settings: Settings) -> dict:
        """The parameter's JSON schema, with the bounds and default the parser applies."""
        if self.kind == "price":
            return {"type": "number", "minimum": PRICE_RESOLUTION, "maximum": MAX_PRICE}
        if self.kind == "integer" and self.name in _COUNT_BOUNDS:
            low, high, default = _COUNT_BOUNDS[self.name](settings)
            return {"type": "integer", "minimum": low, "maximum": high, "default": default}
        if self.kind == "choice":
            return {"type": "string", "enum": list(OBJECTIVES), "default": OBJECTIVES[0]}
        return {"type": "integer" if self.kind == "integer" else "string"}


PARAMETERS = (
    Parameter("unitprice_min", "price", "Lowest price swept (default: the product's historical minimum)"),
    Parameter("unitprice_max", "price", "Highest price swept (default: the product's historical maximum)"),
    Parameter("num_price_bins", "integer", "Number of prices in the sweep, evenly spaced from min to max"),
    Parameter("num_samples", "integer", "Held-out contexts the predicted quantity is the median over, per price"),
    Parameter("country", "text", "Only held-out contexts from this country"),
    Parameter("customerid", "integer", "Only held-out contexts of this customer"),
    Parameter(
        "optimise",
        "choice",
        "What the optimum maximises: sales_per_week (price x order lines per week x units per line; the default) "
        "or sales_per_line (price x units per order line, which ignores the orders a higher price loses)",
    ),
)
PARAMETER_NAMES = tuple(p.name for p in PARAMETERS)
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
    country: str | None = None
    customerid: int | None = None
    optimise: str = OBJECTIVES[0]

    def key_fields(self) -> dict:
        """Every field but the stockcode (which the cache key carries on its own), in a stable order."""
        fields = asdict(self)
        del fields["stockcode"]
        return fields


def parse_request(
    stockcode: str,
    values: Mapping[str, str | None],
    settings: Settings,
    default_range: Callable[[str], tuple[float, float]],
) -> PriceRequest:
    """Build a PriceRequest from text values (a query's or a CSV row's; a missing or blank value means the default).

    `default_range(stockcode)` gives the product's (low, high) price range (`Predictor.default_range`) and raises
    UnknownStockcode for a product the bundle does not know; RequestError naming the parameter for a bad
    value: numbers in plain decimal notation only (`1_0`, `1e3`, `nan`, non-ASCII digits are refused), an
    integer parameter refuses a fraction, bounds from `settings`."""
    stockcode = canonical_stockcode(stockcode or "")
    if not stockcode:
        raise RequestError("stockcode: missing")

    def text(name: str) -> str | None:
        value = values.get(name)
        return value.strip() or None if value is not None else None  # a blank cell or `?country=` is not set

    default_low, default_high = default_range(stockcode)  # UnknownStockcode first: 404 beats 400
    try:
        low = _price("unitprice_min", text("unitprice_min"), default_low)
        high = _price("unitprice_max", text("unitprice_max"), default_high)
        counts = {
            name: parse_integer(name, given, bounds[0], bounds[1]) if (given := text(name)) is not None else bounds[2]
            for name, bounds in ((n, b(settings)) for n, b in _COUNT_BOUNDS.items())
        }
        customer = text("customerid")
        customer = parse_integer("customerid", customer) if customer is not None else None
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
    objective = text("optimise") or OBJECTIVES[0]
    if objective not in OBJECTIVES:
        raise RequestError(f"optimise: must be one of {', '.join(OBJECTIVES)}, got {objective[:40]!r}")
    return PriceRequest(stockcode, low, high, bins, counts["num_samples"], text("country"), customer, objective)


def _price(name: str, given: str | None, default: float) -> float:
    value = default if given is None else parse_decimal(name, given)
    if value <= 0:
        raise NumberError(f"{name}: must be a positive price")
    if value < PRICE_RESOLUTION:
        raise NumberError(f"{name}: must be at least {PRICE_RESOLUTION:g} (prices are reported to 4 decimals)")
    if value > MAX_PRICE:
        raise NumberError(f"{name}: must be at most {MAX_PRICE:g}")
    return round(value, PRICE_DECIMALS)  # what the response reports, so the sweep prices what it says
