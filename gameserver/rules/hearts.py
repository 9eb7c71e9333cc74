"""Hearts for four players: the whole match (deals until someone reaches the target) is one game.

Owns the Hearts rules behind `GAME` (see base.Game): dealing, the simultaneous pass, trick play, hearts
breaking, and the match; card values, deal scoring and the bots' card choices live in `hearts_scoring`.
Pure: no I/O, no clock, no global random.

Chance. `setup` draws exactly one value from its rng, `match_seed = rng.getrandbits(128)`. Deal i (0, 1, 2
...) shuffles a fresh deck with a local `random.Random(f"{match_seed}:{i}")` (`common.cards.shuffled_deck`)
and deals it one card at a time, seat 0 first, so seat s holds deck[s::4]. `apply` can thus start the next
deal without an rng, and every deal is reproducible. A host that deals each deal itself (its provably fair
deals) sets up with `deal_by_host`: then every deal is one `shuffled_deck(rng)` dealt the same way, and
between deals the match waits in phase "dealing" until `redeal` hands it the next rng (`base.Redeals`).
The seed is secret state: it is kept out of views, events and the state's repr.

Play. Passing rotates by deal: left (seat+1), right (seat-1), across (seat+2), none. The pass is
simultaneous: a seat's three cards leave its hand when it chooses them, and everyone receives only after
all four have passed. The holder of the 2♣ leads it (any club with `any_club_first_lead`); follow suit if
able; the highest card of the suit led wins and leads next. The match ends after the deal in which any
total reaches `target`; the lowest total wins (ties all win).

Choices where the rules are silent:
- With `jack_of_diamonds` the J♦ counts -10 for whoever takes it, also in a moon deal (shooter included).
  `TrickWon.points` and the view's `deal_points` include that -10; the moon and the no-trick bonus are only
  applied in `DealScored`.
- With `any_club_first_lead` the 2♣ holder still leads and must lead a club.
- "Highest" and "lowest" order cards by rank, ties by suit C < D < S < H (`hearts_scoring.card_key`).
- `my_pass` stays in the passer's view for the rest of the deal; `last_trick` is cleared by a new deal.
- A `Play` carrying a `suit` is refused (Hearts has no suit to name).
"""

from __future__ import annotations

import dataclasses
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from common.cards import FULL_DECK, SUIT_NAMES, is_card, shuffled_deck, sort_hand, suit
from common.protocol import Action, PassCards, Play
from common.views import (
    HeartsLastTrick,
    HeartsPhase,
    HeartsTrickCard,
    HeartsView,
    LegalAction,
    PassDirection,
    seat_view,
)
from gameserver.rules.base import Event, Game, IllegalMove, Outcome, merge_options, replaced
from gameserver.rules.hearts_events import (
    CardsPassed,
    CardsReceived,
    DealScored,
    DealStarted,
    HandDealt,
    HeartsBroken,
    MatchOver,
    Played,
    TrickWon,
)
from gameserver.rules.hearts_scoring import (
    HEARTS,
    PASS_COUNT,
    PASS_DIRECTIONS,
    PASS_OFFSETS,
    QUEEN_OF_SPADES,
    TWO_OF_CLUBS,
    bot_card,
    bot_pass,
    card_key,
    highest,
    match_winners,
    penalty,
    score_deal,
    trick_points,
    trick_winner,
)

SEATS = 4
HAND_SIZE = 13


@dataclass(frozen=True)
class Options:
    """The table's rule options (names and defaults are the public option names)."""

    no_points_first_trick: bool = True
    must_break_hearts: bool = True
    queen_breaks_hearts: bool = True
    any_club_first_lead: bool = False
    jack_of_diamonds: bool = False
    no_trick_bonus: bool = False
    lead_hearts_when_only_queen: bool = False
    pass_cards: bool = True
    target: int = 100


DEFAULT_OPTIONS: Mapping[str, Any] = MappingProxyType(dataclasses.asdict(Options()))
#: The range of each numeric option: a match to 10**18 points would never end.
OPTION_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType({"target": (1, 1000)})

Hands = tuple[tuple[str, ...], ...]
Trick = tuple[tuple[int, str], ...]


