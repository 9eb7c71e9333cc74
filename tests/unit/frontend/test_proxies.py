"""The frontend behind a proxy: its client address (frontend/proxies.py) is the peer's unless the peer is a
trusted proxy; with `realtime_proxy_url`, tokens grant the proxy's SockJS URL.

Seen through what keys on it: the login throttle (per address). One gunicorn worker here, so the limit is
exact: the third failed login from one address within the minute is refused.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask

from tests.unit.frontend.conftest import AuthActions, csrf_token


def failed_logins(app: Flask, peer: str, forwarded: list[str | None]) -> list[int]:
    statuses = []
    for i, claim in enumerate(forwarded):
        client = app.test_client()
        environ = {"REMOTE_ADDR": peer}
        token = csrf_token(client, "/login")
        headers = {"X-Forwarded-For": claim} if claim else {}
        statuses.append(client.post("/login", data={"username": f"nobody{i}", "password": "wrong password",
                                                    "csrf_token": token},
                                    headers=headers, environ_base=environ).status_code)
    return statuses


def test_made_up_addresses_from_an_untrusted_peer_share_its_count(make_app: Callable[..., Flask]) -> None:
    app = make_app(trusted_proxies=["127.0.0.1"], login_address_limit="2 per minute")
    statuses = failed_logins(app, "198.51.100.9", ["203.0.113.1", "203.0.113.2", "203.0.113.3"])
    assert statuses == [400, 400, 429]


def test_a_trusted_proxy_names_each_client(make_app: Callable[..., Flask]) -> None:
    app = make_app(trusted_proxies=["127.0.0.1"], login_address_limit="2 per minute")
    assert failed_logins(app, "127.0.0.1", ["203.0.113.1", "203.0.113.2", "203.0.113.3"]) == [400, 400, 400]
    # and each of them is counted: the same client through it a third time is refused
    assert failed_logins(app, "127.0.0.1", ["203.0.113.1", "203.0.113.1"]) == [400, 429]


def test_without_trusted_proxies_nobody_is_believed(make_app: Callable[..., Flask]) -> None:
    app = make_app(login_address_limit="2 per minute")
    assert failed_logins(app, "127.0.0.1", ["203.0.113.1", "203.0.113.2", None]) == [400, 400, 429]


def test_behind_a_proxy_tokens_grant_its_url_and_the_csp_allows_it(make_app: Callable[..., Flask]) -> None:
    app = make_app(realtime_proxy_url="https://felt.example.com/sockjs",
                   realtime_urls=["http://rt-a/sockjs", "http://rt-b/sockjs"])
    client = app.test_client()
    AuthActions(client).register("alice")
    body = client.get("/api/token").get_json()
    assert body["url"] == "https://felt.example.com/sockjs" and body["urls"] == [body["url"]]
    policy = client.get("/login").headers["Content-Security-Policy"]
    assert "https://felt.example.com wss://felt.example.com" in policy
