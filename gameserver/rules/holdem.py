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
Pure: chance only from the injected rng. The hand's data (its State, its events) is in `holdem_state`.
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from common.cards import FULL_DECK, is_card, shuffled_deck
from common.protocol import Action, Bet, Call, Check, Fold, Raise
from common.views import HoldemPot, HoldemView, LegalAction, Street, seat_view
from gameserver.rules.base import CashGame, Event, IllegalMove, Outcome, merge_options
from gameserver.rules.holdem_eval import best_hand, bot_choice, hand_name, side_pots
from gameserver.rules.holdem_state import (
    Acted,
    BlindPosted,
    Hand,
    HandOver,
    HandStarted,
    HoleCards,
    Pot,
    PotAwarded,
    Showdown,
    ShownHand,
    State,
    StreetDealt,
    UncalledReturned,
)

STREETS: tuple[Street, ...] = ("preflop", "flop", "turn", "river")
#: The most chips any table option, blind or stack may name (a billion: far past any real balance).
MAX_CHIPS = 10**9

_BOARD_SIZE = {"flop": 3, "turn": 1, "river": 1}


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
    order = _dealing_order(button, dealt)
    sb_seat, bb_seat = (button, order[0]) if len(order) == 2 else (order[0], order[1])  # heads-up: button
    state = State(
        small_blind=opts["small_blind"], big_blind=opts["big_blind"], button=button, sb_seat=sb_seat,
        bb_seat=bb_seat, dealt=dealt, initial=tuple(stacks), stacks=tuple(stacks), hole=(None,) * seats,
        deck=tuple(make_deck(order)), board=(), street="preflop", bets=(0,) * seats, committed=(0,) * seats,
        folded=(False,) * seats, acted=(None,) * seats, min_raise=opts["big_blind"], turn=None,
    )
    return _open(state)[0].freeze()


def _dealing_order(button: int, dealt: Sequence[bool]) -> list[int]:
    """Dealt-in seats from the one after the button round to the button."""
    n = len(dealt)
    return [s % n for s in range(button + 1, button + 1 + n) if dealt[s % n]]


def _open(state: State) -> tuple[Hand, list[Event]]:
    """The blinds, the hole cards and the first turn (or, if nobody can act, the whole hand) of a hand not
    yet dealt, and the events of all that: what `setup` does after building `state`."""
    h = Hand(state)
    order = _dealing_order(h.button, h.dealt)
    events: list[Event] = [HandStarted(None, h.button, h.sb_seat, h.bb_seat, tuple(h.stacks))]
    for seat, blind, size in ((h.sb_seat, "small", h.small_blind), (h.bb_seat, "big", h.big_blind)):
        amount = min(size, h.stacks[seat])
        h.put_in(seat, amount)
        events.append(BlindPosted(seat, blind, amount, h.stacks[seat] == 0))
    for i, seat in enumerate(order):  # one card at a time, two rounds
        h.hole[seat] = cards = (h.deck[i], h.deck[len(order) + i])
        events.append(HoleCards(seat, cards))
    del h.deck[: 2 * len(order)]
    _advance(h, h.bb_seat + 1, events)
    return h, events


def opening_events(state: State) -> list[Event]:
    """The events of `setup` (hand started, blinds, hole cards, and the run-out when nobody could act),
    which `setup` cannot return itself: the hand is dealt again from the cards `state` says it used."""
    order = _dealing_order(state.button, state.dealt)
    holes = [state.hole[seat] or ("", "") for seat in order]
    board = list(state.board)
    runout: list[str] = []
    for burn, size in zip(state.burned, _BOARD_SIZE.values(), strict=False):
        runout += [burn, *board[:size]]
        del board[:size]
    deck = [card for r in range(2) for card in (hole[r] for hole in holes)] + runout + list(state.deck)
    fresh = dataclasses.replace(
        state, stacks=state.initial, hole=(None,) * state.seats, deck=tuple(deck), board=(), street="preflop",
        bets=(0,) * state.seats, committed=(0,) * state.seats, folded=(False,) * state.seats,
        acted=(None,) * state.seats, min_raise=state.big_blind, turn=None, pots=(), shown=(), payouts=None,
        burned=())
    return _open(fresh)[1]


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


# ---- betting -------------------------------------------------------------------------------------


def _needs_action(h: Hand, seat: int, top: int, with_chips: list[int]) -> bool:
    if not h.dealt[seat] or h.folded[seat] or h.stacks[seat] == 0:
        return False
    if len(with_chips) == 1:  # nobody left to bet against: only an unmatched bet needs an answer
        return h.bets[seat] < top
    return h.acted[seat] is None or h.bets[seat] < top


def _advance(h: Hand, start: int, events: list[Event]) -> None:
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
        h.burned.append(h.deck.pop(0))
        cards = [h.deck.pop(0) for _ in range(_BOARD_SIZE[h.street])]
        h.board.extend(cards)
        events.append(StreetDealt(None, h.street, tuple(cards), tuple(h.board)))
        start = h.button + 1


def _return_uncalled(h: Hand, events: list[Event]) -> None:
    ranked = sorted(range(h.n), key=lambda s: h.bets[s], reverse=True)
    top, second = ranked[0], ranked[1]
    excess = h.bets[top] - h.bets[second]
    if excess > 0:
        h.bets[top] -= excess
        h.committed[top] -= excess
        h.stacks[top] += excess
        events.append(UncalledReturned(top, excess))


