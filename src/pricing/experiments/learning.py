"""Learning a product's price slope from the weeks it was priced: one function, `update_posterior`, which the
simulator calls every week and a shop's `pricing experiment update` calls on its export's weeks.

The surrogate demand model (docs/EXPERIMENTS.md says why this one): a product's expected units in week t at list
price p_t are

    mu_t = exp(a + o_t - b x_t),        x_t = log(p_t / p0)

with p0 its price when the experiment started, o_t the week's known volume (log; the shop's order lines and the
season, `SimMarket.week_offset`), a the product's level and b its slope, the elasticity of weekly units to the
list price with the sign flipped (b > 1: elastic). The profit optimum of this curve, c b / (b - 1) for b > 1,
depends on b alone, so a policy needs only b's posterior.

Weekly units are a sum of order lines' quantities: a compound Poisson count, over-dispersed by phi = E[q^2] / E[q]
(the variance of a Poisson number of lines of quantity q over its mean), which the lines themselves estimate
(`dispersion`). The likelihood is the weekly Poisson one scaled by 1 / phi (quasi-likelihood: Wedderburn 1974,
Biometrika 61:439; McCullagh & Nelder, Generalized Linear Models, 2nd ed., ch. 9), the prior on (a, b) is
normal and independent (b's from the model: its slope and its posterior sd, pricing.training.evidence), and the
posterior is its Laplace (normal) approximation: the mode by Newton's method, the covariance the inverse of the
negative Hessian there (Tierney & Kadane 1986, JASA 81:82; Gelman et al., Bayesian Data Analysis, 3rd ed., ch. 4
and ch. 16 for the Poisson regression). Every product at once, in NumPy: (N, T) arrays, a 2 x 2 system each.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEWTON_STEPS = 30
MAX_NEWTON_STEP = 1.0  # a Newton step moves a or b by at most this (log units): damping far from the mode
LEVEL_PRIOR_SD = 1.0  # the level is known to within a factor e (the model's curve, anchored to recent sales)
MIN_DISPERSION = 1.0  # a week's units are at least as variable as a Poisson count


@dataclass(frozen=True)
class Posterior:
    """Normal posterior of each product's level a and slope b (N,): means, sds and their correlation."""

    level: np.ndarray
    slope: np.ndarray
    level_sd: np.ndarray
    slope_sd: np.ndarray
    correlation: np.ndarray

    @classmethod
    def prior(cls, level: np.ndarray, slope: np.ndarray, slope_sd: np.ndarray, level_sd: float = LEVEL_PRIOR_SD):
        """The prior as a posterior before any week: independent a ~ N(level, level_sd^2), b ~ N(slope, sd^2)."""
        slope = np.asarray(slope, dtype=float)
        return cls(
            np.asarray(level, dtype=float),
            slope,
            np.full(len(slope), float(level_sd)),
            np.asarray(slope_sd, dtype=float),
            np.zeros(len(slope)),
        )

    def draw_slopes(self, rng: np.random.Generator) -> np.ndarray:
        """One draw of every product's slope from its marginal posterior (N,)."""
        return rng.normal(self.slope, self.slope_sd)


def dispersion(units: np.ndarray, squared_units: np.ndarray, floor: float = MIN_DISPERSION) -> np.ndarray:
    """phi per product (N,) = sum of squared line quantities / sum of quantities over its observed weeks: the
    variance over the mean of a compound Poisson sum of lines (module docstring), at least `floor`. `units`,
    `squared_units`: (N, T) or (N,) sums per product (and week). A product without a unit sold gets `floor`."""
    units = np.asarray(units, dtype=float)
    squared = np.asarray(squared_units, dtype=float)
    if units.ndim == 2:
        units, squared = np.nansum(units, axis=1), np.nansum(squared, axis=1)
    phi = np.divide(squared, units, out=np.full(units.shape, floor), where=units > 0)
    return np.maximum(phi, floor)


