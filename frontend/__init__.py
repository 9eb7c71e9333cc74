"""The web tier: accounts, password login, realtime tokens, and the pages of the browser client.

`create_app(settings)` builds a Flask app; nothing happens at import. The app keeps its `Settings` in
`app.config["FELT_SETTINGS"]` and the token keys (key id -> secret, issuing key first) in
`app.config["FELT_TOKEN_KEYS"]`. Blueprints: `auth` (register/login/logout), `api` (token, me, healthz),
`client` (pages), `history` (finished games, replays, exports, leaderboards, profiles), `admin` (the
console, for admin accounts only). It never keeps a standing connection and knows nothing about cards.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, Response, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from common.config import Settings, load, secret_of, token_keys
from common.proxies import TrustedProxies


def create_app(settings: Settings | None = None) -> Flask:
    """A configured frontend app; `settings` defaults to `common.config.load()` (file + environment)."""
    from frontend import admin, api, auth, client, db, hands, history, metrics, proxies, throttle

    settings = settings if settings is not None else load()
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY=secret_of(settings),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.tls,
        FELT_SETTINGS=settings,
        FELT_TOKEN_KEYS=token_keys(settings),
    )
    # the client's address, not a proxy's (or one a client made up): what throttles and logs key on
    app.wsgi_app = proxies.TrustedProxyFix(  # type: ignore[method-assign]
        app.wsgi_app, TrustedProxies.of(settings.trusted_proxies))
    csrf = CSRFProtect(app)
    csrf.exempt(admin.bp)  # it checks CSRF itself, after refusing non-admins (frontend/admin.py)
    database = db.init_app(app)
    metrics.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(client.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(hands.bp)
    app.register_blueprint(admin.bp)
    throttle.init_app(app, settings, database.engine)

    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> tuple[str, int]:
        return render_template("error.html", title="Form expired",
                               text="This form was missing its security token or it had expired. "
                                    "Go back, reload the page, and try again."), 400

    @app.errorhandler(404)
    def not_found(error: Exception) -> tuple[str, int]:
        return render_template("error.html", title="Page not found", suit="♣",
                               text="There is no page at this address. The table may have closed, or the "
                                    "link was mistyped."), 404

    policy = content_security_policy(settings)

    @app.after_request
    def safety_headers(response: Response) -> Response:
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("Content-Security-Policy", policy)
        if settings.tls:
            response.headers.setdefault("Strict-Transport-Security",
                                        f"max-age={settings.hsts_max_age}; includeSubDomains")
        return response

    return app


def content_security_policy(settings: Settings) -> str:
    """The pages' CSP: scripts and styles from this origin only (no inline script, no eval), SockJS to the
    realtime servers (and their iframe transports), and no framing by anyone."""
    realtime: list[str] = []
    for url in [*settings.realtime_urls, *filter(None, [settings.realtime_proxy_url])]:
        parts = urlsplit(url)
        ws = "wss" if parts.scheme == "https" else "ws"
        realtime += [f"{parts.scheme}://{parts.netloc}", f"{ws}://{parts.netloc}"]
    servers = " ".join(dict.fromkeys(realtime))
    return ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            f"connect-src 'self' {servers}; frame-src 'self' {servers}; object-src 'none'; "
            "base-uri 'self'; form-action 'self'; frame-ancestors 'none'").replace("  ", " ")
