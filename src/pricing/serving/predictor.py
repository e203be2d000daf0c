"""The loaded bundle at serving time: held-out contexts transformed once, models in priority order with
fallback, and the price recommendation for one product.

Only the first model of each chain (the network and the incidence network, as NumPy arrays where the bundle
carries their export: pricing.models.arrays) loads at start; a fallback loads when the chain first reaches it
(LazyModel), so its library (LightGBM, scikit-learn) never delays the cold start or the primary's first answer."""

from __future__ import annotations

import copy
import logging
import os
import sys
import threading
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.artifacts.bundle import Bundle, BundleIntegrityError
from pricing.data.features import PRODUCT_FEATURES, PRODUCT_ID, price_features, product_features, quantity_from_log
from pricing.data.incidence import serving_features
from pricing.models.errors import LOAD_ERRORS as MODEL_LOAD_ERRORS
from pricing.models.errors import PREDICT_ERRORS
from pricing.serving import decision as D
from pricing.serving.errors import NoContexts, NoUsableModel, UnknownStockcode
from pricing.serving.health import ModelFailures
from pricing.serving.learnt import EXPERIMENT_EVIDENCE, EXPERIMENT_WEEKS, learnt_slopes, new_products
from pricing.serving.money import MINOR_UNITS, ceil_minor, floor_minor
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import SWEEP_BAND, SWEEP_BASES, SweepResult, aggregate, price_grid, sweep_matrix

log = logging.getLogger(__name__)
MAX_QUANTITY = 1e9  # units per order line: no real order comes near; beyond it a model has left its data
# A segment's share of a product's order lines is estimated from the held-out lines with the segment's share of
# every product's lines as a prior worth this many of the product's own lines (a beta-binomial posterior mean):
# a product with 3 held-out lines, none from France, is not said to sell nothing there.
SEGMENT_PRIOR_LINES = 20.0
# The curve's level is anchored to what the product sold over the recent weeks (evidence's recent_level), the
# model's own level counting as this many order lines' worth of evidence (a gamma-Poisson posterior mean of the
# level factor): a product with a few lines lately moves toward what it sold, a best seller to it.
LEVEL_PRIOR_LINES = 5.0
# What loading a model can raise: the models' own (pricing.models.errors) and a file refused by its checksum.
LOAD_ERRORS = (*MODEL_LOAD_ERRORS, BundleIntegrityError)


@dataclass(frozen=True)
class Recommendation:
    """A product's swept demand curve and which model of the fallback chain answered."""

    stockcode: str
    result: SweepResult
    model: str  # the per-line model that answered
    incidence_model: str | None = None  # the incidence model that answered (None: the bundle has none)
    segment_share: float = 1.0  # the share of the product's order lines the request's country/customer places
    level_factor: float = 1.0  # the weekly curve's anchor to what the product sold lately (Predictor.level_factor)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class LazyModel:
    """A fallback model loaded on first use: `resolve()` loads it once (thread-safe) and returns it; `predict`
    passes through. A model that fails to load raises from `resolve` every time it is asked, and the chain
    moves on to the next."""

    def __init__(self, name: str, load) -> None:
        self.name, self._load, self._model = name, load, None
        self._lock = threading.Lock()

    def resolve(self):
        """The loaded model (loading it on the first call); the loader's error on a failed load."""
        with self._lock:
            if self._model is None:
                self._model = self._load()
        return self._model

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def predict(self, X: np.ndarray) -> np.ndarray:
        return self.resolve().predict(X)


def resolve(model):
    """The model itself: a LazyModel loaded now, anything else as it is."""
    return model.resolve() if isinstance(model, LazyModel) else model


