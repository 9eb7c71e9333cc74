"""A table host's seating: joining (or taking one's seat back), bots added by the creator, leaving,
and watching.

Mixed into `Table` (`gameserver.table`) after its other parts, so what it declares of the host here
never stands in front of the real thing. Its hooks (`_seating_open`, `_seated`, `_bot_stack`,
`_bot_seated`, `_leave_seat`) are what a kind of table changes: a cash table seats players with a
buy-in and between hands, a sit-and-go with its entry.
"""

from __future__ import annotations

from typing import Any

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.base import Event
from gameserver.table_types import Answer, Outbound, Refused, Result, Sender


class Seating:
    """Mixed into `Table`: what it needs from the host is declared here."""

    config: en.TableConfig
    state: en.TableState
    creator: int
    conns: dict[int, str]
    gone_since: dict[int, float]
    spectators: dict[str, Sender]
    _pending: list[e.AnyEntry]

    @property
    def over(self) -> bool:
        raise NotImplementedError

    def seat_of(self, user: int) -> int | None:
        raise NotImplementedError

    def _add(self, entry: e.AnyEntry) -> list[Event]:
        raise NotImplementedError

    def _ack(self, who: Sender, req: Any, rid: int, result: Result, seat: int | None = None) -> None: ...
    def _refuse_if_over(self) -> None: ...
    def _back(self, seat: int) -> None: ...
    def _returned(self, seat: int, now: float) -> None: ...

    def _attach(self, seat: int, conn: str) -> list[Outbound]:
        raise NotImplementedError

    def _views_for(self, conns: list[str], events: list[Event], broadcast: bool = False,
                   answer: Answer | None = None) -> list[Outbound]:
        raise NotImplementedError

    def _on_join(self, who: Sender, req: p.Join, rid: int, now: float, result: Result) -> None:
        mine = self.seat_of(who.user)
        if mine is not None:  # joining again = taking the seat back on this connection
            self._returned(mine, now)
            self._back(mine)
            self._ack(who, req, rid, result, mine)
            result.out.extend(self._attach(mine, who.conn))
            if not self._pending:
                result.out.extend(self._views_for([who.conn], []))
            return
        self._refuse_if_over()
        seat = self._open_seat(req.seat)
        self._add(self._seated(who, req, seat))
        self._ack(who, req, rid, result, seat)
        self.spectators.pop(who.conn, None)
        self.conns[seat] = who.conn

    def _on_addbot(self, who: Sender, req: p.AddBot, rid: int, now: float, result: Result) -> None:
        if who.user != self.creator:
            raise Refused(p.E_NOT_CREATOR, "only the table's creator can add bots")
        self._refuse_if_over()
        seat = self._open_seat(req.seat)
        name = f"Bot {sum(1 for s in self.state.seats if s and s.bot) + 1}"
        self._add(self._bot_seated(seat, name))
        self._ack(who, req, rid, result, seat)

    def _open_seat(self, wanted: int | None) -> int:
        """The seat to fill (the asked one, or the first free one), or Refused."""
        if not self._seating_open():
            raise Refused(p.E_ALREADY_STARTED, "the game has started; you can watch it instead")
        seat = wanted if wanted is not None else next(
            (i for i, s in enumerate(self.state.seats) if s is None), None)
        if seat is None:
            raise Refused(p.E_TABLE_FULL, "every seat at this table is taken")
        if not 0 <= seat < self.config.seats:
            raise Refused(p.E_BAD_FIELD, f"seat must be between 0 and {self.config.seats - 1}")
        if self.state.seats[seat] is not None:
            raise Refused(p.E_SEAT_TAKEN, f"seat {seat} is taken")
        return seat

    # hooks a kind of table (a cash table) changes
    def _seating_open(self) -> bool:
        return self.state.game is None and en.pending_deal(self.state) is None

    def _seated(self, who: Sender, req: p.Join, seat: int) -> e.Seated:
        return e.Seated(seat=seat, user=who.user, name=who.name)

    def _bot_stack(self) -> int:
        return 0

    def _bot_seated(self, seat: int, name: str) -> e.Seated:
        return e.Seated(seat=seat, user=0, name=name, bot=True, stack=self._bot_stack())

    def _on_leave(self, who: Sender, req: p.Leave, rid: int, now: float, result: Result) -> None:
        if self.spectators.pop(who.conn, None) is not None:
            self._ack(who, req, rid, result)
            return
        seat = self.seat_of(who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "you are not at this table")
        if not self.over:
            self._leave_seat(seat)
        self._ack(who, req, rid, result)
        self.conns.pop(seat, None)
        self.gone_since.pop(seat, None)

    def _leave_seat(self, seat: int) -> None:
        """A player leaves: before the game the seat is freed; during it a bot plays it to the end."""
        if self._seating_open():
            self._add(e.Unseated(seat=seat))
        else:
            self._add(e.Away(seat=seat))

    def _on_watch(self, who: Sender, req: p.Watch, rid: int, now: float, result: Result) -> None:
        self._ack(who, req, rid, result)
        self.spectators[who.conn] = who
        result.out.extend(self._views_for([who.conn], []))
