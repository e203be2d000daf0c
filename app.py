"""The serving process: Lambda's `handler`, and under `python app.py` a local waitress server on port 5002.

The app is built once per process, at import: in Lambda that is the init phase, so the bundle loads
before the first request rather than inside it."""

import logging
import os
import sys

from pricing.api import create_app
from pricing.config import Settings

logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(name)s %(message)s")
settings = Settings.from_env()
app = create_app(settings)


def handler(event, context):
    """API Gateway REST (payload 1.0) events through aws-wsgi."""
    import awsgi

    response = awsgi.response(app, event, context)
    response["statusCode"] = int(response["statusCode"])  # aws-wsgi 0.2.7 gives a string
    return response


if __name__ == "__main__":
    from pricing.cli import serve_app

    sys.exit(serve_app(app, host=os.environ.get("HOST", "0.0.0.0"), port=int(os.environ.get("PORT", "5002"))))
