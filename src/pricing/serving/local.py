"""A local server: the Flask app under waitress (`python app.py`, `pricing serve`, `make run`).

"serving on ..." is printed only once waitress holds the port, and a port that cannot be had is one line naming
it (PortUnavailable), never a traceback after a line that said the server was up."""

from __future__ import annotations

import errno
import socket

from flask import Flask

from pricing.serving.state import service_of


class PortUnavailable(OSError):
    """The server cannot listen on the host and port asked for (in use, not allowed, no such address); one line."""


def check_port(host: str, port: int) -> None:
    """Bind (and release) `host`:`port` the way waitress will, so that a port in use is refused before a bundle
    is loaded or a cache cleared. Raises PortUnavailable naming the port. The server's own bind (serve_app) is
    still checked: another process may take the port in between."""
    try:
        addresses = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except OSError as exc:
        raise _unavailable(host, port, exc) from None
    for family, kind, protocol, _, address in addresses:
        with socket.socket(family, kind, protocol) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as waitress does: TIME_WAIT is no obstacle
            try:
                sock.bind(address)
            except OSError as exc:
                raise _unavailable(host, port, exc) from None


def serve_app(app: Flask, host: str, port: int, threads: int = 8) -> int:
    """Serve until interrupted; returns the process's exit status. Raises PortUnavailable (one line, naming the
    port) when waitress cannot bind it; says "serving on ..." only once it has."""
    from waitress import create_server

    predictor = service_of(app).predictor
    try:
        server = create_server(app, host=host, port=port, threads=threads, ident="pricing-service")
    except OSError as exc:
        raise _unavailable(host, port, exc) from None
    print(
        f"serving on http://{host}:{port} with bundle {predictor.version if predictor else '(none: 503)'}", flush=True
    )
    server.run()
    return 0


def _unavailable(host: str, port: int, exc: OSError) -> PortUnavailable:
    if exc.errno == errno.EADDRINUSE:
        return PortUnavailable(f"cannot serve on {host}:{port}: port {port} is already in use (--port picks another)")
    reason = exc.strerror or str(exc) or type(exc).__name__
    return PortUnavailable(f"cannot serve on {host}:{port}: {reason}")