class Predictor:
    def __init__(self, bundle: Bundle, torch_threads: int | None = None, learnt: bool = True) -> None:
        """`learnt`: serve what a price test taught (pricing.serving.learnt) where the bundle has it; False: the
        models' own curves and evidence (the prior `pricing experiment update` starts from)."""
        self.version = bundle.version
        self.preprocessor = bundle.preprocessor()
        self.products = bundle.products()
        contexts = bundle.contexts()
        self.context_country = contexts["country"].astype(str).to_numpy()
        self.context_customer = contexts["customer_id"].astype("Int64").to_numpy(dtype=float, na_value=np.nan)
        self.context_product = contexts[PRODUCT_ID].astype(str).to_numpy()
        self.contexts = self.preprocessor.transform(contexts)  # transformed once, keyed per request
        self.price_columns = self.preprocessor.price_columns
        self.product_columns = [list(self.preprocessor.numeric).index(c) for c in PRODUCT_FEATURES]
        scaled = self.preprocessor.scale(
            product_features(self.products.index, self.products).to_numpy(dtype=float), self.product_columns
        )
        self.product_rows = pd.Series(range(len(self.products)), index=self.products.index)
        self.scaled_product = scaled.astype(np.float32)
        self.product_index = self.preprocessor.product_index(self.products.index).astype(np.float32)
        self.models: list[tuple[str, object]] = []  # (name, model or LazyModel), in priority order
        names, incidence_names = bundle.model_names(), bundle.incidence_model_names()
        self.primary_model = names[0] if names else None  # as the bundle orders them, loaded or not
        self.primary_incidence = incidence_names[0] if incidence_names else None
        self.skipped: dict[str, str] = {}  # models that failed to load, with the error
        self.failures = ModelFailures()  # request-time failures and answers per model (pricing.serving.health)
        # Every model call runs on this one thread: torch's CPU thread pool then exists once, instead of once
        # (with its own memory) per server thread, and concurrent sweeps queue instead of oversubscribing.
        self._inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        for rank, name in enumerate(bundle.model_names()):
            try:
                if rank > 0:
                    # an unknown name or a file that fails its checksum is skipped now, without any import
                    bundle.verify_model(name)
                    self.models.append((name, LazyModel(name, self._loader(bundle.load_model, name))))
                else:
                    self.models.append((name, bundle.load_model(name)))
            except LOAD_ERRORS as exc:  # a broken model is skipped, never fatal: the next one serves
                self._skip(name, exc)
        # what a decision rests on (pricing.training.evidence); None in bundles written before it, or without costs
        self.evidence = _indexed(bundle.table("evidence.parquet"))
        self.history = _indexed(bundle.table("price_history.parquet"))
        self.costs = _indexed(bundle.table("costs.parquet"))
        self.recent = _indexed(bundle.table("recent_level.parquet"))
        self.recent_weeks = bundle.recent_weeks()
        # what a price test taught (pricing.serving.learnt): {} without an experiment's update in the bundle
        tested, weeks = (bundle.table(EXPERIMENT_EVIDENCE), bundle.table(EXPERIMENT_WEEKS)) if learnt else (None, None)
        self.learnt = learnt_slopes(tested, weeks)
        # new products the update learnt from their first weeks (pricing.serving.launched): {} without any
        self.new_products = new_products(tested, weeks)
        self._unlearnt: Predictor | None = None
        # the incidence part (order lines per week), its own fallback chain; none in bundles written before it
        self.incidence_models: list[tuple[str, object]] = []
        self.reference_weeks = bundle.reference_weeks() if bundle.incidence_model_names() else None
        for rank, name in enumerate(bundle.incidence_model_names()):
            try:
                if rank > 0:
                    bundle.verify_model(name, incidence=True)
                    loader = self._loader(bundle.load_incidence_model, name)
                    self.incidence_models.append((name, LazyModel(name, loader)))
                else:
                    self.incidence_models.append((name, bundle.load_incidence_model(name)))
            except LOAD_ERRORS as exc:
                self._skip(name, exc)
        self._torch_threads(torch_threads)

    def unlearnt(self) -> Predictor:
        """This predictor without what a price test taught (the models' own curves, as `learnt=False` loads them),
        sharing its models, contexts and inference thread: the curves a new product's neighbours lend
        (pricing.serving.launched), which its prior was computed from. Made once, on first use."""
        if not self.learnt:
            return self
        if self._unlearnt is None:
            view = copy.copy(self)
            view.learnt, view.new_products, view._unlearnt = {}, {}, None
            self._unlearnt = view
        return self._unlearnt

    def _skip(self, name: str, exc: Exception) -> None:
        self.skipped[name] = f"{type(exc).__name__}: {exc}"
        log.error("model %s skipped: %s", name, self.skipped[name])

    def _loader(self, load, name: str):
        """load(name), recording a failure under `skipped` before it propagates."""

        def run():
            try:
                return load(name)
            except LOAD_ERRORS as exc:
                self._skip(name, exc)
                raise

        return run

    @staticmethod
    def _torch_threads(threads: int | None) -> None:
        """Size torch's thread pool (`threads`, TORCH_THREADS, else the usable CPUs) where a loaded model runs on
        torch (a bundle without the arrays export); serving from the export never imports it, whatever
        TORCH_THREADS says (the image installs no torch)."""
        if "torch" in sys.modules:
            sys.modules["torch"].set_num_threads(threads or usable_cpus())

    def is_fallback(self, model: str, incidence_model: str | None) -> bool:
        """Whether an answer by `model` (and `incidence_model`) came from a fallback: a model after the first of
        its chain in the bundle's priority order, whether the first failed at load or at request time."""
        other_incidence = incidence_model is not None and incidence_model != self.primary_incidence
        return model != self.primary_model or other_incidence

    @property
    def model_names(self) -> list[str]:
        return [name for name, _ in self.models]

    def product(self, stockcode: str) -> pd.Series:
        if stockcode not in self.product_rows.index:
            raise UnknownStockcode(stockcode)
        return self.products.loc[stockcode]

    def default_range(self, stockcode: str, sweep: str = SWEEP_BASES[0]) -> tuple[float, float]:
        """The price range a request sweeps unless it says otherwise (currency units, whole pence).

        `sweep="list_prices"` (the default): the product's list prices (its price ladder's levels: `support`) and
        its current price, the lowest less SWEEP_BAND and the highest plus it, so the current price always lies
        inside and a product sold at one list price still gets a range. `sweep="line_prices"`: the prices lines
        paid in the training window, which run from quantity-break discounts to the guests' premium; a product
        sold at one price only gets that price widened by the typical spread of the other products' ranges (their
        median max/min ratio), centred on it. UnknownStockcode for a product the bundle does not know."""
        product = self.product(stockcode)
        if sweep == "list_prices":
            low, high = self.support(stockcode)
            current = self.current_price(stockcode)[0]
            low, high = min(low, current), max(high, current)
            widened_low = max(floor_minor(low * (1 - SWEEP_BAND)), 1)
            return widened_low / MINOR_UNITS, ceil_minor(high * (1 + SWEEP_BAND)) / MINOR_UNITS
        low, high = float(product["price_min"]), float(product["price_max"])
        if high > low:
            return low, high
        spread = self.products["price_max"] / self.products["price_min"]
        half = float(np.sqrt(np.median(spread[spread > 1]))) if (spread > 1).any() else 1.25
        return low / half, high * half

    def keyed_contexts(
        self, stockcode: str, samples: int, country: str | None = None, customer_id: int | None = None
    ) -> np.ndarray:
        """A deterministic sample of held-out contexts with every product-level column set to this product."""
        row = self.product_rows[stockcode]
        keyed = self.contexts[self.context_sample(stockcode, samples, country, customer_id)]
        keyed[:, self.product_columns] = self.scaled_product[row]
        keyed[:, -1] = self.product_index[row]
        return keyed

    def context_sample(
        self, stockcode: str, samples: int, country: str | None = None, customer_id: int | None = None
    ) -> np.ndarray:
        """Indices of the held-out contexts a request uses: the same for the same request, every time."""
        pool = np.arange(len(self.contexts))
        if country is not None:
            pool = pool[self.context_country[pool] == country]
        if customer_id is not None:
            pool = pool[self.context_customer[pool] == customer_id]
        if len(pool) == 0:
            raise NoContexts(
                "no held-out context matches "
                + (f"country {country!r}" if country is not None else f"customer {customer_id}")
            )
        seed = zlib.crc32(f"{stockcode}|{country}|{customer_id}".encode())
        return np.sort(np.random.default_rng(seed).choice(pool, size=min(samples, len(pool)), replace=False))

    def scaled_prices(self, stockcode: str, prices: np.ndarray) -> np.ndarray:
        """Every price feature for each price, from the function training used, then scaled."""
        product = self.product(stockcode)
        raw = price_features(prices, product["price_median"], product["price_max"]).to_numpy(dtype=float)
        return self.preprocessor.scale(raw, self.price_columns).astype(np.float32)

    def predict_grid(
        self, contexts: np.ndarray, scaled_prices: np.ndarray, only: str | None = None
    ) -> tuple[str, np.ndarray]:
        """Predicted quantities per line (units, >= 0) for every context at every price, bin-major, shape
        (bins * contexts,), from the first model in priority order that predicts and whose quantities are all
        finite (`only`: just that model, to evaluate it). Raises NoUsableModel when none does.

        The check is on the quantities returned, after the inverse of the log transform: a large but finite
        log prediction (a fallback far outside its data) overflows there, and must fall back, not reach the JSON
        as Infinity. Quantities above MAX_QUANTITY (a billion units a line) count as non-finite for the same
        reason: price x quantity must stay finite too."""
        matrix = None

        def predict(model) -> np.ndarray:
            nonlocal matrix
            if hasattr(model, "predict_grid"):
                return model.predict_grid(contexts, self.price_columns, scaled_prices)
            if matrix is None:
                matrix = sweep_matrix(contexts, self.price_columns, scaled_prices)
            return model.predict(matrix)

        def to_quantity(prediction) -> np.ndarray:
            with np.errstate(over="ignore", invalid="ignore"):
                return np.clip(quantity_from_log(np.asarray(prediction, dtype=float)), 0, None)

        return self._first_usable(self.models, "model", only, predict, to_quantity, "quantities")

    def incidence_rates(
        self, stockcode: str, prices: np.ndarray, weeks, only: str | None = None
    ) -> tuple[str, np.ndarray]:
        """Expected order lines per trading day at each list price in each of `weeks` (ReferenceWeeks): shape
        (bins, weeks), from the first incidence model that predicts finite rates (`only`: just that one).
        NoUsableModel when none does."""
        product = self.product(stockcode)
        X = serving_features(prices, float(product["price_median"]), weeks)
        index = np.full(len(X), self.product_index[self.product_rows[stockcode]], dtype=np.int64)

        def predict(model) -> np.ndarray:
            return model.predict_rate(X, index)

        def to_rate(prediction) -> np.ndarray:
            return np.asarray(prediction, dtype=float).reshape(len(prices), -1)

        return self._first_usable(self.incidence_models, "incidence model", only, predict, to_rate, "rates")

    def _first_usable(self, chain, label: str, only: str | None, predict, convert, what: str) -> tuple[str, np.ndarray]:
        """(name, output) of the first model of `chain` (or just `only`) whose `convert(predict(model))` is finite
        and at most MAX_QUANTITY; NoUsableModel when none is. A model that raises one of PREDICT_ERRORS (or fails
        to load: LOAD_ERRORS, recorded under `skipped`) or predicts unusable numbers counts as a request-time
        failure (`failures`, which /health reads) and the next model answers; any other exception is a coding
        error and propagates (a 500), never answered by a fallback."""
        for name, model in chain:
            if only is not None and name != only:
                continue
            try:
                model = resolve(model)
            except LOAD_ERRORS:
                continue  # the loader recorded it under `skipped`
            try:
                output = convert(predict(model))
            except PREDICT_ERRORS as exc:
                self._failed(name, f"{label} {name} failed to predict: {type(exc).__name__}: {exc}")
                continue
            if np.isfinite(output).all() and output.max(initial=0.0) <= MAX_QUANTITY:
                if only is None:
                    self.failures.answered(name)
                return name, output
            self._failed(name, f"{label} {name} gave non-finite or absurd {what}; falling back")
        raise NoUsableModel(f"no usable {label} in bundle {self.version}")

    def _failed(self, name: str, reason: str) -> None:
        self.failures.failed(name, reason)
        log.error("%s", reason)

    def orders_per_week(self, stockcode: str, prices: np.ndarray, only: str | None = None) -> tuple[str, np.ndarray]:
        """Expected order lines per week at each list price (bins,): the rate per trading day averaged over the
        bundle's reference weeks (the held-out window) x their median trading days (`incidence_rates`)."""
        weeks = self.reference_weeks
        name, rate = self.incidence_rates(stockcode, prices, weeks, only)
        return name, rate.mean(axis=1) * weeks.typical_trading_days

    def level_factor(self, stockcode: str, units_per_line: float, only: str | None = None) -> float:
        """The multiplier that anchors the product's weekly curve to what it sold over the recent weeks (1 for a
        bundle without the recent level): (units sold there + LEVEL_PRIOR_LINES x u) / (the units the model
        expects there + LEVEL_PRIOR_LINES x u), u the mean units per line at the recent price (`units_per_line`).
        The model's expectation is at the weeks' own season and list price, so the factor corrects the level
        only; the price and season effects stay the model's. A gamma-Poisson posterior mean, counted in order
        lines (units / u)."""
        if self.recent is None or self.recent_weeks is None or stockcode not in self.recent.index:
            return 1.0
        row = self.recent.loc[stockcode]
        price = self.recent_price(stockcode)
        _, rate = self.incidence_rates(stockcode, np.array([price]), self.recent_weeks, only)
        expected_lines = float(np.sum(rate[0] * self.recent_weeks.trading_days))
        prior = LEVEL_PRIOR_LINES * units_per_line
        expected = expected_lines * units_per_line + prior
        # a model that expects no units at all gives no level to correct
        return float((row["recent_units"] + prior) / expected) if expected > 0 else 1.0

    def recent_price(self, stockcode: str) -> float:
        """The product's list price over the recent weeks, or its current price where it did not sell then."""
        price = self.recent.loc[stockcode, "recent_price"] if self.recent is not None else np.nan
        return float(price) if pd.notna(price) else self.current_price(stockcode)[0]

    def curve(
        self,
        request: PriceRequest,
        prices: np.ndarray,
        only: str | None = None,
        monotone: bool = False,
        only_incidence: str | None = None,
    ) -> Recommendation:
        """The demand curve of `request.stockcode` at `prices` (increasing, (K,)) through the fallback chains:
        units per order line (`only`: one model) and, when the bundle has an incidence model, order lines per
        week (`only_incidence`); its `optimal_price` maximises `request.optimise` over these prices.

        Raises UnknownStockcode, NoContexts (no held-out context for the country or customer) or NoUsableModel."""
        code = request.stockcode
        anchored = self.incidence_models and self.recent is not None and code in self.recent.index
        # the recent weeks' list price rides along in the same model call, for the level factor
        swept = np.append(prices, self.recent_price(code)) if anchored else np.asarray(prices)
        contexts = self.keyed_contexts(code, request.num_samples, request.country, request.customerid)
        scaled = self.scaled_prices(code, swept)
        name, quantity = self._inference.submit(self.predict_grid, contexts, scaled, only).result()
        quantity = quantity.reshape(len(swept), -1)
        incidence, orders, level = None, None, 1.0
        share = self.segment_share(code, request.country, request.customerid)
        if self.incidence_models:
            incidence, orders = self._inference.submit(self.orders_per_week, code, prices, only_incidence).result()
            if anchored:
                per_line = float(quantity[-1].mean())
                if request.country is not None or request.customerid is not None:
                    # the level is the product's, whatever segment is asked for: its units per line over every
                    # segment's contexts
                    everyone = self.keyed_contexts(code, request.num_samples)
                    _, own = self._inference.submit(self.predict_grid, everyone, scaled[-1:], name).result()
                    per_line = float(own.mean())
                level = self._inference.submit(self.level_factor, code, per_line, incidence).result()
            # one population (the segment's order lines, with its units per line), at the level the product sells
            orders = orders * share * level
            learnt = self.learnt.get(code)
            if learnt is not None:  # a price test's elasticity (pricing.serving.learnt)
                orders = orders * learnt.tilt(prices)
        result = aggregate(
            prices, quantity[: len(prices)], monotone, orders_per_week=orders, objective=request.optimise
        )
        return Recommendation(code, result, name, incidence, share, level)

    def segment_share(self, stockcode: str, country: str | None = None, customer_id: int | None = None) -> float:
        """The share of the product's order lines that a country (and/or a customer) places, in [0, 1]: 1 without
        a filter. Read from the bundle's held-out lines (the window the incidence model's weekly rates describe):
        (the product's lines in the segment + SEGMENT_PRIOR_LINES x the segment's share of all lines) / (the
        product's lines + SEGMENT_PRIOR_LINES). The incidence model predicts the product's order lines over every
        country; multiplied by this share they are the segment's, so a segment's weekly figures never exceed the
        product's (units per line already follow the filter through the contexts sampled)."""
        if country is None and customer_id is None:
            return 1.0
        segment = np.ones(len(self.context_product), dtype=bool)
        if country is not None:
            segment &= self.context_country == country
        if customer_id is not None:
            segment &= self.context_customer == customer_id
        mine = self.context_product == stockcode
        prior = float(segment.mean()) if len(segment) else 0.0
        return float((np.sum(segment & mine) + SEGMENT_PRIOR_LINES * prior) / (np.sum(mine) + SEGMENT_PRIOR_LINES))

    def recommend(
        self, request: PriceRequest, only: str | None = None, monotone: bool = False, only_incidence: str | None = None
    ) -> Recommendation:
        """The curve over the request's grid of `num_price_bins` prices (see `curve`), with no rules applied."""
        prices = price_grid(request.unitprice_min, request.unitprice_max, request.num_price_bins)
        return self.curve(request, prices, only, monotone, only_incidence)

    # -- what a decision takes from the model (pricing.serving.decision.DemandSource) ---------------------------
    def facts(self, request: PriceRequest) -> D.ProductFacts:
        """The product's description, current price, support, unit cost and observed history (UnknownStockcode)."""
        code = request.stockcode
        product = self.product(code)
        current, date, source = self.current_price(code)
        cost, cost_source = self.unit_cost(request)
        return D.ProductFacts(
            description=str(product["description"]),
            current_price=current,
            current_date=date,
            current_source=source,
            support=self.support(code),
            unit_cost=cost,
            unit_cost_source=cost_source,
            observed=observed_points(self.history, code),
            learnt=self.learnt.get(code) if self.incidence_models else None,
        )

    def current_price(self, stockcode: str) -> tuple[float, str | None, str]:
        """(price, date, source): the list price on the last day the product sold (evidence.parquet), or, for a
        bundle without it, the median line price of the training window with no date."""
        if self.evidence is not None and stockcode in self.evidence.index:
            row = self.evidence.loc[stockcode]
            return float(row["current_price"]), str(row["current_price_date"]), "last_list_price"
        return float(self.product(stockcode)["price_median"]), None, "median_price"

    def support(self, stockcode: str) -> tuple[float, float]:
        """The list prices the product was sold at (lowest, highest level of price_history.parquet): the prices a
        decision sets. Not the range of prices lines paid, which runs from quantity-break discounts up to the
        guest channel's premium (twice the list price on the real file). A bundle without the history: that
        range (the product table's price_min, price_max). A tested product's range takes in its test weeks' list
        prices (pricing.serving.learnt)."""
        if self.history is not None and stockcode in self.history.index:
            levels = self.history.loc[[stockcode], "price"]
            low, high = float(levels.min()), float(levels.max())
        else:
            product = self.product(stockcode)
            low, high = float(product["price_min"]), float(product["price_max"])
        learnt = self.learnt.get(stockcode)
        if learnt is not None and learnt.tested_prices is not None:  # a test's prices were sold at too
            low, high = min(low, learnt.tested_prices[0]), max(high, learnt.tested_prices[1])
        return low, high

    def unit_cost(self, request: PriceRequest) -> tuple[float | None, str | None]:
        """The request's unit cost, else the cost file's (published with the bundle), else (None, None)."""
        if request.unit_cost is not None:
            return request.unit_cost, "query"
        if self.costs is not None and request.stockcode in self.costs.index:
            return float(self.costs.loc[request.stockcode, "unit_cost"]), "cost_file"
        return None, None

    def slope_sd(self, stockcode: str) -> tuple[float | None, float | None]:
        """The posterior sd of the product's incidence and per-line price slopes (None: unknown). A bundle whose
        evidence predates the prior's floor (no `prior_sd_floor` column) gets each sd raised to the floor here,
        as it was served then."""
        if self.evidence is None or stockcode not in self.evidence.index:
            return None, None
        row = self.evidence.loc[stockcode]
        floor = 0.0 if "prior_sd_floor" in row.index else D.PRIOR_SD_FLOOR
        return tuple(
            None if pd.isna(row[c]) else max(float(row[c]), floor) for c in ("incidence_slope_sd", "line_slope_sd")
        )

    def slope_terms(
        self, stockcode: str, prices: np.ndarray, pivot: float, weekly: bool
    ) -> list[tuple[float, np.ndarray]]:
        """The product's price slopes' posterior sds, each with the price term (K,) its slope multiplies, 0 at
        `pivot` (the current price): the incidence slope on log price (weekly answers only), the per-line slope on
        price / median price (the `price_ratio` feature the network's structural price effect and the evidence's
        sd are measured on: pricing.training.evidence). Whatever model answers, so a fallback keeps the per-line
        uncertainty. [] for a bundle without the evidence. A tested product's weekly answer draws its test's
        posterior sd of the weekly-units slope on log price instead (pricing.serving.learnt)."""
        prices = np.asarray(prices, dtype=float)
        learnt = self.learnt.get(stockcode)
        if weekly and learnt is not None and self.incidence_models:
            return [(learnt.sd, np.log(prices / pivot))]
        incidence_sd, line_sd = self.slope_sd(stockcode)
        terms = []
        if weekly and incidence_sd is not None:
            terms.append((incidence_sd, np.log(prices / pivot)))
        if line_sd is not None:
            terms.append((line_sd, (prices - pivot) / float(self.product(stockcode)["price_median"])))
        return terms

    def decide(
        self, request: PriceRequest, only: str | None = None, monotone: bool = False, only_incidence: str | None = None
    ) -> D.Decision:
        """The price decision for `request`: pricing.serving.decision.make_decision over this predictor."""
        return D.make_decision(request, self, only, monotone, only_incidence)


def observed_points(history: pd.DataFrame | None, stockcode: str) -> list[dict]:
    """The product's observed weekly history by list-price level (the bundle's price_history.parquet rows, indexed
    by stockcode), as the response's `observed` array; [] for a bundle without it."""
    if history is None or stockcode not in history.index:
        return []
    rows = history.loc[[stockcode]]
    columns = ("price", "weeks", "orders_per_week", "units_per_week", "sales_per_week")
    return [
        {name: (int(row[name]) if name == "weeks" else round(float(row[name]), 4)) for name in columns}
        for _, row in rows.iterrows()
    ]


def _indexed(table: pd.DataFrame | None) -> pd.DataFrame | None:
    return None if table is None else table.set_index("stockcode")
