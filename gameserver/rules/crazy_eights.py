"""Crazy Eights for 2-5 players: the rules, and nothing else.

Owns the state, the legal moves (`legal_moves`, and `legal` as viewers get it), scoring, the
hidden-information view and the bot; the events it emits are in `crazy_eights_events`. Pure: no I/O, no
clock, no global `random` (chance comes only from the `random.Random` given to `setup` and `bot_move`).

Deal (exactly this order of rng calls, so a replay from the same seed is deterministic):
  1. ``deck = common.cards.shuffled_deck(rng)`` (one ``rng.shuffle`` of a copy of ``FULL_DECK``);
  2. ``dealer = rng.randrange(seats)``.
  No other call. The top of the deck, and later of the stock, is the END of the list (``deck[-1]``,
  taken with ``pop()``). Cards are dealt one at a time, in rounds, starting with seat
  ``(dealer + 1) % seats`` and going up: 7 each with 2 players, 5 each otherwise. Then the starter is
  turned up from the top of the stock; while it is an 8 it is returned to the BOTTOM of the stock
  (index 0) and the next top card is turned up. The current suit is the starter's suit; the player after
  the dealer moves first; play goes up in seat number (direction +1).

A turn: play a card matching the current suit or the top card's rank, or any 8 (naming the new suit with
``Play.suit``; an 8 that is the player's last card may omit it); or draw one card (at most 5 per turn,
even when a play is possible; never from an empty stock). Passing is allowed only after drawing 5 this
turn or when the stock is empty. A play ends the turn. Non-8 plays carrying a suit are refused.

The hand ends when a player plays their last card; or after a pass when the stock is empty and the last
``seats + 1`` actions were all passes (any play or draw resets that count); or after the 100th play
(the starter is not a play; with no reshuffle of the discards this limit cannot be reached in a real
deal, only in constructed states). Penalties: 8 = 50, K/Q/J/T = 10, A = 1, others face value; the
player who went out scores 0, everybody else (everybody, when nobody went out) scores the cards left in
hand. Lower is better.

Options (all off by default):
  * ``queen_skips``: a Q skips the next player (with 2 players the same player moves again).
  * ``ace_reverses``: an A reverses the direction; with 2 players it acts like a skip instead (the
    player who played it moves again; the direction is left unchanged).
  * ``two_draws_two``: a 2 adds 2 to a pending penalty for the next player, who must either play a 2
    (any 2, adding 2 more for the player after) or take the penalty with one Draw, which draws all
    pending cards at once (as many as the stock holds). After that the turn continues normally, as if it
    had just begun (the penalty draws do not count towards the 5). If the stock is empty the player may
    pass instead, and the penalty lapses. Special effects do not apply to a card that ends the hand.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from common.cards import SUIT_NAMES, SUITS, is_card, shuffled_deck, sort_hand
from common.protocol import Action, Draw, PassTurn, Play
from common.views import CrazyEightsOptions, CrazyEightsView, LegalAction, seat_view
from gameserver.rules.base import Event, Game, IllegalMove, Outcome, merge_options, replaced
from gameserver.rules.crazy_eights_events import (
    Dealt,
    Drew,
    HandOver,
    Passed,
    PenaltyRaised,
    Played,
    Reversed,
    Skipped,
    Started,
)

NAME = "crazy_eights"
MIN_SEATS, MAX_SEATS = 2, 5
MAX_DRAWS = 5  # cards a player may draw in one turn
PLAY_LIMIT = 100  # the hand ends after this many plays in total
_SUIT_SET = frozenset(SUITS)  # not `in SUITS`: "CD" in "CDHS" is True
PENALTY = {"8": 50, "K": 10, "Q": 10, "J": 10, "T": 10, "A": 1, **{str(v): v for v in range(2, 10) if v != 8}}
DEFAULT_OPTIONS: Mapping[str, Any] = MappingProxyType(
    {"queen_skips": False, "ace_reverses": False, "two_draws_two": False})


def penalty(cards: Iterable[str]) -> int:
    """Penalty points of the cards left in a hand.

    >>> penalty(["8S", "KH", "AD", "TC", "7H"])
    78
    """
    return sum(PENALTY[c[0]] for c in cards)


# ---- state ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class State:
    """One hand. Immutable; tuples inside. Stock and discards have their top at the END."""

    seats: int
    hands: tuple[tuple[str, ...], ...]
    stock: tuple[str, ...]
    discards: tuple[str, ...]  # discards[0] is the starter, discards[-1] the top card
    suit: str  # the current suit: the top card's, or the one named with an 8
    turn: int  # the seat to act (meaningless once over)
    dealer: int = 0
    direction: int = 1  # +1: up in seat number; -1 after an odd number of ace reversals
    drawn: int = 0  # cards drawn this turn (penalty draws excluded)
    passes: int = 0  # consecutive passes (reset by any play or draw)
    plays: int = 0  # cards played so far (the starter is not a play)
    pending: int = 0  # cards the player to act must draw unless they play a 2 (two_draws_two)
    over: bool = False
    went_out: int | None = None
    queen_skips: bool = False
    ace_reverses: bool = False
    two_draws_two: bool = False


# ---- construction --------------------------------------------------------------------------------


def check_options(seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
    """Defaults merged with `options`; ValueError for a bad seat count or an unknown/mistyped option."""
    if isinstance(seats, bool) or not isinstance(seats, int) or not MIN_SEATS <= seats <= MAX_SEATS:
        raise ValueError(f"Crazy Eights is for {MIN_SEATS} to {MAX_SEATS} players, not {seats!r}")
    return merge_options(DEFAULT_OPTIONS, options)


def deal(seats: int, deck: Sequence[str], dealer: int, options: Mapping[str, Any] | None = None) -> State:
    """The hand dealt from `deck` (top card LAST) by `dealer`; what `setup` does after its rng calls.

    >>> s = deal(3, [c + "S" for c in "23456789TJQKA"] + [c + "H" for c in "23456789TJQKA"], dealer=2)
    >>> s.hands[0][:2], s.hands[1][0], s.discards, s.turn
    (('AH', 'JH'), 'KH', ('QS',), 0)
    """
    opts = check_options(seats, options or {})
    stock = list(deck)
    hands: list[list[str]] = [[] for _ in range(seats)]
    for _ in range(7 if seats == 2 else 5):
        for i in range(seats):
            hands[(dealer + 1 + i) % seats].append(stock.pop())
    starter = stock.pop()
    while starter[0] == "8":  # returned to the bottom of the stock
        stock.insert(0, starter)
        starter = stock.pop()
    return State(seats=seats, hands=tuple(tuple(h) for h in hands), stock=tuple(stock), discards=(starter,),
                 suit=starter[1], turn=(dealer + 1) % seats, dealer=dealer, **opts)


def setup_fixed(hands: Sequence[Sequence[str]], stock: Sequence[str], discards: Sequence[str], *,
                turn: int = 0, suit: str | None = None, options: Mapping[str, Any] | None = None,
                **fields: Any) -> State:
    """A hand in progress with exactly these cards (for tests and puzzles); stock and discards top LAST.

    `suit` defaults to the top discard's suit; other State fields (drawn, passes, plays, pending, direction,
    dealer) may be given by name. Cards must be distinct; they need not make a full deck.
    """
    seats = len(hands)
    opts = check_options(seats, options or {})
    cards = [c for h in hands for c in h] + list(stock) + list(discards)
    bad = [c for c in cards if not is_card(c)]
    if bad or len(set(cards)) != len(cards) or not discards:
        raise ValueError(f"bad fixed deal: need distinct card codes and a top discard (bad: {bad})")
    return State(seats=seats, hands=tuple(tuple(h) for h in hands), stock=tuple(stock),
                 discards=tuple(discards), suit=suit or discards[-1][1], turn=turn, **{**opts, **fields})


def start_events(state: State) -> list[Event]:
    """The events of the deal, for a freshly dealt state: each seat's hand (secret), then the starter."""
    events: list[Event] = [Dealt(s, tuple(h)) for s, h in enumerate(state.hands)]
    events.append(Started(None, state.dealer, state.turn, state.discards[-1]))
    return events


