"""A year of history written a trading day at a time: files of tens of millions of lines in bounded memory (issue
27, Build 5: `pricing generate --rows 50000000`).

The market (products and their demand truth, list prices, customers) is drawn from the seed exactly as the whole-year
history draws it (`pricing.data.generate.generate`), so a seed's demand truth is the same whichever way its history is
written. The history is then written one day after another:

- the file's lines of each kind (history.LineCounts) are shared over the days by the calendar's weights, from a
  stream of their own ([seed, 19]);
- each day's lines come from that day's streams ([seed, 20, day], and [seed, 21, day] for the incidence thinning),
  so a day's lines depend on the seed, the settings and the day alone;
- a customer's cancellation dated after its sale's day waits for that day; each day's documents are numbered in
  time order from where the day before stopped (its gaps drawn from [seed, 22, day]);
- the truth's columns that describe the history (price range, sale lines, the weekly optimum's contexts) are summed
  a day at a time (files.SaleSummary), to what the whole file's lines give.

What is held at once: the market, one day's lines and the cancellations waiting for later days; the peak does not
grow with the rows (docs/SCALE.md has the measurement).

Against the whole-year history of the same seed: the demand truth is equal; the lines are other draws from the same
model. A day's customers and countries are drawn by activity and share alone, without the whole year's promise that
every customer and country appears at least once: at the sizes this path is for (BY_DAY_FROM_ROWS) each customer
expects dozens of invoices, so the promise is kept by the numbers rather than by construction."""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from pricing.data.synthetic.files import (
    CSV_OPTIONS,
    WRITE_CHUNK_ROWS,
    SaleSummary,
    customers_table,
    file_paths,
    ground_truth,
    unit_costs_table,
    weeks_table,
    write_truth,
)
from pricing.data.synthetic.history import BAD_DEBT_DAY, LineCounts, write_lines
from pricing.data.synthetic.ledger import FIRST_INVOICE, Export, Ledger
from pricing.data.synthetic.market import (
    DEFAULT_CONFOUNDING,
    Calendar,
    Market,
    Streams,
    check_settings,
    market_size,
)

BY_DAY_FROM_ROWS = 5_000_000  # `pricing generate` writes by day from here: the whole year took 0.78 GB at 2 M lines
BY_DAY_MIN_ROWS = 100_000  # below it a quiet day can be left without a sale for its other lines to sit on
PLAN, DAY_MAIN, DAY_INCIDENCE, DAY_NUMBERS = 19, 20, 21, 22  # the streams' keys after the seed


@dataclass(frozen=True)
class _Documents:
    """Some documents and their lines: each document's day, minute and prefix, (documents,); `lines` the ledger's
    columns (Lines.COLUMNS), `doc` an index into these documents."""

    day: np.ndarray
    minute: np.ndarray
    prefix: np.ndarray
    lines: dict[str, np.ndarray]

    @classmethod
    def of(cls, ledger: Ledger, lines: dict[str, np.ndarray], keep: np.ndarray) -> _Documents:
        """The documents of `ledger` where `keep` (documents,) and their lines."""
        index = np.full(len(keep), -1)
        index[keep] = np.arange(int(keep.sum()))
        kept = keep[lines["doc"]]
        own = {name: column[kept] for name, column in lines.items()}
        own["doc"] = index[own["doc"]]
        prefix = np.concatenate(ledger.doc_prefix)
        return cls(ledger.days()[keep], ledger.minutes()[keep], prefix[keep], own)


def _printed(blocks: list[_Documents], calendar: Calendar, rng: np.random.Generator) -> tuple[Ledger, dict]:
    """One ledger of the documents of `blocks` (in their order, which breaks ties of time) and their lines."""
    ledger = Ledger(rng, calendar)
    columns = []
    for block in blocks:
        first = ledger.n_docs
        ledger.new_docs(block.day, block.minute, block.prefix)
        columns.append(block.lines | {"doc": block.lines["doc"] + first})
    return ledger, {name: np.concatenate([c[name] for c in columns]) for name in columns[0]}


