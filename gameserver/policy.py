"""The table policy's rules for time banks, as the one reducer applies them (`engine.evolve` calls these).

Pure functions of a seat and the table's `common.policy.TablePolicy`: a seat sits down with a full
disconnection bank and its starting time bank; every new hand or deal refills each time bank by
`bank_refill`, capped at `bank_max`; a `Banked` entry draws seconds from either bank (never below
zero). What the host does with the banks (when to draw them, when a bot steps in) is `table.py`'s.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, TypeVar

import msgspec

from common.policy import TablePolicy
from gameserver import entries as e
from gameserver.rules.base import Event

if TYPE_CHECKING:
    from gameserver.engine import SeatState

    Seat = TypeVar("Seat", bound=SeatState)
else:
    Seat = TypeVar("Seat")

#: The kind of event with which a game deals again within a match (Hearts' next deal).
DEAL_EVENT = "deal_started"


def _round(seconds: float) -> float:
    return round(max(0.0, seconds), 3)


def seated(policy: TablePolicy, seat: Seat) -> Seat:
    """A seat as it sits down: the starting time bank and the whole disconnection bank."""
    return msgspec.structs.replace(seat, bank=min(policy.time_bank, policy.bank_max),
                                   dbank=policy.disconnect_bank)


def refilled(policy: TablePolicy, seats: Sequence[Seat | None]) -> tuple[Seat | None, ...]:
    """Every seated person's time bank after a new hand or deal: `bank_refill` more, up to `bank_max`."""
    return tuple(None if s is None else msgspec.structs.replace(
        s, bank=_round(min(policy.bank_max, s.bank + policy.bank_refill))) for s in seats)


def drawn(seat: Seat, entry: e.Banked) -> Seat:
    """`seat` with what `entry` drew taken from its banks."""
    return msgspec.structs.replace(seat, bank=_round(seat.bank - entry.time),
                                   dbank=_round(seat.dbank - entry.disconnect))


def new_deal(events: Sequence[Event]) -> bool:
    """Whether a move's events dealt a new deal of the same match (so time banks refill)."""
    return any(ev.kind == DEAL_EVENT for ev in events)
