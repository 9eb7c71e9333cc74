"""One table: seats, spectators, the game state, its sequence number, its log, bots and the turn clock.

`Table.handle(sender, request, now)` validates a request in a fixed order, applies it, and returns what to
send (`Outbound`) and what to append to the log. It does no I/O and reads no clock: the server hands it
`now` and calls `tick(now)` when `wake_at()` says a bot or the clock is due. Every frame to a viewer is
built from that viewer's own view, so nothing hidden can leave through here.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from common import protocol as p
from common.views import GameView
from gameserver.rules.base import Event, Game, IllegalMove, Outcome

#: Events kept per table for clients that resume (older ones are summarized by the fresh view).
EVENT_MEMORY = 256
#: Consecutive clock expiries after which a bot plays for the seat until its player acts again.
AWAY_AFTER_TIMEOUTS = 2


@dataclass
class Seat:
    user: int  # 0 for a bot
    name: str
    bot: bool = False
    conn: str | None = None  # the connection watching this seat, if any
    away: bool = False  # a bot plays for this human until they act again
    timeouts: int = 0
    stack: int = 0  # cash tables: chips in front of the player between hands
    gone_since: float | None = None  # when the player's connection went away (grace period running)
    leaving: bool = False  # cash tables: stands up when the current hand ends


@dataclass(frozen=True)
class Sender:
    conn: str
    user: int
    name: str


@dataclass
class Outbound:
    """An encoded frame for some connections; `rid` marks it as the answer to that request."""

    conns: list[str]
    frame: str
    rid: int | None = None
    close: bool = False  # close those connections after sending


@dataclass
class Result:
    out: list[Outbound] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)  # entries to append to the durable log
    finished: Outcome | None = None  # set when this call ended the game (or a hand, at a cash table)
    chips: list[tuple[int, int]] = field(default_factory=list)  # (user, +/- chips) to the balance


class Refused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code = code
        self.text = text


#: The method of Table that handles each request type.
_HANDLERS: dict[type, str] = {kind: f"_on_{kind.__name__.lower()}" for kind in (
    p.Join, p.AddBot, p.Leave, p.Watch, p.Start, p.Act, p.Resume)}  # chat: GameServer stores it


class Table:
    def __init__(self, table_id: str, game: Game, *, seats: int, options: Mapping[str, Any], creator: int,
                 seed: int, clock: float | None = None, public: bool = True, bot_delay: float = 0.6,
                 grace_period: float = 120.0, bot_rng: random.Random | None = None) -> None:
        self.id = table_id
        self.game = game
        self.options = dict(options)
        self.creator = creator
        self.clock = clock
        self.public = public
        self.bot_delay = bot_delay
        self.grace_period = grace_period
        #: Bots do not stand in for people before this (after a restart, players get time to resume).
        self.hold_bots_until = 0.0
        #: user -> (req, seq acted on, action) of their last applied move: a retry is answered, not replayed
        self.last_acts: dict[int, tuple[int, int, Any]] = {}
        self.seats: list[Seat | None] = [None] * seats
        self.spectators: dict[str, Sender] = {}
        self.state: Any = None
        self.seq = 0
        self.log: list[dict[str, Any]] = []  # the full log, replayable with the seed
        self.recent: deque[tuple[int, list[Event]]] = deque(maxlen=EVENT_MEMORY)
        self.deadline: float | None = None  # monotonic-free: the server's `now` timebase
        self._to_act: tuple[int, ...] = ()
        self._turn_began: dict[int, int] = {}  # seat -> seq at which its current turn began
        self._seed = seed  # secret: never put in any frame
        self._bot_rng = bot_rng or random.Random()

    # ---- what the lobby sees -------------------------------------------------------------------

    @property
    def status(self) -> str:
        if self.state is None:
            return "waiting"
        return "over" if self.game.outcome(self.state) is not None else "playing"

    def players(self) -> list[str | None]:
        return [s.name if s else None for s in self.seats]

    def info(self) -> p.TableInfo:
        return p.TableInfo(id=self.id, game=self.game.name, seats=len(self.seats), players=self.players(),
                           status=self.status, spectators=len(self.spectators), public=self.public,
                           clock=self.clock, options=self.options, creator=self.creator)

    def abandoned(self) -> bool:
        """No person seated (even one whose seat is being held) and nobody watching."""
        return not self.watchers() and not any(s is not None and not s.bot for s in self.seats)

    def seat_of(self, user: int) -> int | None:
        for i, s in enumerate(self.seats):
            if s is not None and not s.bot and s.user == user:
                return i
        return None

    # ---- requests ------------------------------------------------------------------------------

    def handle(self, who: Sender, req: p.TableRequest, rid: int, now: float) -> Result:
        """Validate and apply one request. A refused request changes nothing and answers an error."""
        result = Result()
        try:
            getattr(self, _HANDLERS[type(req)])(who, req, rid, now, result)
        except Refused as exc:
            frame = p.encode_str(p.Error(code=exc.code, text=exc.text, req=req.req, table=self.id))
            return Result(out=[Outbound([who.conn], frame, rid)])
        return result

    def _ack(self, who: Sender, req: Any, rid: int, result: Result, seat: int | None = None) -> None:
        frame = p.encode_str(p.Ack(req=req.req, table=self.id, seat=seat))
        result.out.append(Outbound([who.conn], frame, rid))

    def _on_join(self, who: Sender, req: p.Join, rid: int, now: float, result: Result) -> None:
        mine = self.seat_of(who.user)
        if mine is not None:  # joining again = taking the seat back on this connection
            result.out.extend(self._attach(mine, who.conn))
            self._ack(who, req, rid, result, mine)
            result.out.extend(self._views_for([who.conn], []))
            return
        seat = self._open_seat(req.seat)
        occupant = self._new_seat(who, req, result)
        self.spectators.pop(who.conn, None)
        self._take_seat(result, seat, occupant)
        self._ack(who, req, rid, result, seat)
        self._changed(result, [], now)

    def _on_addbot(self, who: Sender, req: p.AddBot, rid: int, now: float, result: Result) -> None:
        if who.user != self.creator:
            raise Refused(p.E_NOT_CREATOR, "only the table's creator can add bots")
        seat = self._open_seat(req.seat)
        name = f"Bot {sum(1 for s in self.seats if s and s.bot) + 1}"
        self._take_seat(result, seat, self._new_bot(name))
        self._ack(who, req, rid, result, seat)
        self._changed(result, [], now)

    def _open_seat(self, wanted: int | None) -> int:
        """The seat to fill (the asked one, or the first free one), or Refused."""
        if not self._seating_open():
            raise Refused(p.E_ALREADY_STARTED, "the game has started; you can watch it instead")
        seat = wanted if wanted is not None else self._free_seat()
        if seat is None:
            raise Refused(p.E_TABLE_FULL, "every seat at this table is taken")
        if not 0 <= seat < len(self.seats):
            raise Refused(p.E_BAD_FIELD, f"seat must be between 0 and {len(self.seats) - 1}")
        if self.seats[seat] is not None:
            raise Refused(p.E_SEAT_TAKEN, f"seat {seat} is taken")
        return seat

    def _take_seat(self, result: Result, seat: int, occupant: Seat) -> None:
        self.seats[seat] = occupant
        self._record(result, {"t": "seat", "seat": seat, "user": occupant.user, "name": occupant.name,
                              "bot": occupant.bot, "stack": occupant.stack})

    # hooks a kind of table (a cash table) changes
    def _seating_open(self) -> bool:
        return self.state is None

    def _new_seat(self, who: Sender, req: p.Join, result: Result) -> Seat:
        return Seat(user=who.user, name=who.name, conn=who.conn)

    def _new_bot(self, name: str) -> Seat:
        return Seat(user=0, name=name, bot=True)

    def _on_leave(self, who: Sender, req: p.Leave, rid: int, now: float, result: Result) -> None:
        if self.spectators.pop(who.conn, None) is not None:
            self._ack(who, req, rid, result)
            return
        seat = self.seat_of(who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "you are not at this table")
        self._leave_seat(result, seat)
        self._ack(who, req, rid, result)
        self._changed(result, [], now)

    def _leave_seat(self, result: Result, seat: int) -> None:
        """A player leaves: before the game the seat is freed; during it a bot plays it to the end."""
        occupant = self.seats[seat]
        assert occupant is not None
        if self.state is None:
            self._unseat(result, seat)
        else:
            occupant.conn, occupant.away = None, True
            self._record(result, {"t": "away", "seat": seat})

    def _unseat(self, result: Result, seat: int) -> None:
        self.seats[seat] = None
        self._record(result, {"t": "unseat", "seat": seat})

    def _on_watch(self, who: Sender, req: p.Watch, rid: int, now: float, result: Result) -> None:
        if not self.public and self.seat_of(who.user) is None:
            raise Refused(p.E_NO_TABLE, f"no table {self.id}")
        self.spectators[who.conn] = who
        self._ack(who, req, rid, result)
        result.out.extend(self._views_for([who.conn], []))

    def _on_start(self, who: Sender, req: p.Start, rid: int, now: float, result: Result) -> None:
        if self.seat_of(who.user) is None:
            raise Refused(p.E_NOT_SEATED, "only a seated player can start the game")
        if self.state is not None:
            raise Refused(p.E_ALREADY_STARTED, "the game has already started")
        free = sum(1 for s in self.seats if s is None)
        if free:
            raise Refused(p.E_NOT_STARTED, f"{free} seat(s) still free: wait for players or add bots")
        self._record(result, {"t": "start"})
        self._ack(who, req, rid, result)
        self._start(result, now)

    def _on_act(self, who: Sender, req: p.Act, rid: int, now: float, result: Result) -> None:
        if self.state is None:
            raise Refused(p.E_NOT_STARTED, "the game has not started yet")
        seat = self.seat_of(who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "you are not seated at this table")
        if self.game.outcome(self.state) is not None:
            raise Refused(p.E_GAME_OVER, "the game is over")
        to_act = self.game.to_act(self.state)
        if seat not in to_act:
            raise Refused(p.E_NOT_YOUR_TURN, "it is not your turn")
        retry = self.last_acts.get(who.user)
        if req.req is not None and retry == (req.req, req.seq, p.to_builtins(req.action)):
            self._ack(who, req, rid, result, seat)  # the same request again: answered, not applied twice
            result.out.extend(self._views_for([who.conn], []))
            return
        # Stale: the view acted on is older than this seat's turn (the clock or a bot moved for it, or
        # it is a new hand). Others' moves in a simultaneous phase (Hearts passing) do not count.
        if req.seq is not None and req.seq < self._turn_began.get(seat, 0):
            raise Refused(p.E_STALE, f"the table has moved on (now at seq {self.seq}, you sent {req.seq})")
        occupant = self.seats[seat]
        assert occupant is not None
        occupant.away, occupant.timeouts = False, 0
        result.out.extend(self._attach(seat, who.conn))
        self._apply(seat, req.action, result, now, (who.user, req.req, req.seq))
        self._ack(who, req, rid, result, seat)
        # the mover's ack goes before the views, so a client sees "ack, then the new view"
        result.out.insert(0, result.out.pop())

    def _on_resume(self, who: Sender, req: p.Resume, rid: int, now: float, result: Result) -> None:
        seat = self.seat_of(who.user)
        if seat is not None:
            result.out.extend(self._attach(seat, who.conn))
            occupant = self.seats[seat]
            assert occupant is not None
            occupant.away = False
        elif self.public:
            self.spectators[who.conn] = who
        else:
            raise Refused(p.E_NOT_SEATED, "you are not at this table")
        self._ack(who, req, rid, result, seat)
        missed = [e for s, evs in self.recent if s > req.last_seq for e in evs]
        if self.recent and self.recent[0][0] > req.last_seq + 1:
            missed = []  # some are gone: the fresh view stands for them
        result.out.extend(self._views_for([who.conn], missed))
        self._schedule(now)
        outcome = self.game.outcome(self.state) if self.state is not None else None
        if outcome is not None and self.game.series != "cash":  # the result, again
            result.out.append(Outbound([who.conn], self._game_over_frame(outcome)))

    def connection_lost(self, conn: str, now: float) -> Result:
        """A client connection went away: its seat is held for the grace period; a bot covers its turns."""
        result = Result()
        self.spectators.pop(conn, None)
        for seat in self.seats:
            if seat is not None and seat.conn == conn:
                seat.conn, seat.gone_since = None, now
        self._schedule(now)
        return result

    def recovered(self, now: float, hold: float) -> None:
        """Rebuilt after a restart: nobody is connected yet; give people `hold` seconds to resume."""
        for seat in self.seats:
            if seat is not None and not seat.bot:
                seat.conn, seat.gone_since = None, now
        self.hold_bots_until = now + hold
        self._to_act = ()
        self._schedule(now)

    def _expired_seats(self, now: float) -> list[int]:
        return [i for i, s in enumerate(self.seats) if s is not None and not s.bot and s.gone_since is not None
                and now >= s.gone_since + self.grace_period]

    def _stand_up_absent(self, result: Result, seat: int, now: float) -> None:
        """Grace period over: before the game the seat is freed; during it a bot takes the seat for good."""
        occupant = self.seats[seat]
        assert occupant is not None
        if self.state is None:
            self._unseat(result, seat)
        else:
            self.seats[seat] = Seat(user=0, name=f"{occupant.name} (bot)", bot=True)
            self._record(result, {"t": "stood_up", "seat": seat})
        self._changed(result, [], now)

    # ---- time ----------------------------------------------------------------------------------

    def wake_at(self) -> float | None:
        """When `tick` should next run (a bot or absent player to move, the clock, a grace period)."""
        times = [s.gone_since + self.grace_period for s in self.seats
                 if s is not None and not s.bot and s.gone_since is not None]
        if self.state is not None and self.game.outcome(self.state) is None:
            times.extend(t for t in (self._bot_due, self.deadline) if t is not None)
        return min(times) if times else None

    _bot_due: float | None = None

    def tick(self, now: float) -> Result:
        """Let due bots move and act for players whose clock ran out."""
        result = Result()
        for seat in self._expired_seats(now):
            self._stand_up_absent(result, seat, now)
        for _ in range(64):  # bounded: a few automatic moves per tick at most
            if self.state is None or self.game.outcome(self.state) is not None:
                break
            seat, action = self._automatic_move(now)
            if seat is None:
                break
            self._apply(seat, action, result, now)
        return result

    def _automatic_move(self, now: float) -> tuple[int | None, Any]:
        to_act = self.game.to_act(self.state)
        if self._bot_due is not None and now >= self._bot_due:
            for seat in to_act:
                if self._needs_bot(seat):
                    return seat, self.game.bot_move(self.state, seat, self._bot_rng)
        if self.deadline is not None and now >= self.deadline:
            for seat in to_act:
                occupant = self.seats[seat]
                assert occupant is not None
                occupant.timeouts += 1
                if occupant.timeouts >= AWAY_AFTER_TIMEOUTS:
                    occupant.away = True
                return seat, self.game.timeout_move(self.state, seat)
        return None, None

    def _needs_bot(self, seat: int) -> bool:
        occupant = self.seats[seat]
        return occupant is not None and (occupant.bot or occupant.away or occupant.conn is None)

    # ---- internals -----------------------------------------------------------------------------

    def _free_seat(self) -> int | None:
        return next((i for i, s in enumerate(self.seats) if s is None), None)

    def _attach(self, seat: int, conn: str) -> list[Outbound]:
        """Bind a seat to a connection; a different connection still holding it is told and closed."""
        occupant = self.seats[seat]
        assert occupant is not None
        out: list[Outbound] = []
        if occupant.conn is not None and occupant.conn != conn:
            frame = p.encode_str(p.Error(code=p.E_REPLACED, table=self.id,
                                         text="you took this seat from another connection; this one is closed"))
            out.append(Outbound([occupant.conn], frame, close=True))
        occupant.conn, occupant.gone_since = conn, None
        self.spectators.pop(conn, None)
        return out

    def _record(self, result: Result, entry: dict[str, Any], events: list[Event] | None = None) -> None:
        """Append to the log; every entry is one step of `seq`, so a replay counts the same."""
        self.log.append(entry)
        result.log.append(entry)
        self.seq += 1
        self.recent.append((self.seq, events or []))

    def _start(self, result: Result, now: float) -> None:
        self.state = self.game.setup(len(self.seats), random.Random(self._seed), self.options)
        events = self.game.opening_events(self.state)
        if self.recent:
            self.recent[-1] = (self.seq, events)  # the "start" entry's events: the deal
        self._changed(result, events, now)

    def _apply(self, seat: int, action: Any, result: Result, now: float,
               request: tuple[int, int | None, int | None] | None = None) -> None:
        """Apply a move; `request` is (user, req, seq) when a person sent it, kept to answer retries."""
        try:
            self.state, events = self.game.apply(self.state, seat, action)
        except IllegalMove as exc:
            raise Refused(p.E_ILLEGAL_MOVE, str(exc)) from None
        entry = {"t": "act", "seat": seat, "action": p.to_builtins(action)}
        if request is not None and request[1] is not None:
            user, req, seq = request
            entry.update(user=user, req=req, from_seq=seq)
            self.last_acts[user] = (req, seq, entry["action"])
        self._record(result, entry, events)
        self._changed(result, events, now)
        outcome = self.game.outcome(self.state)
        if outcome is not None:
            result.finished = outcome
            result.out.append(Outbound(self.watchers(), self._game_over_frame(outcome)))
            self._after_game(result, outcome, now)

    def _game_over_frame(self, outcome: Outcome) -> str:
        names = [s.name if s else "" for s in self.seats]
        return p.encode_str(p.GameOver(table=self.id, seq=self.seq, scores=list(outcome.scores),
                                       players=names, winners=list(outcome.winners)))

    def _after_game(self, result: Result, outcome: Outcome, now: float) -> None:
        """Hook: what happens when the game (a hand, at a cash table) ends. Nothing, for a match."""

    def _changed(self, result: Result, events: list[Event], now: float) -> None:
        self._schedule(now)
        result.out.extend(self._views_for(self.watchers(), events))

    def _schedule(self, now: float) -> None:
        """Re-arm the clock when the seats to act change, and the bot timer when a bot must move."""
        if self.state is None or self.game.outcome(self.state) is not None:
            self.deadline = self._bot_due = None
            return
        to_act = self.game.to_act(self.state)
        if to_act != self._to_act:
            self._turn_began = {s: self._turn_began.get(s, self.seq) if s in self._to_act else self.seq
                                for s in to_act}
            self._to_act = to_act
            self.deadline = now + self.clock if self.clock else None
        needy = [s for s in to_act if self._needs_bot(s)]
        if not needy:
            self._bot_due = None
        elif all(self.seats[s].bot for s in needy):  # type: ignore[union-attr]
            self._bot_due = now + self.bot_delay
        else:  # standing in for a person: not while they are given time to come back
            self._bot_due = max(now + self.bot_delay, self.hold_bots_until)

    def watchers(self) -> list[str]:
        conns = [s.conn for s in self.seats if s is not None and s.conn is not None]
        conns.extend(self.spectators)
        return conns

    def _views_for(self, conns: list[str], events: list[Event]) -> list[Outbound]:
        """Each connection's own view: seats get theirs, spectators share the public one."""
        out: list[Outbound] = []
        by_conn = {s.conn: i for i, s in enumerate(self.seats) if s is not None and s.conn is not None}
        spectators = [c for c in conns if c not in by_conn]
        # what every viewer's frame shares is worked out once, not once per seat
        shared = {"table": self.id, "seq": self.seq, "game": self.game.name, "status": self.status,
                  "players": self.players(), "deadline": self.deadline, "creator": self.creator,
                  "cash": self._cash_info(),
                  "bots": [i for i, s in enumerate(self.seats) if s is not None and (s.bot or s.away)]}
        for conn in conns:
            if conn in by_conn:
                out.append(Outbound([conn], self._view_frame(by_conn[conn], events, shared)))
        if spectators:
            out.append(Outbound(spectators, self._view_frame(None, events, shared)))
        return out

    def _view_frame(self, seat: int | None, events: list[Event], shared: dict[str, Any]) -> str:
        return p.encode_str(p.View(view=self._view_of(seat), seat=seat,
                                   events=[e.visible_to(seat) for e in events], **shared))

    def _view_of(self, seat: int | None) -> GameView | None:
        """The game's view for `seat` (None: a spectator); the one gate for hidden information."""
        return self.game.view(self.state, seat) if self.state is not None else None

    def _cash_info(self) -> p.CashInfo | None:
        """Hook: a cash table's own facts for every frame. None for a match."""
        return None

    # ---- recovery ------------------------------------------------------------------------------

    def replay(self, entries: list[dict[str, Any]]) -> None:
        """Rebuild from a stored log (seat changes, start, moves) without sending anything."""
        for entry in entries:
            kind = entry["t"]
            events: list[Event] = []
            if kind == "seat":
                self.seats[entry["seat"]] = Seat(user=entry["user"], name=entry["name"], bot=entry["bot"],
                                                 stack=entry.get("stack", 0))
            elif kind == "unseat":
                self.seats[entry["seat"]] = None
            elif kind == "away":
                self.seats[entry["seat"]].away = True  # type: ignore[union-attr]
            elif kind == "stood_up":
                gone = self.seats[entry["seat"]]
                assert gone is not None
                self.seats[entry["seat"]] = Seat(user=0, name=f"{gone.name} (bot)", bot=True)
            elif kind == "start":
                self.state = self.game.setup(len(self.seats), random.Random(self._seed), self.options)
            elif kind == "act":
                self.state, events = self.game.apply(self.state, entry["seat"],
                                                     p.action_from_builtins(entry["action"]))
                if "req" in entry:
                    self.last_acts[entry["user"]] = (entry["req"], entry["from_seq"], entry["action"])
                outcome = self.game.outcome(self.state)
                if outcome is not None:
                    self._replayed_game_end(outcome)
            else:
                self._replay_entry(entry)
            self.log.append(entry)
            self.seq += 1
            self.recent.append((self.seq, events))

    def actions_of_current_game(self) -> list[dict[str, Any]]:
        """The moves of the game that just ended (at a cash table: of the last hand)."""
        start = max((i for i, e in enumerate(self.log) if e["t"] in ("start", "hand")), default=-1)
        return [e for e in self.log[start + 1:] if e["t"] == "act"]

    def _replayed_game_end(self, outcome: Outcome) -> None:
        """Hook: replay reached the end of a game (a cash table settles its stacks here)."""

    def _replay_entry(self, entry: dict[str, Any]) -> None:
        """Hook for log entries only a kind of table writes."""
        raise ValueError(f"table {self.id}: unknown log entry {entry['t']!r}")
