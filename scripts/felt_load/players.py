"""Simulated players: seats that authenticate and tables of four that play real games through Felt.

Everything is callback-driven on one asyncio loop per worker process (no coroutine per message). A
`Group` is four seats that play together: the host creates a table, the others join, the host starts,
each seat moves `think` seconds (±20 %) after a view that offers it legal moves, and when the game is
over every seat leaves and the host opens a new table, so load stays steady.

Seats speak client protocol 2 as the browser does (a move is answered by the mover's own new view, which
carries its `req`; a server of an older version still sends an `ack`, and either counts as the answer).
Measured here, per move: the round trip (the mover's `act` to its answer, and to its own new view) and the
fan-out (the same send to the other seats' view with that `seq`; all four seats of a table live in one
process, so one clock times them all). `EchoGroup` is the same loop against a bare echo server: the mover
sends a frame of the same size to its room of four, and everybody's copy is timed the same way.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

from common import protocol as p
from scripts.felt_load import strategy as st
from scripts.felt_load.hist import Hist
from scripts.felt_load.wsclient import open_conn

clock = time.monotonic  # CLOCK_MONOTONIC: the same clock in every process of the machine


class Stats:
    """What one worker counted since the last reset (a step's window)."""

    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.started = clock()
        self.moves_sent = 0
        self.moves_acked = 0
        self.frames_in = 0
        self.bytes_in = 0
        self.frames_out = 0
        self.views = 0
        self.games = 0
        self.tables_opened = 0
        self.errors: dict[str, int] = {}
        self.dropped = 0
        self.bad_frames = 0
        self.rtt = Hist()  # act -> ack
        self.rtt_view = Hist()  # act -> the mover's new view
        self.fanout = Hist()  # act -> each other seat's view of it

    def error(self, code: str) -> None:
        self.errors[code] = self.errors.get(code, 0) + 1

    def to_json(self) -> dict[str, Any]:
        return {"elapsed": clock() - self.started, "moves_sent": self.moves_sent,
                "moves_acked": self.moves_acked,
                "frames_in": self.frames_in, "bytes_in": self.bytes_in, "frames_out": self.frames_out,
                "views": self.views, "games": self.games, "tables_opened": self.tables_opened,
                "errors": dict(self.errors), "dropped": self.dropped, "bad_frames": self.bad_frames,
                "rtt": self.rtt.to_json(), "rtt_view": self.rtt_view.to_json(),
                "fanout": self.fanout.to_json()}


class _Connected:
    """What every simulated connection shares: its stats, its timer, and closing without counting a drop."""

    stats: Stats
    conn: Any
    timer: asyncio.TimerHandle | None
    closing: bool

    def close(self) -> None:
        self.closing = True
        if self.timer is not None:
            self.timer.cancel()
        if self.conn is not None:
            self.conn.close()

    def on_close(self, code: int, reason: str) -> None:
        if not self.closing:
            self.stats.dropped += 1
            self.stats.error(f"closed_{code}")


class Seat(_Connected):
    """One simulated player: a connection, its requests in flight, and its latest view."""

    def __init__(self, token: str, url: str, transport: str, stats: Stats, protocol: int = 2) -> None:
        self.token, self.url, self.transport = token, url, transport
        self.protocol = protocol  # 2, as the browser: a move is answered by the mover's view (`req`)
        self.stats = stats
        self.conn: Any = None
        self.group: Group | None = None
        self.user: int | None = None
        self._req = 0
        self.pending: dict[int, str] = {}  # req -> what it was for
        self.view: st.View | None = None  # the latest view of the group's table
        self.timer: asyncio.TimerHandle | None = None
        self.act_sent = 0.0
        self.act_req = 0
        self.closing = False
        self.welcomed: asyncio.Future[bool] | None = None
        self.on_lobby: Callable[[Seat, p.LobbyUpdate, float], None] | None = None
        self.lobby_ready: asyncio.Future[None] | None = None

    async def connect(self, origin: str | None, timeout: float = 20.0) -> float:
        """Open the connection and authenticate; returns seconds from connect to welcome."""
        t0 = clock()
        self.conn = await open_conn(self.url, origin, self.transport, timeout)
        self.conn.on_message = self.on_message
        self.conn.on_close = self.on_close
        self.welcomed = asyncio.get_running_loop().create_future()
        self.send(p.Auth(token=self.token, protocol=self.protocol))
        if not await asyncio.wait_for(self.welcomed, timeout):
            raise ConnectionError("auth refused")
        return clock() - t0

    def send(self, msg: Any) -> None:
        self.stats.frames_out += 1
        self.conn.send(p.encode_str(msg))

    def request(self, msg: Any, kind: str) -> int:
        self._req += 1
        msg.req = self._req
        self.pending[self._req] = kind
        self.send(msg)
        return self._req

    # ---- inbound -------------------------------------------------------------------------------

    def on_close(self, code: int, reason: str) -> None:
        super().on_close(code, reason)
        if self.welcomed is not None and not self.welcomed.done():
            self.welcomed.set_exception(ConnectionError(f"closed {code} {reason}"))

    def on_message(self, text: str) -> None:
        now = clock()
        stats = self.stats
        stats.frames_in += 1
        stats.bytes_in += len(text)
        try:
            msg = st.decode(text)
        except Exception:
            stats.bad_frames += 1
            return
        group = self.group
        if isinstance(msg, st.View):
            stats.views += 1
            if group is not None:
                if msg.req is not None:  # protocol 2: the view that answers this seat's move
                    group.on_answer(self, msg.req, now)
                group.on_view(self, msg, now)
        elif isinstance(msg, p.Ack):
            if group is not None:
                group.on_ack(self, msg, now)
        elif isinstance(msg, p.GameOver):
            if group is not None:
                group.on_game_over(self, msg, now)
        elif isinstance(msg, p.Error):
            stats.error(msg.code)
            what = self.pending.pop(msg.req, None) if msg.req is not None else None
            if self.welcomed is not None and not self.welcomed.done():
                self.welcomed.set_result(False)
            elif group is not None:
                group.on_error(self, msg, what, now)
        elif isinstance(msg, p.Welcome):
            self.user = msg.user
            if self.welcomed is not None and not self.welcomed.done():
                self.welcomed.set_result(True)
        elif isinstance(msg, p.LobbyUpdate):
            if self.on_lobby is not None:
                self.on_lobby(self, msg, now)
        elif isinstance(msg, p.Tables):
            if self.lobby_ready is not None and not self.lobby_ready.done():
                self.lobby_ready.set_result(None)


class Group:
    """Four seats at one table: create, join, start, play, leave, and again."""

    def __init__(self, seats: list[Seat], game: str, stats: Stats, rng: random.Random) -> None:
        self.seats = seats
        for seat in seats:
            seat.group = self
        self.game = game
        self.stats = stats
        self.rng = rng
        self.think = 1.0
        self.active = False
        self.table: str | None = None
        self.state = "idle"
        self.joined = 0
        self.over = 0
        self.sent: dict[int, list[Any]] = {}  # expected view seq -> [send time, mover, views still due]
        self._restart: asyncio.TimerHandle | None = None
        self.last_progress = clock()

    @property
    def host(self) -> Seat:
        return self.seats[0]

    def _later(self, delay: float, fn: Callable[..., None], *args: Any) -> asyncio.TimerHandle:
        return asyncio.get_running_loop().call_later(delay, fn, *args)

    def _delay(self) -> float:
        return self.think * (0.8 + 0.4 * self.rng.random())

    # ---- control -------------------------------------------------------------------------------

    def set_active(self, active: bool, think: float) -> None:
        was, self.active, self.think = self.active, active, think
        if active and not was:
            self.last_progress = clock()  # a pause is not a stall
            if self.state == "idle":
                self._restart = self._later(self.rng.random() * max(think, 0.01), self.begin)
            else:
                for seat in self.seats:  # resume a game paused mid-way
                    self._maybe_schedule(seat)
        if not active:
            for seat in self.seats:
                if seat.timer is not None:
                    seat.timer.cancel()
                    seat.timer = None

    def begin(self) -> None:
        self._restart = None
        if not self.active or any(s.conn is None or s.conn.closed for s in self.seats):
            self.state = "idle"
            return
        self.state, self.table, self.joined, self.over = "creating", None, 0, 0
        self.sent.clear()
        for seat in self.seats:
            seat.view = None
        self.last_progress = clock()
        self.host.request(p.CreateTable(game=self.game, seats=len(self.seats)), "create")

    def _retry(self, delay: float = 0.5) -> None:
        """Setup failed: leave whatever table we had, and start over a little later."""
        if self.table is not None:
            for seat in self.seats:
                seat.request(p.Leave(table=self.table), "leave")
        self.state, self.table = "idle", None
        if self._restart is not None:
            self._restart.cancel()
        self._restart = self._later(delay, self.begin)

    def watchdog(self, now: float, limit: float) -> None:
        """A table that made no progress for `limit` seconds while active is abandoned and replaced."""
        if self.active and self.state != "idle" and now - self.last_progress > limit:
            self.stats.error("stalled")
            self._retry(0.1)

    # ---- frames --------------------------------------------------------------------------------

    def on_answer(self, seat: Seat, req: int, now: float) -> None:
        """A view answered `seat`'s request `req` (protocol 2: an applied move)."""
        if seat.pending.pop(req, None) == "act":
            self._move_answered(seat, req, now)

    def _move_answered(self, seat: Seat, req: int, now: float) -> None:
        self.stats.moves_acked += 1
        if req == seat.act_req:
            self.stats.rtt.add(now - seat.act_sent)

    def on_ack(self, seat: Seat, ack: p.Ack, now: float) -> None:
        kind = seat.pending.pop(ack.req, None) if ack.req is not None else None
        if kind == "act" and ack.req is not None:
            self._move_answered(seat, ack.req, now)
        elif kind == "create" and self.state == "creating":
            self.table, self.state = ack.table, "joining"
            self.stats.tables_opened += 1
            self.last_progress = now
            for guest in self.seats[1:]:
                guest.request(p.Join(table=ack.table or ""), "join")
            if len(self.seats) == 1:
                self.host.request(p.Start(table=self.table or ""), "start")
        elif kind == "join" and self.state == "joining" and ack.table == self.table:
            self.joined += 1
            if self.joined == len(self.seats) - 1:
                self.state = "starting"
                self.host.request(p.Start(table=self.table or ""), "start")
        elif kind == "start" and self.state == "starting":
            self.state = "playing"

    def on_view(self, seat: Seat, view: st.View, now: float) -> None:
        if view.table != self.table:
            return
        self.last_progress = now
        entry = self.sent.get(view.seq)
        if entry is not None:
            sent_at, mover = entry[0], entry[1]
            if seat is mover:
                self.stats.rtt_view.add(now - sent_at)
            else:
                self.stats.fanout.add(now - sent_at)
            entry[2] -= 1
            if entry[2] <= 0:
                del self.sent[view.seq]
        seat.view = view
        if view.status == "playing" and view.legal:
            self._maybe_schedule(seat)

    def _maybe_schedule(self, seat: Seat) -> None:
        if self.active and seat.timer is None and seat.view is not None and seat.view.legal:
            seat.timer = self._later(self._delay(), self._act, seat)

    def _act(self, seat: Seat) -> None:
        seat.timer = None
        view = seat.view
        if not self.active or view is None or view.table != self.table or view.status != "playing":
            return
        action = st.choose(view.legal, self.rng)
        if action is None:
            return
        now = clock()
        seat.act_sent = now
        seat.act_req = seat.request(p.Act(table=view.table, action=action, seq=view.seq), "act")
        self.sent[view.seq + 1] = [now, seat, len(self.seats)]
        if len(self.sent) > 64:  # views that never came (a refused act): forget the oldest
            del self.sent[next(iter(self.sent))]
        self.stats.moves_sent += 1

    def on_game_over(self, seat: Seat, over: p.GameOver, now: float) -> None:
        if over.table != self.table:
            return
        self.over += 1
        self.last_progress = now
        seat.request(p.Leave(table=over.table), "leave")  # lets the server forget the finished table
        if self.over == len(self.seats):
            self.stats.games += 1
            self.state, self.table = "idle", None
            if self.active:
                self._restart = self._later(self._delay(), self.begin)

    def on_error(self, seat: Seat, err: p.Error, what: str | None, now: float) -> None:
        if what in ("create", "join", "start"):
            self._retry()
        elif what == "act" and self.table is not None:
            # refused move: ask for the current view, which schedules the next move if it is ours
            last = seat.view.seq if seat.view is not None else 0
            seat.request(p.Resume(table=self.table, last_seq=last), "resume")


# ---- the echo baseline -----------------------------------------------------------------------------


class EchoSeat(_Connected):
    """A connection to the bare echo server, in a room of four."""

    def __init__(self, url: str, stats: Stats) -> None:
        self.url = url
        self.stats = stats
        self.conn: Any = None
        self.group: EchoGroup | None = None
        self.index = 0
        self.timer: asyncio.TimerHandle | None = None
        self.closing = False

    async def connect(self, origin: str | None, timeout: float = 20.0) -> float:
        t0 = clock()
        self.conn = await open_conn(self.url, origin, "websocket", timeout)
        self.conn.on_message = self.on_message
        self.conn.on_close = self.on_close
        return clock() - t0

    def send(self, text: str) -> None:
        self.stats.frames_out += 1
        self.conn.send(text)

    def on_message(self, text: str) -> None:
        now = clock()
        self.stats.frames_in += 1
        self.stats.bytes_in += len(text)
        if self.group is not None:
            self.group.on_frame(self, text, now)


class EchoGroup:
    """Four echo seats taking turns: the mover's frame goes to all four, then the next seat moves."""

    def __init__(self, seats: list[EchoSeat], room: str, stats: Stats, rng: random.Random, pad: int) -> None:
        self.seats = seats
        for i, seat in enumerate(seats):
            seat.group, seat.index = self, i
        self.room = room
        self.stats = stats
        self.rng = rng
        self.pad = "x" * max(0, pad)
        self.think = 1.0
        self.active = False
        self.seq = 0
        self.turn = 0
        self.sent: dict[int, list[Any]] = {}
        self.last_progress = clock()

    def join(self) -> None:
        for seat in self.seats:
            seat.send(f"J{self.room}")

    def set_active(self, active: bool, think: float) -> None:
        was, self.active, self.think = self.active, active, think
        if active and not was:
            self.last_progress = clock()
            mover = self.seats[self.turn]
            mover.timer = asyncio.get_running_loop().call_later(self.rng.random() * think, self._act, mover)
        if not active:
            for seat in self.seats:
                if seat.timer is not None:
                    seat.timer.cancel()
                    seat.timer = None

    def watchdog(self, now: float, limit: float) -> None:
        if self.active and now - self.last_progress > limit and not any(s.timer for s in self.seats):
            self.stats.error("stalled")
            self.last_progress = now
            self._schedule(self.seats[self.turn])

    def _schedule(self, seat: EchoSeat) -> None:
        if self.active and seat.timer is None:
            delay = self.think * (0.8 + 0.4 * self.rng.random())
            seat.timer = asyncio.get_running_loop().call_later(delay, self._act, seat)

    def _act(self, seat: EchoSeat) -> None:
        seat.timer = None
        if not self.active:
            return
        self.seq += 1
        now = clock()
        self.sent[self.seq] = [now, seat, len(self.seats)]
        if len(self.sent) > 64:
            del self.sent[next(iter(self.sent))]
        seat.send(f"M{self.seq}|{self.pad}")
        self.stats.moves_sent += 1

    def on_frame(self, seat: EchoSeat, text: str, now: float) -> None:
        if text[:1] != "M":
            return
        seq = int(text[1:text.index("|")])
        entry = self.sent.get(seq)
        self.last_progress = now
        if entry is None:
            return
        if seat is entry[1]:
            self.stats.moves_acked += 1
            self.stats.rtt.add(now - entry[0])
            self.stats.rtt_view.add(now - entry[0])
        else:
            self.stats.fanout.add(now - entry[0])
        self.stats.views += 1
        entry[2] -= 1
        if entry[2] <= 0:
            del self.sent[seq]
        if seat.index == (entry[1].index + 1) % len(self.seats) and seq == self.seq:
            self.turn = seat.index
            self._schedule(seat)
