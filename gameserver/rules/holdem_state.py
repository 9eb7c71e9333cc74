"""The data of one Hold'em hand: its immutable `State`, the mutable `Hand` a step works on, and its events.

Owned here so that `holdem` keeps to the rules. Pure data: no rules, no I/O. Seats not dealt in keep
zeros/None in every per-seat tuple; `hole`, `deck` and `burned` are secret (only `holdem.view` and
`Event.visible_to` decide what a viewer sees).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import ClassVar

from common.views import Street
from gameserver.rules.base import Event

# ---- events --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandStarted(Event):
    button: int
    small_blind_seat: int
    big_blind_seat: int
    stacks: tuple[int, ...]
    kind: ClassVar[str] = "hand_started"


@dataclass(frozen=True)
class BlindPosted(Event):
    blind: str  # "small" | "big"
    amount: int
    all_in: bool
    kind: ClassVar[str] = "blind_posted"


@dataclass(frozen=True)
class HoleCards(Event):
    cards: tuple[str, str]
    kind: ClassVar[str] = "hole_cards"
    secret: ClassVar[tuple[str, ...]] = ("cards",)


@dataclass(frozen=True)
class Acted(Event):
    """A player's action: `action` is the protocol tag (fold, check, call, bet, raise)."""

    action: str
    amount: int = 0  # chips put in by this action
    to: int = 0  # the player's total for the round afterwards (bet and raise)
    all_in: bool = False
    kind: ClassVar[str] = "action"


@dataclass(frozen=True)
class StreetDealt(Event):
    street: str
    cards: tuple[str, ...]
    board: tuple[str, ...]
    kind: ClassVar[str] = "street"


@dataclass(frozen=True)
class UncalledReturned(Event):
    amount: int
    kind: ClassVar[str] = "uncalled_returned"


@dataclass(frozen=True)
class ShownHand:
    seat: int
    cards: tuple[str, str]
    hand: str


@dataclass(frozen=True)
class Showdown(Event):
    hands: tuple[ShownHand, ...]
    kind: ClassVar[str] = "showdown"


@dataclass(frozen=True)
class PotAwarded(Event):
    amount: int
    pot: int  # 0 = main pot, then side pots
    hand: str | None  # None when won without showdown
    kind: ClassVar[str] = "pot_awarded"


@dataclass(frozen=True)
class HandOver(Event):
    stacks: tuple[int, ...]
    payouts: tuple[int, ...]
    kind: ClassVar[str] = "hand_over"


# ---- state ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pot:
    amount: int
    eligible: tuple[int, ...]


@dataclass(frozen=True)
class State:
    """One hand. Per-seat tuples are indexed by seat; seats not dealt in keep zeros/None throughout."""

    small_blind: int
    big_blind: int
    button: int
    sb_seat: int
    bb_seat: int
    dealt: tuple[bool, ...]
    initial: tuple[int, ...]  # stacks before the blinds
    stacks: tuple[int, ...]  # chips behind
    hole: tuple[tuple[str, str] | None, ...]  # secret
    deck: tuple[str, ...]  # undealt cards, top first; secret
    board: tuple[str, ...]
    street: Street
    bets: tuple[int, ...]  # this betting round
    committed: tuple[int, ...]  # this hand, including `bets`
    folded: tuple[bool, ...]
    acted: tuple[int | None, ...]  # the bet level at the seat's last action this round; None = not yet
    min_raise: int  # the last full bet/raise increment this round (at least the big blind)
    turn: int | None
    pots: tuple[Pot, ...] = ()
    shown: tuple[tuple[int, tuple[str, str]], ...] = ()
    payouts: tuple[int, ...] | None = None
    burned: tuple[str, ...] = ()  # secret; with the board and the deck, `opening_events` deals the hand again

    @property
    def seats(self) -> int:
        return len(self.dealt)

    @property
    def over(self) -> bool:
        return self.street == "over"


class Hand:
    """A mutable working copy of a State for the duration of one step: State's fields, with lists for
    the ones a step changes piece by piece."""

    small_blind: int
    big_blind: int
    button: int
    sb_seat: int
    bb_seat: int
    dealt: tuple[bool, ...]
    initial: tuple[int, ...]
    stacks: list[int]
    hole: list[tuple[str, str] | None]
    deck: list[str]
    board: list[str]
    street: Street
    bets: list[int]
    committed: list[int]
    folded: list[bool]
    acted: list[int | None]
    min_raise: int
    turn: int | None
    pots: tuple[Pot, ...]
    shown: tuple[tuple[int, tuple[str, str]], ...]
    payouts: tuple[int, ...] | None
    burned: list[str]

    def __init__(self, state: State) -> None:
        self.__dict__.update({f.name: getattr(state, f.name) for f in dataclasses.fields(State)})
        for name in ("stacks", "hole", "deck", "board", "bets", "committed", "folded", "acted", "burned"):
            setattr(self, name, list(getattr(state, name)))

    def freeze(self) -> State:
        values = {f.name: getattr(self, f.name) for f in dataclasses.fields(State)}
        for key, value in values.items():
            if isinstance(value, list):
                values[key] = tuple(value)
        return State(**values)

    @property
    def n(self) -> int:
        return len(self.dealt)

    def order_from(self, start: int) -> list[int]:
        """Dealt-in seats clockwise beginning at `start` (inclusive)."""
        return [s % self.n for s in range(start, start + self.n) if self.dealt[s % self.n]]

    def hole_of(self, seat: int) -> tuple[str, str]:
        """The hole cards of a seat dealt in."""
        cards = self.hole[seat]
        if cards is None:
            raise ValueError(f"seat {seat} was not dealt in")
        return cards

    def live(self) -> list[int]:
        return [s for s in range(self.n) if self.dealt[s] and not self.folded[s]]

    def put_in(self, seat: int, amount: int) -> None:
        self.stacks[seat] -= amount
        self.bets[seat] += amount
        self.committed[seat] += amount
