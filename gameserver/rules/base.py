"""The uniform interface every game's rules module implements, and what they share.

A rules module is pure: no I/O, no clock, no global random. Chance comes only from the `random.Random`
handed to `setup` (and to `bot_move`). State is immutable; `apply` returns a new state and the events
that happened. Hidden information has one gate: `view(state, seat)` for the state, and `Event.visible_to`
for events, which drop `secret` fields for everyone but the event's own seat. Views and `legal` are the
typed structs of `common.views`, the same shape for every game.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, TypeVar, runtime_checkable

from common.protocol import Action
from common.views import GameView, LegalAction


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
        # what `dataclasses.asdict` gives (nested records as dicts), without its deep copy of every
        # value: events hold immutable values, and this runs for every viewer of every move
        hidden = () if viewer is not None and viewer == self.seat else self.secret
        data = {name: _plain(getattr(self, name)) for name in _field_names(type(self)) if name not in hidden}
        data["kind"] = self.kind
        return data


_FIELDS: dict[type, tuple[str, ...]] = {}  # a dataclass's field names, looked up once per class


def _field_names(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = _FIELDS[cls] = tuple(f.name for f in dataclasses.fields(cls))
    return names


_SCALARS = frozenset((str, int, bool, float, type(None)))


def _plain(value: Any) -> Any:
    """A field's value as `asdict` has it: records (and tuples of them) become dicts."""
    if type(value) in _SCALARS:  # most fields: a seat, a card, a count
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.asdict(value)
    if isinstance(value, tuple) and value and dataclasses.is_dataclass(value[0]):
        return tuple(_plain(v) for v in value)
    return value


_T = TypeVar("_T")
_REPLACEABLE: dict[type, frozenset[str]] = {}  # a state class's field names, once it is checked


def replaced(state: _T, **changes: Any) -> _T:
    """`dataclasses.replace` for the rules' frozen dataclass states at under half its cost (it looks up
    the class's fields and runs `__init__` on every call; a move makes one or two): the same fields and
    values, and a TypeError for a field the class has not. For a class whose fields all come from
    `__init__` and which has no `__post_init__` (refused otherwise)."""
    cls = type(state)
    allowed = _REPLACEABLE.get(cls)
    if allowed is None:
        fields = dataclasses.fields(cls)  # type: ignore[arg-type]
        if any(not f.init for f in fields) or hasattr(cls, "__post_init__"):
            raise TypeError(f"{cls.__name__}: use dataclasses.replace (it has fields set after __init__)")
        allowed = _REPLACEABLE[cls] = frozenset(_field_names(cls))
    if not changes.keys() <= allowed:
        raise TypeError(f"{cls.__name__} has no field {sorted(changes.keys() - allowed)}")
    new = object.__new__(cls)
    put = object.__setattr__  # a frozen dataclass's own __init__ sets its fields this way too
    for name in _field_names(cls):
        put(new, name, changes[name] if name in changes else getattr(state, name))
    return new


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


S = TypeVar("S")