@dataclass(frozen=True)
class State:
    """One moment of a match. `passes[s]` is what seat s chose this deal (None: not yet, or no pass)."""

    options: Options
    match_seed: int = field(repr=False)
    deal_number: int
    phase: HeartsPhase
    hands: Hands
    passes: tuple[tuple[str, ...] | None, ...]
    trick: Trick  # (seat, card) in play order
    leader: int | None  # who leads the current trick; None while passing
    hearts_broken: bool
    tricks_played: int
    taken: Hands  # cards each seat has taken this deal
    tricks_won: tuple[int, ...]
    deal_points: tuple[int, ...]  # trick points taken this deal (before moon / no-trick adjustments)
    last_trick: Trick
    scores: tuple[int, ...]  # match totals
    history: tuple[tuple[int, ...], ...]  # each finished deal's points
    host_deals: bool = False  # each later deal waits in phase "dealing" for the host's `redeal`

    @property
    def turn(self) -> int | None:
        """The seat to play next, or None while passing or when over."""
        if self.phase != "playing" or self.leader is None:
            return None
        return (self.leader + len(self.trick)) % SEATS

    @property
    def pass_direction(self) -> PassDirection:
        return pass_direction(self.options, self.deal_number)


# ---- dealing -------------------------------------------------------------------------------------------


def pass_direction(options: Options, deal_number: int) -> PassDirection:
    """"left", "right", "across" or "none" for deal `deal_number` (always "none" without `pass_cards`).

    >>> [pass_direction(Options(), i) for i in range(5)]
    ['left', 'right', 'across', 'none', 'left']
    """
    return PASS_DIRECTIONS[deal_number % 4][0] if options.pass_cards else "none"


def _holder(hands: Hands, card: str) -> int:
    return next(seat for seat, hand in enumerate(hands) if card in hand)


def deal_hands(match_seed: int, deal_number: int) -> Hands:
    """The four hands of deal `deal_number` (see the module docstring for the scheme)."""
    deck = shuffled_deck(random.Random(f"{match_seed}:{deal_number}"))
    return tuple(tuple(sort_hand(deck[seat::SEATS])) for seat in range(SEATS))


def _new_deal(options: Options, match_seed: int, deal_number: int, hands: Hands,
              scores: tuple[int, ...], history: tuple[tuple[int, ...], ...], host_deals: bool = False
              ) -> State:
    passing = pass_direction(options, deal_number) != "none"
    return State(host_deals=host_deals,
        options=options, match_seed=match_seed, deal_number=deal_number,
        phase="passing" if passing else "playing", hands=hands, passes=(None,) * SEATS, trick=(),
        leader=None if passing else _holder(hands, TWO_OF_CLUBS), hearts_broken=False, tricks_played=0,
        taken=((),) * SEATS, tricks_won=(0,) * SEATS, deal_points=(0,) * SEATS, last_trick=(),
        scores=scores, history=history,
    )


def setup_fixed(hands: Sequence[Sequence[str]], options: Mapping[str, Any] | None = None, *,
                deal_number: int = 0, scores: Sequence[int] = (0, 0, 0, 0), match_seed: int = 0) -> State:
    """A match starting from the given four 13-card hands (for tests and puzzles).

    Later deals are dealt from `match_seed` as usual; `deal_number` sets the pass direction.
    """
    if len(hands) != SEATS or any(len(hand) != HAND_SIZE for hand in hands) or len(scores) != SEATS or \
            sorted(card for hand in hands for card in hand) != sorted(FULL_DECK):
        raise ValueError("hearts needs four 13-card hands holding the deck once, and four scores")
    opts = Options(**GAME.check_options(SEATS, options or {}))
    return _new_deal(opts, match_seed, deal_number, tuple(tuple(sort_hand(list(h))) for h in hands),
                     tuple(scores), ())


# ---- legality ------------------------------------------------------------------------------------------


def _legal_plays(state: State, seat: int) -> list[str]:
    """The cards `seat` (on turn) may play: the one statement of the play rules. Hands are kept sorted."""
    hand = state.hands[seat]
    opts = state.options
    if not state.trick:
        if state.tricks_played == 0:
            if opts.any_club_first_lead:
                return [c for c in hand if suit(c) == "C"]
            return [c for c in hand if c == TWO_OF_CLUBS]
        if opts.must_break_hearts and not state.hearts_broken:
            others = [c for c in hand if suit(c) != HEARTS]
            if others and not (opts.lead_hearts_when_only_queen and others == [QUEEN_OF_SPADES]):
                return others
        return list(hand)
    led = suit(state.trick[0][1])
    follow = [c for c in hand if suit(c) == led]
    if follow:
        return follow
    if state.tricks_played == 0 and opts.no_points_first_trick:
        return [c for c in hand if not penalty(c)] or list(hand)
    return list(hand)


