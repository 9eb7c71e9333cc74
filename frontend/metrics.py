"""The frontend's metrics: every request counted by endpoint and status, and timed; tokens issued.

`init_app(app)` installs the hooks and keeps the app's `FrontendMetrics` (common/metrics.py) in
`app.extensions["felt_metrics"]`. Under gunicorn the values go to files that the master serves on the
metrics port (frontend/gunicorn_conf.py); in a test they stay in the app's own registry.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request

from common.metrics import FrontendMetrics


def init_app(app: Flask) -> FrontendMetrics:
    metrics = FrontendMetrics()
    app.extensions["felt_metrics"] = metrics

    @app.before_request
    def started() -> None:
        g.felt_started = time.perf_counter()

    @app.after_request
    def counted(response: Response) -> Response:
        endpoint = request.endpoint or "unknown"  # a bounded set: the app's views, or unknown (404)
        metrics.requests.labels(endpoint, str(response.status_code)).inc()
        began = g.get("felt_started")
        if began is not None:
            metrics.request_latency.labels(endpoint).observe(time.perf_counter() - began)
        return response

    return metrics


def of_app() -> FrontendMetrics:
    metrics: FrontendMetrics = current_app.extensions["felt_metrics"]
    return metrics
