"""The whole Lambda boot: `python -m awslambdaric app.handler` in a subprocess, as the container's ENTRYPOINT and
CMD run it, against a loopback implementation of the Lambda Runtime API that hands it events and records
what it posts back."""

import json
import os
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from pricing.artifacts.bundle import open_bundle
from pricing.tools.reliability.processes import stop_process
from tests.integration.test_events_http import function_url_event, rest_v1_event

ROOT = Path(__file__).parents[2]
API = "/2018-06-01/runtime"
FUNCTION_ARN = "arn:aws:lambda:us-east-2:123456789012:function:pricing-api"
TRACE_ID = "Root=1-5bef4de7-ad49b0e87f6ef6c87fc2e700;Parent=9a9197af755a6419;Sampled=1"


class QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address) -> None:
        pass  # the runtime is stopped mid-connection at the end of each test; that is no error of the API's


class RuntimeApi:
    """The Lambda Runtime API on loopback: `next` hands out queued events (blocking, as Lambda's does) and every
    response, invocation error and init error the runtime posts is recorded."""

    def __init__(self) -> None:
        self.pending: queue.Queue = queue.Queue()
        self.posted: queue.Queue = queue.Queue()
        self.first_next_at: float | None = None
        self.closing = threading.Event()
        self.server = QuietServer(("127.0.0.1", 0), self._handler_class())
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"

    def invoke(self, request_id: str, event: dict) -> None:
        self.pending.put((request_id, event))

    def wait_posted(self, count: int, timeout: float = 120) -> list[dict]:
        deadline, posted = time.monotonic() + timeout, []
        while len(posted) < count:
            posted.append(self.posted.get(timeout=max(0.1, deadline - time.monotonic())))
        return posted

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()

    def _handler_class(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args) -> None:  # quiet: the test reads what was posted instead
                pass

            def _reply(self, status: int, body: bytes = b"", headers: dict | None = None) -> None:
                self.send_response(status)
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                if self.path != f"{API}/invocation/next":
                    return self._reply(404)
                if api.first_next_at is None:
                    api.first_next_at = time.monotonic()
                while not api.closing.is_set():
                    try:
                        request_id, event = api.pending.get(timeout=0.2)
                    except queue.Empty:
                        continue
                    return self._reply(
                        200,
                        json.dumps(event).encode(),
                        {
                            "Content-Type": "application/json",
                            "Lambda-Runtime-Aws-Request-Id": request_id,
                            "Lambda-Runtime-Deadline-Ms": str(int(time.time() * 1000) + 60_000),
                            "Lambda-Runtime-Invoked-Function-Arn": FUNCTION_ARN,
                            "Lambda-Runtime-Trace-Id": TRACE_ID,
                        },
                    )

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                parts = self.path.removeprefix(API + "/").split("/")
                if parts[:1] == ["invocation"] and len(parts) == 3 and parts[2] in ("response", "error"):
                    kind, request_id = parts[2], parts[1]
                elif parts == ["init", "error"]:
                    kind, request_id = "init-error", None
                else:
                    return self._reply(404)
                api.posted.put(
                    {
                        "kind": kind,
                        "request_id": request_id,
                        "body": json.loads(body) if body else None,
                        "error_type": self.headers.get("Lambda-Runtime-Function-Error-Type"),
                    }
                )
                self._reply(202, b'{"status":"OK"}', {"Content-Type": "application/json"})

        return Handler


@pytest.fixture
def runtime_api():
    api = RuntimeApi()
    yield api
    api.close()


def start_runtime(api: RuntimeApi, store_root, log_path: Path, **env) -> subprocess.Popen:
    environ = {
        **os.environ,
        "AWS_LAMBDA_RUNTIME_API": api.address,
        "AWS_LAMBDA_FUNCTION_NAME": "pricing-api",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "1769",
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "ARTIFACT_STORE": str(store_root),
        "ENV": "test",
        "LOG_LEVEL": "INFO",
        "TORCH_THREADS": "1",
        **env,
    }
    for name in ("REDIS_URL", "AWS_LAMBDA_LOG_FORMAT", "CORS_ORIGINS"):
        environ.pop(name, None)
    with log_path.open("wb") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "awslambdaric", "app.handler"], cwd=ROOT, env=environ, stdout=log, stderr=log
        )


def test_the_runtime_boots_the_app_and_answers_api_gateway_events(runtime_api, store, quick_bundle, tmp_path):
    products = open_bundle(quick_bundle).products().sort_values("lines", ascending=False)
    stockcode = products.index[0]
    runtime_api.invoke("req-rest", rest_v1_event(f"/v1/predict-price/{stockcode}", {"num_price_bins": ["9"]}))
    runtime_api.invoke("req-url", function_url_event(f"/v1/predict-price/{stockcode}", "num_price_bins=4"))
    runtime_api.invoke("req-odd", {"hello": "world"})
    runtime_api.invoke("req-health", rest_v1_event("/health"))
    log_path = tmp_path / "runtime.log"
    started = time.monotonic()
    process = start_runtime(runtime_api, store.root, log_path)
    try:
        posted = {p["request_id"]: p for p in runtime_api.wait_posted(4)}
        init_seconds = runtime_api.first_next_at - started
    finally:
        stop_process(process)

    rest = posted["req-rest"]
    assert rest["kind"] == "response" and rest["body"]["statusCode"] == 200
    rows = json.loads(rest["body"]["body"])
    assert len(rows) == 9 and rows[0]["stockcode"] == stockcode
    assert rest["body"]["headers"]["X-Model"] == "network"
    url = posted["req-url"]
    assert url["kind"] == "response" and url["body"]["statusCode"] == 200
    assert len(json.loads(url["body"]["body"])) == 4
    odd = posted["req-odd"]
    assert odd["kind"] == "error"
    assert odd["body"]["errorType"] == "UnsupportedEvent" and "hello" in odd["body"]["errorMessage"]
    # the same process went on to the next event after the failed one: no crash, no restart loop
    assert posted["req-health"]["kind"] == "response" and posted["req-health"]["body"]["statusCode"] == 200

    lines = [json.loads(line) for line in log_path.read_text().splitlines() if line.startswith("{")]
    loaded = [line for line in lines if "bundle" in line.get("message", "") and "loaded" in line["message"]]
    assert loaded and "function_request_id" not in loaded[0]  # logged during init, before any invocation
    access = {line["function_request_id"]: line for line in lines if line.get("route") and "_aws" not in line}
    assert access["req-rest"]["status"] == 200 and access["req-rest"]["function_name"] == "pricing-api"
    assert any(line.get("_aws") and line.get("route") == "GET /health" for line in lines)
    print(f"\n[measure] awslambdaric cold init (process start -> first /invocation/next): {init_seconds:.2f} s")


def test_a_failing_init_is_reported_to_the_init_error_endpoint(runtime_api, store, tmp_path):
    process = start_runtime(runtime_api, store.root, tmp_path / "runtime.log", ENV="staging")
    try:
        (posted,) = runtime_api.wait_posted(1)
        assert process.wait(timeout=30) != 0
    finally:
        if process.poll() is None:
            stop_process(process)
    assert posted["kind"] == "init-error" and posted["error_type"] == "SettingsError"
    assert "ENV must be one of" in posted["body"]["errorMessage"]
    assert runtime_api.first_next_at is None  # it never asked for an event
