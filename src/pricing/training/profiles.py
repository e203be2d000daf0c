"""The training profiles: how much data, search and time each of quick, standard and full spends, and the
network's fixed training choices (loss, price effect)."""

from __future__ import annotations

from dataclasses import dataclass

NETWORK_LOSS = "poisson"
# each product's demand falls log-linearly in price / median, its slope shrunk toward the pooled one: a free
# price input let the network flatten weak price effects and recommend the range's top (docs/PRICING_QUALITY.md)
NETWORK_PRICE_EFFECT = "loglinear"


@dataclass(frozen=True)
class Profile:
    """Wall-clock budgets first, counts second: each search stops at whichever comes first."""

    name: str
    # lines the per-line models see, drawn stratified by product (pricing.training.lines.sample_split); None: all.
    # The validation split gets a quarter of it; the test split `max_eval_rows` (the held-out metrics' sample)
    max_train_rows: int | None
    max_eval_rows: int | None
    tune_rows: int  # the subsample the searches see
    network_trials: int
    network_tune_s: float
    network_tune_epochs: int
    network_final_epochs: int
    network_final_s: float  # for all members together
    network_members: int  # networks averaged (DFNEnsemble): fewer swings in a product's recommended price
    fallback_calls: int
    fallback_tune_s: float  # per fallback model
    folds: int
    svr_max_rows: int
    max_context_rows: int  # held-out rows kept in the bundle for the price sweep


PROFILES = {
    "quick": Profile(
        "quick",
        max_train_rows=20_000,
        max_eval_rows=None,
        tune_rows=6_000,
        network_trials=4,
        network_tune_s=30,
        network_tune_epochs=4,
        network_final_epochs=12,
        network_final_s=30,
        network_members=2,
        fallback_calls=5,
        fallback_tune_s=10,
        folds=2,
        svr_max_rows=4_000,
        max_context_rows=5_000,
    ),
    "standard": Profile(
        "standard",
        # the real file's 383,681 training lines fit: its bundle is every line's; a 27 M-line file trains on a sample
        max_train_rows=1_000_000,
        max_eval_rows=250_000,
        tune_rows=60_000,
        network_trials=40,
        network_tune_s=240,
        network_tune_epochs=8,
        network_final_epochs=40,
        network_final_s=600,
        network_members=3,
        fallback_calls=12,
        fallback_tune_s=50,
        folds=3,
        svr_max_rows=30_000,
        max_context_rows=100_000,
    ),
    "full": Profile(
        "full",
        max_train_rows=None,
        max_eval_rows=None,
        tune_rows=150_000,
        network_trials=150,
        network_tune_s=1_500,
        network_tune_epochs=12,
        network_final_epochs=80,
        network_final_s=1_500,
        network_members=5,
        fallback_calls=30,
        fallback_tune_s=240,
        folds=5,
        svr_max_rows=60_000,
        max_context_rows=200_000,
    ),
}
