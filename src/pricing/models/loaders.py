"""The registry's classes for the two networks: each `load(directory)` gives the NumPy twin
(pricing.models.arrays) where the folder carries the export, else the torch model (a bundle written before the
export; that path imports torch, which the serving image does not install)."""

from __future__ import annotations

import json
from pathlib import Path

from pricing.models.arrays import (
    INCIDENCE_ARRAYS,
    NETWORK_ARRAYS,
    ArrayDFNEnsemble,
    ArrayDFNRegressor,
    ArrayIncidenceNetwork,
)


class NetworkLoader:
    """The registry's class for the network: `load(directory)` gives the array twin where every network folder
    carries its export, else the torch ensemble (a bundle written before the export; imports torch)."""

    @classmethod
    def load(cls, directory: Path):
        ensemble = directory / "ensemble.json"
        folders = (
            [directory / f"member{k}" for k in range(json.loads(ensemble.read_text())["members"])]
            if ensemble.exists()
            else [directory]
        )
        if all((folder / NETWORK_ARRAYS).is_file() for folder in folders):
            members = [ArrayDFNRegressor.load(folder) for folder in folders]
            return ArrayDFNEnsemble(members) if ensemble.exists() else members[0]
        _need_torch(directory)
        from pricing.models.network import DFNEnsemble

        return DFNEnsemble.load(directory)


class IncidenceLoader:
    """The registry's class for the incidence network: the array twin where the folder carries its export, else
    the torch model (imports torch)."""

    @classmethod
    def load(cls, directory: Path):
        if (directory / INCIDENCE_ARRAYS).is_file():
            return ArrayIncidenceNetwork.load(directory)
        _need_torch(directory)
        from pricing.models.incidence import IncidenceNetwork

        return IncidenceNetwork.load(directory)


def _need_torch(directory: Path) -> None:
    """ModuleNotFoundError saying what to do when a folder without the export meets a runtime without torch (the
    serving image installs none)."""
    import importlib.util

    if importlib.util.find_spec("torch") is None:
        raise ModuleNotFoundError(
            f"{directory.name}: this bundle has no arrays export ({NETWORK_ARRAYS}, {INCIDENCE_ARRAYS}) and torch is "
            "not installed: publish the bundle again with `pricing publish` (it adds the export)"
        )
