"""The sale invoices: who buys (guests, and known customers by country and activity), on which day, how many
lines an invoice has; and each line's product, price and quantity as the market answers them.

The draws run in the order the seed's files were first written in: invoice sizes, the invoices' countries and
customers, their days and minutes, then the lines' products, incidence thinning and quantities."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.data.synthetic.ledger import Ledger
from pricing.data.synthetic.market import COUNTRIES, COUNTRY_NAMES, GUEST_COUNTRIES, UK, Customers, Market, Streams
from pricing.data.synthetic.truth import negative_binomial

GUEST_LINE_SHARE = 0.25
GUEST_INVOICE_MEAN_LINES = 42
CUSTOMER_INVOICE_MEAN_LINES = 23


@dataclass(frozen=True)
class Sales:
    """What the rest of the history needs of the sale invoices, one entry an invoice (guests' first)."""

    count: int  # sale lines: the ledger's first block
    sizes: np.ndarray  # lines per invoice
    docs: np.ndarray  # document ids
    is_guest: np.ndarray
    country: np.ndarray  # index into COUNTRY_NAMES


def write_sales(
    market: Market,
    ledger: Ledger,
    streams: Streams,
    guest_lines: int,
    customer_lines: int,
    cover: bool = True,
    guest_sizes: np.ndarray | None = None,
    customer_sizes: np.ndarray | None = None,
) -> Sales:
    """Guest and customer invoices of about `guest_lines` and exactly `customer_lines` lines (of the given
    sizes where given: a day's share of a year's invoices), their lines added to the ledger as its first block.
    `cover`: every country and customer gets an invoice where there are enough (a whole year's sales); off for a
    single day's (`invoice_countries`, `invoice_customers`)."""
    rng = streams.main
    if guest_sizes is None:
        guest_sizes = invoice_sizes(rng, guest_lines, GUEST_INVOICE_MEAN_LINES)
    cust_sizes = (
        invoice_sizes(rng, customer_lines, CUSTOMER_INVOICE_MEAN_LINES) if customer_sizes is None else customer_sizes
    )
    n_guest = len(guest_sizes)
    guest_country = guest_countries(rng, n_guest)
    country = invoice_countries(rng, market.customers, len(cust_sizes), cover)
    customer = invoice_customers(rng, market.customers, country, cover)
    sizes = np.concatenate([guest_sizes, cust_sizes])
    inv_customer = np.concatenate([np.full(n_guest, -1), customer])
    inv_country = np.concatenate([guest_country, market.customers.country[customer]])
    inv_segment = np.concatenate([np.zeros(n_guest, dtype=np.int64), market.customers.segment[customer]])
    docs = ledger.new_docs(ledger.random_days(len(sizes)))
    count = _write_lines(market, ledger, streams, docs, sizes, inv_customer, inv_country, inv_segment)
    return Sales(count, sizes, docs, inv_customer < 0, inv_country)


def invoice_sizes(rng: np.random.Generator, total: int, mean: float) -> np.ndarray:
    """Lines per invoice, 1 + a negative binomial of mean `mean` - 1, the last cut so they add up to `total`."""
    if total <= 0:
        return np.zeros(0, dtype=np.int64)
    draws = 1 + negative_binomial(rng, np.full(int(total / mean * 1.3) + 10, mean - 1.0), 0.9)
    cut = int(np.searchsorted(np.cumsum(draws), total))
    sizes = draws[: cut + 1].copy()
    sizes[-1] -= sizes.sum() - total
    return sizes[sizes > 0]


def guest_countries(rng: np.random.Generator, n: int) -> np.ndarray:
    """The country of each of `n` guest invoices, by GUEST_COUNTRIES' shares (indices into COUNTRY_NAMES)."""
    names = list(GUEST_COUNTRIES)
    shares = np.array(list(GUEST_COUNTRIES.values()))
    return np.array([COUNTRY_NAMES.index(c) for c in names])[rng.choice(len(names), n, p=shares / shares.sum())]


def invoice_countries(rng: np.random.Generator, customers: Customers, n: int, cover: bool = True) -> np.ndarray:
    """The country of each of `n` customer invoices: the real file's line shares less the guests' part, over
    the countries with customers; with `cover`, a country left without an invoice takes one from the UK's."""
    line_share = np.array([s for _, s, _ in COUNTRIES])
    guest_share = np.array([GUEST_COUNTRIES.get(c, 0.0) for c in COUNTRY_NAMES])
    has_customers = np.bincount(customers.country, minlength=len(COUNTRIES)) > 0
    weight = np.clip(line_share - GUEST_LINE_SHARE * guest_share, 0, None) * has_customers
    country = rng.choice(len(COUNTRIES), n, p=weight / weight.sum())
    if not cover:
        return country
    absent = np.flatnonzero(has_customers & (np.bincount(country, minlength=len(COUNTRIES)) == 0))
    country[rng.choice(np.flatnonzero(country == UK), len(absent), replace=False)] = absent
    return country


def invoice_customers(
    rng: np.random.Generator, customers: Customers, country: np.ndarray, cover: bool = True
) -> np.ndarray:
    """The customer (index into `customers`) of each invoice of the given countries: within a country, with
    `cover`, every customer shops at least once where there are invoices enough, the rest by activity (all by
    activity without it); the invoices then shuffled, so first visits spread over the year."""
    customer = np.empty(len(country), dtype=np.int64)
    for c in np.unique(country):
        pool = rng.permutation(np.flatnonzero(customers.country == c))
        where = np.flatnonzero(country == c)
        first = min(len(pool), len(where)) if cover else 0
        customer[where[:first]] = pool[:first]
        act = customers.activity[pool]
        customer[where[first:]] = pool[rng.choice(len(pool), len(where) - first, p=act / act.sum())]
    return customer[rng.permutation(len(country))]


def _write_lines(
    market: Market,
    ledger: Ledger,
    streams: Streams,
    docs: np.ndarray,
    sizes: np.ndarray,
    inv_customer: np.ndarray,
    inv_country: np.ndarray,
    inv_segment: np.ndarray,
) -> int:
    """The invoices' lines (per invoice: its document, customer index or -1 for a guest, country, segment), as
    the market answers them on the invoice's day; returns how many."""
    day = ledger.days()[docs]
    line_doc = np.repeat(docs, sizes)
    line_inv = np.repeat(np.arange(len(sizes)), sizes)
    starts = np.repeat(np.cumsum(sizes) - sizes, sizes)
    line_day = day[line_inv]
    product = market.choose_products(streams, line_day)
    segment = inv_segment[line_inv]
    country = inv_country[line_inv]
    price = market.price_at(product, line_day, segment)
    quantity = market.draw_quantities(streams.main, product, price, segment, country, line_day)
    price = market.recorded_price(product, price, quantity, inv_customer[line_inv] < 0)
    ids = market.customers.ids
    cust_id = np.where(inv_customer[line_inv] >= 0, ids[np.maximum(inv_customer[line_inv], 0)], 0)
    ledger.lines.add(
        len(line_doc),
        doc=line_doc,
        pos=np.arange(sizes.sum()) - starts,
        product=product,
        quantity=quantity,
        price=price,
        customer=cust_id,
        country=country,
    )
    return len(line_doc)
