"""What the serving process loads when it starts with a bundle and answers: none of the batch job's code or
packages. (The image does not carry them: tests/integration/test_infra.py checks the Dockerfile and
requirements.txt against the same import trace.)"""

from tests.integration.test_infra import run_serving_probe

# The batch job's packages, torch and scikit-learn among them: the networks serve from their arrays export
# (pricing.models.arrays) and the scikit-learn fallbacks from their fitted numbers.
TRAINING_ONLY_MODULES = ("torch", "sklearn", "optuna", "skopt", "matplotlib", "tqdm")
# Libraries only a fallback needs: loaded when the chain first reaches it (pricing.serving.predictor.LazyModel).
FALLBACK_ONLY_MODULES = ("lightgbm",)


def test_serving_start_up_and_a_request_load_no_training_code_or_training_package(store):
    """With the export present, the serving process starts and answers a price decision from the network
    without importing torch, the batch job's packages or a fallback's library (a test that fails if it does)."""
    code = store.fetch().products().sort_values("lines").index[-1]
    seen = run_serving_probe(
        store.root,
        "client = app.app.test_client()\n"
        f"decision = client.get('/v1/price-decision/{code}')\n"
        "report(health=client.get('/health').status_code, status=decision.status_code,"
        " model=decision.get_json().get('model'))\n",
        TORCH_THREADS="1",  # as infra/template.yaml sets it: no reason to import torch either
    )
    assert seen["health"] == 200 and seen["status"] == 200 and seen["model"] == "network"
    # the network answered from its arrays, or this proves little
    assert "pricing.models.arrays" in seen["pricing"] and "pricing.models.network" not in seen["pricing"]
    early = sorted(set(FALLBACK_ONLY_MODULES) & set(seen["loaded"]))
    assert early == [], f"a fallback's library loaded before the chain needed it: {early}"

    ours = sorted(m for m in seen["pricing"] if m.startswith(("pricing.training", "pricing.tools", "pricing.cli")))
    assert ours == [], f"the serving process loaded training or tooling code: {ours}"
    imported_by_us = sorted(set(TRAINING_ONLY_MODULES) & set(seen["direct"]))
    assert imported_by_us == [], f"app.py or a pricing module imports {imported_by_us}"
    loaded = {name: seen["third_party"].get(name, {}).get("first_importer", "?") for name in seen["loaded"]}
    unexpected = {name: importer for name, importer in loaded.items() if name in TRAINING_ONLY_MODULES}
    assert unexpected == {}, f"training packages loaded by serving (module: who imported it): {unexpected}"