class Game(Protocol[S]):
    """What the table host needs from a game whose states are `S`. Each rules module exposes one as `GAME`.

    `series` says how the host runs it: "match" (one game per table: Crazy Eights, Hearts) or "cash" (hand
    after hand with buy-ins: such a game is a `CashGame`). `state_type` is `S` itself: every state
    round-trips through msgspec (`msgspec.convert(msgspec.to_builtins(s), state_type) == s`), so the host
    can snapshot and restore it.
    """

    name: str  # e.g. "crazy_eights"
    title: str  # e.g. "Crazy Eights"
    series: str  # "match" | "cash"
    state_type: type[S]
    min_seats: int
    max_seats: int
    default_options: Mapping[str, Any]

    def check_options(self, seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults merged with `options`; raise ValueError naming any unknown or bad option."""
        ...

    def setup(self, seats: int, rng: random.Random, options: Mapping[str, Any]) -> S:
        """A new game for `seats` players, dealt with `rng`."""
        ...

    def opening_events(self, state: S) -> list[Event]:
        """The events of `setup` (the deal), worked out from the state it returned, for the host to tell."""
        ...

    def to_act(self, state: S) -> tuple[int, ...]:
        """The seats that may act now (several during a simultaneous phase); () when over."""
        ...

    def legal_moves(self, state: S, seat: int) -> list[Action]:
        """Every legal action of `seat` (representatives, for amounts), for bots and tests; see `legal`."""
        ...

    def legal(self, state: S, seat: int) -> list[LegalAction]:
        """What `seat` may do now, one entry per kind of action with its choices; [] if it may not act."""
        ...

    def apply(self, state: S, seat: int, action: Action) -> tuple[S, list[Event]]:
        """The new state after `seat` takes `action`; raise IllegalMove if it may not."""
        ...

    def view(self, state: S, seat: int | None) -> GameView:
        """What `seat` (None: a spectator) may see, with its `legal`; never another seat's hidden cards.
        A seat's view is the spectator's with its `seat_fields` (`common.views.seat_view`)."""
        ...

    def seat_fields(self, state: S, seat: int) -> dict[str, Any]:
        """What `seat`'s view has instead of the spectator's (its own cards, its legal moves; {} when
        `seat` is no seat of this game): a host building every viewer's view builds the rest once."""
        ...

    def outcome(self, state: S) -> Outcome | None:
        """The result once the game is over, else None."""
        ...

    def bot_move(self, state: S, seat: int, rng: random.Random) -> Action:
        """A sensible legal action for a bot in `seat`."""
        ...

    def timeout_move(self, state: S, seat: int) -> Action:
        """The action taken for `seat` when its turn clock runs out."""
        ...


class CashGame(Game[S], Protocol[S]):
    """A game of `series` "cash": each game is one hand, and the host carries chips from hand to hand.

    The host deals a hand with `setup(seats, rng, dict(options, stacks=..., button=...))`: "stacks" are the
    chips per seat (0: not dealt in), "button" a seat with chips (see `next_button`).
    """

    def seat_stacks(self, state: S) -> tuple[int, ...]:
        """Each seat's chips in front of it: in the hand those not bet yet; once over, the settled ones."""
        ...

    def dealt_in(self, state: S) -> tuple[bool, ...]:
        """Which seats were dealt into this hand."""
        ...

    def next_button(self, prev: int | None, stacks: Sequence[int]) -> int:
        """The button of the next hand, after `prev` (None: the first hand), given the seats' `stacks`."""
        ...


@runtime_checkable
class Redeals(Protocol):
    """A match game that deals several times (Hearts). Set up with `deal_by_host: True` among the options,
    it deals each later deal only when the host hands it a fresh rng (the host's fair deal): in between,
    `awaiting_deal` is true and nobody is to act."""

    def awaiting_deal(self, state: Any) -> bool:
        """The last deal is scored and the match goes on: the next deal waits for `redeal`."""
        ...

    def redeal(self, state: Any, rng: random.Random) -> tuple[Any, list[Event]]:
        """The next deal, its cards from `rng`, and its opening events."""
        ...


def merge_options(defaults: Mapping[str, Any], options: Mapping[str, Any],
                  ranges: Mapping[str, tuple[float, float]] | None = None) -> dict[str, Any]:
    """Defaults overlaid with `options`, refusing unknown names, values of the wrong type, and numbers
    outside their `ranges` (inclusive; every numeric option should have one).

    >>> merge_options({"target": 100}, {"target": 10**18}, {"target": (1, 1000)})
    Traceback (most recent call last):
    ValueError: option 'target' must be from 1 to 1000, got 1000000000000000000
    """
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
        low, high = (ranges or {}).get(key, (value, value)) if want in (int, float) else (value, value)
        if not low <= value <= high:  # also refuses nan
            raise ValueError(f"option {key!r} must be from {low:g} to {high:g}, got {value}")
        merged[key] = value
    return merged
