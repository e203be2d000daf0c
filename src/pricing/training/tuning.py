"""Hyper-parameter search: Optuna (TPE + median pruning) for the network, scikit-optimize's gp_minimize over
k-fold cross-validation for the fallbacks. Both stop on a wall-clock budget as well as a trial count. Each
model's search space is plain data in pricing.models.registry; this module turns it into Optuna suggestions
(`suggest`) or scikit-optimize dimensions (`skopt_dimensions`).

Training-only: the server never imports this module."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import replace

import numpy as np
import optuna
from skopt import gp_minimize
from skopt.callbacks import DeadlineStopper
from skopt.space import Categorical, Dimension, Integer, Real
from tqdm import tqdm

from pricing.models import registry
from pricing.models.network import ENCODINGS, DFNConfig
from pricing.models.registry import FitContext
from pricing.training.network_fit import NonFiniteLoss, TrainableDFNRegressor


# ---- search spaces: the registry's plain data, converted ---------------------------------------------
def suggest(trial: optuna.Trial, space: dict[str, tuple], price_effect: str = "free") -> dict:
    """One value per dimension of `space` (the registry's form), suggested by `trial` in the space's order.

    A "layers" dimension suggests "layers" and then "units_0", "units_1", ... (log-uniform widths), its ranges
    those of `price_effect`. Returns {parameter name: value}."""
    params = {}
    for name, dimension in space.items():
        kind = dimension[0]
        if kind == "layers":
            fewest, most, narrowest, widest = dimension[1][price_effect]
            params["layers"] = trial.suggest_int("layers", fewest, most)
            for i in range(params["layers"]):
                params[f"units_{i}"] = trial.suggest_int(f"units_{i}", narrowest, widest, log=True)
        elif kind == "categorical":
            params[name] = trial.suggest_categorical(name, list(dimension[1]))
        else:
            _, low, high, prior = dimension
            suggest_number = trial.suggest_int if kind == "integer" else trial.suggest_float
            params[name] = suggest_number(name, low, high, log=prior == "log-uniform")
    return params


def skopt_dimensions(space: dict[str, tuple]) -> list[Dimension]:
    """scikit-optimize dimensions for `space` (the registry's form), named and in its order; ValueError for a
    "layers" dimension, which only the network's Optuna search has."""
    dimensions: list[Dimension] = []
    for name, dimension in space.items():
        kind = dimension[0]
        if kind == "categorical":
            dimensions.append(Categorical(list(dimension[1]), name=name))
        elif kind in ("real", "integer"):
            _, low, high, prior = dimension
            dimensions.append((Real if kind == "real" else Integer)(low, high, prior=prior, name=name))
        else:
            raise ValueError(f"{name}: scikit-optimize cannot search a {kind!r} dimension")
    return dimensions


# ---- the network: Optuna -----------------------------------------------------------------------------
DATA_KEY = "data"  # the study's user attribute naming the data its trials ran on


class StudyMismatch(ValueError):
    """A shared study opened for other data (or another profile or tuning-rows seed) than this process's."""


def open_study(name: str, storage: str | None, seed: int, data_key: str | None = None) -> optuna.Study:
    """A study in memory, or shared through Optuna's storage so several processes or machines tune together:
    an RDB URL (sqlite:///tuning.db, postgresql://...) or `journal:PATH` for a journal file.

    Safe to call from many processes at once on a fresh storage: the storage's schema and the study are created
    by whichever process gets there first, and a process that loses the race retries (with jittered backoff,
    `tenacity`). `data_key` (data_key_of) ties the study to the data its trials ran on: the first process stores
    it, and a process with another key gets StudyMismatch instead of mixing its trials in."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # "using an existing study" is every worker's news
    shared = _storage_object(storage)
    study = _retry_races(
        lambda: optuna.create_study(
            study_name=name,
            storage=shared,
            load_if_exists=True,
            direction="minimize",
            sampler=optuna.samplers.TPESampler(seed=seed, multivariate=True),
            pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=2),
        )
    )
    if data_key is not None:
        stored = study.user_attrs.get(DATA_KEY)
        if stored is None:
            _retry_races(lambda: study.set_user_attr(DATA_KEY, data_key))
            # read back: of two processes storing at once, the one whose key did not stick finds out here
            stored = study.user_attrs.get(DATA_KEY)  # read from the storage on every access
        if stored != data_key:
            raise StudyMismatch(
                f"study {name!r} holds trials of other data ({stored}; this run: {data_key}): "
                "use another --study name for these data"
            )
    return study


def data_key_of(data_fingerprint: str, profile: str, seed: int) -> str:
    """What makes two processes' trials comparable: the prepared data (its fingerprint), the profile (rows and
    epochs per trial) and the seed that picks the tuning rows."""
    return f"data {data_fingerprint}, profile {profile}, seed {seed}"


RACES = ("already exists", "database is locked", "unique constraint", "duplicate")


def _lost_a_race(exc: BaseException) -> bool:
    """Whether `exc` says another process got there first (and trying again will find its work done): a fresh
    SQLite file's `table ... already exists`, `database is locked`, a duplicate insert or study, PostgreSQL's
    `relation ... already exists` (a ProgrammingError there) or duplicate key of a type its CREATE TABLE adds.
    Any other error (a folder that does not exist, a refused connection) is not retried."""
    from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError

    if isinstance(exc, optuna.exceptions.DuplicatedStudyError):
        return True
    races = (OperationalError, IntegrityError, ProgrammingError)
    return isinstance(exc, races) and any(r in str(exc).lower() for r in RACES)


def _retry_races(call):
    """`call()`, retried with jittered backoff (tenacity) while it loses a race with another process."""
    from tenacity import retry, retry_if_exception, stop_after_delay, wait_random_exponential

    return retry(
        retry=retry_if_exception(_lost_a_race),
        wait=wait_random_exponential(multiplier=0.05, max=2.0),
        stop=stop_after_delay(120),
        reraise=True,
    )(call)()


def suggest_network(trial: optuna.Trial, base: DFNConfig) -> DFNConfig:
    """`base` with the architecture and optimiser settings `trial` suggests from the network's registry space."""
    params = suggest(trial, registry.spec("network").search_space, base.price_effect)
    return config_from_params(params, base)


def config_from_params(params: dict, base: DFNConfig) -> DFNConfig:
    """`base` with a trial's parameters: "layers" and "units_<i>" become `units`, the rest config fields."""
    units = tuple(params[f"units_{i}"] for i in range(params["layers"]))
    keep = {k: v for k, v in params.items() if k in DFNConfig.__dataclass_fields__}
    return replace(base, units=units, **keep)


def tune_network(
    X,
    y,
    X_val,
    y_val,
    n_products: int,
    base: DFNConfig,
    trials: int,
    seconds: float,
    storage: str | None = None,
    study_name: str = "network",
    refine: bool = False,
    seed: int = 0,
    data_key: str | None = None,
    reuse: bool = False,
) -> tuple[DFNConfig, dict]:
    """Search the network's architecture and optimiser; returns the best config and a summary. With `reuse`,
    a study that already has a finished trial (from `pricing tune` workers) adds none: its best is used."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)  # the progress bar says enough
    study = open_study(study_name, storage, seed, data_key)
    started = time.perf_counter()
    finished = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not (reuse and finished):
        add_network_trials(study, X, y, X_val, y_val, n_products, base, trials, seconds)
    best = study.best_trial
    summary = {
        "trials": len(study.trials),
        "reused_study": bool(reuse and finished),
        "best_value": best.value,
        "best_params": best.params,
        "pruned": sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials),
    }
    config = config_from_params(best.params, base)
    if refine:
        config, summary["refine"] = _refine(
            config, best.value, X, y, X_val, y_val, n_products, storage, study_name, seed
        )
    summary["seconds"] = time.perf_counter() - started
    return config, summary


def add_network_trials(
    study: optuna.Study, X, y, X_val, y_val, n_products: int, base: DFNConfig, trials: int | None, seconds
) -> int:
    """Run trials of the network search in `study` until `trials` or `seconds` (either None: no limit) run out,
    with Optuna's progress bar; a trial whose loss goes non-finite is recorded as failed, not fatal. Returns
    the number of trials this call ran (other processes may add theirs to the same study meanwhile)."""
    ran = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal ran
        ran += 1
        config = suggest_network(trial, base)
        return _fit_for_trial(trial, config, X, y, X_val, y_val, n_products)

    study.optimize(objective, n_trials=trials, timeout=seconds, show_progress_bar=True, catch=(NonFiniteLoss,))
    return ran


def compare_encodings(config: DFNConfig, X, y, X_val, y_val, n_products: int) -> dict[str, float]:
    """Best validation MSE of the same network with each encoding of the product."""
    results = {}
    for encoding in tqdm(ENCODINGS, desc="compare product encodings", unit="encoding"):
        model = TrainableDFNRegressor(replace(config, product_encoding=encoding), n_products=n_products)
        results[encoding] = round(min(model.fit(X, y, X_val, y_val).history.val_loss), 5)
    return results


def _fit_for_trial(trial, config, X, y, X_val, y_val, n_products) -> float:
    def report(epoch: int, val_loss: float) -> None:
        trial.report(val_loss, epoch)
        if trial.should_prune():
            raise optuna.TrialPruned()

    model = TrainableDFNRegressor(config, n_products=n_products).fit(X, y, X_val, y_val, on_epoch=report)
    return min(model.history.val_loss)


def _refine(config: DFNConfig, best_value: float, X, y, X_val, y_val, n_products, storage, study_name, seed):
    """A small grid around the best trial: learning rate x {1/2, 1, 2}, dropout -/+ 0.05."""
    grid = {
        "learning_rate": sorted({config.learning_rate * f for f in (0.5, 1.0, 2.0)}),
        "dropout": sorted({round(min(max(config.dropout + d, 0.0), 0.5), 3) for d in (-0.05, 0.0, 0.05)}),
    }
    study = optuna.create_study(
        study_name=f"{study_name}-refine",
        storage=_storage_object(storage),
        load_if_exists=True,
        direction="minimize",
        sampler=optuna.samplers.GridSampler(grid, seed=seed),
    )

    def objective(trial: optuna.Trial) -> float:
        candidate = replace(
            config,
            learning_rate=trial.suggest_categorical("learning_rate", grid["learning_rate"]),
            dropout=trial.suggest_categorical("dropout", grid["dropout"]),
        )
        return _fit_for_trial(trial, candidate, X, y, X_val, y_val, n_products)

    study.optimize(
        objective,
        n_trials=len(grid["learning_rate"]) * len(grid["dropout"]),
        show_progress_bar=True,
        catch=(NonFiniteLoss,),
    )
    refined = study.best_trial
    if refined.value < best_value:
        config = replace(config, **refined.params)
    return config, {"trials": len(study.trials), "best_value": refined.value, "improved": refined.value < best_value}


def _storage_object(storage: str | None):
    """Optuna's storage for a --storage value: a journal file (`journal:PATH`, one machine: appends under a file
    lock, no schema to race on), an RDB URL (storage_url; its schema created by whichever process gets there
    first, the others retrying; SQLite waits up to 60 s for another process's lock instead of failing at once),
    or None (in memory). StorageError for a journal file that cannot be opened or a URL whose driver is not
    installed; SQLAlchemy's ArgumentError for a value that is not a URL."""
    if storage is None:
        return None
    if storage.startswith("journal:"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        path = storage.removeprefix("journal:")
        try:
            return JournalStorage(JournalFileBackend(path))
        except OSError as exc:
            raise StorageError(f"cannot open the journal file {path}: {exc.strerror or exc}") from None
    url = storage_url(storage)
    engine = {"connect_args": {"timeout": 60}} if url.get_backend_name() == "sqlite" else None
    plain = url.render_as_string(hide_password=False)
    return _retry_races(lambda: optuna.storages.RDBStorage(plain, engine_kwargs=engine))


class StorageError(ValueError):
    """A --storage value that cannot be used as it is (a journal file that cannot be opened, a database SQLAlchemy
    does not know or whose driver is not installed); one line that says what to do."""


# the package that provides each database driver's module SQLAlchemy imports: what the error says to install
DRIVER_PACKAGES = {
    "MySQLdb": "mysqlclient (or write mysql+pymysql://... and install PyMySQL)",
    "pymysql": "PyMySQL",
    "mysql": "mysql-connector-python",
    "mariadb": "mariadb",
    "psycopg2": "psycopg2-binary (or write postgresql://..., which uses the psycopg this project installs)",
    "psycopg": "psycopg[binary]",
    "pg8000": "pg8000",
    "oracledb": "oracledb",
    "cx_Oracle": "oracledb (and write oracle+oracledb://...)",
    "pyodbc": "pyodbc",
    "pymssql": "pymssql",
}


def storage_url(storage: str):
    """The SQLAlchemy URL of an RDB --storage value, with the driver this project installs (psycopg 3) where the
    user named none: `postgresql://` and Heroku's `postgres://` become `postgresql+psycopg://`.

    Raises StorageError, naming the package to install, when the URL's driver cannot be imported (`mysql://`
    without mysqlclient), so that a missing driver is one line at start instead of Optuna's traceback, and for a
    database SQLAlchemy does not know (`foo://`); SQLAlchemy's ArgumentError for a value that is not a URL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import NoSuchModuleError

    url = make_url(storage)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    try:
        dialect = url.get_dialect()
    except NoSuchModuleError:
        raise StorageError(
            f"{url.drivername}:// is no database SQLAlchemy knows (postgresql://, sqlite:///, mysql+pymysql://, ...)"
        ) from None
    try:
        dialect.import_dbapi()
    except ImportError as exc:
        module = exc.name or url.get_driver_name()
        package = DRIVER_PACKAGES.get(module, f"the Python package that provides the {module} module")
        raise StorageError(
            f"no database driver for {url.drivername}:// (Python module {module}): install {package}"
        ) from None
    return url


def describe_storage(storage: str | None) -> str:
    """A --storage value fit for a message or a log: an RDB URL's password replaced by `***`."""
    if storage is None or storage.startswith("journal:"):
        return str(storage)
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        return make_url(storage).render_as_string(hide_password=True)
    except ArgumentError:
        return storage


# ---- the fallbacks: scikit-optimize --------------------------------------------------------------------
def cross_val_mse(make: Callable[[], object], X: np.ndarray, y: np.ndarray, folds: int, seed: int) -> float:
    """Mean squared error over `folds` folds of a shuffled (by `seed`) X (n, k), y (n,); `make()`: a fresh model."""
    order = np.random.default_rng(seed).permutation(len(X))
    losses = []
    for fold in np.array_split(order, folds):
        train = np.setdiff1d(order, fold, assume_unique=True)
        model = make().fit(X[train], y[train])
        losses.append(float(np.mean((model.predict(X[fold]) - y[fold]) ** 2)))
    return float(np.mean(losses))


def tune_fallback(
    kind: str,
    X: np.ndarray,
    y: np.ndarray,
    context: FitContext,
    calls: int,
    folds: int,
    seconds: float,
) -> tuple[dict, dict]:
    """gp_minimize over k-fold CV MSE (log target) for the cross-validated registry entry `kind`, each candidate
    built by its class's `from_params(params, context)`; the folds and the search are seeded by context.seed.

    X (n, k), y (n,) log1p(quantity). Stops after `calls` evaluations or `seconds`, whichever comes first. Returns
    the best parameters (one per search dimension) and a summary. UnknownModel for a name the registry does not
    know, ValueError for the network (tuned by tune_network)."""
    entry = registry.spec(kind)
    if entry.tuning != "cross_validated":
        raise ValueError(f"{kind} is not tuned by cross-validation")
    space = skopt_dimensions(entry.search_space)
    model_class = registry.model_class(kind)
    seed = context.seed
    names = [dim.name for dim in space]
    bar = tqdm(total=calls, desc=f"tune {kind}", unit="call")
    best_loss = math.inf

    def objective(values) -> float:
        nonlocal best_loss
        params = {name: _plain(v) for name, v in zip(names, values, strict=True)}
        loss = cross_val_mse(lambda: model_class.from_params(params, context), X, y, folds, seed)
        loss = loss if math.isfinite(loss) else 1e6  # a diverged fit is a bad point, not a crash
        best_loss = min(best_loss, loss)
        bar.update()
        bar.set_postfix(best=f"{best_loss:.4f}")
        return loss

    started = time.perf_counter()
    result = gp_minimize(
        objective,
        space,
        n_calls=calls,
        n_initial_points=min(5, calls),
        random_state=seed,
        callback=[DeadlineStopper(seconds)],
    )
    bar.close()
    best = {name: _plain(v) for name, v in zip(names, result.x, strict=True)}
    return best, {
        "calls": len(result.func_vals),
        "best_cv_mse": float(result.fun),
        "folds": folds,
        "seconds": time.perf_counter() - started,
    }


def _plain(value):
    return value.item() if hasattr(value, "item") else value
