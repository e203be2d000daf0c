"""A loopback implementation of the Lambda Runtime API, for `python -m awslambdaric app.handler` as the container's
ENTRYPOINT and CMD run it: `pricing bench` times the init phase against it and the tests drive whole Lambda boots
through it (tests/integration/test_lambda_runtime.py)."""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

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


def start_runtime(api: RuntimeApi, store_root, log_path: Path, cwd: Path, **env) -> subprocess.Popen:
    """`python -m awslambdaric app.handler` in `cwd` (the folder with app.py), as Lambda starts the container, with
    the bundle store `store_root` and `env` over a Lambda-like environment; its output goes to `log_path`."""
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
            [sys.executable, "-m", "awslambdaric", "app.handler"], cwd=cwd, env=environ, stdout=log, stderr=log
        )
