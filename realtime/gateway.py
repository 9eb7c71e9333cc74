"""The realtime side of realtime <-> game server: one ZeroMQ DEALER per game server.

Owns the `Gateway` (its state, start and stop) and the request/answer path: routing by a cached owner map
(a table's owner as last heard: a `moved` answer or a `tables_moved` notice updates it; an unknown table
goes to the server its id names, "g2-0007" -> "g2", or, if that one is gone, to any live server, which
knows or finds the owner), request ids, sending (a loop pass's messages for one server batched into one
ZeroMQ message), and reading the servers' answers and notices and handing them to the client connections.
Sockets are read with `loop.add_reader` on their file descriptor, draining with NOBLOCK (the FD is
edge-triggered, so every send is followed by a check for input).

Every link is a CurveZMQ client (unless `curve` is off): this process's own key (`keys/realtime/<name>`,
the name being its identity up to the first dot) and the game server's public key, pinned, so a process
squatting on a game server's port completes no handshake, gets no request and can send nothing. A link
whose server key is not known yet stays down and is retried every heartbeat. The DEALER declares no
routing id: the game server knows this process by its key.

Elsewhere: the links themselves and their health (opening with the pinned key, following the registry
with `set_servers`, heartbeats both ways with a liveness count, close-and-recreate of a dead server's
socket, request deadlines) in `realtime.gateway_links`; merging the lobby list across servers in
`realtime.gateway_lobby`; the records `Link`, `Pending` and `LobbyQuery` in `realtime.gateway_records`
(importable from here too).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, cast

import zmq

from common import curve
from common import hotpath as hp
from common import protocol as p
from common.config import Settings, keys_dir_of
from common.metrics import RealtimeMetrics, frame_type
from realtime.gateway_links import GatewayLinks
from realtime.gateway_lobby import GatewayLobby
from realtime.gateway_records import DeliverFn, Link, LobbyFn, LobbyQuery, Pending

__all__ = ["MAX_HOPS", "DeliverFn", "Gateway", "Link", "LobbyFn", "LobbyQuery", "Pending"]

log = logging.getLogger("felt.realtime.gateway")

#: `moved` answers one request may follow before it is refused (a loop would otherwise never end).
MAX_HOPS = 3


class Gateway(GatewayLobby, GatewayLinks):
    def __init__(self, settings: Settings, identity: str, deliver: DeliverFn, lobby: LobbyFn | None = None, *,
                 ctx: zmq.Context[Any] | None = None, clock: Callable[[], float] = time.monotonic,
                 metrics: RealtimeMetrics | None = None) -> None:
        self.settings = settings
        self.metrics = metrics
        self.hot = metrics.hot if metrics is not None else hp.HotPath("realtime", hp.REALTIME_PARTS)
        self.identity = identity
        self.deliver = deliver
        #: called with each `Revoked` a game server announces (set by the app)
        self.revoked_push: Callable[[p.Revoked], None] | None = None
        self.lobby_push = lobby
        self.ctx = ctx or zmq.Context.instance()
        self.clock = clock
        self.links = {name: Link(name, ep) for name, ep in settings.gameservers.items()}
        self.keys = keys_dir_of(settings)
        self.key: curve.Key | None = None  # this process's own CurveZMQ key (None: CURVE is off)
        self.pending: dict[int, Pending] = {}
        self.owners: dict[str, str] = {}  # table -> the game server serving it, as last heard
        self.tables_of: dict[str, set[str]] = {}  # connection -> tables it has used, to tell of outages
        self.lobby: dict[int, LobbyQuery] = {}
        self._rid = 0
        self._ticker: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._moves_answered: list[float] = []  # arrival times of moves answered in the batch at hand
        self._queued: list[Link] = []  # links with messages queued in this loop pass

    # ---- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self.settings.curve:
            curve.require_curve()
            self.key = curve.own_key(self.keys, "realtime", self.identity.partition(".")[0])
            log.info("CurveZMQ on: key %s (%s)", self.key.id, self.key.fingerprint)
        now = self.clock()
        for link in self.links.values():
            self._open(link, now)
        self._ticker = asyncio.ensure_future(self._tick_forever())

    def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
        for link in self.links.values():
            self._close(link)

    # ---- sending -------------------------------------------------------------------------------

    def _send(self, link: Link, msg: p.Msg) -> bool:
        """Send `msg` to `link`'s server: queued, and sent with the rest of this loop pass's messages for
        it as one ZeroMQ message (`_send_queued`), if the server reads those; else at once. False when
        it cannot go (no socket; sent at once and refused at the high-water mark)."""
        sock = link.sock
        if sock is None:
            return False
        if link.batches and self._loop is not None:
            if not self._queued:
                self._loop.call_soon(self._send_queued)
            if not link.outbox:
                self._queued.append(link)
            link.outbox.append(p.encode(msg))
            if isinstance(msg, p.Forward):
                link.outbox_rids.append(msg.rid)
            return True
        started = hp.now_ns()
        try:
            sock.send(p.encode(msg), zmq.NOBLOCK)
        except zmq.Again:
            if self.metrics is not None:
                self.metrics.zmq_dropped(link.name).inc()
            return False
        finally:
            self.hot.add(hp.TO_GAMESERVER, started)
        if cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN and self._loop is not None:
            self._loop.call_soon(self._drain, link)
        return True

    def _send_queued(self) -> None:
        """End of a loop pass: each server's queued messages go as one ZeroMQ message (one wake-up of
        the I/O thread, not one per request); requests refused at the high-water mark are answered."""
        started = hp.now_ns()
        queued, self._queued = self._queued, []
        for link in queued:
            parts, rids = link.outbox, link.outbox_rids
            link.outbox, link.outbox_rids = [], []
            sock = link.sock
            if sock is None or not parts:  # closed meanwhile: its requests were answered then
                continue
            try:
                sock.send_multipart(parts, zmq.NOBLOCK)
            except zmq.Again:
                if self.metrics is not None:
                    self.metrics.zmq_dropped(link.name).inc(len(parts))
                self._refuse_unsent(link, rids)
                continue
            if cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN and self._loop is not None:
                self._loop.call_soon(self._drain, link)
        self.hot.add(hp.TO_GAMESERVER, started)

    def _refuse_unsent(self, link: Link, rids: list[int]) -> None:
        for rid in rids:
            pending = self.pending.pop(rid, None)
            if pending is not None:
                if link.connected:
                    self._error(pending.conn, p.E_OVERLOADED, "the game server is not keeping up; try again",
                                pending.req)
                else:
                    self._error(pending.conn, p.E_UNAVAILABLE, "the game server is not connected yet; try "
                                "again shortly", pending.req)
            query = self.lobby.get(rid)
            if query is not None:
                query.waiting.discard(link.name)
                self._maybe_answer_lobby(rid)

    def _error(self, conn: str, code: str, text: str, req: int | None, table: str | None = None) -> None:
        self.deliver([conn], p.encode_str(p.Error(code=code, text=text, req=req, table=table)), False)

    def request(self, conn: str, user: int, name: str, body: p.TableRequest, issued: float = 0.0,
                fold: bool = False) -> None:
        """Send a client's request to the game server that owns it; the answer comes back by `deliver`.
        `issued`: when the sender's token was issued (a game server refuses revoked ones); `fold`: the
        client speaks protocol 2 (an applied act's ack comes in its view)."""
        if isinstance(body, p.ListTables):
            self._list_tables(conn, user, name, body, issued)
            return
        table = None if isinstance(body, p.CreateTable) else body.table
        link = self._least_loaded() if table is None else self._route(table)
        if link is None:
            self._error(conn, p.E_UNAVAILABLE, "no game server is available; try again shortly", body.req,
                        table)
            return
        if isinstance(body, p.CreateTable):
            link.created += 1
        elif not link.serving:
            self._error(conn, p.E_UNAVAILABLE, f"table {body.table} is temporarily unavailable", body.req,
                        body.table)
            return
        self._rid += 1
        rid = self._rid
        forward = p.Forward(conn=conn, user=user, name=name, rid=rid, body=body, issued=issued, fold=fold)
        now = self.clock()
        creates = isinstance(body, p.CreateTable)
        table = None if isinstance(body, p.CreateTable) else body.table
        self.pending[rid] = Pending(conn, body.req, link.name, now + self.settings.request_timeout,
                                    creates=creates, table=table, forward=forward,
                                    move_started=now if isinstance(body, p.Act) else None)
        if not self._send(link, forward):
            del self.pending[rid]
            if link.connected:
                self._error(conn, p.E_OVERLOADED, "the game server is not keeping up; try again", body.req)
            else:
                self._error(conn, p.E_UNAVAILABLE, "the game server is not connected yet; try again shortly",
                            body.req)

    def _least_loaded(self) -> Link | None:
        live = [link for link in self.links.values() if link.serving and not link.draining and link.sock]
        return min(live, key=lambda link: (not link.connected, link.tables + link.created)) if live else None

    def _route(self, table: str) -> Link | None:
        """The link to the game server serving `table`, as far as this process knows."""
        owner = self.owners.get(table) or table.partition("-")[0]
        link = self.links.get(owner)
        if link is None:  # its server left: any live one knows the owner, or takes the table over
            return self._least_loaded()
        return link

    def _owner_of(self, table: str) -> str:
        return self.owners.get(table) or table.partition("-")[0]


    def conn_closed(self, conn: str) -> None:
        """Tell every live game server that a client connection is gone."""
        self.tables_of.pop(conn, None)
        for link in self.links.values():
            if link.alive:
                self._send(link, p.ConnClosed(conn=conn))

    # ---- receiving -----------------------------------------------------------------------------

    def _drain(self, link: Link) -> None:
        sock = link.sock
        if sock is None:
            return
        now = self.clock()
        hot = self.hot
        started, out_before = hp.now_ns(), hot.ns[hp.EDGE_OUT]
        try:
            self._drain_some(link, sock, now)
        finally:
            hot.add_outer(hp.FROM_GAMESERVER, started, hp.EDGE_OUT, out_before)

    def _drain_some(self, link: Link, sock: zmq.Socket[Any], now: float) -> None:
        for _ in range(1024):
            if not cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
                return
            try:
                parts = sock.recv_multipart(zmq.NOBLOCK)  # a game server batches a pass's frames
            except zmq.Again:
                return
            link.last_heard, link.connected = now, True
            if not link.alive:
                link.alive = True
                log.info("game server %s is back", link.name)
                self._announce(link, True, "the table is back: resume to carry on")
                link.boot = ""  # announced already: the next heartbeat just records its start id
            try:
                messages = p.decode_parts(parts)
            except p.ProtocolError as exc:
                log.warning("bad message from %s: %s", link.name, exc.text)
                continue
            started = hp.now_ns()  # one reading per batch, not per frame: each costs a system call
            for msg in messages:
                self._dispatch(link, msg)
            self.hot.add(hp.EDGE_OUT, started)
            if self._moves_answered:  # the batch held the move's answer and the views it caused here
                self._observe_moves()
        assert self._loop is not None
        self._loop.call_soon(self._drain, link)  # more waiting: yield to other work first

    def _dispatch(self, link: Link, msg: p.InternalMessage) -> None:
        if isinstance(msg, p.Deliver):
            self._on_deliver(link, msg)
        elif isinstance(msg, p.Moved):
            self._on_moved(msg)
        elif isinstance(msg, p.TablesMoved):
            self._on_tables_moved(msg)
        elif isinstance(msg, p.Heartbeat):
            self._on_heartbeat(link, msg)
        elif isinstance(msg, p.TablesChanged) and self.lobby_push is not None:
            self.lobby_push(p.LobbyUpdate(tables=msg.tables, removed=msg.removed))
        elif isinstance(msg, p.Revoked) and self.revoked_push is not None:
            self.revoked_push(msg)

    def _on_deliver(self, link: Link, msg: p.Deliver) -> None:
        if msg.rid is not None and msg.rid in self.lobby:
            query = self.lobby[msg.rid]
            answer = p.decode_server(msg.frame)
            if isinstance(answer, p.Tables):
                query.tables.extend(answer.tables)
            query.waiting.discard(link.name)
            self._maybe_answer_lobby(msg.rid)
            return
        if msg.rid is not None:
            pending = self.pending.pop(msg.rid, None)
            if pending is not None and pending.move_started is not None:
                self._moves_answered.append(pending.move_started)
            if pending is not None and pending.table is not None and frame_type(msg.frame) != "error":
                # a table is this connection's to hear about (outages, hand-overs) once its server
                # answered for it: a guessed id, a private table it may not see, learns nothing later
                self.tables_of.setdefault(pending.conn, set()).add(pending.table)
            if pending is not None and pending.creates:
                table = msg.table if frame_type(msg.frame) == "ack" else None
                if msg.table is None:  # a game server of an older version: the table is in the ack
                    answer = p.decode_server(msg.frame)
                    table = answer.table if isinstance(answer, p.Ack) else None
                if table:
                    self.tables_of.setdefault(pending.conn, set()).add(table)
        self.deliver(msg.conns, msg.frame, msg.close)  # timed by the batch (`_drain_some`) as edge out

    def _on_moved(self, msg: p.Moved) -> None:
        """The table of a request is served elsewhere: remember, and send the request there."""
        self._remember_owner(msg.table, msg.owner)
        pending = self.pending.get(msg.rid)
        if pending is None or pending.forward is None:
            return
        link = self.links.get(msg.owner)
        pending.hops += 1
        if link is None or not link.serving or pending.hops > MAX_HOPS:
            del self.pending[msg.rid]
            self._error(pending.conn, p.E_UNAVAILABLE, f"table {msg.table} is moving; try again shortly",
                        pending.req, msg.table)
            return
        pending.server = link.name
        if not self._send(link, pending.forward):
            del self.pending[msg.rid]
            self._error(pending.conn, p.E_UNAVAILABLE, "the game server is not keeping up; try again",
                        pending.req, msg.table)

    def _on_tables_moved(self, msg: p.TablesMoved) -> None:
        """Tables handed over or taken over: route to their new owner, and their players resume there."""
        moved = set(msg.tables)
        for table in moved:
            self._remember_owner(table, msg.owner)
        for conn, tables in list(self.tables_of.items()):
            for table in sorted(tables & moved):
                self.deliver([conn], p.encode_str(p.TableStatus(table=table, available=True)), False)

    def _remember_owner(self, table: str, owner: str) -> None:
        if len(self.owners) > 200_000:  # a cache: what is forgotten is found again by `moved`
            self.owners.clear()
        if table.partition("-")[0] == owner:
            self.owners.pop(table, None)
        else:
            self.owners[table] = owner

    def _observe_moves(self) -> None:
        """Move latency: from a move's arrival to the end of the batch that delivered what it caused."""
        now, started = self.clock(), self._moves_answered
        self._moves_answered = []
        if self.metrics is not None:
            for at in started:
                self.metrics.move_latency.observe(now - at)

