"""The gateway's links to the game servers and their health: opening a link (a CurveZMQ client pinning the
server's public key, or staying down until that key is known), following the registry (`set_servers`),
closing, heartbeats both ways with a liveness count, close-and-recreate of a silent server's socket, what a
server's heartbeat says (its load, start id, draining, whether it can write its log), telling the
connections that used a server's tables whether they are reachable, and the clock: deadlines of requests
and lobby queries (a client always gets an answer: `timeout` or `unavailable` when the server's does not
come).

Mixed into `Gateway` (`realtime.gateway`) after its other bases: what it uses of the gateway is declared
here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import zmq

from common import curve
from common import protocol as p
from common.config import Settings
from realtime.gateway_records import DeliverFn, Link, LobbyQuery, Pending

log = logging.getLogger("felt.realtime.gateway")


class GatewayLinks:
    """Mixed into `Gateway`: what it needs from the gateway is declared here."""

    settings: Settings
    identity: str
    deliver: DeliverFn
    ctx: zmq.Context[Any]
    clock: Callable[[], float]
    links: dict[str, Link]
    keys: Path
    key: curve.Key | None
    pending: dict[int, Pending]
    tables_of: dict[str, set[str]]
    lobby: dict[int, LobbyQuery]
    _loop: asyncio.AbstractEventLoop | None

    def _send(self, link: Link, msg: p.Msg) -> bool:
        raise NotImplementedError

    def _owner_of(self, table: str) -> str:
        raise NotImplementedError

    def _drain(self, link: Link) -> None: ...
    def _error(self, conn: str, code: str, text: str, req: int | None, table: str | None = None) -> None: ...
    def _maybe_answer_lobby(self, rid: int, force: bool = False) -> None: ...

    # ---- links ---------------------------------------------------------------------------------

    def _open(self, link: Link, now: float) -> None:
        server_key = None
        if self.key is not None:
            server_key = curve.server_key(self.keys, link.name) or link.registry_key
            if server_key is None:
                if link.alive:
                    log.warning("no public key for game server %s in %s yet; it stays unavailable until "
                                "there is one", link.name, self.keys / "gameserver" / link.name)
                link.alive = False
                return
        sock = self.ctx.socket(zmq.DEALER)
        sock.setsockopt(zmq.LINGER, 0)
        if self.key is not None and server_key is not None:
            assert self.key.secret is not None
            sock.curve_secretkey, sock.curve_publickey = self.key.secret, self.key.public
            sock.curve_serverkey = server_key
            link.server_key = server_key
        sock.setsockopt(zmq.SNDHWM, 100_000)
        sock.setsockopt(zmq.RCVHWM, 100_000)
        sock.connect(link.endpoint)
        link.sock, link.last_heard, link.opened, link.connected = sock, now, self.clock(), False
        link.batches = False  # until this server's heartbeat says it reads batches (it may be older now)
        assert self._loop is not None
        self._loop.add_reader(cast(int, sock.getsockopt(zmq.FD)), self._drain, link)
        self._send(link, p.Heartbeat(sender=self.identity))

    def set_servers(self, servers: dict[str, tuple[str, bytes | None]]) -> None:
        """The game servers to link to now (name -> endpoint, registered public key), from the registry:
        new ones are linked, moved ones re-linked, and the links of those no longer listed closed (their
        pending requests answered `unavailable`)."""
        now = self.clock()
        for name in list(self.links):
            if name not in servers:
                log.info("game server %s left the registry; link closed", name)
                self._fail_pending(name)
                self._close(self.links.pop(name))
        for name, (endpoint, key) in servers.items():
            known = self.links.get(name)
            if known is not None and known.endpoint == endpoint and known.registry_key in (None, key):
                known.registry_key = key  # pinned at its next (re)connect, unless the key directory has one
                continue
            if known is not None:
                log.info("game server %s is now at %s; re-linking", name, endpoint)
                self._fail_pending(name)
                self._close(known)
            else:
                log.info("game server %s joined the registry at %s; linking", name, endpoint)
            self.links[name] = Link(name, endpoint, key)
            if self._loop is not None:
                self._open(self.links[name], now)

    def _close(self, link: Link) -> None:
        link.outbox, link.outbox_rids = [], []  # never sent: their requests were (or are) answered
        if link.sock is not None:
            if self._loop is not None:
                self._loop.remove_reader(cast(int, link.sock.getsockopt(zmq.FD)))
            link.sock.close(linger=0)
            link.sock = None

    # ---- health --------------------------------------------------------------------------------

    def _on_heartbeat(self, link: Link, msg: p.Heartbeat) -> None:
        link.tables, link.created, link.batches = msg.tables, 0, msg.batches
        if msg.draining != link.draining:
            link.draining = msg.draining
            log.info("game server %s is %s", link.name, "draining" if msg.draining else "live again")
        if link.boot and msg.boot != link.boot:  # restarted between two heartbeats
            log.info("game server %s restarted", link.name)
            self._announce(link, True, "the table is back: resume to carry on")
        link.boot = msg.boot
        if msg.healthy != link.healthy:
            link.healthy = msg.healthy
            if msg.healthy:
                log.info("game server %s can write again", link.name)
                self._announce(link, True, "the table is back: resume to carry on")
            else:
                log.warning("game server %s cannot write its log; its tables are unavailable", link.name)
                self._announce(link, False, "the table cannot be saved right now; hold on")

    def _announce(self, link: Link, available: bool, text: str) -> None:
        """Tell each connection that used a table of this server whether it is reachable."""
        for conn, tables in list(self.tables_of.items()):
            for table in sorted(t for t in tables if self._owner_of(t) == link.name):
                frame = p.encode_str(p.TableStatus(table=table, available=available, text=text))
                self.deliver([conn], frame, False)

    # ---- time ----------------------------------------------------------------------------------

    async def _tick_forever(self) -> None:
        interval = self.settings.heartbeat_interval
        step = min(0.25, interval / 2)
        next_beat = 0.0
        while True:
            now = self.clock()
            self._expire(now)
            for link in self.links.values():
                if link.sock is None:  # its key was not known: perhaps it is now (not only each beat)
                    self._open(link, now)
            if now >= next_beat:
                next_beat = now + interval
                self._heartbeat(now)
            await asyncio.sleep(step)

    def _heartbeat(self, now: float) -> None:
        limit = self.settings.heartbeat_interval * self.settings.heartbeat_liveness
        for link in self.links.values():
            if link.sock is None:
                continue  # waiting for its server's key: retried every tick
            if not link.alive and now - link.opened > limit:
                self._close(link)  # never answered: reconnect, pinning its key afresh
                self._open(link, link.last_heard)
                continue
            if cast(int, link.sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                link.last_heard = now  # its messages are waiting for us: we are behind, it is not silent
            if link.alive and now - link.last_heard > limit:
                link.alive = False
                log.warning("game server %s is silent; its tables are unavailable", link.name)
                self._fail_pending(link.name)
                self._announce(link, False, "the table's game server is not answering; your seat is kept")
                self._close(link)  # drop queued requests: they would arrive stale
                self._open(link, link.last_heard)  # reconnect; stays unavailable until it answers
                continue
            self._send(link, p.Heartbeat(sender=self.identity))

    def _fail_pending(self, server: str) -> None:
        for rid, pending in list(self.pending.items()):
            if pending.server == server:
                del self.pending[rid]
                self._error(pending.conn, p.E_UNAVAILABLE, "the game server went away; try again shortly",
                            pending.req)
        for rid, query in list(self.lobby.items()):
            if server in query.waiting:
                query.waiting.discard(server)
                self._maybe_answer_lobby(rid)

    def _expire(self, now: float) -> None:
        # pending is in send order and every request has the same timeout, so deadlines are sorted
        while self.pending:
            rid, pending = next(iter(self.pending.items()))
            if pending.deadline > now:
                break
            del self.pending[rid]
            self._error(pending.conn, p.E_TIMEOUT, "the game server did not answer in time", pending.req)
        for rid, query in list(self.lobby.items()):
            if query.deadline <= now:
                self._maybe_answer_lobby(rid, force=True)
