"""The dashboard's build served at `/` by Flask: a fake build in a temporary folder, no Node needed."""

import pytest
from flask import Flask

from pricing.config import Settings
from pricing.serving import dashboard
from pricing.serving.app import create_app
from pricing.serving.dashboard import register_dashboard


@pytest.fixture
def dist(tmp_path):
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text('<!doctype html><script type="module" src="./assets/app-1a2b.js"></script>')
    (tmp_path / "assets" / "app-1a2b.js").write_text("console.log('dashboard')")
    (tmp_path.parent / "secret.txt").write_text("not for the web")
    return tmp_path


def client_for(dist):
    app = Flask(__name__)
    register_dashboard(app, dist)
    return app.test_client()


def test_the_built_page_is_served_at_the_root_and_always_revalidated(dist):
    response = client_for(dist).get("/")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert b"./assets/app-1a2b.js" in response.data
    assert response.headers["Cache-Control"] == "no-cache"
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_hashed_assets_are_cached_for_a_year(dist):
    response = client_for(dist).get("/assets/app-1a2b.js")
    assert response.status_code == 200 and response.mimetype.endswith("javascript")
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"


def test_paths_outside_the_build_are_refused(dist):
    client = client_for(dist)
    for path in ("/assets/../../secret.txt", "/assets/%2e%2e/%2e%2e/secret.txt", "/assets/missing.js"):
        response = client.get(path)
        assert response.status_code == 404 and b"not for the web" not in response.data


def test_a_missing_build_says_how_to_build_it(tmp_path):
    response = client_for(tmp_path / "no-build").get("/")
    assert response.status_code == 503 and response.mimetype == "text/plain"
    assert "make dashboard" in response.get_data(as_text=True)


def test_a_build_made_after_start_up_is_served_without_a_restart(tmp_path):
    client = client_for(tmp_path)
    assert client.get("/").status_code == 503
    (tmp_path / "index.html").write_text("<!doctype html><title>built</title>")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize("built", [True, False], ids=["built", "not-built"])
def test_the_api_app_serves_the_dashboard_beside_its_routes(dist, tmp_path, monkeypatch, built):
    """No bundle in the store: the API answers 503, and the page is still served (the build where there is one,
    else how to make it), never a 500. The build the app finds is set here, not whatever this checkout holds."""
    monkeypatch.setattr(dashboard, "default_dist", lambda: dist if built else tmp_path / "no-build")
    app = create_app(Settings(env="test", artifact_store=str(tmp_path / "empty-store")))
    client = app.test_client()
    page = client.get("/")
    if built:
        assert page.status_code == 200 and page.mimetype == "text/html"
        assert page.data == (dist / "index.html").read_bytes()
    else:
        assert page.status_code == 503 and page.mimetype == "text/plain"
        assert "make dashboard" in page.get_data(as_text=True)
    products = client.get("/v1/products")
    assert products.status_code == 503
    assert products.get_json() == {"error": "no bundle is loaded; the service cannot price yet"}
