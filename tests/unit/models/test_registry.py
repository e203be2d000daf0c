"""The model registry: one entry per model, read by training, the bundle and serving alike."""

import inspect
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from skopt.space import Integer, Real

from pricing.artifacts.bundle import Bundle, write_manifest
from pricing.data.features import FEATURES
from pricing.models import registry
from pricing.models.network import OPTIMIZERS, DFNConfig
from pricing.models.registry import FitContext, ModelSpec, UnknownModel
from pricing.training import tuning
from tests.unit.models.test_models import N_PRODUCTS, toy_data

TRAINING_ONLY = ("optuna", "skopt", "matplotlib", "tqdm")  # the `train` extra: not in the serving image


def modules_after(statements: str, block: tuple[str, ...] = ()) -> set[str]:
    """The modules a fresh interpreter holds after running `statements`, with the packages in `block` made
    unimportable as they are where they are not installed."""
    blocker = f"""
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {block!r}:
            raise ModuleNotFoundError(f"No module named {{name!r}} (blocked)", name=name)
sys.meta_path.insert(0, Block())
"""
    code = f"{blocker}\n{statements}\nimport json\nprint(json.dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_the_registry_and_the_bundle_import_no_model_library_and_no_training_code():
    modules = modules_after("import pricing.models.registry, pricing.artifacts.bundle")
    assert not {m for m in modules if m.startswith("pricing.training")}
    assert not top_level(modules) & {*TRAINING_ONLY, "torch", "lightgbm", "sklearn"}


def test_the_network_module_and_every_model_class_load_without_training_code():
    load_every_class = (
        "import pricing.models.registry as r, pricing.artifacts.bundle, pricing.models.network\n"
        "for name in r.MODEL_PRIORITY: r.model_class(name)"
    )
    modules = modules_after(load_every_class)
    assert not {m for m in modules if m.startswith("pricing.training")}
    # tqdm is left out here: torch.hub imports it whenever it is installed, whoever imports torch
    assert not top_level(modules) & {"optuna", "skopt", "matplotlib"}
    # as in the serving image, where the training-only packages are not installed: everything still imports
    modules = modules_after(load_every_class, block=TRAINING_ONLY)
    assert "pricing.models.network" in modules and "pricing.models.fallbacks" in modules
    assert not {m for m in modules if m.startswith("pricing.training")}


def test_the_fallback_chain_is_the_network_then_lightgbm_svr_elasticnet():
    assert registry.MODEL_PRIORITY == ("network", "lightgbm", "svr", "elasticnet")
    assert [entry.name for entry in registry.cross_validated()] == ["lightgbm", "svr", "elasticnet"]
    assert registry.in_priority_order(["svr", "mystery", "network", "other"]) == ["network", "svr", "mystery", "other"]


UNKNOWN_NAMES = st.text(alphabet="abcxyz_", min_size=1, max_size=8).filter(lambda name: name not in registry.MODELS)


@settings(max_examples=200, deadline=None)
@given(names=st.lists(st.one_of(st.sampled_from(registry.MODEL_PRIORITY), UNKNOWN_NAMES), max_size=10, unique=True))
def test_any_list_of_names_is_put_in_chain_order_with_unknown_names_kept_last_in_their_order(names):
    """What a manifest's model list becomes (Bundle.model_names): every name kept, the known ones in the chain's
    order, then the unknown ones in the order they came, so that loading one refuses it by name."""
    ordered = registry.in_priority_order(names)
    known = [name for name in ordered if name in registry.MODELS]
    assert sorted(ordered) == sorted(names)
    assert known == [name for name in registry.MODEL_PRIORITY if name in names]
    assert ordered == known + [name for name in names if name not in registry.MODELS]


@pytest.mark.parametrize("name", registry.MODEL_PRIORITY)
def test_every_entry_has_a_class_keeping_the_model_contract(name):
    cls = registry.model_class(name)
    if registry.spec(name).tuning == "network":  # serving's class loads what training's class saves
        from pricing.models.network import DFNEnsemble
        from pricing.training.network_fit import TrainableDFNEnsemble

        assert not hasattr(cls, "fit") and inspect.ismethod(cls.load) and cls.load.__self__ is cls
        assert issubclass(TrainableDFNEnsemble, DFNEnsemble)  # the torch class its loader falls back to
        cls = TrainableDFNEnsemble
    for method in ("fit", "predict", "save"):
        assert callable(getattr(cls, method, None)), f"{name}: {cls.__name__} has no {method}"
    assert inspect.ismethod(cls.load) and cls.load.__self__ is cls, f"{name}: load must be a classmethod"
    if registry.spec(name).tuning == "cross_validated":
        assert inspect.ismethod(cls.from_params), f"{name}: a cross-validated model is built by from_params"


