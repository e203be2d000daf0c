"""A year of transaction lines: how many of each kind a file of so many rows holds, and every line beside the
sales that the real export has: huge orders cancelled the same day, customers' cancellations, stock write-offs,
the bad-debt adjustment, postage, fees and other non-product codes, and exact duplicate lines.

`write_history` writes them into a ledger in the order a seed's files depend on; `write_lines` writes given counts
of each kind (a day's share, `LineCounts.by_day`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from pricing.data.synthetic.ledger import Ledger
from pricing.data.synthetic.market import COUNTRY_NAMES, UK, Market, Streams
from pricing.data.synthetic.sales import (
    CUSTOMER_INVOICE_MEAN_LINES,
    GUEST_INVOICE_MEAN_LINES,
    GUEST_LINE_SHARE,
    Sales,
    invoice_sizes,
    write_sales,
)

DUPLICATE_RATE = 0.006  # plus ~0.4% that repeat by chance: ~1% exact duplicate lines in all
CANCELLATION_RATE = 0.017
ADJUSTMENT_RATE = 0.0025
NO_DESCRIPTION_RATE = 0.003
CANCELLED_LINES_PER_INVOICE = 2.4
# stockcode: (description, share of lines); prices and placement are in OtherLines.non_product_lines
NON_PRODUCT = {
    "POST": ("POSTAGE", 0.00232),
    "DOT": ("DOTCOM POSTAGE", 0.00131),
    "M": ("Manual", 0.00105),
    "C2": ("CARRIAGE", 0.000266),
    "D": ("Discount", 0.000142),
    "S": ("SAMPLES", 0.000116),
    "BANK CHARGES": ("Bank Charges", 0.0000683),
    "AMAZONFEE": ("AMAZON FEE", 0.0000627),
    "CRUK": ("CRUK Commission", 0.0000295),
    "PADS": ("PADS TO MATCH ALL CUSHIONS", 0.0000074),
}
BAD_DEBT_DAY = date(2011, 8, 12)  # the real file's bad-debt write-off
ADJUSTMENT_REASONS = (
    "damaged",
    "lost",
    "check",
    "?",
    "wet damaged",
    "smashed",
    "thrown away",
    "missing",
    "sold as set on dotcom",
    "crushed",
)


@dataclass(frozen=True)
class LineCounts:
    """The lines of each kind in a file of `rows` rows: the real file's rates, the sale lines the rest."""

    other: dict[str, int]  # duplicate, cancel, adjust, nodesc, baddebt, huge (sale and cancellation lines)
    non_product: dict[str, int]  # per NON_PRODUCT code
    guest: int  # guests' sale lines: GUEST_LINE_SHARE of the file less the other lines without a customer id
    customer: int  # known customers' sale lines
    manual_refunds: int = 0  # of non_product["M"], the refunds on credit notes of their own (a fifth)
    # the lines of each guest and customer invoice, where drawn for the year before it was shared over days (by_day)
    guest_sizes: np.ndarray | None = None
    customer_sizes: np.ndarray | None = None

    @classmethod
    def of(cls, rows: int) -> LineCounts:
        other = {
            "duplicate": round(DUPLICATE_RATE * rows),
            "cancel": round(CANCELLATION_RATE * rows),
            "adjust": max(1, round(ADJUSTMENT_RATE * rows)),
            "nodesc": max(1, round(NO_DESCRIPTION_RATE * rows)),
            "baddebt": 3,
            "huge": 2 * max(1, round(rows / 270_000)),
        }
        non_product = {code: max(1, round(rate * rows)) for code, (_, rate) in NON_PRODUCT.items()}
        guestless_extras = (
            other["adjust"]
            + other["nodesc"]
            + other["baddebt"]
            + non_product["DOT"]
            + non_product["AMAZONFEE"]
            + non_product["S"]
        )
        sale_lines = rows - sum(other.values()) - sum(non_product.values())
        guest_lines = max(1, round(GUEST_LINE_SHARE * rows) - guestless_extras)
        return cls(other, non_product, guest_lines, sale_lines - guest_lines, non_product["M"] // 5)

    def by_day(self, weight: np.ndarray, bad_debt_day: int, rng: np.random.Generator) -> list[LineCounts]:
        """These counts shared over the trading days, one LineCounts a day, adding up to these: the year's sale
        invoices drawn whole (their sizes as write_sales draws them), each on a day drawn by `weight` (the days'
        shares of invoices, Calendar.day_weight); each other kind's lines a multinomial draw by `weight`, the huge
        sales kept in pairs with their cancellations, the bad-debt lines all on `bad_debt_day` (a day number)."""

        def share(total: int) -> np.ndarray:
            return rng.multinomial(total, weight)

        def invoices(total: int, mean: float) -> list[np.ndarray]:
            sizes = invoice_sizes(rng, total, mean)
            day = rng.choice(len(weight), len(sizes), p=weight)
            order = np.argsort(day, kind="stable")
            return np.split(sizes[order], np.searchsorted(day[order], np.arange(1, len(weight))))

        other = {kind: share(n) for kind, n in self.other.items() if kind not in ("huge", "baddebt")}
        other["huge"] = 2 * share(self.other["huge"] // 2)
        other["baddebt"] = np.where(np.arange(len(weight)) == bad_debt_day, self.other["baddebt"], 0)
        non_product = {code: share(n) for code, n in self.non_product.items() if code != "M"}
        refunds = share(self.manual_refunds)
        non_product["M"] = share(self.non_product["M"] - self.manual_refunds) + refunds
        guest = invoices(self.guest, GUEST_INVOICE_MEAN_LINES)
        customer = invoices(self.customer, CUSTOMER_INVOICE_MEAN_LINES)
        return [
            LineCounts(
                {kind: int(n[day]) for kind, n in other.items()},
                {code: int(non_product[code][day]) for code in self.non_product},
                int(guest[day].sum()),
                int(customer[day].sum()),
                int(refunds[day]),
                guest[day],
                customer[day],
            )
            for day in range(len(weight))
        ]


def write_history(market: Market, ledger: Ledger, streams: Streams, rows: int) -> Sales:
    """Every line of a file of `rows` rows into `ledger`, the sales first (its first block); returns the sales."""
    return write_lines(market, ledger, streams, LineCounts.of(rows))


def write_lines(market: Market, ledger: Ledger, streams: Streams, counts: LineCounts, cover: bool = True) -> Sales:
    """`counts`' lines of each kind into `ledger`, the sales first (its first block), in the order a seed's files
    depend on; returns the sales. The bad-debt lines come only where `counts` has them; `cover`: write_sales'."""
    sales = write_sales(
        market, ledger, streams, counts.guest, counts.customer, cover, counts.guest_sizes, counts.customer_sizes
    )
    other = OtherLines(market, ledger, streams.main, sales)
    other.huge_pairs(counts.other["huge"] // 2)
    other.cancellations(counts.other["cancel"])
    other.stock_adjustments(counts.other["adjust"], counts.other["nodesc"])
    if counts.other["baddebt"]:
        other.bad_debt()
    other.non_product_lines(counts.non_product, counts.manual_refunds)
    other.duplicates(counts.other["duplicate"])
    return sales


class OtherLines:
    """The lines beside the sales, each kind a method; `rng`: the main stream."""

    def __init__(self, market: Market, ledger: Ledger, rng: np.random.Generator, sales: Sales) -> None:
        self.market = market
        self.ledger = ledger
        self.rng = rng
        self.sales = sales

    def sale_lines(self) -> dict[str, np.ndarray]:
        """The sale lines, column by column (Lines.COLUMNS)."""
        return self.ledger.first_block(self.sales.count)

    def huge_pairs(self, pairs: int) -> None:
        """A sale of tens of thousands of units, cancelled the same day (the real file has two)."""
        rng, products, customers = self.rng, self.market.products, self.market.customers
        cheap = np.flatnonzero(products.base_price < 3)
        product = rng.choice(cheap if len(cheap) else np.arange(products.n), pairs)
        customer = customers.ids[rng.integers(0, customers.n, pairs)]
        country = customers.country[customers.index_of(customer)]
        day = self.ledger.random_days(pairs)
        minute = rng.integers(9 * 60, 12 * 60, pairs)
        qty = rng.integers(12_000, 81_000, pairs)
        price = np.round(products.base_price[product] * 0.6, 2)
        sale = self.ledger.new_docs(day, minute)
        cancel = self.ledger.new_docs(day, minute + rng.integers(5, 120, pairs), prefix="C")
        for docs, sign in ((sale, 1), (cancel, -1)):
            self.ledger.lines.add(
                pairs, doc=docs, product=product, quantity=sign * qty, price=price, customer=customer, country=country
            )

    def cancellations(self, n: int) -> None:
        """Cancel lines mirroring earlier customer sales, grouped into C-invoices per source invoice."""
        rng = self.rng
        sold = self.sale_lines()
        # cancel a few lines of each chosen invoice, as customers do
        customer_docs = np.unique(sold["doc"][sold["customer"] > 0])
        if n <= 0 or not len(customer_docs):  # a day's share of a file can hold none
            return
        chosen = rng.choice(
            customer_docs, size=max(1, min(len(customer_docs), round(n / CANCELLED_LINES_PER_INVOICE))), replace=False
        )
        candidates = np.flatnonzero(np.isin(sold["doc"], chosen))
        src = rng.choice(candidates, size=min(n, len(candidates)), replace=False)
        if len(src) < n:  # a day's share (by_day) can pick invoices of fewer lines than it cancels
            rest = np.setdiff1d(np.flatnonzero(sold["customer"] > 0), candidates)
            src = np.concatenate([src, rng.choice(rest, size=min(n - len(src), len(rest)), replace=False)])
        src = np.sort(src)
        src_doc = sold["doc"][src]
        uniq, inverse = np.unique(src_doc, return_inverse=True)
        doc_day = self.ledger.days()
        doc_minute = self.ledger.minutes()
        offset = rng.geometric(0.35, len(uniq)) - 1
        day = np.minimum(doc_day[uniq] + offset, len(self.market.calendar.days) - 1)
        minute = np.where(
            offset == 0,
            np.minimum(doc_minute[uniq] + rng.integers(5, 240, len(uniq)), 20 * 60 + 59),
            self.ledger.random_minutes(len(uniq)),
        )
        docs = self.ledger.new_docs(day, minute, prefix="C")
        qty = sold["quantity"][src]
        partial = rng.random(len(src)) < 0.2
        cancelled = np.where(partial, rng.integers(1, qty + 1), qty)
        self.ledger.lines.add(
            len(src),
            doc=docs[inverse],
            pos=sold["pos"][src],
            product=sold["product"][src],
            quantity=-cancelled,
            price=sold["price"][src],
            customer=sold["customer"][src],
            country=sold["country"][src],
        )

    def stock_adjustments(self, n_adjust: int, n_nodesc: int) -> None:
        """Warehouse write-offs: own invoice, price 0, no customer; some with no description at all."""
        rng = self.rng
        product = rng.integers(0, self.market.products.n, n_adjust)
        self.ledger.lines.add(
            n_adjust,
            doc=self.ledger.new_docs(self.ledger.random_days(n_adjust)),
            product=product,
            description=rng.choice(np.array(ADJUSTMENT_REASONS, dtype=object), n_adjust),
            quantity=-(rng.geometric(0.08, n_adjust)),
            price=0.0,
        )
        product = rng.integers(0, self.market.products.n, n_nodesc)
        sign = np.where(rng.random(n_nodesc) < 0.7, -1, 1)
        self.ledger.lines.add(
            n_nodesc,
            doc=self.ledger.new_docs(self.ledger.random_days(n_nodesc)),
            product=product,
            description=np.full(n_nodesc, "", dtype=object),
            quantity=sign * rng.geometric(0.05, n_nodesc),
            price=0.0,
        )

    def bad_debt(self) -> None:
        """The real file's bad-debt write-off on 12 August 2011: one A-document a line, an amount and its reversal."""
        day = int(np.searchsorted(np.array(self.market.calendar.days), BAD_DEBT_DAY))
        amount = round(float(self.rng.uniform(5_000, 15_000)), 2)
        docs = self.ledger.new_docs(np.full(3, day), np.array([14 * 60 + 50, 14 * 60 + 51, 14 * 60 + 52]), prefix="A")
        self.ledger.lines.add(
            3,
            doc=docs,
            stockcode=np.full(3, "B", dtype=object),
            description=np.full(3, "Adjust bad debt", dtype=object),
            quantity=np.ones(3, np.int64),
            price=np.array([amount, -amount, -amount]),
        )

    def non_product_lines(self, counts: dict[str, int], manual_refunds: int) -> None:
        """Postage, carriage, manual lines and pads on sale invoices; manual refunds, discounts, samples, bank
        charges, Amazon fees and CRUK commission on documents of their own: `counts[code]` lines of each
        NON_PRODUCT code, `manual_refunds` of the "M" lines on credit notes of their own. Quantities and prices
        are drawn before the invoices they go on (the seed's order)."""
        rng, country = self.rng, self.sales.country
        guest = np.flatnonzero(self.sales.is_guest)
        customer_inv = np.flatnonzero(~self.sales.is_guest)
        abroad = customer_inv[country[customer_inv] != UK]
        eire = customer_inv[country[customer_inv] == COUNTRY_NAMES.index("EIRE")]
        n = counts["POST"]
        self._on_sale_invoices("POST", n, abroad, rng.integers(1, 7, n), rng.choice([15.0, 18.0, 28.0, 40.0], n))
        n = counts["DOT"]
        self._on_sale_invoices("DOT", n, guest, np.ones(n, np.int64), rng.lognormal(np.log(120), 0.9, n))
        n_refund = manual_refunds
        n = counts["M"] - n_refund
        self._on_sale_invoices("M", n, customer_inv, rng.integers(1, 13, n), rng.lognormal(np.log(2.5), 1.3, n))
        refund = rng.lognormal(np.log(5), 1.3, n_refund)
        self._on_own_documents("M", n_refund, -np.ones(n_refund, np.int64), refund, True, "C")
        n = counts["C2"]
        self._on_sale_invoices("C2", n, eire, np.ones(n, np.int64), np.full(n, 50.0))
        n = counts["PADS"]
        self._on_sale_invoices("PADS", n, customer_inv, np.ones(n, np.int64), np.full(n, 0.001))
        n = counts["D"]
        self._on_own_documents("D", n, -np.ones(n, np.int64), rng.lognormal(np.log(15), 1.0, n), True, "C")
        n = counts["S"]
        self._on_own_documents("S", n, -np.ones(n, np.int64), rng.lognormal(np.log(30), 1.0, n), False, "C")
        n = counts["BANK CHARGES"]
        self._on_own_documents("BANK CHARGES", n, np.ones(n, np.int64), np.full(n, 15.0), True, "")
        n = counts["AMAZONFEE"]
        self._on_own_documents("AMAZONFEE", n, -np.ones(n, np.int64), rng.uniform(500, 17_000, n), False, "C")
        n = counts["CRUK"]
        self._on_own_documents("CRUK", n, -np.ones(n, np.int64), rng.uniform(1, 1_100, n), True, "C")

    def _on_sale_invoices(self, code: str, n: int, pool: np.ndarray, quantity, price) -> None:
        """`n` lines of `code`, each on a sale invoice drawn from `pool` (indices into the sales; any invoice when
        it is empty), after the invoice's last line, with its customer and country."""
        sizes, docs = self.sales.sizes, self.sales.docs
        pool = pool if len(pool) else np.arange(len(docs))
        inv = self.rng.choice(pool, n)
        first_line = np.cumsum(sizes) - sizes
        self.ledger.lines.add(
            n,
            doc=docs[inv],
            pos=sizes[inv],
            stockcode=np.full(n, code, dtype=object),
            description=np.full(n, NON_PRODUCT[code][0], dtype=object),
            quantity=quantity,
            price=np.round(price, 2),
            customer=self.sale_lines()["customer"][first_line[inv]],
            country=self.sales.country[inv],
        )

    def _on_own_documents(self, code: str, n: int, quantity, price, with_customer: bool, prefix: str) -> None:
        """`n` lines of `code`, each on a document of its own on a random day, for a random known customer (or
        none, from the UK, without `with_customer`)."""
        customers = self.market.customers
        pick = self.rng.integers(0, customers.n, n)
        self.ledger.lines.add(
            n,
            doc=self.ledger.new_docs(self.ledger.random_days(n), prefix=prefix),
            stockcode=np.full(n, code, dtype=object),
            description=np.full(n, NON_PRODUCT[code][0], dtype=object),
            quantity=quantity,
            price=np.round(price, 2),
            customer=customers.ids[pick] if with_customer else 0,
            country=customers.country[pick] if with_customer else UK,
        )

    def duplicates(self, n: int) -> None:
        """Exact copies of sale lines, printed right after the original (as the real export has them)."""
        sales = self.sale_lines()
        src = self.rng.choice(self.sales.count, size=min(n, self.sales.count), replace=False)
        self.ledger.lines.add(len(src), **{k: v[src] for k, v in sales.items() if k != "sub"}, sub=1)
