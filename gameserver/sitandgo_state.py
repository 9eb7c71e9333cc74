"""A sit-and-go's durable state, and how its entries change it: the reducer's tournament half.

`SitAndGoState` is what a sit-and-go table's log determines beyond the cash-table state: who entered
and what they paid, when it started, the level of the last hand, the places decided and the prizes
paid. `apply(settings, tourney, seats, entry)` is called by `engine.evolve` (the one reducer) for the
entries that touch it and returns the next state; it raises `Corrupt` for an entry that does not fit.

Pure: no I/O, no clock (a start's time is in its entry).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from common import sitandgo as sg
from gameserver import entries as e


class Corrupt(Exception):
    """A tournament entry that cannot apply to this state (engine.Corrupt derives from it)."""


class Entrant(msgspec.Struct, frozen=True, array_like=True):
    user: int  # 0: a bot (the house paid its entry)
    name: str
    paid: int  # what came from the balance: the buy-in and the fee


class SitAndGoState(msgspec.Struct, frozen=True, omit_defaults=True):
    entrants: dict[int, Entrant] = {}  # seat -> who entered there (registered, or playing)
    started_at: float | None = None  # wall-clock s of the start (None: still registering)
    level: int = 0  # the level (0 = the first) of the last hand dealt
    hands: int = 0  # hands dealt since the start
    places: dict[int, int] = {}  # seat -> place, for each entrant who finished
    prizes: dict[int, int] = {}  # seat -> prize paid, once it ended
    ended: bool = False

    @property
    def started(self) -> bool:
        return self.started_at is not None

    @property
    def pool(self) -> int:
        """Balance chips this table holds: every entry paid, until the prizes and fees are paid out."""
        return 0 if self.ended else sum(x.paid for x in self.entrants.values())

    def left_in(self) -> list[int]:
        """Seats of the entrants still in (no place yet)."""
        return [s for s in sorted(self.entrants) if s not in self.places]


def apply(settings: sg.SitAndGo, tourney: SitAndGoState, seats: Sequence[Any],
          entry: e.Entry) -> SitAndGoState:
    """The tournament state after `entry` (`seats`: the table's seats before it)."""
    replace = msgspec.structs.replace
    if isinstance(entry, e.Seated):
        if tourney.started or entry.paid != settings.entry or entry.stack != settings.stack:
            raise Corrupt(f"seat {entry.seat} entered a sit-and-go out of turn or at the wrong price")
        return replace(tourney, entrants={**tourney.entrants,
                                          entry.seat: Entrant(entry.user, entry.name, entry.paid)})
    if isinstance(entry, e.Unseated):
        entrant = tourney.entrants.get(entry.seat)
        if tourney.ended and entrant is not None and not entry.cashout:
            return tourney  # a finished tournament's seat freed: nothing is owed
        # before the end a seat goes only with its entry refunded (registration, or a voided tournament)
        if tourney.ended or entrant is None or entry.cashout != entrant.paid:
            raise Corrupt(f"seat {entry.seat} left a sit-and-go without its refund")
        return replace(tourney, entrants={s: x for s, x in tourney.entrants.items() if s != entry.seat})
    if isinstance(entry, e.SitAndGoStarted):
        if tourney.started or any(s is None for s in seats):
            raise Corrupt("a sit-and-go started twice, or with a free seat")
        return replace(tourney, started_at=entry.at)
    if isinstance(entry, e.HandDealt):
        if not tourney.started or tourney.ended or entry.level is None:
            raise Corrupt("a sit-and-go hand dealt before the start, after the end, or with no level")
        return replace(tourney, level=entry.level, hands=tourney.hands + 1)
    if isinstance(entry, e.Busted):
        occupant = seats[entry.seat] if 0 <= entry.seat < len(seats) else None
        if entry.seat not in tourney.left_in() or occupant is None or occupant.stack:
            raise Corrupt(f"seat {entry.seat} busted while it has chips, or twice")
        return replace(tourney, places={**tourney.places, entry.seat: entry.place})
    if isinstance(entry, e.SitAndGoEnded):
        if tourney.left_in() != [entry.winner] or tourney.ended:
            raise Corrupt(f"a sit-and-go ended with seat {entry.winner} not its last player")
        places = {**tourney.places, entry.winner: 1}
        expected = sg.prizes(settings.buy_in * len(tourney.entrants), len(tourney.entrants))
        paid = {prize.seat: prize.amount for prize in entry.prizes}
        if any(places.get(prize.seat) != prize.place or tourney.entrants[prize.seat].user != prize.user
               for prize in entry.prizes) or [paid.get(s, 0) for s in _by_place(places)][:len(expected)] \
                != expected or entry.fee != settings.fee * len(tourney.entrants):
            raise Corrupt("a sit-and-go's prizes are not its prize table's")
        return replace(tourney, places=places, prizes=paid, ended=True)
    return tourney


def _by_place(places: dict[int, int]) -> list[int]:
    return sorted(places, key=lambda s: places[s])


def ended_entry(settings: sg.SitAndGo, tourney: SitAndGoState, winner: int) -> e.SitAndGoEnded:
    """The entry that ends the tournament with `winner` last in: the prize table's payouts by place."""
    places = {**tourney.places, winner: 1}
    amounts = sg.prizes(settings.buy_in * len(tourney.entrants), len(tourney.entrants))
    prizes = [e.Prize(seat=seat, user=tourney.entrants[seat].user, place=place, amount=amounts[place - 1])
              for seat, place in sorted(places.items(), key=lambda x: x[1]) if place <= len(amounts)]
    return e.SitAndGoEnded(winner=winner, prizes=prizes, fee=settings.fee * len(tourney.entrants))
