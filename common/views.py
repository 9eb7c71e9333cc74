"""The typed views of every game, the one shape of a legal action, and the exported JSON Schema.

Owns what a viewer of a game is sent (`CrazyEightsView`, `HeartsView`, `HoldemView`, tagged by `game`;
`GameView` is their union) and `LegalAction`, the single description of "what this seat may do" that every
game fills in the same way, so a consumer (the browser client, the scripted players, the load generator)
builds any legal action from an entry without knowing which game it plays: `example_action(entry)`, and
checks one with `allows(entry, action)`. `python -m common.views --out docs/schema` writes the JSON Schema
of the server -> client and client -> server messages (`common.protocol`), views included.

Imports no tier. `common.protocol` imports this module (a `View` message carries a `GameView`), so the
helpers that build protocol actions import it when called rather than at the top: the structs here need
nothing from it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

import msgspec

if TYPE_CHECKING:
    from collections.abc import Sequence

    from common.protocol import Action

HeartsPhase = Literal["passing", "playing", "dealing", "over"]  # "dealing": the next deal waits for its deck
PassDirection = Literal["left", "right", "across", "none"]
Street = Literal["preflop", "flop", "turn", "river", "showdown", "over"]  # a finished hand's is "over"

#: The `type` tags of `common.protocol`'s actions (a test checks that the two agree).
ActionType = Literal["play", "draw", "pass", "pass_cards", "fold", "check", "call", "bet", "raise"]


class LegalAction(msgspec.Struct, omit_defaults=True):
    """One kind of action a seat may take now, with the choices it leaves open.

    The action to send has `type`, and:
      * `cards` without `count`: a `card` field naming one of `cards` (a card to play);
      * `cards` with `count`: a `cards` field naming exactly `count` different ones of `cards` (Hearts' pass);
      * `suits`: a `suit` field naming one of them (a Crazy Eights 8; without `suits`, no suit is named);
      * `field` with `min`/`max`: an integer field of that name, from `min` to `max` (bet: "amount",
        raise: "to").
    `cost` is for showing only: the chips the action puts in (a call). An entry with none of these is the
    bare action (`{"type": "draw"}`).

    >>> example_action(LegalAction("play", cards=["8C", "8H"], suits=["C", "D", "H", "S"]))
    Play(card='8C', suit='C')
    """

    type: ActionType
    cards: list[str] | None = None
    count: int | None = None
    suits: list[str] | None = None
    field: str | None = None
    min: int | None = None
    max: int | None = None
    cost: int | None = None


class _Chooser(Protocol):
    """What `example_action` needs of a `random.Random`."""

    def choice(self, seq: Sequence[Any]) -> Any: ...

    def sample(self, population: Sequence[Any], k: int) -> list[Any]: ...

    def randint(self, a: int, b: int) -> int: ...


def action_fields(entry: LegalAction, rng: _Chooser | None = None) -> dict[str, Any]:
    """The fields of an action `entry` allows, as plain data: the first choice of each (the first card or
    cards, the first suit, the minimum amount), or with `rng` a random one."""
    out: dict[str, Any] = {"type": entry.type}
    if entry.cards is not None:
        if entry.count is None:
            out["card"] = entry.cards[0] if rng is None else rng.choice(entry.cards)
        else:
            out["cards"] = entry.cards[:entry.count] if rng is None else rng.sample(entry.cards, entry.count)
    if entry.suits:
        out["suit"] = entry.suits[0] if rng is None else rng.choice(entry.suits)
    if entry.field is not None and entry.min is not None and entry.max is not None:
        out[entry.field] = entry.min if rng is None else rng.randint(entry.min, entry.max)
    return out


def example_action(entry: LegalAction, rng: _Chooser | None = None) -> Action:
    """A protocol action that `entry` allows (see `action_fields` for which one)."""
    from common.protocol import action_from_builtins  # protocol imports this module

    return action_from_builtins(action_fields(entry, rng))


def allows(entry: LegalAction, action: Action) -> bool:
    """True if `action` is one of the actions `entry` stands for (its type, and every field in range).

    >>> from common.protocol import Play
    >>> entry = LegalAction("play", cards=["5H", "KH"])
    >>> allows(entry, Play("KH")), allows(entry, Play("8C")), allows(entry, Play("KH", "S"))
    (True, False, False)
    """
    data = msgspec.to_builtins(action)
    if data.pop("type") != entry.type:
        return False
    if entry.cards is not None:
        if entry.count is None:
            if data.pop("card", None) not in entry.cards:
                return False
        else:
            chosen = data.pop("cards", None)
            if not isinstance(chosen, list) or len(chosen) != entry.count or len(set(chosen)) != entry.count \
                    or not set(chosen) <= set(entry.cards):
                return False
    if entry.suits and data.pop("suit", None) not in entry.suits:
        return False
    if entry.field is not None:
        value = data.pop(entry.field, None)
        if not isinstance(value, int) or entry.min is None or entry.max is None \
                or not entry.min <= value <= entry.max:
            return False
    return all(value is None for value in data.values())


# ---- the views --------------------------------------------------------------------------------------


class _View(msgspec.Struct, tag_field="game"):
    """Base of the game views: `game` names the game; `legal` is what this viewer may do now ([] for a
    seat not to act and for spectators)."""


class CrazyEightsOptions(msgspec.Struct):
    queen_skips: bool
    ace_reverses: bool
    two_draws_two: bool


class CrazyEightsView(_View, tag="crazy_eights", kw_only=True):
    """A Crazy Eights hand as one seat (or a spectator) sees it. Piles top LAST; `turn` None once over;
    `seat`/`hand` only for a seat; `scores` (penalty points) and `went_out` once over."""

    seats: int
    dealer: int
    counts: list[int]  # cards in each hand
    top: str
    suit: str  # the current suit (named with an 8, or the top card's)
    turn: int | None
    stock: int
    drawn_this_turn: int
    direction: int  # +1 up in seat number, -1 down
    pending_draw: int  # cards the player to act must draw unless they answer with a 2
    plays: int
    discards: list[str]
    over: bool
    options: CrazyEightsOptions
    seat: int | None = None
    hand: list[str] | None = None
    legal: list[LegalAction] = []
    scores: list[int] | None = None
    went_out: int | None = None


class HeartsTrickCard(msgspec.Struct):
    seat: int
    card: str


class HeartsLastTrick(msgspec.Struct):
    winner: int
    cards: list[HeartsTrickCard]


class HeartsView(_View, tag="hearts", kw_only=True):
    """A Hearts match as one seat (or a spectator) sees it; other hands only as counts. `hand` and
    `my_pass` (the cards this seat passed this deal, once chosen) only for a seat."""

    counts: list[int]
    phase: HeartsPhase
    pass_direction: PassDirection
    passed: list[bool]  # who has chosen their pass this deal
    trick: list[HeartsTrickCard]  # in play order
    leader: int | None
    turn: int | None
    hearts_broken: bool
    deal_points: list[int]
    tricks_won: list[int]
    scores: list[int]  # match totals
    deal_number: int
    deals: list[list[int]]  # each finished deal's points
    last_trick: HeartsLastTrick | None
    over: bool
    hand: list[str] | None = None
    my_pass: list[str] | None = None
    legal: list[LegalAction] = []


class HoldemPot(msgspec.Struct):
    amount: int
    eligible: list[int]


class HoldemView(_View, tag="holdem", kw_only=True):
    """One Hold'em hand as one seat (or a spectator) sees it: `hole` is this seat's own two cards;
    others' cards only in `shown` (seat -> cards, at a showdown). `payouts` once the hand is over."""

    board: list[str]
    pot: int
    pots: list[HoldemPot]  # main pot first, then side pots (settled at the end of the hand)
    stacks: list[int]  # chips behind, by seat
    bets: list[int]  # this betting round
    dealt_in: list[bool]
    folded: list[bool]
    all_in: list[bool]
    button: int
    small_blind_seat: int
    big_blind_seat: int
    small_blind: int
    big_blind: int
    street: Street
    turn: int | None
    to_call: int
    legal: list[LegalAction] = []
    over: bool
    hole: list[str] | None = None
    shown: dict[int, list[str]] | None = None
    payouts: list[int] | None = None


GameView = CrazyEightsView | HeartsView | HoldemView


_V = TypeVar("_V", bound=msgspec.Struct)


def seat_view(public: _V, fields: dict[str, Any]) -> _V:
    """A seat's view: the spectator's view `public` of the same state with the seat's own `fields` (its
    cards, its legal moves: a game's `seat_fields`). A host building every viewer's view of a state
    works out what they share once."""
    return msgspec.structs.replace(public, **fields) if fields else public


# ---- provably fair deals (common.fairness derives and verifies; the README spells the scheme out) ------


class FairContribution(msgspec.Struct):
    """One seat's random value for a deal: 32 bytes as 64 hex digits. `by` "player" (sent by the seat's
    client) or "server" (a bot's or an absent player's: derived from the seed, so the server cannot pick
    it)."""

    seat: int
    value: str
    by: str


class FairCommit(msgspec.Struct, omit_defaults=True):
    """The commitment for deal `deal` of a table, shown before that deal: `commitment` is
    SHA-256(seed || nonce) in hex. `seats` contribute (in this order); `contributed` have a value in
    (by their player: `server` lists the seats whose value the server gives); `dealt` once the deck is
    fixed, after which no contribution is taken."""

    scheme: str
    deal: int
    commitment: str
    seats: list[int]
    contributed: list[int] = []
    server: list[int] = []
    dealt: bool = False


class FairReveal(msgspec.Struct, omit_defaults=True):
    """A finished deal's revealed values: everything `python -m common.fairness verify` needs to rebuild the
    deck and check it against `commitment`. `context` is what the game's deal needs besides the deck (the
    number of seats; Hold'em: the button and the seats dealt in)."""

    scheme: str
    table: str
    deal: int
    game: str
    commitment: str
    seed: str  # 32 bytes, hex
    nonce: str  # 16 bytes, hex
    contributions: list[FairContribution]
    context: dict[str, Any] = {}


class Seen(msgspec.Struct, omit_defaults=True):
    """What one player saw of a deal: their seat, their own cards as dealt, the public cards in the order
    shown (a prefix of the deal's), cards they saw other seats hold (`others`: shown at a showdown,
    passed to them in Hearts), the cards they drew (Crazy Eights: [stock size after the draw, card]),
    and the contribution their client sent (if it did)."""

    seat: int | None = None
    hand: list[str] = []
    public: list[str] = []
    others: dict[int, list[str]] = {}
    drawn: list[tuple[int, str]] = []
    contribution: str | None = None


class SitAndGoPlace(msgspec.Struct, omit_defaults=True):
    """A sit-and-go entrant who finished: their seat, name, place (1 = the winner) and prize."""

    seat: int
    name: str
    place: int
    prize: int = 0


class SitAndGoInfo(msgspec.Struct, omit_defaults=True):
    """A sit-and-go table's own facts, beside the hand's view: the entry (buy-in and fee), who is
    registered, the pool and the prize for each paid place; once it runs, the level in play (1 = the
    first) with its blinds, when the next level begins (wall-clock s) or how many hands it is away, and
    the next level's blinds; every place decided so far (busted players, and at the end everyone)."""

    buy_in: int
    fee: int
    stack: int
    registered: int
    seats: int
    pool: int
    prizes: list[int]
    state: Literal["registering", "running", "finished"] = "registering"
    level: int = 1
    small_blind: int = 0
    big_blind: int = 0
    next_level_at: float | None = None
    hands_to_next_level: int | None = None
    next_blinds: list[int] | None = None  # [small, big] of the next level (None: this is the last)
    places: list[SitAndGoPlace] = []


# ---- the exported schema ---------------------------------------------------------------------------


def schemas() -> dict[str, dict[str, Any]]:
    """File name -> JSON Schema of each direction's message union (views included)."""
    from common import protocol as p  # protocol imports this module

    out = {}
    for name, union, title in (("server-messages.json", p.ServerMessage, "Felt: server -> client messages"),
                               ("client-messages.json", p.ClientMessage, "Felt: client -> server messages")):
        note = f"protocol version {p.PROTOCOL_VERSION}; generated by python -m common.views"
        out[name] = {"$schema": "https://json-schema.org/draft/2020-12/schema", "title": title,
                     "description": note, **msgspec.json.schema(union)}
    return out


def schema_text(schema: dict[str, Any]) -> str:
    """The committed form of a schema: indented, keys sorted, one newline at the end."""
    import json

    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main(argv: list[str] | None = None) -> None:
    """`python -m common.views --out DIR`: write the schema files into DIR."""
    import argparse
    from pathlib import Path

    ap = argparse.ArgumentParser(prog="python -m common.views", description=main.__doc__)
    ap.add_argument("--out", type=Path, default=Path("docs/schema"), help="directory (default docs/schema)")
    out: Path = ap.parse_args(argv).out
    out.mkdir(parents=True, exist_ok=True)
    for name, schema in schemas().items():
        (out / name).write_text(schema_text(schema))
        print(out / name)


if __name__ == "__main__":
    from common.views import main as _main  # the module protocol imported, not this __main__ copy

    _main()