def _play_refusal(state: State, seat: int, card: str) -> str | None:
    """Why `seat` (on turn) may not play `card`, or None if it may. Never names another seat's cards."""
    if not is_card(card):
        return f"{card!r} is not a card"
    if card not in state.hands[seat]:
        return "you do not hold that card"
    if card in _legal_plays(state, seat):
        return None
    if not state.trick:
        if state.tricks_played > 0:
            return "hearts are not broken yet: lead another suit"
        if state.options.any_club_first_lead:
            return "the first trick must be led with a club"
        return "the first trick must be led with the 2♣"
    led = suit(state.trick[0][1])
    if any(suit(c) == led for c in state.hands[seat]):
        return f"you must follow suit ({SUIT_NAMES[led]})"
    return "no points on the first trick: you may not discard a heart or the Q♠ yet"


def _pass_refusal(state: State, seat: int, cards: Sequence[str]) -> str | None:
    if len(cards) != PASS_COUNT:
        return f"pass exactly {PASS_COUNT} cards"
    if not all(is_card(c) for c in cards):
        return "that is not a card"
    if len(set(cards)) != PASS_COUNT:
        return "pass three different cards"
    if not all(c in state.hands[seat] for c in cards):
        return "you do not hold that card"
    return None


def _turn_refusal(state: State, seat: int) -> str | None:
    if not isinstance(seat, int) or not 0 <= seat < SEATS:
        return "no such seat"
    if state.phase == "over":
        return "the match is over"
    if state.phase == "dealing":
        return "the next deal is not dealt yet"
    if state.phase == "passing" and state.passes[seat] is not None:
        return "you have already passed; waiting for the others"
    if seat not in GAME.to_act(state):
        return "it is not your turn"
    return None


def legal_cards(state: State, seat: int) -> list[str]:
    """The cards `seat` may choose now (any card of the hand while passing), sorted; [] if it may not act."""
    if _turn_refusal(state, seat) is not None:
        return []
    if state.phase == "passing":
        return list(state.hands[seat])
    return _legal_plays(state, seat)


def can_play(state: State, seat: int, card: str) -> bool:
    """True if `seat` may play `card` now."""
    return state.phase == "playing" and _turn_refusal(state, seat) is None and \
        _play_refusal(state, seat, card) is None


# ---- moves -------------------------------------------------------------------------------------------


def _with(values: tuple[Any, ...], index: int, value: Any) -> tuple[Any, ...]:
    return values[:index] + (value,) + values[index + 1:]


def _apply_pass(state: State, seat: int, cards: Sequence[str]) -> tuple[State, list[Event]]:
    chosen = tuple(sort_hand(list(cards)))
    offset = PASS_OFFSETS[state.pass_direction]
    hands = _with(state.hands, seat, tuple(c for c in state.hands[seat] if c not in chosen))
    passes = _with(state.passes, seat, chosen)
    events: list[Event] = [CardsPassed(seat, chosen, (seat + offset) % SEATS)]
    if any(p is None for p in passes):
        return replaced(state, hands=hands, passes=passes), events
    given = [p for p in passes if p is not None]  # all four by now
    givers = [(seat - offset) % SEATS for seat in range(SEATS)]
    new_hands = tuple(tuple(sort_hand(hands[seat] + given[g])) for seat, g in enumerate(givers))
    events += [CardsReceived(seat, given[g], g) for seat, g in enumerate(givers)]
    state = replaced(state, hands=new_hands, passes=passes, phase="playing",
                     leader=_holder(new_hands, TWO_OF_CLUBS))
    return state, events


def _apply_play(state: State, seat: int, card: str) -> tuple[State, list[Event]]:
    opts = state.options
    hands = _with(state.hands, seat, tuple(c for c in state.hands[seat] if c != card))
    trick = state.trick + ((seat, card),)
    events: list[Event] = [Played(seat, card)]
    broken = state.hearts_broken
    if not broken and (suit(card) == HEARTS or (card == QUEEN_OF_SPADES and opts.queen_breaks_hearts)):
        broken = True
        events.append(HeartsBroken(seat))
    if len(trick) < SEATS:
        return replaced(state, hands=hands, trick=trick, hearts_broken=broken), events
    winner = trick_winner(trick)
    cards = tuple(c for _, c in trick)
    points = trick_points(cards, opts.jack_of_diamonds)
    events.append(TrickWon(winner, cards, points))
    state = replaced(
        state, hands=hands, trick=(), leader=winner, hearts_broken=broken,
        tricks_played=state.tricks_played + 1, last_trick=trick,
        taken=_with(state.taken, winner, state.taken[winner] + cards),
        tricks_won=_with(state.tricks_won, winner, state.tricks_won[winner] + 1),
        deal_points=_with(state.deal_points, winner, state.deal_points[winner] + points),
    )
    if any(hands):
        return state, events
    return _end_deal(state, events)