# ---- checks --------------------------------------------------------------------------------------


def _check_turn(state: State, seat: int) -> None:
    if state.over:
        raise IllegalMove("the hand is over")
    if seat != state.turn:
        raise IllegalMove(f"it is not your turn (seat {state.turn} is to play)")


def check_play(state: State, seat: int, card: Any, suit: Any) -> None:
    """Raise IllegalMove unless `seat` may play `card` (naming `suit`) now. Reveals nothing hidden."""
    _check_turn(state, seat)
    if not is_card(card):
        raise IllegalMove(f"{str(card)[:12]!r} is not a card (cards look like 'QS' or 'TD')")
    hand = state.hands[seat]
    if card not in hand:
        raise IllegalMove(f"you do not hold {card}")
    if suit is not None and suit not in _SUIT_SET:
        raise IllegalMove(f"{str(suit)[:12]!r} is not a suit; name one of C, D, H, S")
    if state.pending:
        if card[0] != "2":
            alt = f"draw the {state.pending} penalty cards" if state.stock else "pass"
            raise IllegalMove(f"you must answer the 2 with a 2, or {alt}")
    if card[0] == "8":
        if suit is None and len(hand) > 1:
            raise IllegalMove(f"name the new suit for your {card} (C, D, H or S)")
        return
    if suit is not None:
        raise IllegalMove(f"only an 8 names a suit; play {card} without one")
    top = state.discards[-1]
    if card[1] != state.suit and card[0] != top[0]:
        raise IllegalMove(f"{card} does not match the current suit ({SUIT_NAMES[state.suit]}) "
                          f"or rank ({top[0]})")


