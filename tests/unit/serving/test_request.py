"""The one request model: the API's query and the batch job's row go through the same strict parser."""

import pytest

from pricing.config import Settings
from pricing.serving.errors import RequestError, UnknownStockcode
from pricing.serving.request import PARAMETERS, PriceRequest, parse_request
from tests.standins import StandInPredictor

SETTINGS = Settings(env="test")
PREDICTOR = StandInPredictor()


def parse(values: dict, stockcode: str = "85123A", settings: Settings = SETTINGS) -> PriceRequest:
    return parse_request(stockcode, values, settings, PREDICTOR.default_range)


def test_defaults_come_from_the_product_and_the_settings():
    request = parse({})
    assert request == PriceRequest("85123A", 2.55, 3.25, SETTINGS.default_price_bins, SETTINGS.default_samples)


def test_a_blank_value_is_not_set_whatever_the_parameter():
    """`?customerid=` from a form and an empty spreadsheet cell both mean the default, in the API and the batch."""
    assert parse({"customerid": "", "country": " ", "unitprice_min": "", "num_samples": None}) == parse({})


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"unitprice_min": "1_0"}, "unitprice_min: not a number: '1_0'"),
        ({"unitprice_max": "1e3"}, "unitprice_max: not a number: '1e3'"),
        ({"unitprice_max": "٥"}, "unitprice_max: not a number"),
        ({"num_price_bins": "1_0"}, "num_price_bins: not an integer"),
        ({"num_samples": "２"}, "num_samples: not an integer"),
        ({"customerid": "13122.9"}, "customerid: not an integer: '13122.9'"),
        ({"unitprice_min": "nan"}, "unitprice_min: not a number"),
    ],
)
def test_numbers_python_would_read_but_people_do_not_write_are_refused(values, message):
    with pytest.raises(RequestError, match=message):
        parse(values)


def test_a_customer_id_exported_as_a_whole_float_is_that_customer():
    assert parse({"customerid": "17850.0"}).customerid == 17850


def test_a_price_step_below_the_responses_resolution_is_refused_with_the_most_bins_that_fit():
    with pytest.raises(RequestError, match=r"^num_price_bins: 500 prices from 1 to 1\.01 .* at most 101"):
        parse({"unitprice_min": "1", "unitprice_max": "1.01", "num_price_bins": "500"})
    assert parse({"unitprice_min": "1", "unitprice_max": "1.01", "num_price_bins": "101"}).num_price_bins == 101


def test_prices_are_rounded_to_the_responses_four_decimals_before_they_are_compared():
    request = parse({"unitprice_min": "1.00004", "unitprice_max": "2.00006"})
    assert (request.unitprice_min, request.unitprice_max) == (1.0, 2.0001)
    with pytest.raises(RequestError, match="must be below unitprice_max"):
        parse({"unitprice_min": "1.00004", "unitprice_max": "1.00001"})


def test_bounds_come_from_the_settings():
    narrow = Settings(env="test", max_price_bins=20, default_price_bins=10)
    with pytest.raises(RequestError, match=r"num_price_bins: must be within 2\.\.20, got 21"):
        parse({"num_price_bins": "21"}, settings=narrow)
    schema = {p.name: p.schema(narrow) for p in PARAMETERS}
    assert schema["num_price_bins"] == {"type": "integer", "minimum": 2, "maximum": 20, "default": 10}


def test_an_unknown_product_is_reported_before_its_parameters():
    with pytest.raises(UnknownStockcode):
        parse({"unitprice_min": "bad"}, stockcode="NOPE")


def test_the_stockcode_is_canonical_so_one_product_is_one_request():
    assert parse({}, stockcode=" 85123a ") == parse({})
