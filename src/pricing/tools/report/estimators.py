"""The estimators of the published designs, each by the library that defines it: OLS and fixed-effect
regressions by pyfixest (after Berge's fixest), the partially linear double machine learning by DoubleML. Each takes
`daily_cells`' frame (designs) and returns {elasticity, se, ci95, observations, ...}."""

from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

from pricing.data.features import PRODUCT_ID

CELL = (PRODUCT_ID, "day", "country")  # the published unit of observation: stock code x date x country
FIXED_EFFECTS = " + ".join(CELL)
DML_MAX_CELLS = 400_000  # double machine learning on a random subsample of this many cells beyond it
DML_FOLDS = 3
Z95 = 1.959964  # two-sided 95% normal quantile


def _fixest(fit) -> dict:
    """A pyfixest fit's log-price coefficient: the elasticity, its standard error clustered by stock code, the
    95% CI (t quantiles, as pyfixest reports it) and the observations the fit used (singletons dropped)."""
    row = fit.tidy().loc["log_price"]
    return {
        "elasticity": round(float(row["Estimate"]), 3),
        "se": round(float(row["Std. Error"]), 4),
        "ci95": [round(float(row["2.5%"]), 3), round(float(row["97.5%"]), 3)],
        "observations": int(fit._N),
    }


def _quietly(estimate, *args, **kwargs):
    """pyfixest warns (UserWarning) for every singleton fixed effect it drops; the count is in `observations`."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return estimate(*args, **kwargs)


def naive_regression(cells: pd.DataFrame) -> dict:
    """OLS of log units on log price with an intercept and nothing else (pyfixest feols), over `daily_cells`:
    the naive design, which reads prices set high for products and days that sell well as demand."""
    import pyfixest as pf

    return _fixest(_quietly(pf.feols, "log_units ~ log_price", cells, vcov={"CRV1": PRODUCT_ID}))


def log_normal_fixed_effects(cells: pd.DataFrame) -> dict:
    """log units on log price with stock-code, date and country fixed effects (pyfixest feols, after Berge's
    fixest: the effects swept out by alternating projections), standard errors clustered by stock code."""
    import pyfixest as pf

    fml = f"log_units ~ log_price | {FIXED_EFFECTS}"
    return _fixest(_quietly(pf.feols, fml, cells, vcov={"CRV1": PRODUCT_ID}))


def poisson_fixed_effects(cells: pd.DataFrame) -> dict:
    """Poisson pseudo-maximum likelihood of units on log price with the same fixed effects (pyfixest fepois, after
    fixest's fepois), clustered by stock code. It fits the mean of units rather than of their log, so it weighs
    a cell by its size: big orders count for more than in the log-normal form."""
    import pyfixest as pf

    fml = f"units ~ log_price | {FIXED_EFFECTS}"
    return _fixest(_quietly(pf.fepois, fml, cells, vcov={"CRV1": PRODUCT_ID}))


def dml_controls(cells: pd.DataFrame) -> pd.DataFrame:
    """The controls that stand for date, country and product in the double machine learning, one row per cell:
    the day (its index from the first day, weekday, month, day of month), the country (an integer code and its
    number of cells) and the product (its median log price, cells, and first and mean day index: when it sold,
    which its within-product mean of date effects depends on). Shape (cells, 10), all numeric."""
    day_index = (cells["day"] - cells["day"].min()).dt.days
    product = day_index.groupby(cells[PRODUCT_ID].to_numpy())
    product_price = cells.groupby(PRODUCT_ID)["log_price"]
    return pd.DataFrame(
        {
            "day_index": day_index,
            "weekday": cells["day"].dt.day_of_week,
            "month": cells["day"].dt.month,
            "day_of_month": cells["day"].dt.day,
            "country_code": pd.factorize(cells["country"], sort=True)[0],
            "country_cells": cells.groupby("country")["country"].transform("size"),
            "product_log_price": product_price.transform("median"),
            "product_cells": product_price.transform("size"),
            "product_first_day": product.transform("min").to_numpy(),
            "product_mean_day": product.transform("mean").to_numpy(),
        }
    )


def double_ml(cells: pd.DataFrame, max_cells: int = DML_MAX_CELLS, folds: int = DML_FOLDS, seed: int = 0) -> dict:
    """The elasticity by double machine learning (Chernozhukov et al. 2018, "Double/debiased machine learning for
    treatment and structural parameters", Econometrics Journal 21(1)): DoubleML's partially linear model
    (`DoubleMLPLR`, partialling-out score) of log units (outcome) on log price (treatment), both taken within stock
    code first (the stock-code effects removed exactly, as the published work did), with `dml_controls` as X and
    LightGBM for E[outcome | X] and E[treatment | X], cross-fitted over `folds` folds of stock codes, standard
    error clustered by stock code. Over a random `max_cells` of the cells when there are more (`subsampled`)."""
    import doubleml as dml

    started = time.perf_counter()
    frame = cells.sample(n=max_cells, random_state=seed) if len(cells) > max_cells else cells
    within = frame.groupby(PRODUCT_ID)[["log_units", "log_price"]].transform("mean")
    controls = dml_controls(frame).reset_index(drop=True)
    data = controls.assign(
        outcome=(frame["log_units"] - within["log_units"]).to_numpy(),
        treatment=(frame["log_price"] - within["log_price"]).to_numpy(),
        cluster=pd.factorize(frame[PRODUCT_ID])[0],
    )
    backend = dml.DoubleMLData(data, "outcome", "treatment", x_cols=list(controls), cluster_cols="cluster")
    state = np.random.get_state()  # DoubleML draws its folds from NumPy's global generator, when it is built
    np.random.seed(seed)
    try:
        model = dml.DoubleMLPLR(backend, ml_l=_learner(seed), ml_m=_learner(seed), n_folds=folds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            model.fit()
    finally:
        np.random.set_state(state)
    coef, se = float(model.coef[0]), float(model.se[0])
    return {
        "elasticity": round(coef, 3),
        "se": round(se, 4),
        "ci95": [round(coef - Z95 * se, 3), round(coef + Z95 * se, 3)],
        "observations": len(frame),
        "subsampled": len(frame) < len(cells),
        "folds": folds,
        "seconds": round(time.perf_counter() - started, 1),
    }


def _learner(seed: int):
    """The LightGBM regressor for both of double_ml's nuisance functions."""
    from lightgbm import LGBMRegressor

    return LGBMRegressor(
        n_estimators=200,
        learning_rate=0.1,
        num_leaves=63,
        min_child_samples=50,
        n_jobs=1,  # one thread: about 2 s a fit on 200,000 cells, and no OpenMP contention with other work
        random_state=seed,
        verbose=-1,
    )
