"""The client's address for every request to a realtime process, set once: `resolve(request, trusted)`.

The HTTP server runs without Tornado's `xheaders` (which believes `X-Forwarded-For`/`X-Real-IP` from
anyone), so `request.remote_ip` starts as the TCP peer. `Application` sets it, before any handler runs, to
`resolve(...)`: the peer, or the client a trusted proxy names (common/proxies.py). Everything after reads
it, through `realtime.admission.client_address(request)` (the per-address limits, sockjs's session
binding) or as `request.remote_ip` (log lines), so one address is used throughout.
"""

from __future__ import annotations

from typing import Any

import tornado.web
from tornado.httputil import HTTPServerRequest

from common.proxies import TrustedProxies

#: Where `Application` keeps the TCP peer's address on each request (before `remote_ip` is replaced).
PEER = "felt_peer"


def resolve(request: HTTPServerRequest, trusted: TrustedProxies) -> str:
    """The address of the client behind `request`: its TCP peer unless that is a trusted proxy."""
    peer = getattr(request, PEER, None) or request.remote_ip or ""
    headers = request.headers
    return trusted.client_address(peer, headers.get("X-Forwarded-For"), headers.get("X-Real-IP"))


class Application(tornado.web.Application):
    """Tornado's application, with every request's `remote_ip` replaced by its client's address."""

    def __init__(self, *args: Any, trusted_proxies: TrustedProxies, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.trusted_proxies = trusted_proxies

    def find_handler(self, request: HTTPServerRequest, **kwargs: Any) -> Any:
        if not hasattr(request, PEER):
            setattr(request, PEER, request.remote_ip)
            request.remote_ip = resolve(request, self.trusted_proxies)
        return super().find_handler(request, **kwargs)
