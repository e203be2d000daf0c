"""app.py as Lambda and a server process see it: built once at import, training packages never loaded."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]


def run_in_app_process(store, code: str, prelude: str = "") -> dict:
    """Import app.py in a fresh interpreter (as Lambda's init does) and run `code` there; it prints JSON."""
    env = {**os.environ, "ARTIFACT_STORE": str(store.root), "ENV": "test", "LOG_LEVEL": "WARNING"}
    env.pop("REDIS_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", prelude + "import app\n" + code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


TRAINING_ONLY = ("optuna", "skopt", "matplotlib", "tqdm")


def test_the_server_runs_without_the_training_packages(store):
    """Blocked as if absent (the serving image does not install them): the app still loads and prices.

    (torch imports tqdm when it is installed, so blocking is the honest check, not sys.modules.)"""
    code = (
        "import json\n"
        "client = app.app.test_client()\n"
        "stockcode = app.app.extensions['pricing'].predictor.products.index[0]\n"
        "status = client.get('/v1/predict-price/' + stockcode).status_code\n"
        "ours = sorted(m for m in sys.modules if m.startswith('pricing.') and m.split('.')[-1] in\n"
        "              ('tuning', 'train', 'evaluate', 'bench', 'cli'))\n"
        "print(json.dumps({'status': status, 'training_modules': ours}))"
    )
    block = "import sys\n" + "".join(f"sys.modules[{name!r}] = None\n" for name in TRAINING_ONLY)
    assert run_in_app_process(store, code, prelude=block) == {"status": 200, "training_modules": []}


def test_an_api_gateway_rest_event_goes_through_the_handler(store):
    event = {
        "resource": "/v1/predict-price/{stockcode}",
        "httpMethod": "GET",
        "path": "/v1/predict-price/{code}",
        "headers": {"Host": "abc.execute-api.eu-west-1.amazonaws.com", "Accept": "application/json"},
        "multiValueHeaders": {},
        "queryStringParameters": {"num_price_bins": "7"},
        "multiValueQueryStringParameters": {"num_price_bins": ["7"]},
        "pathParameters": {"stockcode": "{code}"},
        "stageVariables": None,
        "body": None,
        "isBase64Encoded": False,
        "requestContext": {
            "resourcePath": "/v1/predict-price/{stockcode}",
            "httpMethod": "GET",
            "stage": "prod",
            "requestId": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            "identity": {"sourceIp": "127.0.0.1"},
        },
    }
    result = run_in_app_process(
        store,
        (
            "import json\n"
            f"event = json.loads({json.dumps(json.dumps(event))})\n"
            "code = app.app.extensions['pricing'].predictor.products.index[0]\n"
            "event['path'] = event['path'].replace('{code}', code)\n"
            "event['pathParameters']['stockcode'] = code\n"
            "response = app.handler(event, None)\n"
            "print(json.dumps({'status': response['statusCode'], 'bins': len(json.loads(response['body'])),\n"
            "                  'model': response['headers'].get('X-Model')}))"
        ),
    )
    assert result == {"status": 200, "bins": 7, "model": "network"}
