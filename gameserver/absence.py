"""The host's half of the table policy (`common.policy`): time banks, the disconnection bank, sitting out.

A mixin of `table.Table` (it works on the table's state, clock and connections, on the server's one
thread, and decides only by adding log entries):
- **time bank**: once the turn clock has run out, a person's turn goes on for as long as their bank
  lasts; the clock acts (the game's time-out move) at the deadline plus the bank the seat had when its
  turn began. Seconds drawn are recorded by a `Banked` entry just before the move that ends the turn
  (the player's, the clock's or a bot's), so recovery and hand-over rebuild the same banks.
- **disconnection bank**: a disconnected person's turn waits up to what is left of their disconnection
  bank before a bot plays it (the turn clock keeps running meanwhile); the wait is drawn with the same
  `Banked` entry, or when they come back during the turn.
- **sitting out** (`sit_out` / `sit_in`): at a match table (Hearts, Crazy Eights) a bot plays the seat,
  marked away, until the player is back; a cash table overrides `_sit_out`/`_sit_in` (dealt out, no
  blinds, stood up after `sit_out_max`).
- **top-up** (`top_up`): cash tables only (`cash_table.CashTable`); refused here for a match.

No I/O and no clock of its own: every decision takes the server's `now`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.table_types import Refused, Result, Sender

if TYPE_CHECKING:
    from gameserver.rules.base import Event


class Absence:
    # what the mixin uses of Table
    config: en.TableConfig
    state: en.TableState
    conns: dict[int, str]
    gone_since: dict[int, float]
    deadline: float | None
    hold_bots_until: float
    _armed_at: float
    _bank_at_arm: dict[int, float]
    _pending: list[e.AnyEntry]
    _steps: list[tuple[int, list[Event]]]
    _ended: Any

    def _add(self, entry: e.AnyEntry) -> list[Event]:
        raise NotImplementedError

    def _finish(self, result: Result, now: float) -> None:
        raise NotImplementedError

    def _ack(self, who: Sender, req: Any, rid: int, result: Result, seat: int | None = None) -> None: ...
    def _refuse_if_over(self) -> None: ...
    def _back(self, seat: int) -> None: ...

    # ---- banks ---------------------------------------------------------------------------------

    def _person(self, seat: int) -> en.SeatState | None:
        """The person playing `seat` themselves (not a bot, nobody a bot stands in for), or None."""
        occupant = self.state.seats[seat]
        return occupant if occupant is not None and not occupant.bot and not occupant.away else None

    def _arm_banks(self, now: float) -> None:
        """A new turn begins: remember when, and each seat's time bank at its start."""
        self._armed_at = now
        self._bank_at_arm = {s: o.bank for s in self.state.to_act if (o := self._person(s)) is not None}

    def _clock_due(self, seat: int) -> float | None:
        """When the clock acts for `seat`: its turn clock's deadline plus its time bank (None: no clock)."""
        if self.deadline is None:
            return None
        return self.deadline + self._bank_at_arm.get(seat, 0.0)

    def _wait_began(self, seat: int) -> float | None:
        """Since when a disconnected person's turn has waited for them (None: not waiting). The time
        people are given to resume after a restart or a hand-over is the server's, not theirs."""
        since = self.gone_since.get(seat)
        if since is None or seat not in self.state.to_act or self._person(seat) is None:
            return None
        return max(since, self._armed_at, self.hold_bots_until)

    def _bot_ready(self, seat: int, now: float) -> float:
        """The earliest a bot may play `seat`: at once for a bot or an away seat; for a disconnected
        person once their disconnection bank is used up."""
        began = self._wait_began(seat)
        occupant = self.state.seats[seat]
        if began is None or occupant is None:
            return now
        return began + occupant.dbank

    def _banked(self, seat: int, now: float, by: str) -> e.Banked | None:
        """What `seat`'s turn drew from its banks, up to `now` (None: nothing): the time bank for the
        part of its turn past the deadline, the disconnection bank for the time the turn waited for it."""
        occupant = self._person(seat)
        if occupant is None:
            return None
        time = 0.0
        if self.deadline is not None and now > self.deadline and seat in self._bank_at_arm:
            already = self._bank_at_arm[seat] - occupant.bank  # drawn earlier this turn (a draw, then a play)
            time = min(occupant.bank, max(0.0, now - self.deadline - already))
        disconnect = 0.0
        began = self._wait_began(seat)
        if began is not None:
            disconnect = min(occupant.dbank, max(0.0, now - began))
        if time <= 0 and disconnect <= 0:
            return None
        return e.Banked(seat=seat, time=round(time, 3), disconnect=round(disconnect, 3))

    def _returned(self, seat: int, now: float) -> None:
        """A disconnected person is back during their turn: what the wait drew is recorded now."""
        began = self._wait_began(seat)
        occupant = self.state.seats[seat]
        if began is not None and occupant is not None and now > began and occupant.dbank > 0:
            self._add(e.Banked(seat=seat, disconnect=round(min(occupant.dbank, now - began), 3)))

    def banks_running(self, now: float) -> bool:
        """Whether a seat to act draws on a bank now (its turn clock has run out, or it is waited for)."""
        return any(self._banked(seat, now, "clock") is not None for seat in self.state.to_act)

    def settle_banks(self, now: float) -> Result:
        """Before a hand-over: what each seat to act has drawn from its banks so far, as `banked` entries,
        so the next owner carries on from what is left (its turn clock arrives run out)."""
        self._pending, self._steps, self._ended = [], [], None
        result = Result(first_seq=self.state.seq + 1)
        for seat in self.state.to_act:
            banked = self._banked(seat, now, "clock")
            if banked is not None:
                self._add(banked)
        self._finish(result, now)
        return result

    def _policy_view_fields(self) -> dict[str, Any]:
        """What every viewer is told of the policy and of when the clock acts (each seat's bank and
        whether it sits out are seat fields: `TableFrames._seat_view_fields`)."""
        return {"policy": self.config.policy,
                "bank_ends": {s: due for s in self._bank_at_arm if s in self.state.to_act
                              and (due := self._clock_due(s)) is not None}}

    # ---- sitting out ---------------------------------------------------------------------------

    def _my_seat(self, who: Sender) -> int:
        seat = en.seat_of(self.state, who.user)
        if seat is None:
            raise Refused(p.E_NOT_SEATED, "you are not seated at this table")
        return seat

    def _on_sitout(self, who: Sender, req: p.SitOut, rid: int, now: float, result: Result) -> None:
        seat = self._my_seat(who)
        self._sit_out(seat, now)
        self._ack(who, req, rid, result, seat)

    def _on_sitin(self, who: Sender, req: p.SitIn, rid: int, now: float, result: Result) -> None:
        seat = self._my_seat(who)
        self._sit_in(seat, now)
        self._ack(who, req, rid, result, seat)

    def _sit_out(self, seat: int, now: float) -> None:
        """A match: a bot plays the seat (marked away) until the player sits in again."""
        if self.state.game is None:
            raise Refused(p.E_NOT_STARTED, "the game has not started: leave the seat instead of sitting out")
        self._refuse_if_over()
        occupant = self.state.seats[seat]
        assert occupant is not None
        if occupant.leaving:
            raise Refused(p.E_BAD_FIELD, "you are leaving this table")
        if not occupant.sitting_out:
            self._add(e.SatOut(seat=seat))
        if not occupant.away:
            self._add(e.Away(seat=seat))

    def _sit_in(self, seat: int, now: float) -> None:
        """Back from sitting out: the bot that played for the player stops."""
        self._refuse_if_over()
        occupant = self.state.seats[seat]
        assert occupant is not None
        if occupant.sitting_out:
            self._add(e.SatIn(seat=seat))
        self._back(seat)

    def _on_topup(self, who: Sender, req: p.TopUp, rid: int, now: float, result: Result) -> None:
        raise Refused(p.E_BAD_TABLE, "only cash tables (Hold'em) take top-ups")
