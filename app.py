"""The serving process: Lambda's `handler`, and under `python app.py` a local waitress server on port 5002.

The app is built once per process, at import: in Lambda that is the init phase, so the bundle loads
before the first request rather than inside it. `handler` dispatches on the event's shape (pricing.serving.events):
API Gateway REST and HTTP API / Function URL requests, S3 batch files, the scheduled cache warm-up."""

import logging
import sys

from pricing.config import Settings
from pricing.serving import events
from pricing.serving.app import create_app

# Text logs for the libraries (waitress, botocore) when run locally; in Lambda the runtime has already set up
# the root logger, so this does nothing there. Before the JSON logger, which mutes `pricing.*` at the root.
settings = Settings.from_env()
logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s %(message)s")
logger = events.json_logger(settings.log_level)  # before the app, so the init's own lines are JSON too
metrics = events.emf_metrics()
app = create_app(settings)
handler = events.lambda_handler(app, logger, metrics)


if __name__ == "__main__":
    from pricing.serving.local import PortUnavailable, serve_app

    try:
        sys.exit(serve_app(app, host=settings.host, port=settings.port))
    except PortUnavailable as exc:  # a port in use is one line, not a traceback
        sys.exit(f"app.py: {exc}")
