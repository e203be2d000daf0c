"""Strict numbers: what a person writes is read as they mean it; what Python alone would read differently is refused."""

import pytest

from pricing.numbers import NumberError, parse_decimal, parse_integer


@pytest.mark.parametrize(
    ("text", "value"), [("10", 10.0), ("2.50", 2.5), (".5", 0.5), ("3.", 3.0), (" 1.25 ", 1.25), ("+4", 4.0)]
)
def test_plain_decimals_are_read(text, value):
    assert parse_decimal("price", text) == value


@pytest.mark.parametrize(
    "text",
    [
        "1_0",  # float() reads 10
        "1e3",  # float() reads 1000
        "nan",
        "inf",
        "-Infinity",
        "١٠",  # Arabic-Indic digits: float() reads 10
        "１０",  # full-width digits: float() reads 10
        "0x10",
        "1,5",
        "",
        "1.2.3",
    ],
)
def test_what_python_reads_but_people_do_not_write_is_refused_naming_the_parameter(text):
    with pytest.raises(NumberError, match=r"^unitprice_min: not a number"):
        parse_decimal("unitprice_min", text)


@pytest.mark.parametrize(("text", "value"), [("13122", 13122), ("17850.0", 17850), ("-3", -3), ("007", 7)])
def test_integers_and_whole_numbers_written_as_spreadsheets_export_them_are_read(text, value):
    assert parse_integer("customerid", text) == value


@pytest.mark.parametrize("text", ["13122.9", "1_000", "1e3", "٣", "12.5", "ten", ""])
def test_an_integer_parameter_refuses_a_fraction_and_python_only_spellings(text):
    with pytest.raises(NumberError, match=r"^customerid: not an integer"):
        parse_integer("customerid", text)


def test_bounds_are_checked_and_named():
    with pytest.raises(NumberError, match=r"num_price_bins: must be within 2\.\.500, got 501"):
        parse_integer("num_price_bins", "501", 2, 500)
    with pytest.raises(NumberError, match=r"timeout: must be at least 0\.1, got 0"):
        parse_decimal("timeout", "0", low=0.1)
    with pytest.raises(NumberError, match="must be finite"):
        parse_decimal("price", "9" * 400)  # plain digits beyond float's range
