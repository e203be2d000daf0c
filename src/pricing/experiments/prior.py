"""Where an experiment's prior comes from: the model a shop had before it moved any price on purpose.

- `passive_prior`: the passive model of the simulated market's own history. Each simulated product's weekly units
  over the history's full weeks, realised at the retailer's historic list prices (the same truth and draws as the
  simulation), fitted by the weekly quasi-Poisson regression of pricing.experiments.learning, first per product
  with a flat prior (its own, unshrunk, estimate), then shrunk toward the products' pooled slope under a normal
  prior whose spread is the DerSimonian-Laird estimate, held at least PRIOR_SD_FLOOR as the bundle's evidence is
  (pricing.training.evidence). It is the estimate a model of passive data makes, with its bias: in the confounded
  market, where prices rose with demand, it reads the products as less elastic than they are.
- `bundle_prior`: a trained bundle's own curve (pricing.serving.predictor): per product the slope of log weekly
  units against log price around the current price (a central difference of the curve the API serves), with the
  posterior sd of its two slopes from evidence.parquet combined on the same scale.
- `recentred`: a prior about other reference prices than the history's last list price (`pricing simulate
  --start-price-factor`): the model's own level at the new price, its slope unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from pricing.experiments.learning import Posterior, dersimonian_laird, dispersion, update_posterior
from pricing.experiments.market import SimMarket
from pricing.serving.decision import PRIOR_SD_FLOOR

FLAT_SD = 10.0  # the first stage's prior sd: flat on the scale of any slope
BUNDLE_STEP = 0.05  # the log-price half-step of the bundle curve's central difference


@dataclass(frozen=True)
class Prior:
    """A prior for the N simulated products: the posterior of (a, b) before the experiment, where it came from,
    and the products' own unshrunk estimates (NaN where unknown) for the report."""

    posterior: Posterior
    source: str
    unshrunk: np.ndarray


def passive_prior(sim: SimMarket, seed: int) -> Prior:
    """The passive model of `sim`'s history (module docstring); `seed` picks the history's realised draws."""
    rng = np.random.default_rng([seed, 500])
    weeks = sim.history_price.shape[1]
    units = np.empty((sim.n, weeks))
    squared = np.empty((sim.n, weeks))
    for k in range(weeks):
        realised = sim.draw(rng, k, sim.history_price[:, k], history=True)
        units[:, k], squared[:, k] = realised.units, realised.squared_units
    x = np.log(sim.history_price / sim.current_price[:, None])
    flat, shrunk = passive_fit(units, squared, x, sim.week_offset(history=True))
    return Prior(shrunk, "passive", flat.slope)


def passive_fit(
    units: np.ndarray,
    squared_units: np.ndarray,
    log_price_ratio: np.ndarray,
    offset: np.ndarray,
    observed: np.ndarray | None = None,
) -> tuple[Posterior, Posterior]:
    """The passive model's two stages (module docstring) on any weekly panel, simulated or read from a shop's
    lines (pricing.tools.evaluate fits it to a generated file): (flat, shrunk), each a Posterior of the N
    products' (a, b), b = -d log(units per week) / d log(price). units, squared_units (N, T): per product and week
    the units sold and the sum of the lines' squared quantities; log_price_ratio (N, T): log(list price / p0);
    offset (T,) or (N, T): the weeks' known log volume; observed (N, T) booleans: the weeks that count (default:
    every finite one, as update_posterior's). Errors: update_posterior's."""
    units = np.asarray(units, dtype=float)
    seen = np.isfinite(units) & np.isfinite(log_price_ratio) if observed is None else np.asarray(observed, dtype=bool)
    counted, squared = np.where(seen, units, 0.0), np.where(seen, squared_units, 0.0)
    n = units.shape[0]
    phi = dispersion(counted, squared)
    start = np.log(np.maximum(counted.sum(axis=1) / np.maximum(seen.sum(axis=1), 1), 0.5))
    flat = update_posterior(
        Posterior.prior(start, np.ones(n), np.full(n, FLAT_SD), FLAT_SD), units, log_price_ratio, offset, phi, seen
    )
    mean, tau2 = dersimonian_laird(flat.slope, flat.slope_sd**2)
    tau = max(np.sqrt(tau2), PRIOR_SD_FLOOR)
    shrunk = update_posterior(
        Posterior.prior(flat.level, np.full(n, mean), np.full(n, tau), FLAT_SD),
        units,
        log_price_ratio,
        offset,
        phi,
        seen,
    )
    return flat, shrunk