def update_posterior(
    prior: Posterior,
    units: np.ndarray,
    log_price_ratio: np.ndarray,
    offset: np.ndarray,
    phi: np.ndarray,
    observed: np.ndarray | None = None,
) -> Posterior:
    """The posterior of every product's (a, b) given its weeks (module docstring), by the Laplace approximation.

    prior: the model's (`Posterior.prior`), N products; units (N, T): realised units per week; log_price_ratio
    (N, T): log(list price / p0) each week; offset (T,) or (N, T): the weeks' known log volume; phi (N,): the
    dispersion (`dispersion`); observed (N, T) booleans: which weeks count (default: every finite one). Returns
    the posterior (N,). ValueError when the shapes disagree or a unit count is negative."""
    units = np.asarray(units, dtype=float)
    x = np.asarray(log_price_ratio, dtype=float)
    n = len(prior.slope)
    if units.ndim != 2 or units.shape != x.shape or units.shape[0] != n:
        raise ValueError(f"units {units.shape} and log_price_ratio {x.shape} must both be (products={n}, weeks)")
    offset = np.broadcast_to(np.asarray(offset, dtype=float), units.shape)
    seen = np.isfinite(units) & np.isfinite(x) if observed is None else np.asarray(observed, dtype=bool)
    if np.any(units[seen] < 0):
        raise ValueError("units must be non-negative")
    y = np.where(seen, units, 0.0)
    x = np.where(seen, x, 0.0)
    w = seen / np.asarray(phi, dtype=float)[:, None]  # each week's weight in the quasi-likelihood
    a0, b0 = prior.level, prior.slope
    # the prior's precision matrix (a and b may be correlated in a posterior used as the next prior)
    va, vb = prior.level_sd**2, prior.slope_sd**2
    cov_ab = prior.correlation * prior.level_sd * prior.slope_sd
    det = va * vb - cov_ab**2
    p_aa, p_bb, p_ab = vb / det, va / det, -cov_ab / det
    a, b = a0.copy(), b0.copy()
    for _ in range(NEWTON_STEPS):
        mu = np.exp(np.clip(a[:, None] + offset - b[:, None] * x, -50, 50))
        r = w * (y - mu)
        da, db = a - a0, b - b0
        grad_a = r.sum(axis=1) - (p_aa * da + p_ab * db)
        grad_b = -(r * x).sum(axis=1) - (p_ab * da + p_bb * db)
        h_aa = (w * mu).sum(axis=1) + p_aa  # the negative Hessian
        h_bb = (w * mu * x**2).sum(axis=1) + p_bb
        h_ab = -(w * mu * x).sum(axis=1) + p_ab
        h_det = h_aa * h_bb - h_ab**2
        step_a = np.clip((h_bb * grad_a - h_ab * grad_b) / h_det, -MAX_NEWTON_STEP, MAX_NEWTON_STEP)
        step_b = np.clip((h_aa * grad_b - h_ab * grad_a) / h_det, -MAX_NEWTON_STEP, MAX_NEWTON_STEP)
        a, b = a + step_a, b + step_b
        if max(np.abs(step_a).max(initial=0), np.abs(step_b).max(initial=0)) < 1e-10:
            break
    mu = np.exp(np.clip(a[:, None] + offset - b[:, None] * x, -50, 50))
    h_aa = (w * mu).sum(axis=1) + p_aa
    h_bb = (w * mu * x**2).sum(axis=1) + p_bb
    h_ab = -(w * mu * x).sum(axis=1) + p_ab
    h_det = h_aa * h_bb - h_ab**2
    var_a, var_b, cov = h_bb / h_det, h_aa / h_det, -h_ab / h_det
    return Posterior(a, b, np.sqrt(var_a), np.sqrt(var_b), cov / np.sqrt(var_a * var_b))


def pooled_shift(prior: Posterior, posterior: Posterior) -> tuple[float, float]:
    """The shift common to every product's slope that the weeks show, and its variance: the hierarchical normal
    model b_j = m_j + delta + u_j, u_j ~ N(0, s_j^2) (m_j, s_j: the prior's mean and sd; Gelman et al., Bayesian
    Data Analysis, 3rd ed., ch. 5), delta under a flat prior. Each product's weeks alone say b_j ~ N(l_j, 1 / L_j),
    read off its posterior and prior as normals (L_j = 1 / sd_post^2 - 1 / sd_prior^2, the information its weeks
    add); delta's estimate is the precision-weighted mean of l_j - m_j, each of variance s_j^2 + 1 / L_j. A bias
    shared by the products' prior (the passive model's, in a confounded market) is learnt from every tested
    product at once, where one product's own weeks pin its slope only loosely. (0, inf) where no product's weeks
    carry any information on its slope."""
    information = 1 / posterior.slope_sd**2 - 1 / prior.slope_sd**2
    informed = information > 1e-9
    if not informed.any():
        return 0.0, float("inf")
    info = information[informed]
    likelihood_mean = (
        posterior.slope[informed] / posterior.slope_sd[informed] ** 2
        - prior.slope[informed] / prior.slope_sd[informed] ** 2
    ) / info
    variance = prior.slope_sd[informed] ** 2 + 1 / info
    weight = 1 / variance
    shift = float(np.sum(weight * (likelihood_mean - prior.slope[informed])) / weight.sum())
    return shift, float(1 / weight.sum())


def update_pooled(
    prior: Posterior,
    units: np.ndarray,
    log_price_ratio: np.ndarray,
    offset: np.ndarray,
    phi: np.ndarray,
    observed: np.ndarray | None = None,
) -> tuple[Posterior, float]:
    """`update_posterior` under the hierarchical prior of `pooled_shift`: every product's prior mean moved by the
    shift the weeks show (its variance added to the prior's), then each product's own update. Returns the
    posterior and the shift (slope units). Same arguments and errors as `update_posterior`."""
    own = update_posterior(prior, units, log_price_ratio, offset, phi, observed)
    shift, variance = pooled_shift(prior, own)
    if not np.isfinite(variance):
        return own, 0.0
    moved = Posterior(
        prior.level, prior.slope + shift, prior.level_sd, np.sqrt(prior.slope_sd**2 + variance), prior.correlation
    )
    return update_posterior(moved, units, log_price_ratio, offset, phi, observed), shift


def dersimonian_laird(estimates: np.ndarray, variances: np.ndarray) -> tuple[float, float]:
    """The precision-weighted mean and the between-product variance tau^2 of estimates with known sampling
    variances (DerSimonian & Laird 1986, Controlled Clinical Trials 7:177), tau^2 at least 1e-4."""
    w = 1.0 / np.asarray(variances, dtype=float)
    estimates = np.asarray(estimates, dtype=float)
    mean = float(np.sum(w * estimates) / np.sum(w))
    q = float(np.sum(w * (estimates - mean) ** 2))
    scale = float(np.sum(w) - np.sum(w**2) / np.sum(w))
    tau2 = max((q - (len(estimates) - 1)) / scale, 1e-4) if scale > 0 and len(estimates) > 1 else 1.0
    return mean, tau2
