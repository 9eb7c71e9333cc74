"""One table's host: decides each request, records the decision as log entries, and builds the frames.

`Table.handle(sender, request, rid, now)` validates a request in a fixed order against the table's
state. Deciding means adding typed entries (`gameserver.entries`), each applied at once by the one
reducer (`engine.evolve`); a refusal at any point drops every entry of that request and changes
nothing — not the state, not which connection holds a seat, not the log. The host also owns what is
not durable: which connection watches which seat, spectators, the grace period, the turn clock, bots'
timers and the recent events a client that resumes missed. It does no I/O and reads no clock: the
server hands it `now` and calls `tick(now)` when `wake_at()` says a bot or the clock is due. Every frame
to a viewer is built from that viewer's own view, so nothing hidden can leave through here.

The server checkpoints a table before a pass and rolls it back when the pass's writes fail to commit,
so memory never runs ahead of the log.

Its parts are mixins of `Table`: time (`table_time`: `wake_at`, `tick`, the clock and bot timers), fair
deals (`fair_host`), absence and time banks (`absence`), frames (`table_frames`) and seating (`seating`).
"""

from __future__ import annotations

import dataclasses
import hmac
import random
from collections import deque
from collections.abc import Mapping
from typing import Any

import msgspec

from common import protocol as p
from common.policy import DEFAULT as DEFAULT_POLICY
from common.policy import TablePolicy
from gameserver import engine as en
from gameserver import entries as e
from gameserver.absence import Absence
from gameserver.fair_host import FairDealing
from gameserver.rules.base import Event, Game, IllegalMove
from gameserver.seating import Seating
from gameserver.spectating import Delay, DelayLine
from gameserver.table_frames import TableFrames
from gameserver.table_time import TableTime
from gameserver.table_types import (
    HOLD_EVENT,
    TALLIED,
    Answer,
    Checkpoint,
    GameRecord,
    Outbound,
    Refused,
    Result,
    Sender,
)

# what a host takes and returns is part of its interface
__all__ = ["Checkpoint", "GameRecord", "Outbound", "Refused", "Result", "Sender", "Table", "rebuild"]

#: Events kept per table for clients that resume (older ones are summarized by the fresh view).
EVENT_MEMORY = 256
AWAY_AFTER_TIMEOUTS = en.AWAY_AFTER_TIMEOUTS