def can_draw(state: State, seat: int) -> bool:
    return (not state.over and seat == state.turn and bool(state.stock)
            and (state.pending > 0 or state.drawn < MAX_DRAWS))


def can_pass(state: State, seat: int) -> bool:
    return not state.over and seat == state.turn and (not state.stock or state.drawn >= MAX_DRAWS)


# ---- moves ---------------------------------------------------------------------------------------


def _next(state: State, seat: int, steps: int = 1, direction: int | None = None) -> int:
    return (seat + (state.direction if direction is None else direction) * steps) % state.seats


def _scores(state: State, went_out: int | None) -> tuple[int, ...]:
    return tuple(0 if s == went_out else penalty(h) for s, h in enumerate(state.hands))


def _finish(state: State, went_out: int | None, reason: str, events: list[Event]) -> State:
    state = replaced(state, over=True, went_out=went_out)
    events.append(HandOver(None, _scores(state, went_out), went_out, reason))
    return state


def _play(state: State, seat: int, card: str, named: str | None) -> tuple[State, list[Event]]:
    check_play(state, seat, card, named)
    hand = state.hands[seat]
    i = hand.index(card)
    hands = list(state.hands)
    hands[seat] = hand[:i] + hand[i + 1:]
    suit = named if card[0] == "8" and named is not None else card[1]
    events: list[Event] = [Played(seat, card, suit)]
    plays = state.plays + 1
    played: dict[str, Any] = {"hands": tuple(hands), "discards": state.discards + (card,), "suit": suit,
                              "drawn": 0, "passes": 0, "plays": plays}
    if not hands[seat]:
        return _finish(replaced(state, **played), seat, "out", events), events
    if plays >= PLAY_LIMIT:
        return _finish(replaced(state, **played), None, "limit", events), events
    rank, steps, direction, pending = card[0], 1, state.direction, 0
    if rank == "Q" and state.queen_skips:
        steps = 2
    elif rank == "A" and state.ace_reverses:
        if state.seats == 2:
            steps = 2
        else:
            direction = -direction
            events.append(Reversed(seat, direction))
    elif rank == "2" and state.two_draws_two:
        pending = state.pending + 2
    if steps == 2:
        events.append(Skipped(_next(state, seat, 1, direction)))
    turn = _next(state, seat, steps, direction)
    if pending:
        events.append(PenaltyRaised(turn, pending))
    # one new state for the play and the turn it passes (a replace costs a few µs)
    return replaced(state, **played, turn=turn, direction=direction, pending=pending), events


def _draw(state: State, seat: int) -> tuple[State, list[Event]]:
    _check_turn(state, seat)
    if not state.stock:
        raise IllegalMove("the stock is empty; play a card or pass")
    hands = list(state.hands)
    if state.pending:
        n = min(state.pending, len(state.stock))
        taken = state.stock[-n:][::-1]  # top first
        hands[seat] = hands[seat] + taken
        events: list[Event] = [Drew(seat, c, True) for c in taken]
        return replaced(state, hands=tuple(hands), stock=state.stock[:-n], pending=0, drawn=0,
                        passes=0), events
    if state.drawn >= MAX_DRAWS:
        raise IllegalMove(f"you have already drawn {MAX_DRAWS} cards this turn; play a card or pass")
    card = state.stock[-1]
    hands[seat] = hands[seat] + (card,)
    return replaced(state, hands=tuple(hands), stock=state.stock[:-1], drawn=state.drawn + 1,
                    passes=0), [Drew(seat, card)]


