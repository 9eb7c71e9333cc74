"""JSON endpoints for the browser client, and the readiness check.

Owns `GET /api/token` (a fresh realtime token plus the realtime server to use), `GET /api/me`, and
`GET /healthz`. API answers are JSON and never cached; errors are `{"error": {"code", "text"}}` like
the realtime protocol's. Logged-out callers get 401, not a redirect.
"""

from __future__ import annotations

import time
from typing import Any

from flask import Blueprint, Response, current_app
from sqlalchemy import text

from common import tokens
from common.config import Settings
from common.models import User
from common.protocol import E_UNAVAILABLE
from common.registry import Registry
from frontend import db, metrics
from frontend.auth import current_user
from frontend.responses import json_response as _json

E_LOGIN_REQUIRED = "login_required"

bp = Blueprint("api", __name__)


def _error(code: str, text: str, status: int) -> Response:
    return _json({"error": {"code": code, "text": text}}, status)


def _login_required() -> Response:
    return _error(E_LOGIN_REQUIRED, "Log in first: this needs a logged-in user.", 401)


def user_json(user: User) -> dict[str, Any]:
    return {"id": user.id, "name": user.display_name, "chips": user.chips}


def realtime_urls(settings: Settings, user_id: int) -> list[str]:
    """The realtime servers to connect to, in order: behind a proxy, its one URL (`realtime_proxy_url`:
    the proxy picks the process); with the registry, its live, non-draining realtime servers, least loaded
    first (equal loads spread by user id); without (or before any registered), the static `realtime_urls`,
    this user's first. The rest are fallbacks for when the first does not answer."""
    if settings.realtime_proxy_url:
        return [settings.realtime_proxy_url]
    if settings.registry:
        serving = Registry(db.database().engine, lease=settings.lease_seconds).serving("realtime")
        if serving:
            # loads are a second old: spread a burst of grants over the servers near the least loaded
            least = serving[0].load
            ties = [s.endpoint for s in serving if s.load <= least + max(5, least // 10)]
            first = ties[user_id % len(ties)]
            return [first, *[s.endpoint for s in serving if s.endpoint != first]]
    urls = settings.realtime_urls
    if not urls:
        return []
    first_index = user_id % len(urls)
    return urls[first_index:] + urls[:first_index]


@bp.get("/api/token")
def token() -> Response:
    user = current_user()
    if user is None:
        return _login_required()
    settings: Settings = current_app.config["FELT_SETTINGS"]
    urls = realtime_urls(settings, user.id)
    if not urls:
        return _error(E_UNAVAILABLE, "No realtime server is available; try again later.", 503)
    now = time.time()
    sealed = tokens.issue({"uid": user.id, "name": user.display_name},
                          current_app.config["FELT_TOKEN_KEYS"], now=now, ttl=settings.token_ttl)
    metrics.of_app().tokens.inc()
    return _json({"token": sealed, "expires": now + settings.token_ttl, "url": urls[0], "urls": urls,
                  "user": user_json(user)})


@bp.get("/api/me")
def me() -> Response:
    user = current_user()
    if user is None:
        return _login_required()
    return _json({"user": user_json(user)})


@bp.get("/healthz")
def healthz() -> tuple[str, int, dict[str, str]]:
    """Readiness: "ok" once the app is up and its database answers."""
    try:
        db.session().execute(text("SELECT 1"))
    except Exception as exc:  # any driver error means not ready
        current_app.logger.warning("healthz: database not ready: %s", exc)
        return "database unavailable\n", 503, {"Content-Type": "text/plain", "Cache-Control": "no-store"}
    return "ok", 200, {"Content-Type": "text/plain", "Cache-Control": "no-store"}
