"""The client's address for every frontend request: `client_address(environ, trusted)`.

gunicorn puts the TCP peer in `REMOTE_ADDR`. `TrustedProxyFix` (the WSGI middleware `create_app` wraps the
app in) replaces it with `client_address(...)`: the peer, or the client a trusted proxy names in
`X-Forwarded-For`/`X-Real-IP` (common/proxies.py), keeping the peer in `environ["felt.peer"]`. So
`request.remote_addr`, Flask-Limiter's login and registration throttles (keyed on it) and the logs see the
client, and a client that sends the headers itself without coming through a trusted proxy is known by the
address it connects from. (Like werkzeug's ProxyFix, but it trusts a peer by address, not by hop count.)
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from common.proxies import TrustedProxies

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PEER = "felt.peer"


def client_address(environ: WSGIEnvironment, trusted: TrustedProxies) -> str:
    """The address of the client behind this request: its TCP peer unless that is a trusted proxy."""
    peer = str(environ.get(PEER) or environ.get("REMOTE_ADDR") or "")
    return trusted.client_address(peer, environ.get("HTTP_X_FORWARDED_FOR"), environ.get("HTTP_X_REAL_IP"))


class TrustedProxyFix:
    """WSGI middleware: `REMOTE_ADDR` becomes the client's address (`client_address`)."""

    def __init__(self, app: WSGIApplication, trusted: TrustedProxies) -> None:
        self.app = app
        self.trusted = trusted

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        if PEER not in environ:
            environ[PEER] = environ.get("REMOTE_ADDR")
            environ["REMOTE_ADDR"] = client_address(environ, self.trusted)
        return self.app(environ, start_response)

