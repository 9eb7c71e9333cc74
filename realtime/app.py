"""Builds the realtime tier's Tornado application: the SockJS router, services, and a health check.

`make_app` must run inside the event loop (sockjs-tornado starts timers when its router is built).
`Services` is what every connection reaches through `self.services`: settings, the gateway, the token
verifier and this process's connection registry. Nothing here is module-level state.
"""

from __future__ import annotations

import collections
import itertools
import logging
from collections.abc import Callable
from typing import Any

import tornado.web
from tornado.ioloop import IOLoop

from common import protocol as p
from common.config import Settings
from common.db import make_engine
from common.metrics import RealtimeMetrics
from common.proxies import TrustedProxies
from common.registry import Registry
from common.tokens import Claims
from realtime.addresses import Application
from realtime.admission import Admission
from realtime.connection import PlayerConnection
from realtime.deadlines import Deadlines
from realtime.gateway import Gateway
from realtime.sockjs_adapter import Router, make_router, quote
from realtime.topology import Follower

log = logging.getLogger("felt.realtime")
access = logging.getLogger("tornado.access")


class Services:
    #: both set by `make_app`, which builds the services before the gateway and the router that use them
    gateway: Gateway
    router: Router
    follower: Follower | None = None  # this process in the registry (when it registers)

    def __init__(self, settings: Settings, identity: str, verify: Callable[[str], Claims],
                 metrics: RealtimeMetrics | None = None) -> None:
        self.settings = settings
        #: What this process counts (common/metrics.py); served by __main__, private to a test otherwise.
        self.metrics = metrics or RealtimeMetrics()
        self.identity = identity
        self.verify = verify
        self.conns: dict[str, PlayerConnection] = {}
        self.by_user: dict[int, PlayerConnection] = {}
        self.lobby: set[str] = set()  # connections subscribed to lobby updates
        #: what this process refused, by kind (README "Security"); /healthz shows them with the adapter's
        self.counters: collections.Counter[str] = collections.Counter()
        self._ids = itertools.count(1)
        #: user -> tokens issued before this are void (announced by game servers: logout, password change)
        self.not_before: dict[int, float] = {}
        loop = IOLoop.current()
        #: when each authenticated connection's token expires (`realtime.deadlines`: one timer for all)
        self.expiries = Deadlines(loop.call_at, loop.time)

    def new_conn_id(self) -> str:
        return f"{self.identity}:{next(self._ids)}"

    def deliver(self, conns: list[str], frame: str, close: bool) -> None:
        """Frames from a game server to the connections of this process that still exist (quoted for
        SockJS once, however many connections it goes to)."""
        quoted = None
        sent = 0
        for conn_id in conns:
            conn = self.conns.get(conn_id)
            if conn is None:
                self.gateway.conn_closed(conn_id)  # the server thinks it is still here: correct it
                continue
            if quoted is None:
                quoted = quote(frame)
            conn.send_quoted(quoted)
            sent += 1
            if close:
                conn.close()
        if sent:
            self.metrics.sent(frame, sent)


    def revoked(self, user: int, issued: float) -> bool:
        return issued < self.not_before.get(user, 0.0)

    def on_revoked(self, msg: p.Revoked) -> None:
        """A user logged out or changed password: their connections with an older token are closed."""
        if msg.before <= self.not_before.get(msg.user, 0.0):
            return  # heard already (every game server announces it)
        self.not_before[msg.user] = msg.before
        conn = self.by_user.get(msg.user)
        if conn is not None and not conn.closed and conn.issued < msg.before:
            self.counters["token_revoked"] += 1
            conn.reject(p.E_TOKEN_REVOKED, "you logged out or changed your password; log in again")

    def lobby_update(self, update: p.LobbyUpdate) -> None:
        if not self.lobby:
            return
        frame = p.encode_str(update)
        for conn_id in list(self.lobby):
            conn = self.conns.get(conn_id)
            if conn is None:
                self.lobby.discard(conn_id)
            else:
                conn.send(frame)


class HealthHandler(tornado.web.RequestHandler):
    def initialize(self, services: Services) -> None:
        self.services = services

    def get(self) -> None:
        links = self.services.gateway.links.values()
        counters = self.services.counters + self.services.router.counters
        waiting = sum(self.services.router.admission.unauthenticated.values())
        self.write({"ok": True, "connections": len(self.services.conns), "unauthenticated": waiting,
                    "gameservers": {link.name: link.alive for link in links},
                    "refused": dict(sorted(counters.items()))})


def access_log(handler: tornado.web.RequestHandler) -> None:
    """Tornado's access log line, without the health checks that pass (haproxy's, every second or so)."""
    status = handler.get_status()
    request = handler.request
    if status < 400 and request.path == "/healthz":
        return
    write = access.info if status < 400 else access.warning if status < 500 else access.error
    write("%d %s %s (%s) %.2fms", status, request.method, request.uri, request.remote_ip,
          1000.0 * request.request_time())


def make_app(settings: Settings, *, identity: str, verify: Callable[[str], Claims],
             ctx: Any = None, metrics: RealtimeMetrics | None = None, public_url: str = "",
             ) -> tuple[Application, Services]:
    """The application; with `public_url` (and `registry` on) this process registers under that URL and
    its links follow the registry."""
    services = Services(settings, identity, verify, metrics)
    services.gateway = Gateway(settings, identity, services.deliver, services.lobby_update, ctx=ctx,
                               metrics=services.metrics)
    services.gateway.revoked_push = services.on_revoked
    services.gateway.start()
    if public_url and settings.registry:
        name, _, boot = identity.partition(".")
        key = services.gateway.key.public.decode() if services.gateway.key else ""
        registry = Registry(make_engine(settings.db_url()), lease=settings.lease_seconds)
        services.follower = Follower(registry, services.gateway, name, boot, public_url, key,
                                     lambda: len(services.conns), settings.heartbeat_interval)
        services.follower.start()
    admission = Admission(max_unauthenticated=settings.max_unauthenticated_per_address,
                          rate=settings.new_sessions_per_address, burst=settings.new_sessions_burst,
                          on_refused=lambda reason: services.metrics.sessions_refused(reason).inc())
    router = make_router(PlayerConnection, services, settings, prefix="/sockjs", admission=admission,
                         hot=services.metrics.hot)
    services.router = router
    app = Application([(r"/healthz", HealthHandler, {"services": services}), *router.urls],
                      trusted_proxies=TrustedProxies.of(settings.trusted_proxies), log_function=access_log)
    return app, services
