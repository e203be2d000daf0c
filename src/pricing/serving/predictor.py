"""The loaded bundle at serving time: held-out contexts transformed once, models in priority order with
fallback, and the price recommendation for one product."""

from __future__ import annotations

import logging
import os
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from pricing.artifacts.bundle import Bundle
from pricing.data.features import PRODUCT_FEATURES, price_features, product_features, quantity_from_log
from pricing.data.incidence import serving_features
from pricing.serving.errors import NoContexts, NoUsableModel, UnknownStockcode
from pricing.serving.request import PriceRequest
from pricing.serving.sweep import SweepResult, aggregate, price_grid, sweep_matrix

log = logging.getLogger(__name__)
MAX_QUANTITY = 1e9  # units per order line: no real order comes near; beyond it a model has left its data


@dataclass(frozen=True)
class Recommendation:
    """A product's swept demand curve and which model of the fallback chain answered."""

    stockcode: str
    result: SweepResult
    model: str  # the per-line model that answered
    incidence_model: str | None = None  # the incidence model that answered (None: the bundle has none)


def usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


class Predictor:
    def __init__(self, bundle: Bundle, torch_threads: int | None = None) -> None:
        self.version = bundle.version
        self.preprocessor = bundle.preprocessor()
        self.products = bundle.products()
        contexts = bundle.contexts()
        self.context_country = contexts["country"].astype(str).to_numpy()
        self.context_customer = contexts["customer_id"].astype("Int64").to_numpy(dtype=float, na_value=np.nan)
        self.contexts = self.preprocessor.transform(contexts)  # transformed once, keyed per request
        self.price_columns = self.preprocessor.price_columns
        self.product_columns = [list(self.preprocessor.numeric).index(c) for c in PRODUCT_FEATURES]
        scaled = self.preprocessor.scale(
            product_features(self.products.index, self.products).to_numpy(dtype=float), self.product_columns
        )
        self.product_rows = pd.Series(range(len(self.products)), index=self.products.index)
        self.scaled_product = scaled.astype(np.float32)
        self.product_index = self.preprocessor.product_index(self.products.index).astype(np.float32)
        self.models: list[tuple[str, object]] = []
        self.skipped: dict[str, str] = {}
        # Every model call runs on this one thread: torch's CPU thread pool then exists once, instead of once
        # (with its own memory) per server thread, and concurrent sweeps queue instead of oversubscribing.
        self._inference = ThreadPoolExecutor(max_workers=1, thread_name_prefix="inference")
        if torch_threads or "network" in bundle.model_names():
            import torch

            torch.set_num_threads(torch_threads or usable_cpus())
        for name in bundle.model_names():
            try:
                self.models.append((name, bundle.load_model(name)))
            except Exception as exc:  # a broken model is skipped, never fatal: the next one serves
                self.skipped[name] = f"{type(exc).__name__}: {exc}"
                log.error("model %s skipped: %s", name, self.skipped[name])
        # the incidence part (order lines per week), its own fallback chain; none in bundles written before it
        self.incidence_models: list[tuple[str, object]] = []
        self.reference_weeks = bundle.reference_weeks() if bundle.incidence_model_names() else None
        for name in bundle.incidence_model_names():
            try:
                self.incidence_models.append((name, bundle.load_incidence_model(name)))
            except Exception as exc:
                self.skipped[name] = f"{type(exc).__name__}: {exc}"
                log.error("incidence model %s skipped: %s", name, self.skipped[name])

    @property
    def model_names(self) -> list[str]:
        return [name for name, _ in self.models]

    def product(self, stockcode: str) -> pd.Series:
        if stockcode not in self.product_rows.index:
            raise UnknownStockcode(stockcode)
        return self.products.loc[stockcode]

    def default_range(self, stockcode: str) -> tuple[float, float]:
        """The product's historical price range. A product sold at one price only gets that price widened by
        the typical spread of the other products' ranges (their median max/min ratio), centred on it."""
        product = self.product(stockcode)
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
        for name, model in self.models:
            if only is not None and name != only:
                continue
            try:
                if hasattr(model, "predict_grid"):
                    prediction = model.predict_grid(contexts, self.price_columns, scaled_prices)
                else:
                    if matrix is None:
                        matrix = sweep_matrix(contexts, self.price_columns, scaled_prices)
                    prediction = model.predict(matrix)
            except Exception as exc:
                log.error("model %s failed to predict: %s: %s", name, type(exc).__name__, exc)
                continue
            with np.errstate(over="ignore", invalid="ignore"):
                quantity = np.clip(quantity_from_log(np.asarray(prediction, dtype=float)), 0, None)
            if np.isfinite(quantity).all() and quantity.max(initial=0.0) <= MAX_QUANTITY:
                return name, quantity
            log.error("model %s gave non-finite or absurd quantities; falling back", name)
        raise NoUsableModel("no usable model in bundle " + self.version)

    def orders_per_week(self, stockcode: str, prices: np.ndarray, only: str | None = None) -> tuple[str, np.ndarray]:
        """Expected order lines per week at each list price (bins,): the rate per trading day averaged over the
        bundle's reference weeks (the held-out window) x their median trading days, from the first incidence model
        that predicts finite rates (`only`: just that one). NoUsableModel when none does."""
        product = self.product(stockcode)
        weeks = self.reference_weeks
        X = serving_features(prices, float(product["price_median"]), weeks)
        index = np.full(len(X), self.product_index[self.product_rows[stockcode]], dtype=np.int64)
        for name, model in self.incidence_models:
            if only is not None and name != only:
                continue
            try:
                rate = np.asarray(model.predict_rate(X, index), dtype=float).reshape(len(prices), -1)
            except Exception as exc:
                log.error("incidence model %s failed to predict: %s: %s", name, type(exc).__name__, exc)
                continue
            orders = rate.mean(axis=1) * weeks.typical_trading_days
            if np.isfinite(orders).all() and orders.max(initial=0.0) <= MAX_QUANTITY:
                return name, orders
            log.error("incidence model %s gave non-finite or absurd rates; falling back", name)
        raise NoUsableModel("no usable incidence model in bundle " + self.version)

    def recommend(
        self, request: PriceRequest, only: str | None = None, monotone: bool = False, only_incidence: str | None = None
    ) -> Recommendation:
        """Sweep `request.num_price_bins` prices through the fallback chains for `request.stockcode`: units per
        order line (`only`: one model) and, when the bundle has an incidence model, order lines per week
        (`only_incidence`). The optimum maximises `request.optimise`.

        Raises UnknownStockcode, NoContexts (no held-out context for the country or customer) or NoUsableModel."""
        contexts = self.keyed_contexts(request.stockcode, request.num_samples, request.country, request.customerid)
        prices = price_grid(request.unitprice_min, request.unitprice_max, request.num_price_bins)
        scaled = self.scaled_prices(request.stockcode, prices)
        name, quantity = self._inference.submit(self.predict_grid, contexts, scaled, only).result()
        incidence, orders = None, None
        if self.incidence_models:
            incidence, orders = self._inference.submit(
                self.orders_per_week, request.stockcode, prices, only_incidence
            ).result()
        result = aggregate(prices, quantity, monotone, orders_per_week=orders, objective=request.optimise)
        return Recommendation(request.stockcode, result, name, incidence)
