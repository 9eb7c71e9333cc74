"""No-Limit Texas Hold'em: the rules of ONE hand. The table host runs the cash game around it.

The host owns chips between hands, buy-ins, seats coming and going and the button (`next_button`); it
calls `setup` once per hand with the table options plus "stacks" (chips per seat; 0 = empty or sitting
out, not dealt in) and "button" (the button's seat, which must have chips).

Dealing, from the top of `cards.shuffled_deck(rng)`: one card at a time, two rounds, to each dealt-in seat
starting with the first after the button (increasing index, wrapping) and ending on the button; then burn
one + three flop cards, burn one + the turn, burn one + the river.

Blinds: the seat after the button posts the small blind, the next the big blind; heads-up the button posts
the small blind and acts first before the flop, last after it. Preflop the big blind is the opening bet
(so it is Raise, not Bet, and the minimum raise is to 2 big blinds). A finished hand's street is "over".

Where the rules leave a choice: a short blind posts all-in and the amount to call is the largest bet
actually posted; a player who has acted may raise again only if the bet grew by a full raise since (short
all-ins that add up to one reopen it; an opening all-in bet below the big blind does not); nobody may bet
or raise when no other player still in could put in more; a lone player with chips whose bet matches is
not asked to act; uncalled chips return at the end of each betting round; everyone still in at showdown
shows; a split pot's odd chips (the whole remainder) go to the first winner clockwise from the button.
Pure: chance only from the injected rng.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from common.cards import FULL_DECK, is_card, shuffled_deck
from common.protocol import Action, Bet, Call, Check, Fold, Raise
from gameserver.rules.base import Event, IllegalMove, Outcome, merge_options
from gameserver.rules.holdem_eval import best_hand, bot_choice, hand_name, side_pots

STREETS = ("preflop", "flop", "turn", "river")
_BOARD_SIZE = {"flop": 3, "turn": 1, "river": 1}


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
    street: str
    bets: tuple[int, ...]  # this betting round
    committed: tuple[int, ...]  # this hand, including `bets`
    folded: tuple[bool, ...]
    acted: tuple[int | None, ...]  # the bet level at the seat's last action this round; None = not yet
    min_raise: int  # the last full bet/raise increment this round (at least the big blind)
    turn: int | None
    pots: tuple[Pot, ...] = ()
    shown: tuple[tuple[int, tuple[str, str]], ...] = ()
    payouts: tuple[int, ...] | None = None
    # what setup did (blinds, hole cards): see `opening_events`. Not compared, and not restored from a
    # snapshot (only the deal announces it). TEMPORARY: derived from the state with the typed views.
    opening: tuple[Event, ...] = dataclasses.field(default=(), compare=False)

    @property
    def seats(self) -> int:
        return len(self.dealt)

    @property
    def over(self) -> bool:
        return self.street == "over"


class _Hand:
    """A mutable working copy of a State for the duration of one step."""

    def __init__(self, state: State) -> None:
        self.__dict__.update({f.name: getattr(state, f.name) for f in dataclasses.fields(State)})
        for name in ("stacks", "hole", "deck", "board", "bets", "committed", "folded", "acted"):
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

    def live(self) -> list[int]:
        return [s for s in range(self.n) if self.dealt[s] and not self.folded[s]]

    def put_in(self, seat: int, amount: int) -> None:
        self.stacks[seat] -= amount
        self.bets[seat] += amount
        self.committed[seat] += amount


# ---- setup ---------------------------------------------------------------------------------------


def next_button(prev_button: int | None, stacks: Sequence[int]) -> int:
    """The next seat clockwise (increasing index, wrapping) after `prev_button` that has chips.

    With `prev_button` None: the lowest seat with chips. Raises ValueError if no seat has chips.

    >>> next_button(1, [500, 0, 0, 300]), next_button(3, [500, 0, 0, 300]), next_button(None, [0, 9])
    (3, 0, 1)
    """
    n = len(stacks)
    start = 0 if prev_button is None else prev_button + 1
    for i in range(n):
        seat = (start + i) % n
        if stacks[seat] > 0:
            return seat
    raise ValueError("no seat has chips")


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _deal(seats: int, options: Mapping[str, Any], make_deck: Callable[[list[int]], list[str]]) -> State:
    """A new hand: blinds posted, cards dealt from `make_deck(dealing order)` (top first), turn set.

    Without "stacks" every seat starts with max_buy_in; without "button" it is `next_button(None, ...)`.
    """
    opts = GAME.check_options(seats, options)
    stacks = list(opts.get("stacks") or [opts["max_buy_in"]] * seats)
    button = opts.get("button")
    if button is None:
        button = next_button(None, stacks)
    dealt = tuple(s > 0 for s in stacks)
    order = [s % seats for s in range(button + 1, button + 1 + seats) if dealt[s % seats]]
    deck = make_deck(order)
    sb_seat, bb_seat = (button, order[0]) if len(order) == 2 else (order[0], order[1])  # heads-up: button
    state = State(
        small_blind=opts["small_blind"], big_blind=opts["big_blind"], button=button, sb_seat=sb_seat,
        bb_seat=bb_seat, dealt=dealt, initial=tuple(stacks), stacks=tuple(stacks), hole=(None,) * seats,
        deck=tuple(deck), board=(), street="preflop", bets=(0,) * seats, committed=(0,) * seats,
        folded=(False,) * seats, acted=(None,) * seats, min_raise=opts["big_blind"], turn=None,
    )
    h = _Hand(state)
    events: list[Event] = [HandStarted(None, button, sb_seat, bb_seat, tuple(stacks))]
    for seat, blind, size in ((sb_seat, "small", h.small_blind), (bb_seat, "big", h.big_blind)):
        amount = min(size, h.stacks[seat])
        h.put_in(seat, amount)
        events.append(BlindPosted(seat, blind, amount, h.stacks[seat] == 0))
    for i, seat in enumerate(order):  # one card at a time, two rounds
        h.hole[seat] = (h.deck[i], h.deck[len(order) + i])
        events.append(HoleCards(seat, h.hole[seat]))
    del h.deck[: 2 * len(order)]
    _advance(h, bb_seat + 1, events)
    h.opening = tuple(events)
    return h.freeze()


def setup_fixed(seats: int, options: Mapping[str, Any], hole_cards: Sequence[Any] | Mapping[int, Any],
                board: Sequence[str]) -> State:
    """A hand dealt with chosen cards, for tests and replays; the host never calls it.

    `hole_cards` gives each dealt-in seat's two cards (a list by seat, None for seats not dealt in, or a
    dict seat -> cards); `board` gives up to five board cards in order (the rest, and the burn cards, come
    from the unused cards in FULL_DECK order).
    """
    holes = dict(hole_cards) if isinstance(hole_cards, Mapping) else dict(enumerate(hole_cards))

    def make_deck(order: list[int]) -> list[str]:
        if any(holes.get(s) is None or len(holes[s]) != 2 for s in order) or len(board) > 5:
            raise ValueError("every dealt-in seat needs two hole cards, and the board has at most five")
        used = [c for s in order for c in holes[s]] + list(board)
        if not all(is_card(c) for c in used) or len(set(used)) != len(used):
            raise ValueError("fixed cards must be distinct valid cards")
        rest = [c for c in FULL_DECK if c not in used]
        runout, rest = list(board) + rest[: 5 - len(board)], rest[5 - len(board):]
        holes_in_order = [holes[s][r] for r in range(2) for s in order]
        return holes_in_order + [rest[0], *runout[:3], rest[1], runout[3], rest[2], runout[4], *rest[3:]]

    return _deal(seats, options, make_deck)


def opening_events(state: State) -> list[Event]:
    """The events of `setup` (hand started, blinds, hole cards), which `setup` cannot return itself."""
    return list(state.opening)


# ---- betting -------------------------------------------------------------------------------------


def _needs_action(h: _Hand, seat: int, top: int, with_chips: list[int]) -> bool:
    if not h.dealt[seat] or h.folded[seat] or h.stacks[seat] == 0:
        return False
    if len(with_chips) == 1:  # nobody left to bet against: only an unmatched bet needs an answer
        return h.bets[seat] < top
    return h.acted[seat] is None or h.bets[seat] < top


def _advance(h: _Hand, start: int, events: list[Event]) -> None:
    """Hand the turn to the next seat from `start` that must act, or close the round and move on."""
    while True:
        if len(h.live()) > 1:
            top = max(h.bets)
            with_chips = [s for s in h.live() if h.stacks[s] > 0]
            for seat in h.order_from(start):
                if _needs_action(h, seat, top, with_chips):
                    h.turn = seat
                    return
        h.turn = None
        _return_uncalled(h, events)
        live = h.live()
        if len(live) == 1 or h.street == "river":
            _settle(h, events)
            return
        h.street = STREETS[STREETS.index(h.street) + 1]
        h.bets = [0] * h.n
        h.acted = [None] * h.n
        h.min_raise = h.big_blind
        h.deck.pop(0)  # burn
        cards = [h.deck.pop(0) for _ in range(_BOARD_SIZE[h.street])]
        h.board.extend(cards)
        events.append(StreetDealt(None, h.street, tuple(cards), tuple(h.board)))
        start = h.button + 1


def _return_uncalled(h: _Hand, events: list[Event]) -> None:
    ranked = sorted(range(h.n), key=lambda s: h.bets[s], reverse=True)
    top, second = ranked[0], ranked[1]
    excess = h.bets[top] - h.bets[second]
    if excess > 0:
        h.bets[top] -= excess
        h.committed[top] -= excess
        h.stacks[top] += excess
        events.append(UncalledReturned(top, excess))


def _settle(h: _Hand, events: list[Event]) -> None:
    """Show down if more than one player is left, award every pot, end the hand."""
    live = h.live()
    keys: dict[int, tuple[int, ...]] = {}
    if len(live) > 1:  # _advance has dealt the whole board by now
        h.street = "showdown"
        keys = {s: best_hand([*h.hole[s], *h.board]) for s in live}
        h.shown = tuple((s, h.hole[s]) for s in live)
        events.append(Showdown(None, tuple(ShownHand(s, h.hole[s], hand_name(keys[s])) for s in live)))
    h.pots = tuple(Pot(amount, eligible) for amount, eligible in side_pots(h.committed, live))
    payouts = [0] * h.n
    clockwise = h.order_from(h.button + 1)
    for index, pot in enumerate(h.pots):
        if keys:
            best = max(keys[s] for s in pot.eligible)
            winners = [s for s in clockwise if s in pot.eligible and keys[s] == best]
        else:
            winners = list(pot.eligible)
        share, odd = divmod(pot.amount, len(winners))
        for i, seat in enumerate(winners):
            won = share + (odd if i == 0 else 0)
            payouts[seat] += won
            h.stacks[seat] += won
            events.append(PotAwarded(seat, won, index, hand_name(keys[seat]) if keys else None))
    h.payouts = tuple(payouts)
    h.bets = [0] * h.n
    h.street = "over"
    h.turn = None
    events.append(HandOver(None, tuple(h.stacks), h.payouts))


def _to_call(state: State, seat: int) -> int:
    return min(max(state.bets) - state.bets[seat], state.stacks[seat])


def _raise_range(state: State, seat: int) -> tuple[int, int] | None:
    """(min, max) of the round total `seat` may bet or raise to, or None if it may not."""
    top = max(state.bets)
    most = state.bets[seat] + state.stacks[seat]
    if most <= top:
        return None
    level = state.acted[seat]
    if level is not None and top - level < state.min_raise:
        return None  # already acted and not faced with a full raise since
    if not any(s != seat and state.dealt[s] and not state.folded[s] and state.stacks[s] + state.bets[s] > top
               for s in range(state.seats)):
        return None  # nobody could answer
    return min(top + state.min_raise, most), most


def _pots(state: State) -> list[dict[str, Any]]:
    return [{"amount": p.amount, "eligible": list(p.eligible)} for p in state.pots]


def _check_turn(state: State, seat: int) -> None:
    if state.over:
        raise IllegalMove("the hand is over")
    if seat != state.turn:
        raise IllegalMove("it is not your turn")


def _apply(state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
    _check_turn(state, seat)
    top = max(state.bets)
    to_call = _to_call(state, seat)
    h = _Hand(state)
    events: list[Event] = []
    if isinstance(action, Fold):
        if to_call == 0:
            raise IllegalMove("you can check for free; folding is not allowed here")
        h.folded[seat] = True
        events.append(Acted(seat, "fold"))
    elif isinstance(action, Check):
        if to_call:
            raise IllegalMove(f"you cannot check: {to_call} to call")
        events.append(Acted(seat, "check"))
    elif isinstance(action, Call):
        if not to_call:
            raise IllegalMove("there is nothing to call; check instead")
        h.put_in(seat, to_call)
        events.append(Acted(seat, "call", to_call, h.bets[seat], h.stacks[seat] == 0))
    elif isinstance(action, (Bet, Raise)):
        is_bet = isinstance(action, Bet)
        if is_bet and top:
            raise IllegalMove("there is already a bet: raise instead")
        if not is_bet and not top:
            raise IllegalMove("there is no bet to raise: bet instead")
        to = action.amount if is_bet else action.to
        span = _raise_range(state, seat)
        if span is None:
            raise IllegalMove("you may not bet or raise now" if is_bet else "you may not raise now")
        if not _is_int(to) or not span[0] <= to <= span[1]:
            what = "bet" if is_bet else "raise to"
            raise IllegalMove(f"{what} between {span[0]} and {span[1]} (all-in is {span[1]})")
        if to - top >= h.min_raise:
            h.min_raise = to - top
        added = to - state.bets[seat]
        h.put_in(seat, added)
        events.append(Acted(seat, "bet" if is_bet else "raise", added, to, h.stacks[seat] == 0))
    else:
        raise IllegalMove(f"{type(action).__name__} is not a Hold'em action")
    h.acted[seat] = max(h.bets)
    _advance(h, seat + 1, events)
    return h.freeze(), events


# ---- bots ----------------------------------------------------------------------------------------


def _bot_move(state: State, seat: int, rng: random.Random) -> Action:
    _check_turn(state, seat)
    hole = state.hole[seat]
    assert hole is not None
    top = max(state.bets)
    choice, to = bot_choice(hole, state.board, _to_call(state, seat), sum(state.committed),
                            state.stacks[seat] + state.bets[seat], top, _raise_range(state, seat), rng)
    if choice == "raise":
        return Raise(to=to) if top else Bet(amount=to)
    return {"check": Check, "call": Call, "fold": Fold}[choice]()


# ---- the game ------------------------------------------------------------------------------------


class Holdem:
    name = "holdem"
    title = "No-Limit Hold'em"
    min_seats = 2
    max_seats = 9
    cash_table = True  # the host runs hand after hand, with buy-ins (gameserver/cash_table.py)
    opening_events = staticmethod(opening_events)  # blinds and hole cards of a new hand
    default_options: Mapping[str, Any] = {
        "small_blind": 50, "big_blind": 100, "min_buy_in": 2000, "max_buy_in": 20000,
    }

    def check_options(self, seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
        table = dict(options)
        stacks = table.pop("stacks", None)
        button = table.pop("button", None)
        merged = merge_options(self.default_options, table)
        if not self.min_seats <= seats <= self.max_seats:
            raise ValueError(f"Hold'em seats {self.min_seats} to {self.max_seats} players")
        sb, bb, low, high = (merged[k] for k in ("small_blind", "big_blind", "min_buy_in", "max_buy_in"))
        for bad, why in ((sb <= 0 or bb <= 0, "blinds must be positive"),
                         (sb > bb, "the small blind cannot exceed the big blind"),
                         (low > high, "min_buy_in cannot exceed max_buy_in"),
                         (low < bb, "min_buy_in must be at least the big blind")):
            if bad:
                raise ValueError(why)
        if stacks is not None:
            if not isinstance(stacks, (list, tuple)) or len(stacks) != seats or not all(
                    _is_int(s) and s >= 0 for s in stacks):
                raise ValueError(f"option 'stacks' must be a list of {seats} whole chip counts, zero or more")
            if sum(1 for s in stacks if s > 0) < 2:
                raise ValueError("a hand needs at least two seats with chips")
            merged["stacks"] = list(stacks)
        if button is not None:
            if not _is_int(button) or not 0 <= button < seats:
                raise ValueError(f"option 'button' must be a seat number from 0 to {seats - 1}")
            if stacks is not None and stacks[button] == 0:
                raise ValueError("the button must be on a seat with chips")
            merged["button"] = button
        return merged

    def setup(self, seats: int, rng: random.Random, options: Mapping[str, Any]) -> State:
        return _deal(seats, options, lambda order: shuffled_deck(rng))

    def to_act(self, state: State) -> tuple[int, ...]:
        return () if state.turn is None else (state.turn,)

    def legal_moves(self, state: State, seat: int) -> list[Action]:
        """Fold (unless checking is free), Check or Call, and the minimum and all-in Bet/Raise."""
        if state.over or seat != state.turn:
            return []
        moves: list[Action] = [Fold(), Call()] if _to_call(state, seat) else [Check()]
        span = _raise_range(state, seat)
        for to in sorted(set(span or ())):
            moves.append(Raise(to=to) if max(state.bets) else Bet(amount=to))
        return moves

    def apply(self, state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
        return _apply(state, seat, action)

    def view(self, state: State, seat: int | None) -> dict[str, Any]:
        mine = seat is not None and 0 <= seat < state.seats
        legal: list[dict[str, Any]] = []
        if mine and seat == state.turn:
            to_call = _to_call(state, seat)
            legal = [{"type": "fold"}, {"type": "call", "amount": to_call}] if to_call else []
            legal = legal or [{"type": "check"}]
            span = _raise_range(state, seat)
            if span is not None:
                legal.append({"type": "raise" if max(state.bets) else "bet", "min": span[0], "max": span[1]})
        out: dict[str, Any] = {
            "game": self.name, "board": list(state.board), "pot": sum(state.committed), "pots": _pots(state),
            "stacks": list(state.stacks), "bets": list(state.bets), "dealt_in": list(state.dealt),
            "folded": list(state.folded),
            "all_in": [d and not f and not s for d, f, s in zip(state.dealt, state.folded, state.stacks)],
            "button": state.button, "small_blind_seat": state.sb_seat, "big_blind_seat": state.bb_seat,
            "small_blind": state.small_blind, "big_blind": state.big_blind, "street": state.street,
            "turn": state.turn, "to_call": _to_call(state, seat) if mine and not state.over else 0,
            "legal": legal, "over": state.over,
        }
        if mine and state.hole[seat] is not None:
            out["hole"] = list(state.hole[seat])
        if state.shown:
            out["shown"] = {s: list(cards) for s, cards in state.shown}
        if state.payouts is not None:
            out["payouts"] = list(state.payouts)
        return out

    def outcome(self, state: State) -> Outcome | None:
        if not state.over or state.payouts is None:
            return None
        return Outcome(
            scores=tuple(f - i for f, i in zip(state.stacks, state.initial, strict=True)),
            winners=tuple(s for s in range(state.seats) if state.payouts[s] > 0),
            lower_is_better=False,
            detail={
                "stacks": list(state.stacks),
                "payouts": list(state.payouts),
                "shown": {s: list(cards) for s, cards in state.shown},
                "board": list(state.board),
                "pots": _pots(state),
            },
        )

    def bot_move(self, state: State, seat: int, rng: random.Random) -> Action:
        return _bot_move(state, seat, rng)

    def timeout_move(self, state: State, seat: int) -> Action:
        return Check() if _to_call(state, seat) == 0 else Fold()


GAME = Holdem()