def _end_deal(state: State, events: list[Event]) -> tuple[State, list[Event]]:
    opts = state.options
    points, moon = score_deal(state.taken, state.tricks_won, jack_of_diamonds=opts.jack_of_diamonds,
                              no_trick_bonus=opts.no_trick_bonus)
    scores = tuple(total + gain for total, gain in zip(state.scores, points, strict=True))
    history = state.history + (points,)
    events.append(DealScored(None, state.deal_number, points, moon, scores))
    if max(scores) >= opts.target:
        winners = match_winners(scores)
        events.append(MatchOver(None, scores, winners))
        return replaced(state, phase="over", leader=None, scores=scores, history=history), events
    if state.host_deals:
        return replaced(state, phase="dealing", leader=None, trick=(), scores=scores, history=history), events
    number = state.deal_number + 1
    hands = deal_hands(state.match_seed, number)
    nxt = _new_deal(opts, state.match_seed, number, hands, scores, history)
    return nxt, events + _deal_events(nxt)


def _deal_events(state: State) -> list[Event]:
    return [DealStarted(None, state.deal_number, state.pass_direction),
            *(HandDealt(seat, hand) for seat, hand in enumerate(state.hands))]


def _hands_from(rng: random.Random) -> Hands:
    """One deck from `rng` (`shuffled_deck`), dealt one card at a time from index 0, seat 0 first."""
    deck = shuffled_deck(rng)
    return tuple(tuple(sort_hand(deck[seat::SEATS])) for seat in range(SEATS))


def _trick_cards(trick: Trick) -> list[HeartsTrickCard]:
    return [HeartsTrickCard(seat=s, card=c) for s, c in trick]


def _moves(state: State, cards: list[str]) -> list[Action]:
    if not cards:
        return []
    if state.phase == "passing":
        return [PassCards(cards=highest(cards, PASS_COUNT))]
    return [Play(card=card) for card in cards]


# ---- the game ------------------------------------------------------------------------------------------


