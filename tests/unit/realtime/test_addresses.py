"""realtime/addresses.py: every request's `remote_ip` is its client's, on a real Tornado server.

The peer's address unless the peer is a trusted proxy; a client's own X-Forwarded-For is ignored. Requests
come from chosen loopback addresses (127.0.0.0/8), as different machines would."""

from __future__ import annotations

import asyncio

import tornado.web
from tornado.httpclient import AsyncHTTPClient, HTTPRequest
from tornado.httpserver import HTTPServer
from tornado.netutil import bind_sockets

from common.proxies import TrustedProxies
from realtime.addresses import Application


class Echo(tornado.web.RequestHandler):
    def get(self) -> None:
        self.write(self.request.remote_ip or "")


async def seen(requests: list[tuple[str, dict[str, str]]]) -> list[str]:
    """What the server took for the client's address of each (source address, headers) request."""
    app = Application([(r"/ip", Echo)], trusted_proxies=TrustedProxies.of(["127.0.0.1"]))
    sockets = bind_sockets(0, "127.0.0.1")
    server = HTTPServer(app)
    server.add_sockets(sockets)
    port = sockets[0].getsockname()[1]
    client = AsyncHTTPClient(force_instance=True)
    try:
        out = []
        for source, headers in requests:
            response = await client.fetch(HTTPRequest(f"http://127.0.0.1:{port}/ip", headers=headers,
                                                      network_interface=source))
            out.append(response.body.decode())
        return out
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()


def test_remote_ip_is_the_client_address() -> None:
    forged = {"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77"}
    assert asyncio.run(seen([
        ("127.0.0.5", forged),  # not a trusted proxy: its claim is ignored
        ("127.0.0.1", forged),  # the trusted proxy names the client
        ("127.0.0.1", {"X-Forwarded-For": "6.6.6.6, 198.51.100.4"}),  # what the proxy appended counts
        ("127.0.0.1", {}),  # and without a header, the proxy itself (on a kept-alive connection too)
    ])) == ["127.0.0.5", "203.0.113.77", "198.51.100.4", "127.0.0.1"]
