"""The events of a Crazy Eights hand (`crazy_eights` emits them): typed records for the log and viewers.

Pure data. A field named in `secret` (the cards dealt, the card drawn) is shown only to the event's seat
(`Event.visible_to`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gameserver.rules.base import Event


@dataclass(frozen=True)
class Dealt(Event):
    """The cards `seat` was dealt (only that seat sees them)."""

    cards: tuple[str, ...]
    kind: ClassVar[str] = "dealt"
    secret: ClassVar[tuple[str, ...]] = ("cards",)


@dataclass(frozen=True)
class Started(Event):
    """The deal is done: who dealt, who moves first, and the starter card (public)."""

    dealer: int
    first: int
    starter: str
    kind: ClassVar[str] = "started"


@dataclass(frozen=True)
class Played(Event):
    """`seat` played `card`; `suit` is the current suit after it (the named suit after an 8)."""

    card: str
    suit: str
    kind: ClassVar[str] = "played"


@dataclass(frozen=True)
class Drew(Event):
    """`seat` drew one card from the stock; only `seat` sees which. `penalty`: taken for pending 2s."""

    card: str
    penalty: bool = False
    kind: ClassVar[str] = "drew"
    secret: ClassVar[tuple[str, ...]] = ("card",)


@dataclass(frozen=True)
class Passed(Event):
    """`seat` passed."""

    kind: ClassVar[str] = "passed"


@dataclass(frozen=True)
class Skipped(Event):
    """`seat` loses its turn to a queen (or, with 2 players, an ace)."""

    kind: ClassVar[str] = "skipped"


@dataclass(frozen=True)
class Reversed(Event):
    """`seat` played an ace; play now goes in `direction` (+1 up, -1 down)."""

    direction: int
    kind: ClassVar[str] = "reversed"


@dataclass(frozen=True)
class PenaltyRaised(Event):
    """`seat` (the next player) now faces `pending` cards unless it answers with a 2."""

    pending: int
    kind: ClassVar[str] = "penalty"


@dataclass(frozen=True)
class HandOver(Event):
    """The hand ended: `reason` is "out", "blocked" or "limit"; `scores` are penalty points by seat."""

    scores: tuple[int, ...]
    went_out: int | None
    reason: str
    kind: ClassVar[str] = "hand_over"
