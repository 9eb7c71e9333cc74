"""The uniform interface every game's rules module implements, and what they share.

A rules module is pure: no I/O, no clock, no global random. Chance comes only from the `random.Random`
handed to `setup` (and to `bot_move`). State is immutable; `apply` returns a new state and the events
that happened. Hidden information has one gate: `view(state, seat)` for the state, and `Event.visible_to`
for events, which drop `secret` fields for everyone but the event's own seat.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol

from common.protocol import Action


class IllegalMove(Exception):
    """An action the rules refuse; the message is shown to the player and must not reveal secrets."""


@dataclass(frozen=True)
class Event:
    """Something that happened, for the log and for viewers.

    `seat` is the seat it concerns (None for table-wide events). Fields named in `secret` (e.g. the card
    a player drew) are only shown to that seat; everyone else sees the event without them.
    """

    seat: int | None
    kind: ClassVar[str] = "event"
    secret: ClassVar[tuple[str, ...]] = ()

    def visible_to(self, viewer: int | None) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        if viewer is None or viewer != self.seat:
            for name in self.secret:
                data.pop(name, None)
        data["kind"] = self.kind
        return data


@dataclass(frozen=True)
class Outcome:
    """The result of a finished game: a score per seat, and the winning seats.

    `lower_is_better` says how to read scores (penalty points in Crazy Eights and Hearts; chips won in
    Hold'em). `detail` carries game-specific public facts (e.g. hands shown at showdown).
    """

    scores: tuple[int, ...]
    winners: tuple[int, ...]
    lower_is_better: bool = True
    detail: Mapping[str, Any] = dataclasses.field(default_factory=dict)


class Game(Protocol):
    """What the table host needs from a game. Each rules module exposes one instance as `GAME`."""

    name: str  # e.g. "crazy_eights"
    title: str  # e.g. "Crazy Eights"
    min_seats: int
    max_seats: int
    default_options: Mapping[str, Any]

    def check_options(self, seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults merged with `options`; raise ValueError naming any unknown or bad option."""
        ...

    def setup(self, seats: int, rng: random.Random, options: Mapping[str, Any]) -> Any:
        """A new game for `seats` players, dealt with `rng`."""
        ...

    def to_act(self, state: Any) -> tuple[int, ...]:
        """The seats that may act now (several during a simultaneous phase); () when over."""
        ...

    def legal_moves(self, state: Any, seat: int) -> list[Action]:
        """Every legal action of `seat` (for betting, one representative per kind)."""
        ...

    def apply(self, state: Any, seat: int, action: Action) -> tuple[Any, list[Event]]:
        """The new state after `seat` takes `action`; raise IllegalMove if it may not."""
        ...

    def view(self, state: Any, seat: int | None) -> dict[str, Any]:
        """What `seat` (None: a spectator) may see. JSON-ready; never another seat's hidden cards."""
        ...

    def outcome(self, state: Any) -> Outcome | None:
        """The result once the game is over, else None."""
        ...

    def bot_move(self, state: Any, seat: int, rng: random.Random) -> Action:
        """A sensible legal action for a bot in `seat`."""
        ...

    def timeout_move(self, state: Any, seat: int) -> Action:
        """The action taken for `seat` when its turn clock runs out."""
        ...

    # Optional: `opening_events(state) -> list[Event]`, the events of `setup` (the deal), which the
    # table host announces when a game or hand starts.


def merge_options(defaults: Mapping[str, Any], options: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults overlaid with `options`, refusing unknown names and values of the wrong type."""
    merged = dict(defaults)
    for key, value in options.items():
        if key not in defaults:
            raise ValueError(f"unknown option {key!r}; known: {', '.join(sorted(defaults)) or 'none'}")
        want = type(defaults[key])
        ok = isinstance(value, want) and not (want is int and isinstance(value, bool))
        if want is float and isinstance(value, int) and not isinstance(value, bool):
            ok, value = True, float(value)
        if not ok:
            raise ValueError(f"option {key!r} must be {want.__name__}")
        merged[key] = value
    return merged
