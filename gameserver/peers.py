"""Who a game server is talking to: its ROUTER socket's security, and which realtime process sent what.

The socket is a CurveZMQ server: only realtime processes whose public key is on the allow-list
(`common.curve.AllowList`, checked by pyzmq's authenticator during the handshake) get a session at all.
A message's sender is taken from the key its session authenticated (the ZAP User-Id on every message),
never from anything the peer declares: the routing id is the one the ROUTER assigned, and the identity
a realtime process gives for this start (its connections' prefix, "rt8101.3fa2c1") must belong to that
key's process ("rt8101"). So a realtime process can only act, resume, close or receive frames for its
own connections, and a second peer cannot take over another's frames.

With `curve = false` (benchmarks only) nobody is authenticated and the declared identity is believed.
"""

from __future__ import annotations

import errno
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zmq
from zmq.auth.thread import ThreadAuthenticator

from common import curve
from gameserver.guards import realtime_of

log = logging.getLogger("felt.gameserver")

#: Refused senders logged per peer route before the log goes quiet about it (a flood stays one line).
LOG_REFUSALS = 3


@dataclass
class Peer:
    incarnation: str  # the realtime process's identity for this start: its connection ids' prefix
    name: str  # the process its key belongs to (rt8101); "" without CURVE
    key: bytes | None  # its authenticated public key (z85)
    route: bytes  # where the ROUTER sends to it (assigned by the ROUTER, changes on reconnect)
    seen: float  # when it was last heard from


class PortTaken(RuntimeError):
    """Something else holds the endpoint: the text says which and what to do."""


def owner_of(declared: str) -> str:
    """The process an identity names: "rt8101.3fa2c1" -> "rt8101"."""
    return declared.partition(".")[0]


class Peers:
    """The realtime peers of one game server, by the identity each gave for its current start."""

    def __init__(self, allow: curve.AllowList | None) -> None:
        self.allow = allow
        self.by_identity: dict[str, Peer] = {}
        self._refusals: dict[bytes, int] = {}

    def __contains__(self, identity: str) -> bool:
        return identity in self.by_identity

    def __iter__(self) -> Any:
        return iter(list(self.by_identity.values()))

    def identify(self, route: bytes, key: bytes | None, declared: str,
                 now: float) -> tuple[Peer | None, bool]:
        """The peer a message from `route`, authenticated as `key`, that says it is `declared`, comes from:
        (peer, first time heard) — or (None, False) when it may not speak for that identity (logged)."""
        if self.allow is not None:
            name = self.allow.name_of(key) if key is not None else None
            if name is None:
                self._refused(route, "its key is not (or no longer) on the allow-list")
                return None, False
            if owner_of(declared) != name:
                self._refused(route, f"key of {name} spoke for {declared!r}")
                return None, False
        else:
            name = ""
        peer = self.by_identity.get(declared)
        if peer is None:
            peer = self.by_identity[declared] = Peer(declared, name, key, route, now)
            return peer, True
        peer.route, peer.key, peer.seen = route, key, now  # the same process, maybe reconnected
        return peer, False

    def _refused(self, route: bytes, why: str) -> None:
        count = self._refusals.get(route, 0) + 1
        if len(self._refusals) > 10_000:
            self._refusals.clear()
        self._refusals[route] = count
        if count <= LOG_REFUSALS:
            log.warning("refused a message from peer %s: %s%s", route.hex(), why,
                        " (further refusals from it are not logged)" if count == LOG_REFUSALS else "")

    def route_of(self, conn: str) -> bytes | None:
        """Where frames for connection `conn` ("rt8101.3fa2c1:17") go, if its process is connected."""
        peer = self.by_identity.get(realtime_of(conn))
        return peer.route if peer is not None else None

    def drop(self, identity: str) -> None:
        self.by_identity.pop(identity, None)

    def revoked(self) -> list[str]:
        """Re-read the allow-list; the identities whose key it no longer holds (their sessions end)."""
        if self.allow is None:
            return []
        self.allow.reload()
        return [p.incarnation for p in self if p.key is None or self.allow.name_of(p.key) is None]


Router = tuple[zmq.Socket[Any], ThreadAuthenticator | None, curve.AllowList | None]


def open_router(ctx: zmq.Context[Any], keys_dir: Path, name: str, use_curve: bool) -> Router:
    """A ROUTER that, with CURVE, admits only allow-listed realtime keys (bound by `bind`)."""
    sock = ctx.socket(zmq.ROUTER)
    sock.setsockopt(zmq.LINGER, 0)
    if not use_curve:
        return sock, None, None
    curve.require_curve()
    own = curve.own_key(keys_dir, "gameserver", name)
    allow = curve.AllowList(keys_dir)
    auth = ThreadAuthenticator(ctx, log=logging.getLogger("felt.gameserver.zap"))
    auth.start()
    auth.configure_curve_callback(curve.ZAP_DOMAIN, credentials_provider=allow)
    sock.curve_secretkey = own.secret
    sock.curve_publickey = own.public
    sock.curve_server = True
    sock.zap_domain = curve.ZAP_DOMAIN.encode()
    log.info("CurveZMQ on: key %s (%s); %d realtime key(s) allowed", own.id, own.fingerprint, len(allow))
    return sock, auth, allow


def bind(sock: zmq.Socket[Any], endpoint: str) -> str:
    """Bind, saying plainly if another process holds the endpoint; the endpoint bound (a real port)."""
    try:
        sock.bind(endpoint)
    except zmq.ZMQError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise PortTaken(f"{endpoint} is already in use by another process; stop it (or give this game "
                            "server another endpoint) — not starting") from None
        raise
    return str(sock.getsockopt_string(zmq.LAST_ENDPOINT))
