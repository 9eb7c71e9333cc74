"""The game-server process: a ZeroMQ ROUTER that hosts tables for any number of realtime processes.

Owns the server's state and lifecycle (bind, run, a graceful stop), the table directory, liveness of
realtime peers (their messages, heartbeats, revocations), and the requests: dispatch to tables, chat, and
absorbing each table's result into the store and the outgoing frames. Every message for a table is
handled one at a time on this one thread (one writer per table). Connection ids look like
"<realtime identity>:<n>"; who may speak for which connections, and where their frames go, is
`gameserver.peers`' business (CurveZMQ keys, never a declared routing id).

The rest of `GameServer` is in its mixins: the socket loop's pass (drain, group commit and its undo,
sending, broadcasts) in `gameserver.socket_loop`, timers (bots, turn clocks) and pruning in
`gameserver.timers`, where tables come from and go to in `gameserver.placement`, and the opening of
tables and buy-ins in `gameserver.opening`.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from collections import deque
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
from gameserver.peers import Peers, bind, open_router
from gameserver.placement import Placement
from gameserver.replays import Replays
from gameserver.revocations import Revocations
from gameserver.rules.base import Game
from gameserver.sitandgo import SitAndGoTable, is_sit_and_go
from gameserver.socket_loop import SocketLoop
from gameserver.store import Store
from gameserver.table import Checkpoint, Outbound, Result, Sender, Table
from gameserver.timers import TableTimers
from gameserver.wal_checkpoints import WalCheckpointer

log = logging.getLogger("felt.gameserver")

#: A table writes a snapshot at every deal and after this many entries, so recovery folds a short tail.
SNAPSHOT_EVERY = 200


class GameServer(SocketLoop, TableTimers, Placement, TableOpening):
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
        self._inbox: deque[tuple[bytes, bytes | None, zmq.Frame]] = deque()  # see SocketLoop._drain
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
        checkpoints = WalCheckpointer(self.store.engine)
        if checkpoints.start():
            self.store.leave_checkpoints()
        try:
            await self._stopped.wait()
            self._farewell()
        finally:
            heartbeat.cancel()
            loop.remove_reader(cast(int, self.sock.getsockopt(zmq.FD)))
            self.replays.close()
            self._flush()
            self.store.close()
            checkpoints.stop()
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

    # ---- realtime peers: their messages and liveness -------------------------------------------

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
        who = Sender(conn=msg.conn, user=msg.user, name=msg.name, fold=msg.fold)
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
