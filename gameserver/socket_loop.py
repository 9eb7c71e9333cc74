"""One pass of a game server's socket loop: drain the ROUTER socket, group-commit what the pass decided
(and undo it if the database refuses), then send the replies, one batch of `Delivers` per realtime
process; also the heartbeats, lobby and other broadcasts to realtime processes, and the wake-up
that the edge-triggered socket may have swallowed.

Mixed into `GameServer` (`gameserver.server`) before its other bases: what it uses of the server is
declared here, its methods only for the type checker (a stub at run time would hide the real one of a
later base, such as `Placement._make_sure`).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import zmq

from common import hotpath as hp
from common import protocol as p
from common.metrics import GameServerMetrics
from gameserver.chat import TableChat
from gameserver.lobby import LobbyTracker
from gameserver.peers import Peer, Peers
from gameserver.store import Store, StoreFailed
from gameserver.table import Checkpoint, Outbound, Table
from gameserver.table_types import HOLD_NEWCOMER, HOLD_VIEW

log = logging.getLogger("felt.gameserver")

#: A pass stops reading once it has handled this many messages or read for PASS_SECONDS, whichever
#: comes first; then the store is flushed and the replies go out. Without the time bound a burst (a
#: realtime process sends a loop pass's requests as one message, and more arrive while a pass runs)
#: made one long pass whose moves all waited for its end, and the players' next moves came back
#: together as the next burst: at 2,000 moves/s the tables fell into step and a move took 70 ms.
BATCH = 256
PASS_SECONDS = 0.005


class SocketLoop:
    """Mixed into `GameServer`: what it needs from the server is declared here."""

    name: str
    boot: str
    store: Store
    tables: dict[str, Table]
    peers: Peers
    lobby: LobbyTracker
    chat: TableChat
    metrics: GameServerMetrics
    clock: Callable[[], float]
    draining: bool
    healthy: bool
    sock: zmq.Socket[Any] | None
    _retrying: bool
    _pending_out: list[Outbound]
    _internal_out: list[tuple[bytes, bytes]]
    _status_written: dict[str, str]
    _touched: dict[str, Checkpoint | None]
    _inbox: deque[tuple[bytes, bytes | None, zmq.Frame]]  # read, not yet handled: (route, key, part)

    if TYPE_CHECKING:
        def _on_message(self, route: bytes, key: bytes | None, payload: bytes, now: float) -> None: ...
        def _make_sure(self, now: float) -> bool: ...
        def _fenced(self, table_id: str) -> None: ...
        def _arm(self, table: Table) -> None: ...

    def _drain(self) -> None:
        """Handle what is waiting, up to a pass's bound (`BATCH`, `PASS_SECONDS`), then commit once and
        reply; what is left waits for the next pass, scheduled at once (`_check_input`)."""
        sock = self.sock
        if sock is None or sock.closed:  # stopped: a call still scheduled finds nothing to read
            return
        now = self.clock()
        if not self._make_sure(now):  # not sure which tables are ours: read nothing yet
            if not self._retrying:  # one retry pending at a time, however many arrivals wake us
                self._retrying = True
                asyncio.get_running_loop().call_later(0.25, self._retry_drain)
            return
        handled = 0
        hot = self.metrics.hot
        started, table_before = hp.now_ns(), hot.ns[hp.TABLE]
        inbox, clock = self._inbox, self.clock
        budget = PASS_SECONDS
        while handled < BATCH and (not handled or clock() - now < budget):
            if not inbox:
                if not self._receive(sock):
                    break
                continue
            route, key, body = inbox.popleft()
            handled += 1
            try:
                self._on_message(route, key, body.bytes, now)
            except Exception:  # one message must not stop the loop for everybody else
                log.exception("error handling a message from peer %s", route.hex())
        hot.add_outer(hp.FROM_REALTIME, started, hp.TABLE, table_before)
        self._commit_and_send()

    def _receive(self, sock: zmq.Socket[Any]) -> bool:
        """One ZeroMQ message from the socket into the inbox, a part each (a realtime process sends what
        one of its loop passes produced as one message); False when nothing is waiting."""
        if not cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            return False
        try:
            frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
        except zmq.Again:
            return False
        if len(frames) < 2:
            log.warning("dropped a message of %d frames", len(frames))
            self.metrics.messages_in("malformed").inc()
            return True
        key = str(frames[1].get("User-Id")).encode() if self.peers.allow is not None else None
        route = frames[0].bytes
        self._inbox.extend((route, key, body) for body in frames[1:])
        return True

    def _retry_drain(self) -> None:
        self._retrying = False
        self._drain()

    def _commit_and_send(self) -> None:
        hot = self.metrics.hot
        started = hp.now_ns()
        self._flush()
        started = hot.add(hp.COMMIT, started)
        out, self._pending_out = self._hold_for_spectators(self._pending_out), []
        frames: dict[bytes, list[p.Outgoing]] = {}
        for item in out:
            self._send(item, frames)
        batches = {route: list(p.encode_delivers(items)) for route, items in frames.items()}
        internal, self._internal_out = self._internal_out, []
        for route, payload in internal:
            batches.setdefault(route, []).append(payload)
        for route, payloads in batches.items():  # one ZeroMQ message per realtime process per pass
            assert self.sock is not None
            try:
                self.sock.send_multipart([route, *payloads], zmq.NOBLOCK)
            except zmq.Again:
                log.warning("realtime %s is not keeping up; dropped %d frames", route.hex(), len(payloads))
                self.metrics.zmq_dropped("realtime").inc(len(payloads))
        hot.add(hp.TO_REALTIME, started)
        self._announce_lobby()
        self._check_input()

    def _hold_for_spectators(self, out: list[Outbound]) -> list[Outbound]:
        """Committed spectator frames of delayed tables go into their delay lines; a spectator who just
        opened such a table is sent what its line last released (`gameserver.spectating`)."""
        if not any(item.hold for item in out):
            return out
        now = self.clock()
        kept: list[Outbound] = []
        for item in out:
            table = self.tables.get(item.table or "")
            line = table.spectator_line if table is not None else None
            if not item.hold:
                kept.append(item)
            elif table is None or line is None:
                continue
            elif item.hold == HOLD_NEWCOMER:
                frames = line.latest or [table.spectator_placeholder()]
                kept.extend(Outbound(item.conns, frame, table=table.id) for frame in frames)
            else:
                line.hold(item.frame, now, table.state.hand_no, view=item.hold == HOLD_VIEW)
                self._arm(table)
        return kept

    def _flush(self) -> bool:
        """Commit what this pass decided. If the database refuses, every table the pass changed goes back
        to what the log holds, and the requests that changed them are refused: memory never runs ahead
        of the log, and nobody else hears of what was undone."""
        try:
            self.store.flush()
        except StoreFailed as exc:
            log.error("the database refused a write (%s); %d table(s) rolled back to the log", exc,
                      len(self._touched))
            self._set_healthy(False)
            self.chat.committed(served=())
            self._roll_back_pass()
            return False
        finally:
            self._drop_fenced()
        self.chat.committed(served=self.tables)
        self._touched.clear()
        return True

    def _drop_fenced(self) -> None:
        """Tables the store found served by another server now: this pass's news of them is not sent
        (requests are refused: the realtime tier re-routes the retry)."""
        fenced = self.store.take_fenced()
        if not fenced:
            return
        for table_id in fenced:
            self._touched.pop(table_id, None)
            self._fenced(table_id)
        self._refuse_pending_of(fenced)

    def _refuse_pending_of(self, tables: set[str]) -> None:
        """Nothing of `tables` queued this pass goes out, but a request's answer becomes a failure."""
        kept: list[Outbound] = []
        for item in self._pending_out:
            if item.table not in tables:
                kept.append(item)
            elif item.rid is not None:
                kept.append(self._failure(item))
        self._pending_out = kept

    def _touch(self, table: Table) -> None:
        """Before a table changes in this pass: remember what to roll back to."""
        if table.id not in self._touched:
            self._touched[table.id] = table.checkpoint()

    def _roll_back_pass(self) -> None:
        now = self.clock()
        failed = set(self._touched)
        for table_id, saved in self._touched.items():
            self._status_written.pop(table_id, None)
            self.lobby.dirty.add(table_id)
            table = self.tables.get(table_id)
            if table is None:
                continue
            if saved is None:  # created in this pass: it never existed
                del self.tables[table_id]
                continue
            table.rollback(saved, now)
            self._arm(table)
        self._touched.clear()
        self._refuse_pending_of(failed)

    def _set_healthy(self, healthy: bool) -> None:
        if healthy == self.healthy:
            return
        self.healthy = healthy
        if healthy:
            log.warning("the database takes writes again; serving")
        self._heartbeat_all()  # at once, not at the next heartbeat

    def _heartbeat_all(self) -> None:
        for peer in self.peers:
            self._send_heartbeat(peer)

    def _send_heartbeat(self, peer: Peer) -> None:
        assert self.sock is not None
        try:
            beat = p.Heartbeat(sender=self.name, tables=len(self.tables), boot=self.boot,
                               healthy=self.healthy, draining=self.draining, batches=True)
            self.sock.send_multipart([peer.route, p.encode(beat)], zmq.NOBLOCK)
        except zmq.Again:
            self.metrics.zmq_dropped("realtime").inc()
        self._check_input()

    def _announce_lobby(self) -> None:
        """Tell every realtime process which public tables changed in the lobby's eyes (once a pass)."""
        changes = self.lobby.changes(self.tables)
        if changes is not None:
            self._broadcast(changes)

    def _broadcast(self, msg: p.Msg) -> None:
        assert self.sock is not None
        payload = p.encode(msg)
        for peer in self.peers:
            try:
                self.sock.send_multipart([peer.route, payload], zmq.NOBLOCK)
            except zmq.Again:
                log.warning("realtime %s is not keeping up; dropped a lobby update", peer.incarnation)
                self.metrics.zmq_dropped("realtime").inc()

    def _check_input(self) -> None:
        """After sending: the edge-triggered FD may have swallowed an arrival, so look for one, and for
        messages a pass read but left to the next."""
        sock = self.sock
        if sock is None or sock.closed:
            return
        if self._inbox or cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            asyncio.get_running_loop().call_soon(self._drain)

    def _failure(self, out: Outbound) -> Outbound:
        frame = p.encode_str(p.Error(code=p.E_UNAVAILABLE, req=out.req, table=out.table,
                                     text="the table could not be saved, so nothing changed; try again"))
        return Outbound(out.conns, frame, out.rid, req=out.req, table=out.table)

    def _send(self, out: Outbound, frames: dict[bytes, list[p.Outgoing]]) -> None:
        self.metrics.sent(out.frame)
        by_route: dict[bytes, list[str]] = {}
        for conn in out.conns:
            route = self.peers.route_of(conn)
            if route is not None:  # its realtime process is gone: nobody to tell
                by_route.setdefault(route, []).append(conn)
        frame = out.frame.encode()  # crosses to the client as it is (`Delivers`)
        for route, conns in by_route.items():
            frames.setdefault(route, []).append((conns, frame, out.rid, out.close, out.table))