@pytest.mark.parametrize("entry", registry.cross_validated(), ids=lambda entry: entry.name)
def test_every_fallback_space_converts_to_skopt_and_builds_its_model(entry):
    dimensions = tuning.skopt_dimensions(entry.search_space)
    assert [d.name for d in dimensions] == list(entry.search_space)
    point = {d.name: _plain(d.rvs(random_state=0)[0]) for d in dimensions}
    context = FitContext(n_products=N_PRODUCTS, seed=3, price_columns=(0,), max_rows=500)
    model = registry.model_class(entry.name).from_params(point, context)
    assert {name: getattr(model.config, name) for name in point} == point  # every tuned value reaches the model
    if hasattr(model.config, "seed"):
        assert model.config.seed == 3  # and the context's seed
    X, y = toy_data(800)
    assert np.isfinite(model.fit(X, y).predict(X[:20])).all()


def _plain(value):
    return value.item() if hasattr(value, "item") else value


def test_the_fallback_spaces_are_the_ranges_searched_before_the_registry():
    """The ranges as tuning.py held them in skopt form before the registry: the conversion keeps every bound,
    type and prior."""
    before = {
        "lightgbm": [
            Integer(15, 255, prior="log-uniform", name="num_leaves"),
            Real(0.02, 0.2, prior="log-uniform", name="learning_rate"),
            Integer(10, 400, prior="log-uniform", name="min_data_in_leaf"),
            Real(0.5, 1.0, name="feature_fraction"),
            Real(1e-3, 30.0, prior="log-uniform", name="lambda_l2"),
        ],
        "svr": [
            Real(0.01, 30.0, prior="log-uniform", name="C"),
            Real(0.01, 0.5, name="epsilon"),
            Real(1e-3, 0.2, prior="log-uniform", name="gamma"),
        ],
        "elasticnet": [
            Real(1e-4, 1.0, prior="log-uniform", name="alpha"),
            Real(0.0, 1.0, name="l1_ratio"),
        ],
    }
    for name, expected in before.items():
        converted = tuning.skopt_dimensions(registry.spec(name).search_space)
        assert [(type(d), d.name) for d in converted] == [(type(d), d.name) for d in expected], name
        assert converted == expected, name


@pytest.mark.parametrize("price_effect", ["free", "loglinear"])
def test_the_network_space_converts_to_optuna_suggestions_within_its_ranges(price_effect):
    base = DFNConfig(price_effect=price_effect, price_columns=(0, 1), ratio_column=0)
    fewest, most, narrowest, widest = registry.spec("network").search_space["units"][1][price_effect]
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen_layers = set()
    for _ in range(30):
        trial = study.ask()
        config = tuning.suggest_network(trial, base)
        seen_layers.add(len(config.units))
        assert fewest <= len(config.units) <= most
        assert all(narrowest <= width <= widest for width in config.units)
        assert 0.0 <= config.dropout <= 0.4 and 1e-4 <= config.learning_rate <= 1e-2
        assert config.batch_size in (256, 512, 1024, 2048) and 4 <= config.embedding_dim <= 32
        assert config == tuning.config_from_params(trial.params, base)  # the best trial rebuilds the same config
        study.tell(trial, 1.0)
    assert seen_layers == set(range(fewest, most + 1))


def test_the_networks_searched_optimizers_are_ones_its_config_accepts():
    choices = registry.spec("network").search_space["optimizer"][1]
    assert set(choices) <= set(OPTIMIZERS)


