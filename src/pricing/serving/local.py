"""A local server: the Flask app under waitress (`python app.py`, `pricing serve`, `make run`)."""

from __future__ import annotations

from flask import Flask

from pricing.serving.state import service_of


def serve_app(app: Flask, host: str, port: int, threads: int = 8) -> int:
    """Serve until interrupted; returns the process's exit status."""
    from waitress import serve

    predictor = service_of(app).predictor
    print(f"serving on http://{host}:{port} with bundle {predictor.version if predictor else '(none: 503)'}")
    serve(app, host=host, port=port, threads=threads, ident="pricing-service")
    return 0
