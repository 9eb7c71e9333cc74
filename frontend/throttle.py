"""Throttling of the account forms with Flask-Limiter: login per address and per account, registration per
address.

Login: every POST counts against the sender's address (`login_address_limit`); a failed one also counts
against the account name it tried (`login_account_limit`), whether or not that account exists, so neither
the answer nor its timing tells which names are taken. Stacked windows ("5 per minute; 20 per hour") make
the wait grow as failures go on. Someone who has logged in to the account from this browser before (a
signed "known device" cookie) is not held back by the account's limit, so a stranger failing on purpose can
slow down only themselves and other strangers, never lock the owner out. Registration counts per address
(`register_address_limit`). A refusal is a 429 page with `Retry-After`, counted in `counters`.

The counts are kept in Felt's database (`frontend.rate_store`), so every gunicorn worker and every
frontend host behind haproxy counts the same tries together.
"""

from __future__ import annotations

import collections
from typing import Any

from flask import Flask, Response, current_app, render_template, request
from flask_limiter import Limiter, RequestLimit
from flask_limiter.util import get_remote_address
from itsdangerous import BadSignature, URLSafeSerializer
from limits import parse_many
from sqlalchemy.engine import Engine
from werkzeug.wrappers import Response as BaseResponse

from common.config import Settings
from frontend import rate_store  # noqa: F401  (registers the felt-db:// storage with limits)

KNOWN_COOKIE = "felt_known"
MAX_KNOWN = 5  # account names one browser remembers


def account_key() -> str:
    """The account a login attempt names, as the limit's key (normalized like usernames are)."""
    return "account:" + (request.form.get("username") or "").strip().lower()[:40]


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="felt-known-device")


def known_names() -> list[str]:
    """The account names this browser has logged in as (from its signed cookie)."""
    raw = request.cookies.get(KNOWN_COOKIE)
    if not raw:
        return []
    try:
        names = _serializer().loads(raw)
    except BadSignature:
        return []
    return [n for n in names if isinstance(n, str)] if isinstance(names, list) else []


def remember(response: BaseResponse, username: str) -> None:
    """After a successful login: this browser is a known device for `username` (a year)."""
    name = username.strip().lower()
    names = [name, *[n for n in known_names() if n != name]][:MAX_KNOWN]
    response.set_cookie(KNOWN_COOKIE, _serializer().dumps(names), max_age=365 * 86400, httponly=True,
                        samesite="Lax", secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")))


def init_app(app: Flask, settings: Settings, engine: Engine) -> Limiter:
    """Wrap the login and register views with their limits; the counters go to `app.extensions`."""
    for name in ("login_address_limit", "login_account_limit", "register_address_limit"):
        try:
            parse_many(getattr(settings, name))
        except ValueError as exc:
            raise ValueError(f"{name}: not a rate limit such as '5 per minute; 20 per hour' ({exc})") \
                from None
    counters: collections.Counter[str] = collections.Counter()
    app.extensions["felt_counters"] = counters

    def breached(limit: RequestLimit) -> None:
        kind = "login" if request.endpoint == "auth.login" else "register"
        counters[f"{kind}_throttled"] += 1
        app.logger.warning("throttled %s from %s (%s)", kind, get_remote_address(), limit.limit)

    shared: dict[str, Any] = {"engine": engine}  # (typed as str | int: the storage takes an engine too)
    limiter = Limiter(get_remote_address, app=app, storage_uri="felt-db://", storage_options=shared,
                      headers_enabled=True, on_breach=breached)

    def failed(response: Response) -> bool:
        return response.status_code == 400  # the form was refused (wrong password, unknown name)

    def owner_here() -> bool:
        return account_key().removeprefix("account:") in known_names()

    login: Any = app.view_functions["auth.login"]
    login = limiter.limit(settings.login_account_limit, key_func=account_key, methods=["POST"],
                          deduct_when=failed, exempt_when=owner_here)(login)
    login = limiter.limit(settings.login_address_limit, methods=["POST"])(login)
    app.view_functions["auth.login"] = login
    register: Any = app.view_functions["auth.register"]
    register = limiter.limit(settings.register_address_limit, methods=["POST"])(register)
    app.view_functions["auth.register"] = register

    @app.errorhandler(429)
    def too_many(error: Any) -> tuple[str, int]:
        what = "registrations" if request.endpoint == "auth.register" else "login attempts"
        return render_template("error.html", title="Too many attempts",
                               text=f"There were too many {what} from here or for this account. Wait a "
                                    "while (the longer the more attempts failed), then try again."), 429

    return limiter
