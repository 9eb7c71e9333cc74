"""The events of a Hearts match (see `hearts`): pure data. A field named in `secret` (the cards passed,
received or dealt) is shown only to the event's seat."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from gameserver.rules.base import Event


@dataclass(frozen=True)
class CardsPassed(Event):
    cards: tuple[str, ...]
    to_seat: int
    kind: ClassVar[str] = "cards_passed"
    secret: ClassVar[tuple[str, ...]] = ("cards",)


@dataclass(frozen=True)
class CardsReceived(Event):
    cards: tuple[str, ...]
    from_seat: int
    kind: ClassVar[str] = "cards_received"
    secret: ClassVar[tuple[str, ...]] = ("cards",)


@dataclass(frozen=True)
class Played(Event):
    card: str
    kind: ClassVar[str] = "played"


@dataclass(frozen=True)
class HeartsBroken(Event):
    kind: ClassVar[str] = "hearts_broken"  # `seat` broke them


@dataclass(frozen=True)
class TrickWon(Event):
    cards: tuple[str, ...]
    points: int
    kind: ClassVar[str] = "trick_won"


@dataclass(frozen=True)
class DealScored(Event):
    deal: int
    points: tuple[int, ...]
    moon: int | None  # the seat that shot the moon
    scores: tuple[int, ...]
    kind: ClassVar[str] = "deal_scored"


@dataclass(frozen=True)
class DealStarted(Event):
    deal: int
    pass_direction: str
    kind: ClassVar[str] = "deal_started"


@dataclass(frozen=True)
class HandDealt(Event):
    cards: tuple[str, ...]
    kind: ClassVar[str] = "hand_dealt"
    secret: ClassVar[tuple[str, ...]] = ("cards",)


@dataclass(frozen=True)
class MatchOver(Event):
    scores: tuple[int, ...]
    winners: tuple[int, ...]
    kind: ClassVar[str] = "match_over"