def _pass(state: State, seat: int) -> tuple[State, list[Event]]:
    _check_turn(state, seat)
    if state.stock and state.pending:
        raise IllegalMove(f"you must answer the 2 with a 2, or draw the {state.pending} penalty cards")
    if state.stock and state.drawn < MAX_DRAWS:
        raise IllegalMove(f"you may pass only after drawing {MAX_DRAWS} cards this turn (you have drawn "
                          f"{state.drawn}) or when the stock is empty")
    events: list[Event] = [Passed(seat)]
    passes = state.passes + 1
    new = replaced(state, turn=_next(state, seat), drawn=0, passes=passes, pending=0)
    if not state.stock and passes >= state.seats + 1:
        return _finish(new, None, "blocked", events), events
    return new, events


def legal_moves(state: State, seat: int) -> list[Action]:
    """Every legal action of `seat`, in hand order: each playable card (an 8 once per suit it may name, or
    once with suit None when it is the last card; a suit is then optional), then Draw, then PassTurn."""
    if state.over or seat != state.turn:
        return []
    hand = state.hands[seat]
    moves: list[Action] = []
    if state.pending:
        moves.extend(Play(c) for c in hand if c[0] == "2")
    else:
        top_rank, cur, last = state.discards[-1][0], state.suit, len(hand) == 1
        for c in hand:
            if c[0] == "8":
                if last:
                    moves.append(Play(c))
                else:
                    moves.extend(Play(c, s) for s in SUITS)
            elif c[1] == cur or c[0] == top_rank:
                moves.append(Play(c))
    if can_draw(state, seat):
        moves.append(Draw())
    if can_pass(state, seat):
        moves.append(PassTurn())
    return moves


def legal(state: State, seat: int) -> list[LegalAction]:
    """What `seat` may do, for any consumer: the playable cards (in hand order) as one play entry, the 8s
    that must name a suit as another (with the suits), then draw, then pass; [] if it may not act.

    >>> s = setup_fixed([["7S", "8H", "KD"], ["2C"]], stock=["4C"], discards=["9S"])
    >>> [(e.type, e.cards, e.suits) for e in legal(s, 0)]
    [('play', ['7S'], None), ('play', ['8H'], ['C', 'D', 'H', 'S']), ('draw', None, None)]
    """
    if state.over or seat != state.turn:
        return []
    hand = state.hands[seat]
    plain: list[str] = []
    eights: list[str] = []
    if state.pending:
        plain = [c for c in hand if c[0] == "2"]
    else:
        top_rank, cur, last = state.discards[-1][0], state.suit, len(hand) == 1
        for c in hand:
            if c[0] == "8":
                (plain if last else eights).append(c)  # a last card need not name a suit
            elif c[1] == cur or c[0] == top_rank:
                plain.append(c)
    out: list[LegalAction] = []
    if plain:
        out.append(LegalAction("play", cards=plain))
    if eights:
        out.append(LegalAction("play", cards=eights, suits=list(SUITS)))
    if can_draw(state, seat):
        out.append(LegalAction("draw"))
    if can_pass(state, seat):
        out.append(LegalAction("pass"))
    return out


# ---- the bot -------------------------------------------------------------------------------------


def _pick(cands: list[str], rng: random.Random) -> str:
    return cands[0] if len(cands) == 1 else rng.choice(cands)


def _best_suit(cards: Iterable[str], rng: random.Random) -> str:
    counts = {s: 0 for s in SUITS}
    for c in cards:
        if c[0] != "8":
            counts[c[1]] += 1
    most = max(counts.values())
    return _pick([s for s in SUITS if counts[s] == most], rng)


def bot_move(state: State, seat: int, rng: random.Random) -> Action:
    """Play the matching non-8 of the suit held most, highest penalty first; else an 8, naming the suit held
    most; else draw; else pass. Answers a pending 2 with a 2 when it can. `rng` only breaks ties."""
    _check_turn(state, seat)
    hand = state.hands[seat]
    if state.pending:
        twos = [c for c in hand if c[0] == "2"]
        if twos:
            return Play(_pick(twos, rng))
        return Draw() if state.stock else PassTurn()
    top_rank, cur = state.discards[-1][0], state.suit
    playable = [c for c in hand if c[0] != "8" and (c[1] == cur or c[0] == top_rank)]
    if playable:
        per_suit = {s: 0 for s in SUITS}
        for c in hand:
            per_suit[c[1]] += 1
        key = {c: (per_suit[c[1]], PENALTY[c[0]]) for c in playable}
        best = max(key.values())
        return Play(_pick([c for c in playable if key[c] == best], rng))
    eights = [c for c in hand if c[0] == "8"]
    if eights:
        card = _pick(eights, rng)
        if len(hand) == 1:
            return Play(card)
        return Play(card, _best_suit((c for c in hand if c != card), rng))
    return Draw() if can_draw(state, seat) else PassTurn()


