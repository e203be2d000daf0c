"""What the serving process loads when it starts with a bundle and answers: none of the batch job's code or
packages. (The image does not carry them: tests/integration/test_infra.py checks the Dockerfile and
requirements.txt against the same import trace.)"""

from tests.integration.test_infra import run_serving_probe

TRAINING_ONLY_MODULES = ("optuna", "skopt", "matplotlib", "tqdm")
# Optional imports inside a runtime dependency, allowed by who makes them: torch.hub runs
# `try: from tqdm import tqdm` and falls back to its own stand-in, so with tqdm installed (this venv) importing
# torch loads it, and in the image (no tqdm) torch works without it. tests/integration/test_app_entry.py checks
# the app prices with the training packages blocked.
OPTIONAL_IN_A_DEPENDENCY = {"tqdm": "torch.hub"}


def test_serving_start_up_and_a_request_load_no_training_code_or_training_package(store):
    seen = run_serving_probe(store.root, "report(health=app.app.test_client().get('/health').status_code)\n")
    assert seen["health"] == 200
    # the bundle's models were loaded (torch for the network, the fallbacks' module), or this proves little
    assert "torch" in seen["third_party"] and "pricing.models.fallbacks" in seen["pricing"]

    ours = sorted(m for m in seen["pricing"] if m.startswith(("pricing.training", "pricing.tools", "pricing.cli")))
    assert ours == [], f"the serving process loaded training or tooling code: {ours}"
    imported_by_us = sorted(set(TRAINING_ONLY_MODULES) & set(seen["direct"]))
    assert imported_by_us == [], f"app.py or a pricing module imports {imported_by_us}"
    loaded = {name: seen["third_party"].get(name, {}).get("first_importer", "?") for name in seen["loaded"]}
    unexpected = {
        name: importer
        for name, importer in loaded.items()
        if name in TRAINING_ONLY_MODULES and OPTIONAL_IN_A_DEPENDENCY.get(name) != importer
    }
    assert unexpected == {}, f"training packages loaded at start-up (module: who imported it): {unexpected}"
