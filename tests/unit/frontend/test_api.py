"""frontend.api: /api/token, /api/me, /healthz; and the pages that use them."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from common.config import Settings, token_keys
from common.protocol import E_TOKEN_INVALID
from common.tokens import TokenError, verify

AuthActions = Any  # the `auth` fixture (conftest.AuthActions)


@pytest.mark.parametrize("path", ["/api/token", "/api/me"])
def test_logged_out_gets_401_json(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "login_required" and error["text"]
    assert response.headers["Cache-Control"] == "no-store"


def test_token(auth: AuthActions, client: FlaskClient, settings: Settings) -> None:
    auth.register("alice")
    before = time.time()
    response = client.get("/api/token")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    body = response.get_json()
    assert set(body) == {"token", "expires", "url", "urls", "user"}
    assert body["urls"][0] == body["url"] and sorted(body["urls"]) == sorted(settings.realtime_urls)
    assert body["user"] == {"id": 1, "name": "alice", "chips": settings.starting_chips}
    assert body["url"] in settings.realtime_urls
    assert body["url"] == settings.realtime_urls[1 % len(settings.realtime_urls)]
    assert before + settings.token_ttl <= body["expires"] <= time.time() + settings.token_ttl

    claims = verify(body["token"], token_keys(settings), now=time.time())
    assert (claims.user_id, claims.name) == (1, "alice")
    assert claims.expires == pytest.approx(body["expires"])
    assert claims.key_id == "k1"


def test_each_token_is_fresh(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    first, second = (client.get("/api/token").get_json()["token"] for _ in range(2))
    assert first != second


def test_token_expires_after_ttl(auth: AuthActions, make_app: Callable[..., Flask],
                                 settings: Settings) -> None:
    client = make_app(token_ttl=30.0).test_client()
    type(auth)(client).register("alice")
    body = client.get("/api/token").get_json()
    with pytest.raises(TokenError) as info:
        verify(body["token"], token_keys(settings), now=time.time() + 31)
    assert info.value.code == "token_expired"


def test_token_uses_configured_keys(auth: AuthActions, make_app: Callable[..., Flask]) -> None:
    keys = {"k7": "current secret", "k6": "previous secret"}
    client = make_app(token_keys=keys).test_client()
    type(auth)(client).register("alice")
    token = client.get("/api/token").get_json()["token"]
    assert verify(token, keys, now=time.time()).key_id == "k7"
    with pytest.raises(TokenError) as info:
        verify(token, {"k1": "test"}, now=time.time())
    assert info.value.code == E_TOKEN_INVALID


def test_url_is_spread_by_user_id(auth: AuthActions, make_app: Callable[..., Flask]) -> None:
    urls = ["http://rt-a/sockjs", "http://rt-b/sockjs", "http://rt-c/sockjs"]
    app = make_app(realtime_urls=urls)
    seen = []
    for n in range(4):
        client = app.test_client()
        type(auth)(client).register(f"user{n}")
        body = client.get("/api/token").get_json()
        assert body["url"] == urls[body["user"]["id"] % 3]
        seen.append(body["url"])
    assert set(seen) == set(urls)


def test_no_realtime_servers(auth: AuthActions, make_app: Callable[..., Flask]) -> None:
    client = make_app(realtime_urls=[]).test_client()
    type(auth)(client).register("alice")
    response = client.get("/api/token")
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "unavailable"


def test_me(auth: AuthActions, client: FlaskClient, settings: Settings) -> None:
    auth.register("alice")
    response = client.get("/api/me")
    assert response.status_code == 200
    assert response.get_json() == {"user": {"id": 1, "name": "alice", "chips": settings.starting_chips}}


def test_token_after_logout(auth: AuthActions, client: FlaskClient) -> None:
    auth.register("alice")
    auth.logout()
    assert client.get("/api/token").status_code == 401


def test_healthz(client: FlaskClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_data(as_text=True) == "ok"


def test_index_logged_out_links_to_auth(client: FlaskClient) -> None:
    page = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in page and 'href="/register"' in page
    assert "lobby.js" not in page


def test_lobby_page(auth: AuthActions, client: FlaskClient, app: Flask,
                    monkeypatch: pytest.MonkeyPatch) -> None:
    from frontend import client as pages

    auth.register("alice")
    monkeypatch.setattr(pages, "sockjs_installed", lambda: False)
    page = client.get("/").get_data(as_text=True)
    assert 'type="module" src="/static/js/lobby.js"' in page
    assert "SockJS client library is not installed" in page
    assert "sockjs.min.js\"></script>" not in page

    monkeypatch.setattr(pages, "sockjs_installed", lambda: True)
    page = client.get("/").get_data(as_text=True)
    assert '<script src="/static/vendor/sockjs.min.js"></script>' in page
    assert "not installed" not in page


def test_static_assets_exist(client: FlaskClient) -> None:
    for path in ("/static/js/lobby.js", "/static/css/felt.css"):
        response = client.get(path)
        assert response.status_code == 200
        response.close()
    response = client.get("/static/js/lobby.js")
    script = response.get_data(as_text=True)
    response.close()
    assert "innerHTML" not in script and "insertAdjacentHTML" not in script


def test_pages_send_a_csp_without_inline_scripts_and_no_framing(make_app) -> None:
    response = make_app().test_client().get("/login")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "frame-ancestors 'none'" in csp and "ws://127.0.0.1:8101" in csp
    assert "Strict-Transport-Security" not in response.headers
    assert "<script>" not in response.get_data(as_text=True)  # no inline script to need an exception


def test_tls_adds_hsts_and_secure_cookies(make_app) -> None:
    client = make_app(tls=True).test_client()
    response = client.get("/login")  # its form's CSRF token starts the session
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    cookies = [h for h in response.headers.getlist("Set-Cookie") if "session=" in h]
    assert all("Secure" in c for c in cookies) and cookies