def bundle_prior(store: str, sim: SimMarket, samples: int = 200, start_price: np.ndarray | None = None) -> Prior:
    """A trained bundle's slopes as the prior (module docstring) for `sim`'s products, which must all be in the
    bundle (trained on `pricing generate` data of the same seed, rows and market). `start_price` (N,, currency):
    the prices the curve is read around (default: `sim.current_price`; the simulation's status quo when it is
    not the history's last price). ValueError naming the missing products otherwise."""
    from pricing.artifacts.store import open_store
    from pricing.serving.predictor import Predictor
    from pricing.serving.request import PriceRequest

    predictor = Predictor(open_store(store).fetch())
    missing = [c for c in sim.codes if c not in predictor.products.index]
    if missing:
        raise ValueError(
            f"{len(missing)} of the {sim.n} simulated products are not in the bundle (e.g. {missing[:3]}): train it "
            f"on `pricing generate --seed {sim.seed} --rows {sim.rows} --market {sim.kind}`"
        )
    slope, sd, level = np.empty(sim.n), np.empty(sim.n), np.empty(sim.n)
    for j, code in enumerate(sim.codes):
        p0 = float(sim.current_price[j] if start_price is None else start_price[j])
        prices = p0 * np.exp(np.array([-BUNDLE_STEP, 0.0, BUNDLE_STEP]))
        request = PriceRequest(code, float(prices[0]), float(prices[-1]), 3, samples)
        result = predictor.curve(request, prices).result
        units = np.maximum(np.asarray(result.units_per_week, dtype=float), 1e-9)
        slope[j] = -(np.log(units[2]) - np.log(units[0])) / (2 * BUNDLE_STEP)
        level[j] = np.log(units[1])
        incidence_sd, line_sd = predictor.slope_sd(code)
        # the per-line slope multiplies (p - p0) / median price: d/dlog p at p0 is p0 / median
        median = float(predictor.product(code)["price_median"])
        terms = [incidence_sd or 0.0, (line_sd or 0.0) * p0 / median]
        sd[j] = max(float(np.hypot(*terms)), PRIOR_SD_FLOOR)
    return Prior(Posterior.prior(level, slope, sd), "bundle", np.full(sim.n, np.nan))


def recentred(prior: Prior, log_ratio: np.ndarray) -> Prior:
    """The same prior model about new reference prices p0' = p0 exp(log_ratio) (N,): what the model says at p0'.

    The surrogate exp(a + o - b log(p / p0)) equals exp(a' + o - b log(p / p0')) with a' = a - b log_ratio, so
    the level moves to the model's own prediction of log weekly units at p0' and the slope stays; the normal
    posterior moves by that linear map (a' = a - r b: var a' = var a - 2 r cov + r^2 var b, cov(a', b) = cov -
    r var b), so a wrong slope's extrapolation to p0' is carried by a wider, correlated level, not hidden. Where
    every log_ratio is 0, `prior` itself. ValueError for a log_ratio not (N,) or not finite."""
    r = np.asarray(log_ratio, dtype=float)
    post = prior.posterior
    if r.shape != post.slope.shape or not np.isfinite(r).all():
        raise ValueError(f"log_ratio must be finite and (products={len(post.slope)},), got shape {r.shape}")
    if not r.any():
        return prior
    va, vb = post.level_sd**2, post.slope_sd**2
    cov = post.correlation * post.level_sd * post.slope_sd
    level_sd = np.sqrt(np.maximum(va - 2 * r * cov + r**2 * vb, 0.0))
    correlation = (cov - r * vb) / (level_sd * post.slope_sd)
    moved = Posterior(post.level - r * post.slope, post.slope, level_sd, post.slope_sd, correlation)
    return Prior(moved, prior.source, prior.unshrunk)
