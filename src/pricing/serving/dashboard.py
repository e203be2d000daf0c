"""The built dashboard (`dashboard/dist`, made by `make dashboard`) served at `/`, beside the API.

The build is looked for on every request rather than once at start-up, so a server started before the
dashboard was built serves it as soon as it is, and a missing build is a readable page, not an error.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

NOT_BUILT = """The dashboard is not built yet, so there is nothing to show here.

Build it from the repository root with:

    make dashboard

(which runs `npm ci` and `npm run build` in dashboard/; Node.js 20.19 or newer), then reload this page.
The API itself is up: /v1/products, /v1/predict-price/<stockcode>, /health, /openapi.json.
"""
# The page talks only to its own origin; recharts sets inline style attributes, hence 'unsafe-inline' for
# styles and for nothing else.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
ASSET_MAX_AGE = 365 * 24 * 3600  # Vite names every asset by its content hash


def default_dist() -> Path:
    """The first build found: the repository's (src/ layout), one beside the package (the container image
    copies pricing/ and dashboard/dist/ into one folder), or one under the working directory."""
    package = Path(__file__).resolve().parents[1]  # the pricing package
    candidates = [root / "dashboard" / "dist" for root in (package.parents[1], package.parent, Path.cwd())]
    return next((path for path in candidates if (path / "index.html").is_file()), candidates[0])


def register_dashboard(app: Flask, dist: Path | None = None) -> None:
    app.register_blueprint(_blueprint(dist))


def _blueprint(dist: Path | None) -> Blueprint:
    dashboard = Blueprint("dashboard", __name__)

    def build_dir() -> Path:
        return dist if dist is not None else default_dist()

    @dashboard.get("/")
    def index() -> Response:
        root = build_dir()
        if not (root / "index.html").is_file():
            return Response(NOT_BUILT, status=503, mimetype="text/plain")
        response = send_from_directory(root, "index.html", max_age=0)
        # revalidate every time: a rebuild must show at once, its assets have new names anyway
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
        return response

    @dashboard.get("/assets/<path:name>")
    def asset(name: str) -> Response:
        # send_from_directory refuses paths that leave the folder (404)
        response = send_from_directory(build_dir() / "assets", name, max_age=ASSET_MAX_AGE)
        response.headers["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}, immutable"
        return response

    return dashboard