class Hearts:
    """The Hearts rules behind the uniform base.Game interface."""

    name = "hearts"
    title = "Hearts"
    series = "match"  # the match (deals until the target) is one game
    state_type = State
    min_seats = SEATS
    max_seats = SEATS
    default_options: Mapping[str, Any] = DEFAULT_OPTIONS

    def check_options(self, seats: int, options: Mapping[str, Any]) -> dict[str, Any]:
        """Defaults merged with `options`; ValueError unless 4 seats and a positive target."""
        if seats != SEATS:
            raise ValueError("hearts is played by exactly 4 players")
        return merge_options(DEFAULT_OPTIONS, options, OPTION_RANGES)

    def setup(self, seats: int, rng: random.Random, options: Mapping[str, Any]) -> State:
        """A new match; draws only `match_seed` from `rng` and deals deal 0 from it. With `deal_by_host`
        (base.Redeals) deal 0 is one `shuffled_deck(rng)` and each later deal waits for `redeal`."""
        options = dict(options)
        if options.pop("deal_by_host", False):
            opts = Options(**self.check_options(seats, options))
            return _new_deal(opts, 0, 0, _hands_from(rng), (0,) * SEATS, (), host_deals=True)
        opts = Options(**self.check_options(seats, options))
        match_seed = rng.getrandbits(128)
        return _new_deal(opts, match_seed, 0, deal_hands(match_seed, 0), (0,) * SEATS, ())

    def awaiting_deal(self, state: State) -> bool:
        return state.phase == "dealing"

    def redeal(self, state: State, rng: random.Random) -> tuple[State, list[Event]]:
        """The next deal from one `shuffled_deck(rng)`, as deal 0 of a host-dealt match."""
        if state.phase != "dealing":
            raise IllegalMove("the deal in progress is not over")
        nxt = _new_deal(state.options, 0, state.deal_number + 1, _hands_from(rng), state.scores,
                        state.history, host_deals=True)
        return nxt, _deal_events(nxt)

    def to_act(self, state: State) -> tuple[int, ...]:
        if state.phase == "passing":
            return tuple(seat for seat in range(SEATS) if state.passes[seat] is None)
        turn = state.turn
        return () if turn is None else (turn,)

    def legal_moves(self, state: State, seat: int) -> list[Action]:
        """Play(card) per legal card; while passing one representative PassCards (the three highest)."""
        return _moves(state, legal_cards(state, seat))

    def legal(self, state: State, seat: int) -> list[LegalAction]:
        """Passing: any `PASS_COUNT` cards of the hand; playing: one of the legal cards; [] if not to act."""
        cards = legal_cards(state, seat)
        if not cards:
            return []
        if state.phase == "passing":
            return [LegalAction("pass_cards", cards=cards, count=PASS_COUNT)]
        return [LegalAction("play", cards=cards)]

    def opening_events(self, state: State) -> list[Event]:
        """The first deal, announced as every later deal is: its number and pass, then each seat's hand."""
        return _deal_events(state)

    def apply(self, state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
        reason = _turn_refusal(state, seat)
        if reason is not None:
            raise IllegalMove(reason)
        if state.phase == "passing":
            if not isinstance(action, PassCards):
                raise IllegalMove("choose three cards to pass first")
            reason = _pass_refusal(state, seat, action.cards)
            if reason is not None:
                raise IllegalMove(reason)
            return _apply_pass(state, seat, action.cards)
        if not isinstance(action, Play):
            raise IllegalMove("play a card")
        if action.suit is not None:
            raise IllegalMove("hearts has no suit to name")
        reason = _play_refusal(state, seat, action.card)
        if reason is not None:
            raise IllegalMove(reason)
        return _apply_play(state, seat, action.card)

    def view(self, state: State, seat: int | None) -> HeartsView:
        """What `seat` (None: a spectator) may see; other hands only as counts, never the seed."""
        last = None
        if state.last_trick:  # its winner leads the current trick
            last = HeartsLastTrick(winner=trick_winner(state.last_trick),
                                   cards=_trick_cards(state.last_trick))
        public = HeartsView(
            counts=[len(hand) for hand in state.hands], phase=state.phase,
            pass_direction=state.pass_direction, passed=[p is not None for p in state.passes],
            trick=_trick_cards(state.trick), leader=state.leader,
            turn=state.turn, hearts_broken=state.hearts_broken, deal_points=list(state.deal_points),
            tricks_won=list(state.tricks_won), scores=list(state.scores), deal_number=state.deal_number,
            deals=[list(points) for points in state.history], last_trick=last, over=state.phase == "over")
        return public if seat is None else seat_view(public, self.seat_fields(state, seat))

    def seat_fields(self, state: State, seat: int) -> dict[str, Any]:
        """A seat's own part of its view: its hand (kept sorted), the cards it passed, its legal moves."""
        if not 0 <= seat < SEATS:
            return {}
        mine = state.passes[seat]
        return {"hand": list(state.hands[seat]), "my_pass": None if mine is None else list(mine),
                "legal": self.legal(state, seat)}

    def outcome(self, state: State) -> Outcome | None:
        if state.phase != "over":
            return None
        return Outcome(scores=state.scores, winners=match_winners(state.scores), lower_is_better=True,
                       detail={"deals": [list(points) for points in state.history]})

    def bot_move(self, state: State, seat: int, rng: random.Random) -> Action:
        """Pass the most dangerous cards; duck under the trick, dump Q♠/high hearts when void, lead low."""
        cards = legal_cards(state, seat)
        if not cards:
            raise IllegalMove(_turn_refusal(state, seat) or "no legal move")
        if state.phase == "passing":
            return PassCards(cards=bot_pass(cards, rng))
        return Play(card=bot_card(state.trick, cards, rng))

    def timeout_move(self, state: State, seat: int) -> Action:
        """The lowest legal card (rank, then suit C, D, S, H); when passing, the three highest cards."""
        cards = legal_cards(state, seat)
        if not cards:
            raise IllegalMove(_turn_refusal(state, seat) or "no legal move")
        if state.phase == "passing":
            return PassCards(cards=highest(cards, PASS_COUNT))
        return Play(card=min(cards, key=card_key))


GAME: Game[State] = Hearts()
