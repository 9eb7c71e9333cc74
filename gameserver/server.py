"""The game-server process: a ZeroMQ ROUTER that hosts tables for any number of realtime processes.

Owns the socket loop, the table directory, timers (bots, turn clocks), liveness of realtime peers, chat,
and group commits to the store. Every message for a table is handled one at a time on this one thread
(one writer per table). Connection ids look like "<realtime id>:<n>", so a frame for a connection is
routed to the realtime process that holds it without any shared state.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import secrets
import time
from collections.abc import Callable
from typing import Any

import zmq

from common import protocol as p
from common.config import Settings
from gameserver.cash_table import CashTable
from gameserver.rules.base import Game
from gameserver.store import Store
from gameserver.table import Outbound, Refused, Result, Sender, Table

log = logging.getLogger("felt.gameserver")

#: Messages handled per pass before the store is flushed and replies go out.
BATCH = 256
CLOCK_MIN, CLOCK_MAX = 5.0, 3600.0


def check_private_endpoint(endpoint: str) -> None:
    """Refuse to bind a game server anywhere the Internet could reach: loopback or private addresses only.

    >>> check_private_endpoint("tcp://127.0.0.1:5601"); check_private_endpoint("ipc:///tmp/g1")
    """
    import ipaddress
    from urllib.parse import urlsplit

    parts = urlsplit(endpoint)
    if parts.scheme in ("ipc", "inproc"):
        return
    host = (parts.hostname or "").strip("[]")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(f"game server endpoint {endpoint!r}: bind to an IP address (loopback or private), "
                         "not a name or a wildcard") from None
    if address.is_unspecified or address.is_global:
        raise ValueError(f"game server endpoint {endpoint!r} is public; game servers bind to loopback or "
                         "an internal address only")


def realtime_of(conn: str) -> bytes:
    return conn.rpartition(":")[0].encode()


class ChatLimiter:
    """A token bucket per (table, user): `rate` lines per second, bursts of 5."""

    def __init__(self, rate: float, burst: float = 5.0) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[tuple[str, int], tuple[float, float]] = {}

    def allow(self, key: tuple[str, int], now: float) -> bool:
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens < 1:
            self._buckets[key] = (tokens, now)
            return False
        self._buckets[key] = (tokens - 1, now)
        return True

    def forget(self, table_id: str) -> None:
        for key in [k for k in self._buckets if k[0] == table_id]:
            del self._buckets[key]


class GameServer:
    def __init__(self, settings: Settings, name: str, endpoint: str, store: Store, games: dict[str, Game],
                 *, ctx: zmq.Context[Any] | None = None, clock: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.name = name
        self.endpoint = endpoint
        self.store = store
        self.games = games
        self.clock = clock
        self.ctx = ctx or zmq.Context.instance()
        self.tables: dict[str, Table] = {}
        self.peers: dict[bytes, float] = {}  # realtime identity -> last time heard from
        self.conn_tables: dict[str, set[str]] = {}  # connection -> tables it has touched
        self.chat_limiter = ChatLimiter(settings.chat_rate)
        self._timers: list[tuple[float, str]] = []
        self._timer_handle: asyncio.TimerHandle | None = None
        self._next_number = 0
        self._pending_out: list[Outbound] = []
        self._lobby_seen: dict[str, tuple[Any, ...]] = {}  # table -> what the lobby last heard of it
        self._lobby_dirty: set[str] = set()
        self._status_written: dict[str, str] = {}  # table -> the status last queued for the store
        self.sock: zmq.Socket[Any] | None = None
        self._stopped = asyncio.Event()
        self.boot = secrets.token_hex(4)

    # ---- lifecycle -----------------------------------------------------------------------------

    def _new_table(self, table_id: str, game: Game, **kw: Any) -> Table:
        """A match table, or a cash table for games played hand after hand (Hold'em)."""
        if game.series == "cash":
            return CashTable(table_id, game, bot_delay=self.settings.bot_delay,
                             grace_period=self.settings.grace_period, hand_pause=self.settings.hand_pause, **kw)
        return Table(table_id, game, bot_delay=self.settings.bot_delay, grace_period=self.settings.grace_period,
                     **kw)

    def recover(self) -> int:
        """Rebuild every unfinished table of this server from its stored log; returns how many."""
        self._next_number = self.store.last_table_number(self.name)
        for record, entries in self.store.open_tables(self.name):
            game = self.games.get(record.game)
            if game is None:
                log.error("table %s: game %r is not available; left closed", record.id, record.game)
                continue
            table = self._new_table(record.id, game, seats=record.seats, options=record.options,
                                    creator=record.creator, seed=int(record.seed), clock=record.clock,
                                    public=record.public)
            table.replay(entries)
            now = self.clock()
            table.recovered(now, hold=self.settings.resume_window)
            if isinstance(table, CashTable):
                table.after_recovery(now)
            self.tables[table.id] = table
            self._arm(table)
        return len(self.tables)

    def bind(self) -> None:
        check_private_endpoint(self.endpoint)
        sock = self.ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a restarted realtime process reuses its identity
        sock.bind(self.endpoint)
        self.sock = sock

    async def run(self) -> None:
        """Serve until `stop()`; the caller binds first (so it can report the endpoint)."""
        loop = asyncio.get_running_loop()
        assert self.sock is not None
        loop.add_reader(self.sock.getsockopt(zmq.FD), self._drain)
        heartbeat = asyncio.ensure_future(self._heartbeats())
        loop.call_soon(self._drain)
        self._rearm_handle()
        try:
            await self._stopped.wait()
            self._farewell()
        finally:
            heartbeat.cancel()
            loop.remove_reader(self.sock.getsockopt(zmq.FD))
            self.store.flush()
            self.sock.close(linger=0)

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
        assert sock is not None
        now = self.clock()
        handled = 0
        while handled < BATCH and sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            try:
                frames = sock.recv_multipart(zmq.NOBLOCK)
            except zmq.Again:
                break
            handled += 1
            if len(frames) != 2:
                log.warning("dropped a message of %d frames", len(frames))
                continue
            self._on_message(frames[0], frames[1], now)
        self._commit_and_send()

    def _commit_and_send(self) -> None:
        try:
            self.store.flush()
        except Exception:
            # Nothing of this pass may be acknowledged if it is not durable: tell the senders.
            log.exception("store flush failed; refusing this batch's replies")
            self._pending_out = [self._failure(o) for o in self._pending_out if o.rid is not None]
        out, self._pending_out = self._pending_out, []
        batches: dict[bytes, list[bytes]] = {}
        for item in out:
            self._send(item, batches)
        for peer, payloads in batches.items():  # one ZeroMQ message per realtime process per pass
            assert self.sock is not None
            try:
                self.sock.send_multipart([peer, *payloads], zmq.NOBLOCK)
            except zmq.Again:
                log.warning("realtime %r is not keeping up; dropped %d frames", peer, len(payloads))
        self._announce_lobby()
        self._check_input()

    def _announce_lobby(self) -> None:
        """Tell every realtime process which public tables changed in the lobby's eyes (once a pass)."""
        if not self._lobby_dirty:
            return
        changed, removed = [], []
        for table_id in self._lobby_dirty:
            table = self.tables.get(table_id)
            if table is None:
                if self._lobby_seen.pop(table_id, None) is not None:
                    removed.append(table_id)
                continue
            if not table.public:
                continue
            info = table.info()
            key = (tuple(info.players), info.status, info.spectators)
            if self._lobby_seen.get(table_id) != key:
                self._lobby_seen[table_id] = key
                changed.append(info)
        self._lobby_dirty.clear()
        if changed or removed:
            self._broadcast(p.TablesChanged(tables=changed, removed=removed))

    def _broadcast(self, msg: p.Msg) -> None:
        assert self.sock is not None
        payload = p.encode(msg)
        for peer in self.peers:
            try:
                self.sock.send_multipart([peer, payload], zmq.NOBLOCK)
            except zmq.Again:
                log.warning("realtime %r is not keeping up; dropped a lobby update", peer)

    def _check_input(self) -> None:
        """After sending: the edge-triggered FD may have swallowed an arrival, so look for one."""
        sock = self.sock
        if sock is not None and not sock.closed and sock.getsockopt(zmq.EVENTS) & zmq.POLLIN:
            asyncio.get_running_loop().call_soon(self._drain)

    def _failure(self, out: Outbound) -> Outbound:
        frame = p.encode_str(p.Error(code=p.E_INTERNAL, text="the move could not be saved; try again"))
        return Outbound(out.conns, frame, out.rid)

    def _send(self, out: Outbound, batches: dict[bytes, list[bytes]]) -> None:
        by_peer: dict[bytes, list[str]] = {}
        for conn in out.conns:
            by_peer.setdefault(realtime_of(conn), []).append(conn)
        for peer, conns in by_peer.items():
            if peer not in self.peers:
                continue
            msg = p.Deliver(conns=conns, frame=out.frame, rid=out.rid, close=out.close)
            batches.setdefault(peer, []).append(p.encode(msg))

    def _on_message(self, peer: bytes, payload: bytes, now: float) -> None:
        try:
            msg = p.decode_internal(payload)
        except p.ProtocolError as exc:
            log.warning("bad message from %r: %s", peer, exc.text)
            return
        fresh = peer not in self.peers
        self.peers[peer] = now
        if fresh:
            log.info("realtime %r connected", peer)
        if isinstance(msg, p.Forward):
            self._on_forward(msg, now)
        elif isinstance(msg, p.ConnClosed):
            self._on_conn_closed(msg.conn, now)
        elif isinstance(msg, p.Heartbeat) and fresh:
            self._send_heartbeat(peer)

    def _send_heartbeat(self, peer: bytes) -> None:
        assert self.sock is not None
        try:
            self.sock.send_multipart(
                [peer, p.encode(p.Heartbeat(sender=self.name, tables=len(self.tables), boot=self.boot))], zmq.NOBLOCK)
        except zmq.Again:
            pass
        self._check_input()

    async def _heartbeats(self) -> None:
        interval = self.settings.heartbeat_interval
        while True:
            await asyncio.sleep(interval)
            now = self.clock()
            # input still waiting means this server is behind, not that its peers went quiet
            behind = self.sock is not None and bool(self.sock.getsockopt(zmq.EVENTS) & zmq.POLLIN)
            for peer, seen in list(self.peers.items()):
                if not behind and now - seen > interval * self.settings.heartbeat_liveness:
                    self._peer_lost(peer, now)
                else:
                    self._send_heartbeat(peer)
            self._prune(now)

    def _peer_lost(self, peer: bytes, now: float) -> None:
        """A realtime process went silent: its players are disconnected (bots cover their turns)."""
        log.warning("realtime %r is silent; marking its connections disconnected", peer)
        del self.peers[peer]
        prefix = peer.decode() + ":"
        for conn in [c for c in self.conn_tables if c.startswith(prefix)]:
            self._on_conn_closed(conn, now)
        self._commit_and_send()

    # ---- requests ------------------------------------------------------------------------------

    def _on_forward(self, msg: p.Forward, now: float) -> None:
        body = msg.body
        who = Sender(conn=msg.conn, user=msg.user, name=msg.name)
        try:
            if isinstance(body, p.ListTables):
                self._reply(msg, p.Tables(tables=self._visible_tables(who.user), req=body.req))
            elif isinstance(body, p.CreateTable):
                self._create(who, body, msg.rid, now)
            else:
                table = self.tables.get(body.table)
                if table is None:
                    self._reply(msg, p.Error(code=p.E_NO_TABLE, text=f"no table {body.table}", req=body.req,
                                             table=body.table))
                    return
                self.conn_tables.setdefault(msg.conn, set()).add(table.id)
                if isinstance(body, p.Chat):
                    self._chat(table, who, body, msg.rid, now)
                elif isinstance(body, p.Join) and isinstance(table, CashTable) \
                        and table.seat_of(who.user) is None:
                    self._cash_join(table, who, body, msg.rid, now)
                else:
                    self._absorb(table, table.handle(who, body, msg.rid, now))
        except Exception:
            log.exception("error handling %s", type(body).__name__)
            self._reply(msg, p.Error(code=p.E_INTERNAL, text="internal error; the request was not applied",
                                     req=body.req))

    def _reply(self, msg: p.Forward, answer: Any) -> None:
        self._pending_out.append(Outbound([msg.conn], p.encode_str(answer), msg.rid))

    def _visible_tables(self, user: int) -> list[p.TableInfo]:
        return [t.info() for t in self.tables.values() if t.public or t.seat_of(user) is not None]

    def _create(self, who: Sender, body: p.CreateTable, rid: int, now: float) -> None:
        def refuse(code: str, text: str) -> None:
            self._pending_out.append(Outbound([who.conn], p.encode_str(
                p.Error(code=code, text=text, req=body.req)), rid))

        game = self.games.get(body.game)
        if game is None:
            return refuse(p.E_BAD_TABLE, f"unknown game {body.game!r}; choose one of {', '.join(self.games)}")
        if not game.min_seats <= body.seats <= game.max_seats:
            return refuse(p.E_BAD_TABLE, f"{game.title} needs {game.min_seats}–{game.max_seats} seats")
        if body.clock is not None and not CLOCK_MIN <= body.clock <= CLOCK_MAX:
            return refuse(p.E_BAD_TABLE, f"the clock must be {CLOCK_MIN:g}–{CLOCK_MAX:g} seconds, or off")
        if len(self.tables) >= self.settings.max_tables:
            return refuse(p.E_OVERLOADED, "this game server is full; try again shortly")
        try:
            options = game.check_options(body.seats, body.options)
        except ValueError as exc:
            return refuse(p.E_BAD_TABLE, str(exc))
        self._next_number += 1
        table_id = f"{self.name}-{self._next_number:04d}"
        seed = secrets.randbits(128)
        table = self._new_table(table_id, game, seats=body.seats, options=options, creator=who.user,
                                seed=seed, clock=body.clock, public=body.public)
        self.tables[table_id] = table
        self.store.create_table(id=table_id, server=self.name, game=game.name, seats=body.seats,
                                options=options, clock=body.clock, public=body.public, creator=who.user,
                                seed=str(seed), status="waiting", created=time.time())
        self.conn_tables.setdefault(who.conn, set()).add(table_id)
        join = p.Join(table=table_id, seat=0, buy_in=body.buy_in, req=body.req)
        if isinstance(table, CashTable):  # the creator sits down with the minimum buy-in, if they can
            try:
                join.buy_in = table.buy_in_for(join, self.store.balance(who.user))
            except Refused:  # too few chips to sit: the creator watches their new table instead
                self._absorb(table, table.handle(who, p.Watch(table=table_id, req=body.req), rid, now))
                return
        self._absorb(table, table.handle(who, join, rid, now))

    def _cash_join(self, table: CashTable, who: Sender, body: p.Join, rid: int, now: float) -> None:
        """Sitting down at a cash table: the buy-in must fit the table's limits and the balance."""
        try:
            body.buy_in = table.buy_in_for(body, self.store.balance(who.user))
        except Refused as exc:
            frame = p.encode_str(p.Error(code=exc.code, text=exc.text, req=body.req, table=table.id))
            self._pending_out.append(Outbound([who.conn], frame, rid))
            return
        self._absorb(table, table.handle(who, body, rid, now))

    def _chat(self, table: Table, who: Sender, body: p.Chat, rid: int, now: float) -> None:
        text = body.text.strip()
        error = None
        if who.conn not in table.watchers():
            error = (p.E_NOT_SEATED, "join or watch the table to chat")
        elif not text:
            error = (p.E_BAD_FIELD, "empty chat message")
        elif len(text) > self.settings.chat_max_chars:
            error = (p.E_BAD_FIELD, f"chat messages are limited to {self.settings.chat_max_chars} characters")
        elif not self.chat_limiter.allow((table.id, who.user), now):
            error = (p.E_RATE_LIMITED, "you are chatting too fast; wait a moment")
        if error:
            frame = p.encode_str(p.Error(code=error[0], text=error[1], req=body.req, table=table.id))
            self._pending_out.append(Outbound([who.conn], frame, rid))
            return
        self.store.chat(table.id, who.user, who.name, text)
        ack = p.encode_str(p.Ack(req=body.req, table=table.id))
        line = p.encode_str(p.ChatLine(table=table.id, name=who.name, text=text, ts=now))
        self._pending_out.append(Outbound([who.conn], ack, rid))
        self._pending_out.append(Outbound(table.watchers(), line))

    def _on_conn_closed(self, conn: str, now: float) -> None:
        for table_id in self.conn_tables.pop(conn, ()):
            table = self.tables.get(table_id)
            if table is not None:
                self._absorb(table, table.connection_lost(conn, now))

    def _absorb(self, table: Table, result: Result) -> None:
        """Queue a table's log entries and frames, record a finished game, and re-arm its timer."""
        if result.log:
            self.store.append(table.id, table.seq - len(result.log) + 1, result.log)
            status = table.status
            if status != "waiting" and self._status_written.get(table.id) != status:
                self._status_written[table.id] = status  # once per change, not one UPDATE per move
                self.store.set_status(table.id, status)
        if result.chips:
            self.store.move_chips(result.chips)
        if result.finished is not None:
            outcome = result.finished
            players = [{"seat": i, "user": s.user, "name": s.name, "bot": s.bot}
                       for i, s in enumerate(table.seats) if s is not None]
            self.store.finish(table_id=table.id, game=table.game.name, players=players,
                              scores=list(outcome.scores), winners=list(outcome.winners),
                              actions=table.actions_of_current_game(), detail=dict(outcome.detail),
                              finished=time.time())
        self._pending_out.extend(result.out)
        if result.finished is not None or not result.log or any(e["t"] != "act" for e in result.log):
            self._lobby_dirty.add(table.id)  # a move alone changes nothing the lobby shows
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
                    self._absorb(table, table.tick(now))
                except Exception:
                    log.exception("table %s: automatic move failed", table_id)
            else:
                self._arm(table)
        self._commit_and_send()
        self._rearm_handle()

    def _forget(self, table_id: str) -> None:
        del self.tables[table_id]
        self.chat_limiter.forget(table_id)
        self._status_written.pop(table_id, None)
        self._lobby_dirty.add(table_id)

    def _prune(self, now: float) -> None:
        """Forget finished tables nobody watches (their record stays in the database), and close
        tables nobody sits at or watches (bots alone do not keep a table open)."""
        for table_id, table in list(self.tables.items()):
            if table.status == "over" and not table.watchers():
                self._forget(table_id)
            elif table.abandoned():
                self._forget(table_id)
                self.store.set_status(table_id, "closed")
        if self.store.dirty:
            self._commit_and_send()
        self._announce_lobby()
        self._check_input()  # the lobby broadcast may have swallowed the FD's edge of an arrival