def write_by_day(
    out_dir: Path,
    rows: int,
    seed: int = 0,
    confounding: float = DEFAULT_CONFOUNDING,
    incidence: float = 1.0,
    within_day_prices: bool = True,
    market: str = "default",
    progress: bool = False,
) -> tuple[dict[str, Path], pd.DataFrame]:
    """`generate.write(generate.generate(...), out_dir)`'s files for these settings (the arguments are
    `generate.generate`'s), the history written a day at a time (module docstring): the same demand truth for the
    seed, other draws of the lines. Returns the paths by table name and the ground truth (one row a product). The
    transactions are written under a `.partial` name and renamed when whole. `progress`: a bar of days on stderr.
    ValueError for fewer than BY_DAY_MIN_ROWS rows, or what `generate.generate` refuses (`check_settings`)."""
    check_settings(rows, confounding, incidence, market)
    if rows < BY_DAY_MIN_ROWS:
        raise ValueError(
            f"rows must be at least {BY_DAY_MIN_ROWS} to write by day (--history whole writes fewer), got {rows}"
        )
    from tqdm import tqdm

    streams = Streams.of(seed)
    drawn = Market.draw(streams, *market_size(rows), confounding, incidence, within_day_prices, market)
    calendar = drawn.calendar
    n_days = len(calendar.days)
    bad_debt_day = int(np.searchsorted(np.array(calendar.days), BAD_DEBT_DAY))
    counts = LineCounts.of(rows).by_day(calendar.day_weight, bad_debt_day, np.random.default_rng([seed, PLAN]))
    summary = SaleSummary.empty(drawn.products.n)
    waiting: dict[int, list[_Documents]] = {}
    next_number, sale_lines, written = FIRST_INVOICE, 0, 0
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = file_paths(out_dir)
    partial = paths["transactions"].with_name(paths["transactions"].name + ".partial")
    with open(partial, "w", newline="", encoding="utf-8") as handle:
        for day in tqdm(range(n_days), desc="generate by day", unit="day", disable=not progress):
            day_streams = replace(
                streams,
                main=np.random.default_rng([seed, DAY_MAIN, day]),
                incidence=np.random.default_rng([seed, DAY_INCIDENCE, day]),
            )
            # a calendar that knows one day: every document drawn at a random day falls on this one
            only_today = Calendar(calendar.days, (np.arange(n_days) == day).astype(float))
            ledger = Ledger(day_streams.main, only_today)
            sales = write_lines(drawn, ledger, day_streams, counts[day], cover=False)
            lines = ledger.lines.concat()
            summary.add(drawn, ledger, lines, sales.count)
            sale_lines += sales.count
            doc_day = ledger.days()
            for later in np.unique(doc_day[doc_day > day]):
                waiting.setdefault(int(later), []).append(_Documents.of(ledger, lines, doc_day == later))
            blocks = [*waiting.pop(day, []), _Documents.of(ledger, lines, doc_day == day)]
            printed, printed_lines = _printed(blocks, calendar, np.random.default_rng([seed, DAY_NUMBERS, day]))
            number = printed.numbers(next_number)
            next_number = int(number.max()) + 1 if len(number) else next_number
            export = Export(printed, printed_lines, drawn.products, number)
            export.write(handle, WRITE_CHUNK_ROWS, header=day == 0, **CSV_OPTIONS)
            written += len(export)
    if written != rows or waiting:  # every document is dated within the year, so none is left waiting
        raise RuntimeError(f"wrote {written:,} of {rows:,} lines; {len(waiting)} days still waiting")
    os.replace(partial, paths["transactions"])
    truth = ground_truth(drawn, summary)
    write_truth(
        paths,
        truth,
        customers_table(drawn.customers),
        weeks_table(drawn, sale_lines),
        unit_costs_table(drawn.products),
    )
    return paths, truth
