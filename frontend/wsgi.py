"""The WSGI entry point for a real server: `gunicorn frontend.wsgi:app`.

Builds the app from `common.config.load()` (felt.toml / FELT_CONFIG, then FELT_* variables) when
imported; that is its whole job. Everything else imports `frontend.create_app` instead.
"""

from __future__ import annotations

from common.config import load
from frontend import create_app

app = create_app(load())