def timeout_move(state: State, seat: int) -> Action:
    """Draw when drawing is allowed (taking a pending penalty), else pass."""
    return Draw() if can_draw(state, seat) else PassTurn()


# ---- the Game ------------------------------------------------------------------------------------


def outcome(state: State) -> Outcome | None:
    """Scores (penalty points) and winners (lowest score) once over; remaining hands are public then."""
    if not state.over:
        return None
    scores = _scores(state, state.went_out)
    low = min(scores)
    return Outcome(scores=scores, winners=tuple(s for s, v in enumerate(scores) if v == low),
                   lower_is_better=True,
                   detail={"went_out": state.went_out,
                           "hands": {s: sort_hand(h) for s, h in enumerate(state.hands)}})


def view(state: State, seat: int | None) -> CrazyEightsView:
    """What `seat` may see (None: a spectator): own hand and legal moves, everyone's counts, public piles."""
    public = CrazyEightsView(
        seats=state.seats, dealer=state.dealer, counts=[len(h) for h in state.hands], top=state.discards[-1],
        suit=state.suit, turn=None if state.over else state.turn, stock=len(state.stock),
        drawn_this_turn=state.drawn, direction=state.direction, pending_draw=state.pending, plays=state.plays,
        discards=list(state.discards), over=state.over,
        options=CrazyEightsOptions(queen_skips=state.queen_skips, ace_reverses=state.ace_reverses,
                                   two_draws_two=state.two_draws_two),
        scores=list(_scores(state, state.went_out)) if state.over else None,
        went_out=state.went_out if state.over else None)
    return public if seat is None else seat_view(public, seat_fields(state, seat))


def seat_fields(state: State, seat: int) -> dict[str, Any]:
    """A seat's own part of its view: which seat it is, its hand (sorted) and its legal moves."""
    if not 0 <= seat < state.seats:
        return {}
    return {"seat": seat, "hand": sort_hand(state.hands[seat]), "legal": legal(state, seat)}


def setup(seats: int, rng: random.Random, options: Mapping[str, Any]) -> State:
    """A new hand: ``shuffled_deck(rng)`` then ``rng.randrange(seats)`` for the dealer; nothing else."""
    opts = check_options(seats, options)
    deck = shuffled_deck(rng)
    dealer = rng.randrange(seats)
    return deal(seats, deck, dealer, opts)


def to_act(state: State) -> tuple[int, ...]:
    return () if state.over else (state.turn,)


def apply(state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
    """The new state and events after `seat` plays `action`; IllegalMove (state untouched) if it may not."""
    if isinstance(action, Play):
        return _play(state, seat, action.card, action.suit)
    if isinstance(action, Draw):
        return _draw(state, seat)
    if isinstance(action, PassTurn):
        return _pass(state, seat)
    tag = getattr(getattr(type(action), "__struct_config__", None), "tag", type(action).__name__)
    raise IllegalMove(f"Crazy Eights has no {tag!r} move; play a card, draw or pass")


class CrazyEights:
    """base.Game for Crazy Eights: the module-level functions above."""

    name = NAME
    title = "Crazy Eights"
    series = "match"  # one hand per table
    state_type = State
    min_seats = MIN_SEATS
    max_seats = MAX_SEATS
    default_options = DEFAULT_OPTIONS
    check_options = staticmethod(check_options)
    opening_events = staticmethod(start_events)  # what `setup` did, for the table host to announce
    setup = staticmethod(setup)
    to_act = staticmethod(to_act)
    legal_moves = staticmethod(legal_moves)
    legal = staticmethod(legal)
    apply = staticmethod(apply)
    view = staticmethod(view)
    seat_fields = staticmethod(seat_fields)
    outcome = staticmethod(outcome)
    bot_move = staticmethod(bot_move)
    timeout_move = staticmethod(timeout_move)


GAME: Game[State] = CrazyEights()