class Table(TableTime, FairDealing, Absence, TableFrames, Seating):
    def __init__(self, table_id: str, game: Game[Any], *, seats: int, options: Mapping[str, Any],
                 creator: int,
                 seed: int, clock: float | None = None, public: bool = True, rated: bool | None = None,
                 invite: str = "", bot_delay: float = 0.6, policy: TablePolicy = DEFAULT_POLICY,
                 bot_rng: random.Random | None = None, spectator_delay: Delay = 0,
                 grace_period: float | None = None, entropy_wait: float = 0.0) -> None:
        if grace_period is not None:  # the policy's `grace`, named as before policies
            policy = msgspec.structs.replace(policy, grace=grace_period)
        self.config = en.TableConfig(id=table_id, game=game, seats=seats, options=dict(options), seed=seed,
                                     creator=creator, clock=clock, public=public,
                                     rated=public if rated is None else rated, invite=invite, policy=policy)
        self.id, self.game, self.options, self.creator = table_id, game, self.config.options, creator
        self.clock, self.public = clock, public
        self.bot_delay = bot_delay
        #: How long a deal waits for the players' contributions at most (fair_host).
        self.entropy_wait = entropy_wait
        self.deal_due: float | None = None
        self.state = en.new_state(self.config)
        #: Bots do not stand in for people before this (after a restart, players get time to resume).
        self.hold_bots_until = 0.0
        self.conns: dict[int, str] = {}  # seat -> the connection watching it
        self.gone_since: dict[int, float] = {}  # seat -> when its player's connection went away
        self.spectators: dict[str, Sender] = {}
        self.spectator_delay = spectator_delay
        #: Spectators' frames held back on this server (None: spectators watch live).
        self.spectator_line = DelayLine(spectator_delay) if spectator_delay else None
        self.recent: deque[tuple[int, list[Event]]] = deque(maxlen=EVENT_MEMORY)
        self.game_actions: list[dict[str, Any]] = []  # moves of the current match or hand, for its record
        self.deadline: float | None = None  # in the server's `now` timebase
        self._bot_due: float | None = None
        self._armed_for: tuple[int, ...] | None = None  # the to_act the clock was last armed for
        self._armed_at = 0.0  # when the current turn began (in `now`'s timebase)
        self._bank_at_arm: dict[int, float] = {}  # seat to act -> its time bank when its turn began
        self._bot_rng = bot_rng or random.Random()
        self._pending: list[e.AnyEntry] = []  # entries of the request being decided
        self._steps: list[tuple[int, list[Event]]] = []
        self._ended: GameRecord | None = None  # the game (or hand) the request being decided ended
        self._answer: Answer | None = None  # the act being decided, to answer in its mover's view
        #: The entry that dealt the current match or hand and its seq, the state it left (None: not known,
        #: after a recovery from a later snapshot), and every entry since: the finished game's replay.
        self.deal: tuple[int, e.Started | e.HandDealt] | None = None
        self.dealt: en.TableState | None = None
        self.game_entries: list[tuple[int, e.AnyEntry]] = []
        #: The game's events its result counts, with the seq of the entry that reported each.
        self.game_tallied: list[tuple[int, Event]] = []

    # ---- what the lobby sees -------------------------------------------------------------------

    @property
    def policy(self) -> TablePolicy:
        return self.config.policy

    @property
    def grace_period(self) -> float:
        """Seconds a disconnected player's seat is held (the policy's `grace`)."""
        return self.config.policy.grace

    @grace_period.setter
    def grace_period(self, seconds: float) -> None:
        self._set_policy(grace=seconds)

    def _set_policy(self, **changes: Any) -> None:
        """A test's or an operator's change of the policy of a live table (before anyone relies on it)."""
        policy = msgspec.structs.replace(self.config.policy, **changes)
        self.config = dataclasses.replace(self.config, policy=policy)

    @property
    def seq(self) -> int:
        return self.state.seq

    @property
    def seats(self) -> tuple[en.SeatState | None, ...]:
        return self.state.seats

    @property
    def game_state(self) -> Any:
        """The rules' state (None before the first deal)."""
        return self.state.game

    @property
    def status(self) -> str:
        return en.status(self.config, self.state)

    @property
    def over(self) -> bool:
        """A finished match or a closed table: it takes no more entries."""
        return en.over(self.config, self.state)

    def players(self) -> list[str | None]:
        return [s.name if s else None for s in self.state.seats]

    @property
    def shown_status(self) -> str:
        """The status players and the lobby are shown: a closed table is "over" to them."""
        status = self.status
        return "over" if status == "closed" else status

    def info(self) -> p.TableInfo:
        return p.TableInfo(id=self.id, game=self.game.name, seats=self.config.seats, players=self.players(),
                           status=self.shown_status, spectators=len(self.spectators),
                           public=self.public, clock=self.clock, options=dict(self.options),
                           creator=self.creator, spectator_delay=self.spectator_delay, policy=self.policy)

    def abandoned(self) -> bool:
        """No person seated (even one whose seat is being held) and nobody watching."""
        return not self.watchers() and not any(s is not None and not s.bot for s in self.state.seats)

    def seat_of(self, user: int) -> int | None:
        return en.seat_of(self.state, user)

    def watchers(self) -> list[str]:
        return [*self.conns.values(), *self.spectators]

    def admits(self, who: Sender, invite: str | None) -> bool:
        """Whether `who` may see this table at all: anyone at a public table; at a private one its creator,
        its seated players, a connection already watching it, and whoever brings its invite code. The
        server answers everyone else as if there were no such table."""
        if self.public or who.user == self.creator or self.seat_of(who.user) is not None:
            return True
        if who.conn in self.spectators or who.conn in self.conns.values():
            return True
        code = self.config.invite
        return bool(code and invite) and hmac.compare_digest(code.encode(), (invite or "").encode())

    # ---- checkpoints -----------------------------------------------------------------------------

    def checkpoint(self) -> Checkpoint:
        return Checkpoint(self.state, dict(self.conns), dict(self.gone_since), dict(self.spectators),
                          list(self.game_actions), deal_due=self.deal_due)

    def rollback(self, saved: Checkpoint, now: float) -> None:
        """Back to `saved` (a pass that failed to commit): nobody was told of what is undone."""
        self.state, self.conns, self.gone_since = saved.state, saved.conns, saved.gone_since
        self.spectators, self.game_actions = saved.spectators, saved.game_actions
        self._trim_game_log()
        self.deal_due = saved.deal_due
        if en.pending_deal(self.state) is not None and self.deal_due is None:
            self.deal_due = now + self.entropy_wait
        self.recent.clear()  # a client that resumes gets the fresh view instead
        self._armed_for = None
        self._schedule(now)

    # ---- requests ------------------------------------------------------------------------------

    def handle(self, who: Sender, req: p.TableRequest, rid: int, now: float) -> Result:
        """Decide one request. A refused request changes nothing and is answered with an error."""
        before, actions = self.state, self.game_actions
        kept = len(actions)
        self._pending, self._steps, self._ended, self._answer = [], [], None, None
        result = Result(first_seq=before.seq + 1)
        try:
            if not self.admits(who, getattr(req, "invite", None)):  # a private table, no invite
                raise Refused(p.E_NO_TABLE, f"no table {self.id}")
            handler = getattr(self, _HANDLERS[type(req)])
            handler(who, req, rid, now, result)
        except Refused as exc:
            self._undo(before, actions[:kept])
            frame = p.encode_str(p.Error(code=exc.code, text=exc.text, req=req.req, table=self.id))
            return Result(out=[Outbound([who.conn], frame, rid, req=req.req)], first_seq=before.seq + 1)
        except Exception:
            self._undo(before, actions[:kept])  # a bug must not leave half a decision behind
            raise
        self._finish(result, now)
        return result

    def _undo(self, state: en.TableState, game_actions: list[dict[str, Any]]) -> None:
        self.state, self.game_actions = state, game_actions
        self._trim_game_log()
        self._pending, self._steps, self._ended, self._answer = [], [], None, None

    def close(self, reason: str, now: float) -> Result:
        """Close the table for good (everybody left): a closed table never gets another entry."""
        self._pending, self._steps, self._ended = [], [], None
        result = Result(first_seq=self.seq + 1)
        if not self.state.closed:
            self._before_close()
            self._add(e.Closed(reason=reason))
            self._finish(result, now)
        return result

    def _trim_game_log(self) -> None:
        """After an undo or a rollback: forget the game's entries (and deal) past the state's seq."""
        seq = self.state.seq
        self.game_entries = [(s, x) for s, x in self.game_entries if s <= seq]
        self.game_tallied = [(s, x) for s, x in self.game_tallied if s <= seq]
        if self.deal is not None and self.deal[0] > seq:
            self.deal = self.dealt = None

    def kick(self, user: int, now: float) -> tuple[Result, str | None] | None:
        """An admin removes `user`'s seat, as when a player stays away past the grace period: before the
        game the seat is freed, during a match a bot takes it for good, at a cash table the stack goes
        back (after the hand in progress). The result, and the connection that watched the seat (to
        tell); None if `user` is not seated."""
        seat = self.seat_of(user)
        if seat is None or self.state.closed:
            return None
        self._pending, self._steps, self._ended = [], [], None
        result = Result(first_seq=self.seq + 1)
        conn = self.conns.pop(seat, None)
        self.gone_since.pop(seat, None)
        self._stand_up_absent(seat)
        self._finish(result, now)
        return result, conn

    def _before_close(self) -> None:
        """Hook: what a kind of table settles before it closes (a cash table: every stack)."""

    def _add(self, entry: e.AnyEntry) -> list[Event]:
        """Decide `entry`: apply it at once with the one reducer (an illegal move refuses the request)."""
        try:
            self.state, events = en.evolve(self.config, self.state, entry)
        except IllegalMove as exc:
            raise Refused(p.E_ILLEGAL_MOVE, str(exc)) from None
        self._pending.append(entry)
        self._steps.append((self.state.seq, events))
        if self._keep_for_game(entry, events):
            self.game_actions = []
            if self.game.outcome(self.state.game) is None:
                return events
            # nobody could act (a Hold'em hand all in on the blinds): the deal played itself out
        elif not isinstance(entry, e.Acted):
            return events
        else:
            self.game_actions.append(e.to_builtins(entry))
        outcome = self.game.outcome(self.state.game)
        self._reveal_if_over(outcome is not None)  # first: the record's entries end with the reveal
        if outcome is not None:
            tallied = [x for _, x in self.game_tallied] if self.dealt is not None else None
            self._ended = GameRecord(outcome, self._players_record(), list(self.game_actions), self.deal,
                                     self.dealt, [x for _, x in self.game_entries], tallied)
        return events

    def _keep_for_game(self, entry: e.AnyEntry, events: list[Event]) -> bool:
        """`entry`, just applied (the state is the one after it), into what the current game keeps for
        its record and replay: a deal starts them afresh (True), any other entry joins them, and so do
        the events its result counts."""
        seq = self.state.seq
        if isinstance(entry, (e.Started, e.HandDealt)):
            self.deal, self.dealt, self.game_entries, self.game_tallied = (seq, entry), self.state, [], []
            dealing = True
        else:
            self.game_entries.append((seq, entry))
            dealing = False
        self.game_tallied.extend((seq, ev) for ev in events if ev.kind in TALLIED)
        return dealing

    def _finish(self, result: Result, now: float) -> None:
        """A decided request or tick: settle what a game's end brings, record the entries, and tell every
        watcher what changed (one view each, carrying the events of every entry)."""
        ended, self._ended = self._ended, None
        answer, self._answer = self._answer, None
        if ended is not None:
            self._after_game(now)
            result.finished = ended
        self._redeal_if_waiting(now)
        result.log = self._pending
        self.recent.extend(self._steps)
        people = {i for i, s in enumerate(self.state.seats) if s is not None and not s.bot}
        for held in (self.conns, self.gone_since):  # a seat given up or taken by a bot holds nobody
            for seat in [s for s in held if s not in people]:
                del held[seat]
        self._schedule(now)
        # a contribution alone changes nothing anyone sees: its sender is answered, nobody else is told
        if self._pending and not all(isinstance(x, e.Contributed) for x in self._pending):
            events = [ev for _, evs in self._steps for ev in evs]
            views = self._views_for(self.watchers(), events, broadcast=True, answer=answer)
            if answer is not None and any(v.rid == answer.rid for v in views):
                answer = None  # answered by the mover's view
            result.out.extend(views)
        if answer is not None:  # no view of the mover this pass: a plain ack answers it
            self._ack(answer.who, answer.req, answer.rid, result, answer.seat)
        if ended is not None:
            over = self._game_over_frame(ended.outcome)
            if self.spectator_line is None:
                result.out.append(Outbound(self.watchers(), over))
            else:  # spectators hear of the end when the delay allows
                result.out.append(Outbound(list(self.conns.values()), over))
                result.out.append(Outbound([], over, hold=HOLD_EVENT))
        self._pending, self._steps = [], []

    def _after_game(self, now: float) -> None:
        """Hook: what a table decides when its game (a hand, at a cash table) ends. Nothing, for a match."""

    def _players_record(self) -> list[dict[str, Any]]:
        return [{"seat": i, "user": s.user, "name": s.name, "bot": s.bot}
                for i, s in enumerate(self.state.seats) if s is not None]

    def _ack(self, who: Sender, req: Any, rid: int, result: Result, seat: int | None = None) -> None:
        frame = p.encode_str(p.Ack(req=req.req, table=self.id, seat=seat))
        result.out.append(Outbound([who.conn], frame, rid, req=req.req))

    def _refuse_if_over(self) -> None:
        if self.state.closed:
            raise Refused(p.E_NO_TABLE, f"table {self.id} is closed")
        if self.over:
            raise Refused(p.E_GAME_OVER, "the game is over")

    def _on_start(self, who: Sender, req: p.Start, rid: int, now: float, result: Result) -> None:
        if self.seat_of(who.user) is None:
            raise Refused(p.E_NOT_SEATED, "only a seated player can start the game")
        if self.state.game is not None:
            raise Refused(p.E_ALREADY_STARTED, "the game has already started")
        if en.pending_deal(self.state) is not None:
            raise Refused(p.E_ALREADY_STARTED, "the deal is announced: it is dealt once the players' "
                          "contributions are in")
        free = sum(1 for s in self.state.seats if s is None)
        if free:
            raise Refused(p.E_NOT_STARTED, f"{free} seat(s) still free: wait for players or add bots")
        self._ack(who, req, rid, result)
        self._announce_deal(now)

    def _on_act(self, who: Sender, req: p.Act, rid: int, now: float, result: Result) -> None:
        state = self.state
        if state.game is None:
            raise Refused(p.E_NOT_STARTED, "the game has not started yet")
        seat = self.seat_of(who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "you are not seated at this table")
        if self.over or not en.in_hand(self.config, state):
            raise Refused(p.E_GAME_OVER, "the game is over" if self.over else "the hand is over")
        if seat not in state.to_act:
            raise Refused(p.E_NOT_YOUR_TURN, "it is not your turn")
        action = p.to_builtins(req.action)
        last = state.last_acts.get(who.user)
        if req.req is not None and last == en.LastAct(req.req, req.seq, action):
            self._ack(who, req, rid, result, seat)  # the same request again: answered, not applied twice
            result.out.extend(self._attach(seat, who.conn))
            result.out.extend(self._views_for([who.conn], []))
            return
        # Stale: the view acted on is older than this seat's turn (the clock or a bot moved for it, or
        # it is a new hand). Others' moves in a simultaneous phase (Hearts passing) do not count.
        if req.seq is not None and req.seq < state.turn_began.get(seat, 0):
            raise Refused(p.E_STALE, f"the table has moved on (now at seq {state.seq}, you sent {req.seq})")
        banked = self._banked(seat, now, "player")
        if banked is not None:
            self._add(banked)
        self._add(e.Acted(seat=seat, action=req.action, by="player", user=who.user, req=req.req,
                          from_seq=req.seq))
        if who.fold:  # protocol 2: the mover's view of this pass answers it (`_finish`)
            self._answer = Answer(who, req, rid, seat)
        else:
            self._ack(who, req, rid, result, seat)
        result.out.extend(self._attach(seat, who.conn))

    def _on_resume(self, who: Sender, req: p.Resume, rid: int, now: float, result: Result) -> None:
        seat = self.seat_of(who.user)  # not seated: `handle` let them in, so they may watch
        if seat is not None:
            self._returned(seat, now)
            self._back(seat)
        self._ack(who, req, rid, result, seat)
        if seat is not None:
            result.out.extend(self._attach(seat, who.conn))
        else:
            self.spectators[who.conn] = who
        missed = [ev for s, evs in self.recent if s > req.last_seq for ev in evs]
        if self.recent and self.recent[0][0] > req.last_seq + 1:
            missed = []  # some are gone: the fresh view stands for them
        if not self._pending:
            result.out.extend(self._views_for([who.conn], missed))
        self._schedule(now)
        delayed = seat is None and self.spectator_line is not None  # the line's latest tells them
        if self.over and self.state.game is not None and not self.config.cash and not delayed:  # the result
            outcome = self.game.outcome(self.state.game)
            assert outcome is not None
            result.out.append(Outbound([who.conn], self._game_over_frame(outcome)))

    def _back(self, seat: int) -> None:
        """The player is here again: a bot that stood in for them (not one finishing a hand they left)
        stops."""
        occupant = self.state.seats[seat]
        if occupant is not None and occupant.away and not occupant.leaving and not occupant.sitting_out \
                and not self.over:
            self._add(e.Back(seat=seat))

    def connection_lost(self, conn: str, now: float) -> Result:
        """A client connection went away: its seat is held for the grace period; a bot covers its turns."""
        self.spectators.pop(conn, None)
        for seat, held_by in list(self.conns.items()):
            if held_by == conn:
                del self.conns[seat]
                self.gone_since[seat] = now
        self._schedule(now)
        return Result(first_seq=self.seq + 1)

    def recovered(self, now: float, hold: float) -> None:
        """Rebuilt after a restart: nobody is connected yet; give people `hold` seconds to resume."""
        self.conns.clear()
        self.gone_since = {i: now for i, s in enumerate(self.state.seats) if s is not None and not s.bot}
        self.hold_bots_until = now + hold
        self._armed_for = None
        if en.pending_deal(self.state) is not None:
            self.deal_due = now + self.entropy_wait
        self._schedule(now)

    def clock_left(self, now: float) -> float | None:
        """Seconds left on the turn clock (None: no clock running), for a hand-over."""
        return None if self.deadline is None else max(0.0, self.deadline - now)

    def restore_clock(self, now: float, left: float) -> None:
        """After a hand-over: the turn clock carries on with the time it had left, not a fresh one."""
        if self.deadline is not None:
            self.deadline = now + min(left, self.clock or left)

    def _attach(self, seat: int, conn: str) -> list[Outbound]:
        """Bind a seat to a connection; a different connection still holding it is told and closed."""
        out: list[Outbound] = []
        held_by = self.conns.get(seat)
        if held_by is not None and held_by != conn:
            text = "you took this seat from another connection; this one is closed"
            frame = p.encode_str(p.Error(code=p.E_REPLACED, table=self.id, text=text))
            out.append(Outbound([held_by], frame, close=True))
        self.conns[seat] = conn
        self.gone_since.pop(seat, None)
        self.spectators.pop(conn, None)
        return out


#: The method of Table that handles each request type (chat: the server stores it).
_HANDLERS: dict[type, str] = {kind: f"_on_{kind.__name__.lower()}" for kind in (
    p.Join, p.AddBot, p.Leave, p.Watch, p.Start, p.Act, p.Resume, p.Entropy, p.SitOut, p.SitIn, p.TopUp)}


def rebuild(table: Table, state: en.TableState, tail: list[e.AnyEntry],
            game_actions: list[dict[str, Any]] | None = None) -> None:
    """Recovery and replay: the table at `state` (a snapshot, or new) with `tail` folded on top."""
    table.state = state
    for entry in tail:
        table.state, events = en.evolve(table.config, table.state, entry)
        table.recent.append((table.state.seq, events))
        table._keep_for_game(entry, events)
    if game_actions is not None:
        table.game_actions = game_actions
