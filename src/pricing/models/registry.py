"""Model name -> class. Each class loads itself from its bundle folder in its own safe format."""

from __future__ import annotations


def model_class(name: str):
    if name == "network":
        from pricing.models.network import DFNEnsemble

        return DFNEnsemble  # loads a single network's folder too
    from pricing.models.fallbacks import ElasticNetModel, KernelSVRModel, LightGBMModel

    classes = {"lightgbm": LightGBMModel, "svr": KernelSVRModel, "elasticnet": ElasticNetModel}
    if name not in classes:
        raise KeyError(f"unknown model {name!r}")
    return classes[name]
