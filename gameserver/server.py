"""The game-server process: a ZeroMQ ROUTER that hosts tables for any number of realtime processes.

Owns the socket loop, the table directory, timers (bots, turn clocks), liveness of realtime peers, chat,
and group commits to the store. Every message for a table is handled one at a time on this one thread
(one writer per table). Connection ids look like "<realtime identity>:<n>"; who may speak for which
connections, and where their frames go, is `gameserver.peers`' business (CurveZMQ keys, never a
declared routing id).
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any, cast

import zmq
from sqlalchemy.exc import SQLAlchemyError

from common import curve
from common import hotpath as hp
from common import protocol as p
from common.config import Settings, keys_dir_of
from common.logs import ids
from common.metrics import GameServerMetrics, message_type
from common.policy import TablePolicy
from common.registry import Registry
from gameserver import engine as en
from gameserver import entries as e
from gameserver import history
from gameserver.admin_commands import AdminDesk
from gameserver.cash_table import CashTable
from gameserver.chat import TableChat
from gameserver.guards import check_private_endpoint, realtime_of
from gameserver.lobby import LobbyTracker
from gameserver.opening import TableOpening
from gameserver.ownership import Ownership
from gameserver.peers import Peer, Peers, bind, open_router
from gameserver.placement import Placement
from gameserver.replays import Replays
from gameserver.revocations import Revocations
from gameserver.rules.base import Game
from gameserver.sitandgo import SitAndGoTable, is_sit_and_go
from gameserver.store import Store, StoreFailed
from gameserver.table import Checkpoint, Outbound, Result, Sender, Table
from gameserver.table_types import HOLD_NEWCOMER, HOLD_VIEW

log = logging.getLogger("felt.gameserver")

#: Messages handled per pass before the store is flushed and replies go out.
BATCH = 256
#: A table writes a snapshot at every deal and after this many entries, so recovery folds a short tail.
SNAPSHOT_EVERY = 200


class GameServer(Placement, TableOpening):
    def __init__(self, settings: Settings, name: str, endpoint: str, store: Store,
                 games: dict[str, Game[Any]], *, ctx: zmq.Context[Any] | None = None,
                 clock: Callable[[], float] = time.time, registry: Registry | None = None,
                 metrics: GameServerMetrics | None = None) -> None:
        self.settings = settings
        #: What this server counts (common/metrics.py); served by __main__, private to a test otherwise.
        self.metrics = metrics or GameServerMetrics()
        self.metrics.open_tables.set_function(lambda: len(self.tables))
        store.on_commit = self.metrics.commit_latency.observe
        self.name = name
        self.endpoint = endpoint
        self.store = store
        self.replays = Replays(store.set_replay, self._commit_and_send)  # finished games' replays
        store.owner = name  # it writes as this server, fenced by each table's epoch
        self.boot = secrets.token_hex(4)
        registry = registry or Registry(store.engine, lease=settings.lease_seconds, clock=clock)
        self.ownership = Ownership(store.engine, registry, name, self.boot, clock)
        self.draining = False  # handing every table to other servers, then exiting
        self.games = games
        self.clock = clock
        self.ctx = ctx or zmq.Context.instance()
        self.tables: dict[str, Table] = {}
        self.peers = Peers(None)  # the realtime processes heard from (bind() sets who may speak)
        self._auth: Any = None  # the CurveZMQ authenticator's thread, while bound
        self._names: dict[int, str] = {}  # user id -> display name, as stored (checked on every request)
        self.revocations = Revocations(store.revocations_since, settings.token_ttl, clock())
        self.conn_tables: dict[str, set[str]] = {}  # connection -> tables it has touched
        self.chat = TableChat(settings.chat_max_chars, settings.chat_rate)
        self._timers: list[tuple[float, str]] = []
        self._timer_handle: asyncio.TimerHandle | None = None
        self._next_number = 0
        self._pending_out: list[Outbound] = []
        self._internal_out: list[tuple[bytes, bytes]] = []  # (route, message) to a realtime process itself
        self._retrying = False  # a read is scheduled while this server is not sure of its lease
        self.lobby = LobbyTracker()
        self._status_written: dict[str, str] = {}  # table -> the status last queued for the store
        #: Tables changed since the last commit, with what to roll back to if it fails (None: new table).
        self._touched: dict[str, Checkpoint | None] = {}
        #: False while the database refuses writes: heartbeats say so and realtime answers `unavailable`.
        self.healthy = True
        self.sock: zmq.Socket[Any] | None = None
        self._stopped = asyncio.Event()
        self.admin = AdminDesk(self)  # move rate, rosters and admin commands, at each heartbeat

    # ---- lifecycle -----------------------------------------------------------------------------

    def _new_table(self, table_id: str, game: Game[Any], **kw: Any) -> Table:
        """A match table, or a cash table for games played hand after hand (Hold'em)."""
        kw.setdefault("policy", self.default_policy())
        kw.update(bot_delay=self.settings.bot_delay, entropy_wait=self.settings.entropy_wait)
        if is_sit_and_go(kw["options"]):
            return SitAndGoTable(table_id, game, hand_pause=self.settings.hand_pause, **kw)
        if game.series == "cash":
            return CashTable(table_id, game, hand_pause=self.settings.hand_pause, **kw)
        return Table(table_id, game, **kw)

    def default_policy(self) -> TablePolicy:
        """The policy of a table created without one: the defaults, with the configured grace period."""
        return TablePolicy(grace=self.settings.grace_period)

    def bind(self) -> str:
        """Open the ROUTER (a CurveZMQ server unless `curve` is off) and bind it; the endpoint bound.
        Raises `peers.PortTaken` if another process holds the endpoint."""
        check_private_endpoint(self.endpoint)
        sock, self._auth, allow = open_router(self.ctx, keys_dir_of(self.settings), self.name,
                                              self.settings.curve)
        self.peers = Peers(allow)
        try:
            bound = bind(sock, self.endpoint)
        except Exception:
            sock.close(linger=0)
            self._stop_auth()
            raise
        self.sock = sock
        keys = keys_dir_of(self.settings)
        public = curve.own_key(keys, "gameserver", self.name).public.decode() if self.settings.curve else ""
        try:
            self.ownership.register(bound, public, self.settings.max_tables, len(self.tables))
        except SQLAlchemyError as exc:
            log.error("could not enter the registry (%s); retried every heartbeat", exc)
        return bound

    def _stop_auth(self) -> None:
        if self._auth is not None:
            self._auth.stop()
            self._auth = None

    async def run(self) -> None:
        """Serve until `stop()`; the caller binds first (so it can report the endpoint)."""
        loop = asyncio.get_running_loop()
        assert self.sock is not None
        loop.add_reader(cast(int, self.sock.getsockopt(zmq.FD)), self._drain)
        heartbeat = asyncio.ensure_future(self._heartbeats())
        loop.call_soon(self._drain)
        self._rearm_handle()
        try:
            await self._stopped.wait()
            self._farewell()
        finally:
            heartbeat.cancel()
            loop.remove_reader(cast(int, self.sock.getsockopt(zmq.FD)))
            self.replays.close()
            self._flush()
            self.store.close()
            self.sock.close(linger=0)
            self._stop_auth()
            try:
                self.ownership.leave()
            except SQLAlchemyError as exc:
                log.warning("could not leave the registry (%s); the lease runs out by itself", exc)

    def stop(self) -> None:
        self._stopped.set()

    def _farewell(self) -> None:
        """A graceful stop: everything is written; tell every player their table is coming back."""
        for table in self.tables.values():
            frame = p.encode_str(p.TableStatus(table=table.id, available=False,
                                               text="the game server is restarting; your seat is kept"))
            self._pending_out.append(Outbound(table.watchers(), frame))
        self._commit_and_send()

    # ---- socket --------------------------------------------------------------------------------

    def _drain(self) -> None:
        """Read everything waiting (the FD is edge-triggered), then commit once and reply."""
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
        while handled < BATCH and cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK, copy=False)
            except zmq.Again:
                break
            if len(frames) < 2:
                log.warning("dropped a message of %d frames", len(frames))
                self.metrics.messages_in("malformed").inc()
                handled += 1
                continue
            # a realtime process sends what one of its loop passes produced as one message, one part each
            key = str(frames[1].get("User-Id")).encode() if self.peers.allow is not None else None
            route = frames[0].bytes
            for body in frames[1:]:
                handled += 1
                try:
                    self._on_message(route, key, body.bytes, now)
                except Exception:  # one message must not stop the loop for everybody else
                    log.exception("error handling a message from peer %s", route.hex())
        hot.add_outer(hp.FROM_REALTIME, started, hp.TABLE, table_before)
        self._commit_and_send()

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
        kept: list[Outbound] = []
        for item in self._pending_out:
            if item.table not in fenced:
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
        kept: list[Outbound] = []
        for item in self._pending_out:
            if item.table not in failed:
                kept.append(item)
            elif item.rid is not None:
                kept.append(self._failure(item))
        self._pending_out = kept

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
        """After sending: the edge-triggered FD may have swallowed an arrival, so look for one."""
        sock = self.sock
        if sock is not None and not sock.closed and cast(int, sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN:
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

    def _on_message(self, route: bytes, key: bytes | None, payload: bytes, now: float) -> None:
        """One message from a realtime process, authenticated as `key` (None without CURVE)."""
        try:
            msg = p.decode_internal(payload)
        except p.ProtocolError as exc:
            log.warning("bad message from peer %s: %s", route.hex(), exc.text)
            self.metrics.messages_in("malformed").inc()
            return
        self.metrics.messages_in(message_type(msg.body if isinstance(msg, p.Forward) else msg)).inc()
        if isinstance(msg, p.Heartbeat):
            declared = msg.sender
        elif isinstance(msg, (p.Forward, p.ConnClosed)):
            declared = realtime_of(msg.conn)
        else:
            log.warning("peer %s sent a %s, which only game servers send", route.hex(), type(msg).__name__)
            return
        peer, fresh = self.peers.identify(route, key, declared, now)
        if peer is None:
            return
        if fresh:
            log.info("realtime %s connected%s", declared, f" (key of {peer.name})" if peer.name else "")
        if isinstance(msg, p.Forward):
            if self._known_sender(msg):
                self._on_forward(msg, now, route)
        elif isinstance(msg, p.ConnClosed):
            self._on_conn_closed(msg.conn, now)
        elif fresh:
            self._send_heartbeat(peer)

    def _known_sender(self, msg: p.Forward) -> bool:
        """Defence in depth behind the realtime tier's token check: the user exists and the name is
        theirs. Anything else is refused (to that realtime process) and logged."""
        known = self._names.get(msg.user)
        if known != msg.name and len(msg.name) <= 64:
            if len(self._names) > 100_000:
                self._names.clear()
            known = self.store.user_name(msg.user)
            if known is not None:
                self._names[msg.user] = known
        if known is not None and known == msg.name:
            if not self.revocations.revoked(msg.user, msg.issued):
                return True
            frame = p.encode_str(p.Error(code=p.E_TOKEN_REVOKED, req=msg.body.req, text="you logged out or "
                                         "changed your password since this token was issued; log in again"))
            self._pending_out.append(Outbound([msg.conn], frame, msg.rid, close=True))
            return False
        log.warning("refused a request from %s for user %d named %r: %s", realtime_of(msg.conn), msg.user,
                    msg.name[:40], "no such user" if known is None else "not that user's name",
                    extra=ids(table=getattr(msg.body, "table", None), user=msg.user, req=msg.body.req))
        self._reply(msg, p.Error(code=p.E_FORBIDDEN, text="this request names a player the game server "
                                 "does not know", req=msg.body.req))
        return False

    def _send_heartbeat(self, peer: Peer) -> None:
        assert self.sock is not None
        try:
            beat = p.Heartbeat(sender=self.name, tables=len(self.tables), boot=self.boot,
                               healthy=self.healthy, draining=self.draining, batches=True)
            self.sock.send_multipart([peer.route, p.encode(beat)], zmq.NOBLOCK)
        except zmq.Again:
            self.metrics.zmq_dropped("realtime").inc()
        self._check_input()

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.settings.heartbeat_interval)
            self.heartbeat_round(self.clock())

    def heartbeat_round(self, now: float) -> None:
        """Each heartbeat interval: probe a database that refused writes, drop realtime peers that went
        silent, heartbeat the others, and close abandoned tables."""
        interval = self.settings.heartbeat_interval
        self._announce_revocations(now)
        if not self.healthy and self.store.probe():
            self._set_healthy(True)
        self.placement_round(now)
        if not self._stopped.is_set():
            self.admin.round(now)
        # input still waiting means this server is behind, not that its peers went quiet
        behind = self.sock is not None and bool(cast(int, self.sock.getsockopt(zmq.EVENTS)) & zmq.POLLIN)
        revoked = set(self.peers.revoked())
        for identity in revoked:
            log.warning("realtime %s: its key was revoked; its connections are closed", identity)
            self._peer_lost(identity, now)
        for peer in self.peers:
            if not behind and now - peer.seen > interval * self.settings.heartbeat_liveness:
                log.warning("realtime %s is silent; marking its connections disconnected", peer.incarnation)
                self._peer_lost(peer.incarnation, now)
            else:
                self._send_heartbeat(peer)
        self._prune(now)

    def _announce_revocations(self, now: float) -> None:
        """Users who logged out or changed password since the last heartbeat: every realtime process
        closes their connections that hold an older token."""
        try:
            fresh = self.revocations.poll(now)
        except Exception:  # a failing database is noticed (and reported) by the probe
            log.warning("could not read revocations", exc_info=True)
            return
        for user, before in fresh:
            self._broadcast(p.Revoked(user=user, before=before))

    def _peer_lost(self, identity: str, now: float) -> None:
        """A realtime process went silent (or lost its key): its players are disconnected (bots cover
        their turns)."""
        self.peers.drop(identity)
        prefix = identity + ":"
        for conn in [c for c in self.conn_tables if c.startswith(prefix)]:
            self._on_conn_closed(conn, now)
        self._commit_and_send()

    # ---- requests ------------------------------------------------------------------------------

    def _on_forward(self, msg: p.Forward, now: float, route: bytes | None = None) -> None:
        started = hp.now_ns()
        try:
            self._handle_forward(msg, now, route)
        finally:
            self.metrics.hot.add(hp.TABLE, started)

    def _handle_forward(self, msg: p.Forward, now: float, route: bytes | None = None) -> None:
        body = msg.body
        who = Sender(conn=msg.conn, user=msg.user, name=msg.name)
        table: Table | None = None
        try:
            if isinstance(body, p.ListTables):
                self._reply(msg, p.Tables(tables=self._visible_tables(who.user), req=body.req))
            elif isinstance(body, p.CreateTable):
                self._create(who, body, msg.rid, now)
            else:
                table = self.tables.get(body.table) or self._locate(msg, route, now)
                if table is None:
                    return
                if not table.admits(who, getattr(body, "invite", None)):  # private: as if there were none
                    return self._refuse(who, msg.rid, body.req, p.E_NO_TABLE, f"no table {body.table}",
                                        body.table)
                self.conn_tables.setdefault(msg.conn, set()).add(table.id)
                opened = isinstance(body, (p.Join, p.Watch, p.Resume)) and msg.conn not in table.watchers()
                if isinstance(body, p.Chat):
                    self._chat(table, who, body, msg.rid, now)
                elif isinstance(body, p.Join) and isinstance(table, CashTable) \
                        and table.seat_of(who.user) is None:
                    self._cash_join(table, who, body, msg.rid, now)
                elif isinstance(body, p.TopUp) and isinstance(table, CashTable):
                    self._cash_top_up(table, who, body, msg.rid, now)
                else:
                    self._touch(table)
                    self._absorb(table, table.handle(who, body, msg.rid, now))
                if opened and msg.conn in table.watchers():
                    self._send_chat_history(table, msg.conn)
        except Exception:
            log.exception("error handling %s", type(body).__name__)
            self._reply(msg, p.Error(code=p.E_INTERNAL, text="internal error; the request was not applied",
                                     req=body.req))

    def _reply(self, msg: p.Forward, answer: Any) -> None:
        self._pending_out.append(Outbound([msg.conn], p.encode_str(answer), msg.rid, req=msg.body.req))

    def _refuse(self, who: Sender, rid: int, req: int | None, code: str, text: str,
                table: str | None = None) -> None:
        frame = p.encode_str(p.Error(code=code, text=text, req=req, table=table))
        self._pending_out.append(Outbound([who.conn], frame, rid, req=req))

    def _visible_tables(self, user: int) -> list[p.TableInfo]:
        return [t.info() for t in self.tables.values() if t.public or t.seat_of(user) is not None]

    def _chat(self, table: Table, who: Sender, body: p.Chat, rid: int, now: float) -> None:
        text = body.text.strip()
        error = self.chat.refusal(table.id, who.user, text, who.conn in table.watchers(), now)
        if error:
            return self._refuse(who, rid, body.req, error[0], error[1], table.id)
        self._touch(table)  # the line is sent only once it is stored
        line = p.ChatLine(table=table.id, name=who.name, text=text, ts=now)
        self.store.chat(table.id, who.user, who.name, text, now)
        self.chat.said(line)
        ack = p.encode_str(p.Ack(req=body.req, table=table.id))
        self._pending_out.append(Outbound([who.conn], ack, rid, req=body.req, table=table.id))
        self._pending_out.append(Outbound(table.watchers(), p.encode_str(line), table=table.id))

    def _send_chat_history(self, table: Table, conn: str) -> None:
        """A connection that just opened the table gets its recent chat (after its view)."""
        frame = self.chat.history(table.id)
        if frame is not None:
            self._pending_out.append(Outbound([conn], frame, table=table.id))

    def _on_conn_closed(self, conn: str, now: float) -> None:
        for table_id in self.conn_tables.pop(conn, ()):
            table = self.tables.get(table_id)
            if table is not None:
                self._touch(table)
                self._absorb(table, table.connection_lost(conn, now))

    def _absorb(self, table: Table, result: Result, logged: bool = False) -> None:
        """Queue a table's entries (unless `logged`: already committed), a snapshot when one is due, a
        finished game's record and the frames; re-arm its timer. The caller touched the table first."""
        for item in result.out:
            item.table = table.id
        if result.log:
            if not logged:
                self.store.append(table.id, result.first_seq, result.log)
            first, last = result.first_seq, table.seq
            if last // SNAPSHOT_EVERY > (first - 1) // SNAPSHOT_EVERY or any(
                    isinstance(x, (e.Started, e.HandDealt, e.Redealt)) for x in result.log):
                self.store.snapshot(table.id, last, en.snapshot(table.state))
            status = table.status
            if status != "waiting" and self._status_written.get(table.id) != status:
                self._status_written[table.id] = status  # once per change, not one UPDATE per move
                self.store.set_status(table.id, status)
        if result.finished is not None:
            record = result.finished
            try:
                made = history.finished(table.config, record, time.time())
            except Exception:  # a replay that cannot be built must not lose the game's record
                log.exception("table %s: no replay for the finished game", table.id)
                made = history.Finished({"finished": time.time()}, None)
            self.store.finish(made.result, table_id=table.id, game=table.game.name, players=record.players,
                              scores=list(record.outcome.scores), winners=list(record.outcome.winners),
                              actions=record.actions, detail=dict(record.outcome.detail), **made.columns)
            self.replays.submit(table.config, record, made)
        if result.tournament is not None:  # a sit-and-go's places and prizes, with the entry that paid them
            self.store.finish(history.tournament_result(result.tournament), **result.tournament)
        self._pending_out.extend(result.out)
        moves_only = bool(result.log) and all(isinstance(x, (e.Acted, e.Contributed)) for x in result.log)
        if result.finished is not None or not moves_only:
            self.lobby.dirty.add(table.id)  # a move alone changes nothing the lobby shows
        self._arm(table)

    # ---- timers --------------------------------------------------------------------------------

    def _arm(self, table: Table) -> None:
        when = table.wake_at()
        if when is None:
            return
        heapq.heappush(self._timers, (when, table.id))
        if self._timers[0][1] == table.id:
            self._rearm_handle()

    def _rearm_handle(self) -> None:
        if self._timer_handle is not None:
            self._timer_handle.cancel()
            self._timer_handle = None
        if not self._timers:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # not serving yet (recovery): run() re-arms
        delay = max(0.0, self._timers[0][0] - self.clock())
        self._timer_handle = loop.call_later(delay, self._on_timers)

    def _on_timers(self) -> None:
        self._timer_handle = None
        now = self.clock()
        due: set[str] = set()
        while self._timers and self._timers[0][0] <= now:
            due.add(heapq.heappop(self._timers)[1])
        for table_id in due:
            table = self.tables.get(table_id)
            if table is None:
                continue
            when = table.wake_at()
            if when is not None and when <= now:
                try:
                    self._touch(table)
                    self._absorb(table, table.tick(now))
                except Exception:
                    log.exception("table %s: automatic move failed", table_id)
            else:
                self._arm(table)
        self._commit_and_send()
        self._rearm_handle()

    def _forget(self, table_id: str) -> None:
        del self.tables[table_id]
        self.chat.forget(table_id)
        self._status_written.pop(table_id, None)
        self.lobby.dirty.add(table_id)
        self.store.release(table_id)

    def _prune(self, now: float) -> None:
        """Forget finished tables nobody watches (their record stays in the database), and close
        tables nobody sits at or watches (bots alone do not keep a table open)."""
        for table_id, table in list(self.tables.items()):
            if table.over and not table.watchers():
                self._forget(table_id)
            elif table.abandoned():
                self._touch(table)
                self._absorb(table, table.close("abandoned", now))
                self._forget(table_id)
        if self.store.dirty:
            self._commit_and_send()
        self._announce_lobby()
        self._check_input()  # the lobby broadcast may have swallowed the FD's edge of an arrival
