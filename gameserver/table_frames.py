"""A table host's frames: each viewer's own view frame of a pass, the game-over frame, and what a
delayed table's spectators are shown.

Mixed into `Table` (`gameserver.table`), like `FairDealing` and `Absence`: what it reads of the host is
declared here. Every frame to a viewer is built from that viewer's own view (`Game.view`: the
spectator's, worked out once a pass, with a seat's own part, `Game.seat_fields`), and an
event's secret fields go to its own seat only, so nothing hidden leaves through here. What every
viewer's frame of a pass shares (players, policy, fair-deal facts, the events as all but their own seat
see them) is worked out and encoded once, not once per seat (`common.view_frames`).
"""

from __future__ import annotations

from typing import Any

from common import protocol as p
from common.view_frames import ViewHead
from common.views import GameView, seat_view
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event, Game, Outcome
from gameserver.spectating import Delay, DelayLine
from gameserver.table_types import HOLD_NEWCOMER, HOLD_VIEW, Answer, Outbound, Sender


class TableFrames:
    """Mixed into `Table`: what it needs from the host is declared here."""

    id: str
    game: Game[Any]
    config: en.TableConfig
    state: en.TableState
    creator: int
    public: bool
    conns: dict[int, str]
    spectators: dict[str, Sender]
    spectator_delay: Delay
    spectator_line: DelayLine | None
    deadline: float | None
    _pending: list[e.AnyEntry]
    #: the seats the seat fields of the views were last worked out for, and those fields
    _seat_fields_of: tuple[tuple[en.SeatState | None, ...], dict[str, Any]] | None = None

    @property
    def seq(self) -> int:
        raise NotImplementedError

    @property
    def shown_status(self) -> str:
        raise NotImplementedError

    def info(self) -> p.TableInfo:
        raise NotImplementedError

    def players(self) -> list[str | None]:
        raise NotImplementedError

    def _policy_view_fields(self) -> dict[str, Any]:
        raise NotImplementedError

    def _fair_view(self, full: bool, pending: list[e.AnyEntry]) -> dict[str, object]:
        raise NotImplementedError

    def _game_over_frame(self, outcome: Outcome) -> str:
        names = [s.name if s else "" for s in self.state.seats]
        return p.encode_str(p.GameOver(table=self.id, seq=self.seq, scores=list(outcome.scores),
                                       players=names, winners=list(outcome.winners)))

    def _views_for(self, conns: list[str], events: list[Event], broadcast: bool = False,
                   answer: Answer | None = None) -> list[Outbound]:
        """Each connection's own view: seats get theirs, spectators share the public one (held back for
        the delay line, when the table has one: every `broadcast`'s spectator view goes into it, watched
        or not, and a spectator who opens the table gets what the line last released). A pass's
        (`broadcast`) views leave out the fair-deal facts that did not change; the others carry all.
        `answer`: the mover's view answers its act (carries its `req`, and is the request's reply)."""
        out: list[Outbound] = []
        by_conn = {conn: seat for seat, conn in self.conns.items()}
        spectators = [c for c in conns if c not in by_conn]
        line = self.spectator_line
        if line is not None and spectators and not broadcast:
            out.append(Outbound(spectators, "", hold=HOLD_NEWCOMER))
            spectators = []
        # what every viewer's frame shares is worked out once, not once per seat
        shared = ViewHead(
            table=self.id, seq=self.seq, game=self.game.name, status=self.shown_status,
            deadline=self.deadline, creator=self.creator, public=self.public,
            spectator_delay=self.spectator_delay, **self._seat_view_fields(),
            **self._policy_view_fields(), **self._shared_view_fields(),
            **self._fair_view(not broadcast, self._pending))
        public = [ev.visible_to(None) for ev in events]  # an event as all but its own seat see it
        game = self.state.game
        seen = None if game is None else self.game.view(game, None)  # a seat's view adds its own part
        creators = self._creator_conns(conns, by_conn)
        for conn in conns:
            if conn not in by_conn:
                continue
            mine = answer if answer is not None and conn == answer.who.conn else None
            req = mine.req.req if mine is not None else None
            frame = self._view_frame(by_conn[conn], seen, events, public, shared, conn in creators, req)
            out.append(Outbound([conn], frame, mine.rid if mine else None, req=req))
        if line is not None and broadcast:  # a delayed table's spectators (its creator too) see the line
            out.append(Outbound([], self._view_frame(None, seen, events, public, shared), hold=HOLD_VIEW))
        elif spectators:
            others = [c for c in spectators if c not in creators]
            if others:
                out.append(Outbound(others, self._view_frame(None, seen, events, public, shared)))
            out.extend(Outbound([c], self._view_frame(None, seen, events, public, shared, True))
                       for c in spectators if c in creators)
        return out

    def _seat_view_fields(self) -> dict[str, Any]:
        """What every view says of the seats: names, bots (and the away people they play for), who is
        leaving, time banks, who sits out. Worked out again only when a seat changed: the state's seats
        tuple is replaced then, and only then, so most moves reuse the last pass's."""
        seats = self.state.seats
        last = self._seat_fields_of
        if last is not None and last[0] is seats:
            return last[1]
        fields = {
            "players": [s.name if s else None for s in seats],
            "bots": [i for i, s in enumerate(seats) if s is not None and (s.bot or s.away)],
            "away": [i for i, s in enumerate(seats) if s is not None and not s.bot and s.away],
            "leaving": [i for i, s in enumerate(seats) if s is not None and s.leaving],
            "time_banks": [s.bank if s is not None and not s.bot else 0.0 for s in seats],
            "sitting_out": [i for i, s in enumerate(seats) if s is not None and s.sitting_out]}
        self._seat_fields_of = (seats, fields)
        return fields

    def _creator_conns(self, conns: list[str], by_conn: dict[str, int]) -> set[str]:
        """The connections of `conns` that are the creator's, at a private table (their view carries the
        invite code); nobody else's does."""
        if not self.config.invite:
            return set()
        seats = self.state.seats
        mine = {c for c, seat in by_conn.items() if (s := seats[seat]) is not None and s.user == self.creator}
        mine |= {c for c, who in self.spectators.items() if who.user == self.creator}
        return mine & set(conns)

    def spectator_placeholder(self) -> str:
        """What a spectator of a delayed table is shown before its line has released anything."""
        return p.encode_str(p.View(table=self.id, seq=0, game=self.game.name, status="waiting",
                                   players=[None] * self.config.seats, creator=self.creator,
                                   public=self.public, spectator_delay=self.spectator_delay))

    def release_to_spectators(self, now: float) -> list[Outbound]:
        """The delay line's frames due by `now`, for whoever watches now."""
        if self.spectator_line is None:
            return []
        frames = self.spectator_line.release(now)
        watching = list(self.spectators)
        return [Outbound(watching, frame) for frame in frames] if watching else []

    def _shared_view_fields(self) -> dict[str, Any]:
        return {}

    def _view_frame(self, seat: int | None, spectators_view: GameView | None, events: list[Event],
                    public: list[dict[str, Any]], shared: ViewHead, creator: bool = False,
                    req: int | None = None) -> str:
        """`seat`'s view frame (None: a spectator's), from the spectator's view of the game (None: no
        game) and its own part (`Game.seat_fields`); `public` is each of `events` as everyone but its
        own seat sees it (the same for every viewer unless the event has secret fields and is theirs)."""
        view = spectators_view
        if seat is not None and view is not None:
            game = self.state.game
            assert game is not None
            view = seat_view(view, self.game.seat_fields(game, seat))
        if seat is None or not any(ev.secret and ev.seat == seat for ev in events):
            seen = public  # as everyone else sees them
        else:
            seen = [ev.visible_to(seat) if ev.secret and ev.seat == seat else plain
                    for ev, plain in zip(events, public, strict=True)]
        return shared.frame(view, seat, seen, self.config.invite if creator else None, req)