def _settle(h: Hand, events: list[Event]) -> None:
    """Show down if more than one player is left, award every pot, end the hand."""
    live = h.live()
    keys: dict[int, tuple[int, ...]] = {}
    if len(live) > 1:  # _advance has dealt the whole board by now
        h.street = "showdown"
        keys = {s: best_hand([*h.hole_of(s), *h.board]) for s in live}
        h.shown = tuple((s, h.hole_of(s)) for s in live)
        events.append(Showdown(None, tuple(ShownHand(s, h.hole_of(s), hand_name(keys[s])) for s in live)))
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


def _pots(state: State) -> list[HoldemPot]:
    return [HoldemPot(amount=p.amount, eligible=list(p.eligible)) for p in state.pots]


def legal(state: State, seat: int) -> list[LegalAction]:
    """Fold and call (with its cost), or check; then bet ("amount") or raise ("to") with its range."""
    if state.over or seat != state.turn:
        return []
    to_call = _to_call(state, seat)
    out = [LegalAction("fold"), LegalAction("call", cost=to_call)] if to_call else [LegalAction("check")]
    span = _raise_range(state, seat)
    if span is not None:
        if max(state.bets):
            out.append(LegalAction("raise", field="to", min=span[0], max=span[1]))
        else:
            out.append(LegalAction("bet", field="amount", min=span[0], max=span[1]))
    return out


def _check_turn(state: State, seat: int) -> None:
    if state.over:
        raise IllegalMove("the hand is over")
    if seat != state.turn:
        raise IllegalMove("it is not your turn")


def _apply(state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
    _check_turn(state, seat)
    top = max(state.bets)
    to_call = _to_call(state, seat)
    h = Hand(state)
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
        to = action.amount if isinstance(action, Bet) else action.to
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
    return Check() if choice == "check" else Call() if choice == "call" else Fold()


# ---- the game ------------------------------------------------------------------------------------


class Holdem:
    name = "holdem"
    title = "No-Limit Hold'em"
    series = "cash"  # the host runs hand after hand, with buy-ins (gameserver/cash_table.py)
    state_type = State
    min_seats = 2
    max_seats = 9
    opening_events = staticmethod(opening_events)  # blinds and hole cards of a new hand
    default_options: Mapping[str, Any] = {
        "small_blind": 50, "big_blind": 100, "min_buy_in": 2000, "max_buy_in": 20000,
    }

    def check_options(self, seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
        table = dict(options)
        stacks = table.pop("stacks", None)
        button = table.pop("button", None)
        merged = merge_options(self.default_options, table, {
            "small_blind": (1, MAX_CHIPS), "big_blind": (1, MAX_CHIPS), "min_buy_in": (1, MAX_CHIPS),
            "max_buy_in": (1, MAX_CHIPS)})
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
                    _is_int(s) and 0 <= s <= MAX_CHIPS for s in stacks):
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

    def legal(self, state: State, seat: int) -> list[LegalAction]:
        return legal(state, seat)

    def view(self, state: State, seat: int | None) -> HoldemView:
        public = HoldemView(
            board=list(state.board), pot=sum(state.committed), pots=_pots(state), stacks=list(state.stacks),
            bets=list(state.bets), dealt_in=list(state.dealt), folded=list(state.folded),
            all_in=[d and not f and not s
                    for d, f, s in zip(state.dealt, state.folded, state.stacks, strict=True)],
            button=state.button, small_blind_seat=state.sb_seat, big_blind_seat=state.bb_seat,
            small_blind=state.small_blind, big_blind=state.big_blind, street=state.street, turn=state.turn,
            to_call=0, legal=[], over=state.over,
            shown={s: list(cards) for s, cards in state.shown} if state.shown else None,
            payouts=None if state.payouts is None else list(state.payouts))
        return public if seat is None else seat_view(public, self.seat_fields(state, seat))

    def seat_fields(self, state: State, seat: int) -> dict[str, Any]:
        """A seat's own part of its view: its hole cards, what it must add to call, its legal moves."""
        if not 0 <= seat < state.seats:
            return {}
        hole = state.hole[seat]
        return {"hole": None if hole is None else list(hole),
                "to_call": 0 if state.over else _to_call(state, seat), "legal": legal(state, seat)}

    def seat_stacks(self, state: State) -> tuple[int, ...]:
        """Chips behind: during the hand without the bets, once it is over the settled stacks."""
        return state.stacks

    def dealt_in(self, state: State) -> tuple[bool, ...]:
        return state.dealt

    def next_button(self, prev: int | None, stacks: Sequence[int]) -> int:
        return next_button(prev, stacks)

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
                "pots": [{"amount": p.amount, "eligible": list(p.eligible)} for p in state.pots],
            },
        )

    def bot_move(self, state: State, seat: int, rng: random.Random) -> Action:
        return _bot_move(state, seat, rng)

    def timeout_move(self, state: State, seat: int) -> Action:
        return Check() if _to_call(state, seat) == 0 else Fold()


GAME: CashGame[State] = Holdem()
