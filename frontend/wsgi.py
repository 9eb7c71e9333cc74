"""The WSGI entry point for a real server: `gunicorn frontend.wsgi:app`.

Builds the app from `common.config.load()` (felt.toml / FELT_CONFIG, then FELT_* variables) when
imported; that is its whole job. Everything else imports `frontend.create_app` instead. A database whose
schema this code does not know stops the worker with one clear line (and gunicorn with it: a worker that
cannot boot halts the server) instead of a traceback.
"""

from __future__ import annotations

import sys

from common.config import load
from common.schema import SchemaMismatch
from frontend import create_app

try:
    app = create_app(load())
except SchemaMismatch as exc:
    print(f"felt: frontend: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(3) from None