def test_a_model_the_registry_does_not_know_is_refused_by_name(tmp_path):
    with pytest.raises(UnknownModel, match=r"unknown model 'mystery': this code knows network, lightgbm, svr"):
        registry.model_class("mystery")
    X, y = toy_data(200)
    with pytest.raises(UnknownModel, match="mystery"):
        tuning.tune_fallback("mystery", X, y, FitContext(n_products=N_PRODUCTS), calls=2, folds=2, seconds=60)
    with pytest.raises(ValueError, match="not tuned by cross-validation"):
        tuning.tune_fallback("network", X, y, FitContext(n_products=N_PRODUCTS), calls=2, folds=2, seconds=60)
    with pytest.raises(UnknownModel, match="mystery"):
        write_manifest(
            tmp_path, version="v", data_fingerprint="f", feature_columns=[], models={"mystery": {}}, metrics={}
        )
    assert not (tmp_path / "manifest.json").exists()


@pytest.mark.parametrize(
    "dimension",
    [("real", 1.0, 0.5, "uniform"), ("real", 0.0, 1.0, "normal"), ("integer", 1, 5), ("categorical", ()), ("grid",)],
)
def test_a_malformed_search_dimension_is_refused_when_the_entry_is_made(dimension):
    with pytest.raises(ValueError, match=r"broken\.x"):
        ModelSpec(name="broken", class_path="m:C", priority=9, search_space={"x": dimension})


# -- a new model: one registry entry and its class ------------------------------------------------------------
class MeanModel:
    """The smallest model keeping the contract: the mean of y, shrunk toward zero by a tuned factor."""

    FILE = "mean.json"

    def __init__(self, shrink: float = 0.0) -> None:
        self.config = type("Config", (), {"shrink": shrink})()
        self.mean = 0.0

    @classmethod
    def from_params(cls, params: dict, context: FitContext) -> "MeanModel":
        return cls(**params)

    def fit(self, X, y, X_val=None, y_val=None) -> "MeanModel":
        self.mean = float(np.mean(y)) * (1 - self.config.shrink)
        return self

    def predict(self, X) -> np.ndarray:
        return np.full(len(X), self.mean)

    def save(self, directory: Path) -> list[Path]:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / self.FILE).write_text(json.dumps({"mean": self.mean}))
        return [directory / self.FILE]

    @classmethod
    def load(cls, directory: Path) -> "MeanModel":
        model = cls()
        model.mean = json.loads((directory / cls.FILE).read_text())["mean"]
        return model


@pytest.fixture
def with_mean_model(monkeypatch):
    entry = ModelSpec(
        name="mean",
        class_path=f"{__name__}:MeanModel",
        priority=2,  # between lightgbm and svr, which move down
        search_space={"shrink": ("real", 0.0, 0.5, "uniform")},
    )
    entries = [entry] + [
        ModelSpec(e.name, e.class_path, e.priority + (e.priority >= 2), e.search_space, e.tuning)
        for e in registry.MODELS.values()
    ]
    models = {e.name: e for e in sorted(entries, key=lambda e: e.priority)}
    monkeypatch.setattr(registry, "MODELS", models)
    monkeypatch.setattr(registry, "MODEL_PRIORITY", tuple(models))
    return entry


def test_a_new_fallback_is_one_registry_entry_and_its_class(with_mean_model, tmp_path):
    assert registry.MODEL_PRIORITY == ("network", "lightgbm", "mean", "svr", "elasticnet")
    assert "mean" in [entry.name for entry in registry.cross_validated()]  # what train() tunes and fits
    X, y = toy_data(400)
    params, summary = tuning.tune_fallback(
        "mean", X, y, FitContext(n_products=N_PRODUCTS), calls=3, folds=2, seconds=60
    )
    assert set(params) == {"shrink"} and 0.0 <= params["shrink"] <= 0.5 and summary["calls"] == 3
    model = registry.model_class("mean").from_params(params, FitContext(n_products=N_PRODUCTS)).fit(X, y)
    files = model.save(tmp_path / "models" / "mean")
    manifest = write_manifest(
        tmp_path,
        version="v1",
        data_fingerprint="f",
        feature_columns=list(FEATURES),
        models={
            "elasticnet": {"files": []},
            "mean": {"files": [p.relative_to(tmp_path).as_posix() for p in files]},
            "lightgbm": {"files": []},
        },
        metrics={},
    )
    assert manifest["model_priority"] == ["lightgbm", "mean", "elasticnet"]
    bundle = Bundle(tmp_path, manifest)
    assert bundle.model_names() == ["lightgbm", "mean", "elasticnet"]
    assert np.allclose(bundle.load_model("mean").predict(X[:5]), model.mean)
