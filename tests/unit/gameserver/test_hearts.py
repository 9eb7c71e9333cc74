"""Hearts rules: fixed deals for every rule and option, seeded soak runs, determinism and hidden information.

Scenario tests start from exact hands (`setup_fixed`) or from a State built with `dataclasses.replace`;
everything random comes from a seeded `random.Random`.
"""

from __future__ import annotations

import ast
import copy
import dataclasses
import random
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import msgspec
import pytest

from common.cards import FULL_DECK, RANK_VALUE, rank, sort_hand, suit
from common.protocol import Action, Draw, PassCards, Play
from common.views import HeartsLastTrick, HeartsTrickCard, HeartsView, LegalAction
from gameserver.rules import GAME_MODULES, hearts_events, hearts_scoring
from gameserver.rules import hearts as hearts_module
from gameserver.rules.base import Event, IllegalMove
from gameserver.rules.hearts import (
    GAME,
    State,
    can_play,
    deal_hands,
    legal_cards,
    setup_fixed,
)
from gameserver.rules.hearts_events import (
    CardsPassed,
    CardsReceived,
    DealScored,
    DealStarted,
    HandDealt,
    MatchOver,
    TrickWon,
)
from tests.unit.gameserver.frames import narrow

CARD_RE = re.compile(r'"([2-9TJQKA][CDHS])"')
DECK = sorted(FULL_DECK)

#: Seat s holds FULL_DECK[s::4]: 3 or 4 cards of each suit; seat 0 holds the 2♣, seat 1 the Q♠.
ROUND = [sort_hand(list(FULL_DECK[s::4])) for s in range(4)]


def cards(text: str) -> list[str]:
    return text.split()


def rotate(hands: list[list[str]], by: int) -> list[list[str]]:
    """Seat s gets what seat s+by held."""
    return [hands[(s + by) % 4] for s in range(4)]


def act(state: State, seat: int, action: Action) -> tuple[State, list[Event]]:
    return GAME.apply(state, seat, action)


def hearts_view(state: State, seat: int | None) -> HeartsView:
    return narrow(GAME.view(state, seat), HeartsView)


def play(state: State, seat: int, card: str) -> State:
    return act(state, seat, Play(card=card))[0]


def play_all(state: State, plays: Iterable[str]) -> State:
    """Play cards in turn order."""
    for card in plays:
        turn = state.turn
        assert turn is not None
        state = play(state, turn, card)
    return state


def refused(state: State, seat: int, action: Action, match: str | None = None, *, deep: bool = True) -> str:
    """Assert the action is refused, with the state untouched; return the message."""
    before = copy.deepcopy(state) if deep else hash(state)
    with pytest.raises(IllegalMove, match=match) as info:
        GAME.apply(state, seat, action)
    assert (copy.deepcopy(state) if deep else hash(state)) == before
    return str(info.value)


def mid_deal(state: State, hands: list[list[str]], *, leader: int, broken: bool = False) -> State:
    """A playing state (after the first trick) with the given hands and an empty trick."""
    return dataclasses.replace(state, phase="playing", hands=tuple(tuple(h) for h in hands), trick=(),
                               leader=leader, tricks_played=13 - max(len(h) for h in hands),
                               hearts_broken=broken)


def last_trick_state(options: dict[str, Any], *, last: list[str], leader: int, tricks: list[int],
                     must: dict[int, list[str]], scores: tuple[int, ...] = (0, 0, 0, 0)) -> State:
    """Twelve tricks played: seat s took `must[s]` plus filler, `tricks[s]` tricks; each holds `last[s]`."""
    assert sum(tricks) == 12
    used = set(last) | {c for cs in must.values() for c in cs}
    filler = [c for c in FULL_DECK if c not in used]
    taken = []
    for seat in range(4):
        mine = list(must.get(seat, []))
        while len(mine) < 4 * tricks[seat]:
            mine.append(filler.pop(0))
        assert len(mine) == 4 * tricks[seat]
        taken.append(tuple(mine))
    assert not filler
    base = setup_fixed(ROUND, options, deal_number=3, scores=scores)
    jack = base.options.jack_of_diamonds
    return dataclasses.replace(
        base, hands=tuple((c,) for c in last), taken=tuple(taken), tricks_won=tuple(tricks),
        deal_points=tuple(hearts_scoring.trick_points(t, jack) for t in taken), tricks_played=12,
        leader=leader, hearts_broken=True)


def finish(state: State) -> tuple[State, list[Event]]:
    """Play the last trick in turn order."""
    events: list[Event] = []
    for _ in range(4):
        turn = state.turn
        assert turn is not None
        state, evs = act(state, turn, Play(card=state.hands[turn][0]))
        events += evs
    return state, events


def of_kind(events: list[Event], kind: type[Event]) -> list[Any]:
    return [e for e in events if isinstance(e, kind)]


# ---- options, setup, dealing -------------------------------------------------------------------------


def test_identity_and_options() -> None:
    assert "hearts" in GAME_MODULES
    assert (GAME.name, GAME.title, GAME.min_seats, GAME.max_seats) == ("hearts", "Hearts", 4, 4)
    assert dict(GAME.default_options) == {
        "no_points_first_trick": True, "must_break_hearts": True, "queen_breaks_hearts": True,
        "any_club_first_lead": False, "jack_of_diamonds": False, "no_trick_bonus": False,
        "lead_hearts_when_only_queen": False, "pass_cards": True, "target": 100}
    assert GAME.check_options(4, {"target": 50})["target"] == 50
    for seats in (3, 5):
        with pytest.raises(ValueError, match="4 players"):
            GAME.check_options(seats, {})
    for bad in ({"target": 0}, {"target": -5}, {"target": True}, {"target": "100"}, {"nope": 1},
                {"pass_cards": 1}):
        with pytest.raises(ValueError):
            GAME.check_options(4, bad)
    with pytest.raises(ValueError):
        GAME.setup(3, random.Random(1), {})


def test_setup_deals_from_match_seed_one_at_a_time() -> None:
    rng = random.Random(7)
    state = GAME.setup(4, rng, {})
    seed = random.Random(7).getrandbits(128)
    assert state.match_seed == seed
    deck = list(FULL_DECK)
    random.Random(f"{seed}:0").shuffle(deck)
    assert [set(h) for h in state.hands] == [set(deck[s::4]) for s in range(4)]
    assert sorted(c for h in state.hands for c in h) == DECK
    assert state.phase == "passing" and state.pass_direction == "left"
    assert GAME.to_act(state) == (0, 1, 2, 3)
    assert str(seed) not in repr(state)
    for seat in (0, 1, 2, 3, None):
        assert str(seed) not in json_text(GAME.view(state, seat))
    assert GAME.setup(4, random.Random(7), {}) == state
    assert deal_hands(seed, 1) != deal_hands(seed, 0)


def test_setup_fixed_validates_hands() -> None:
    with pytest.raises(ValueError):
        setup_fixed(ROUND[:3])
    with pytest.raises(ValueError):
        setup_fixed([ROUND[0], ROUND[0], ROUND[2], ROUND[3]])
    with pytest.raises(ValueError):
        setup_fixed(ROUND, {"target": 0})


# ---- passing -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("deal, direction, offset", [(0, "left", 1), (1, "right", 3), (2, "across", 2),
                                                     (3, "none", 0), (4, "left", 1), (7, "none", 0)])
def test_pass_directions(deal: int, direction: str, offset: int) -> None:
    state = setup_fixed(ROUND, deal_number=deal)
    assert state.pass_direction == direction == hearts_view(state, None).pass_direction
    if direction == "none":
        assert state.phase == "playing" and GAME.to_act(state) == (0,)
        return
    chosen = {seat: legal_cards(state, seat)[-3:] for seat in range(4)}
    for seat in (3, 1, 0, 2):
        state, events = act(state, seat, PassCards(cards=chosen[seat]))
        assert of_kind(events, CardsPassed)[0].to_seat == (seat + offset) % 4
    for seat in range(4):
        giver = (seat - offset) % 4
        assert set(state.hands[seat]) == (set(ROUND[seat]) - set(chosen[seat])) | set(chosen[giver])


def test_pass_rotates_over_deals_and_can_be_switched_off() -> None:
    state = GAME.setup(4, random.Random(3), {})
    rng = random.Random(3)
    directions = [state.pass_direction]
    while len(directions) < 6:
        seat = GAME.to_act(state)[0]
        state, events = act(state, seat, GAME.bot_move(state, seat, rng))
        for event in of_kind(events, CardsReceived):
            offset = {"left": 1, "right": 3, "across": 2}[directions[-1]]
            assert event.from_seat == (event.seat - offset) % 4
        directions += [e.pass_direction for e in of_kind(events, DealStarted)]
        assert GAME.outcome(state) is None
    assert directions == ["left", "right", "across", "none", "left", "right"]
    for deal in range(4):
        off = setup_fixed(ROUND, {"pass_cards": False}, deal_number=deal)
        assert off.pass_direction == "none" and off.phase == "playing"
        refused(off, 0, PassCards(cards=["2C", "6C", "TC"]), "play a card")


def test_pass_is_simultaneous() -> None:
    state = setup_fixed(ROUND)  # deal 0: pass left
    state, events = act(state, 2, PassCards(cards=["AH", "KS", "TH"]))
    assert [e.visible_to(2)["cards"] for e in events] == [("KS", "TH", "AH")]
    assert "cards" not in events[0].visible_to(3) and "cards" not in events[0].visible_to(None)
    assert len(state.hands[2]) == 10 and not {"AH", "KS", "TH"} & set(state.hands[2])
    assert [len(h) for h in state.hands] == [13, 13, 10, 13]
    assert state.hands[3] == tuple(ROUND[3])  # nobody has received yet
    assert GAME.to_act(state) == (0, 1, 3)
    view = hearts_view(state, 2)
    assert view.passed == [False, False, True, False] and view.my_pass == ["KS", "TH", "AH"]
    assert view.legal == [] == GAME.legal(state, 2)
    assert hearts_view(state, 3).my_pass is None and hearts_view(state, None).my_pass is None
    assert "AH" not in json_text(GAME.view(state, 3))
    assert refused(state, 2, PassCards(cards=legal_cards(state, 0)[:3]), "already passed")
    refused(state, 0, Play(card="2C"), "pass")
    refused(state, 0, Draw(), "pass")
    state, _ = act(state, 0, PassCards(cards=["2C", "6C", "TC"]))
    state, _ = act(state, 3, PassCards(cards=["AS", "TS", "6S"]))
    assert state.phase == "passing" and state.hands[1] == tuple(ROUND[1])
    state, events = act(state, 1, PassCards(cards=["QS", "KH", "AD"]))
    received = {e.seat: (e.from_seat, set(e.cards)) for e in of_kind(events, CardsReceived)}
    assert received == {1: (0, {"2C", "6C", "TC"}), 2: (1, {"QS", "KH", "AD"}), 3: (2, {"AH", "KS", "TH"}),
                        0: (3, {"AS", "TS", "6S"})}
    assert state.phase == "playing" and [len(h) for h in state.hands] == [13] * 4
    assert state.leader == state.turn == 1 and GAME.to_act(state) == (1,)  # seat 1 now holds the 2♣
    assert hearts_view(state, 2).my_pass == ["KS", "TH", "AH"]  # still shown to the passer


def test_pass_validation() -> None:
    state = setup_fixed(ROUND)
    refused(state, 0, PassCards(cards=["2C", "6C"]), "exactly 3")
    refused(state, 0, PassCards(cards=["2C", "6C", "TC", "AC"]), "exactly 3")
    refused(state, 0, PassCards(cards=["2C", "2C", "6C"]), "different")
    message = refused(state, 0, PassCards(cards=["2C", "6C", "QS"]), "do not hold")
    assert "QS" not in message
    refused(state, 0, PassCards(cards=["2C", "6C", "ZZ"]), "not a card")
    refused(state, 4, PassCards(cards=["2C", "6C", "TC"]), "no such seat")


# ---- leads, following, tricks ------------------------------------------------------------------------


def test_two_of_clubs_leads_first() -> None:
    state = setup_fixed(rotate(ROUND, 2), deal_number=3)  # seat 2 holds the 2♣
    assert GAME.to_act(state) == (2,) and state.leader == 2
    assert legal_cards(state, 2) == ["2C"] and GAME.legal_moves(state, 2) == [Play(card="2C")]
    assert legal_cards(state, 0) == [] and GAME.legal_moves(state, 0) == []
    refused(state, 0, Play(card="4C"), "not your turn")
    refused(state, 2, Play(card="6C"), "2♣")
    refused(state, 2, Play(card="6C", suit="C"), "no suit")
    refused(state, 2, Play(card="QS"), "do not hold")
    any_club = setup_fixed(rotate(ROUND, 2), {"any_club_first_lead": True}, deal_number=3)
    assert legal_cards(any_club, 2) == ["2C", "6C", "TC", "AC"]
    refused(any_club, 2, Play(card="5D"), "club")
    assert play(any_club, 2, "TC").trick == ((2, "TC"),)


def test_follow_suit_and_highest_of_led_suit_wins() -> None:
    state = setup_fixed(ROUND, deal_number=3)
    state = play(state, 0, "2C")
    refused(state, 1, Play(card="2D"), r"follow suit \(clubs\)")
    assert legal_cards(state, 1) == ["3C", "7C", "JC"]
    state, events = act(state, 1, Play(card="3C"))
    state = play_all(state, ["4C"])
    state, events = act(state, 3, Play(card="KC"))
    assert of_kind(events, TrickWon) == [TrickWon(3, ("2C", "3C", "4C", "KC"), 0)]
    assert state.leader == state.turn == 3 and state.last_trick[-1] == (3, "KC")
    assert narrow(hearts_view(state, None).last_trick, HeartsLastTrick).winner == 3
    # an off-suit card never wins, however high
    clubs = setup_fixed([list(FULL_DECK[:13]), list(FULL_DECK[13:26]), list(FULL_DECK[39:]),
                         list(FULL_DECK[26:39])], deal_number=3)  # seat 0 all clubs, 2 spades, 3 hearts
    clubs = play_all(clubs, ["2C", "AD", "AS"])
    clubs, events = act(clubs, 3, Play(card="AH"))
    assert of_kind(events, TrickWon)[0].seat == 0 and clubs.leader == 0


def test_out_of_turn_and_bad_cards_refused() -> None:
    state = play(setup_fixed(ROUND, deal_number=3), 0, "2C")
    for seat in (0, 2, 3):
        refused(state, seat, Play(card=state.hands[seat][0]), "not your turn")
    assert refused(state, 1, Play(card="5C"), "do not hold") == "you do not hold that card"
    refused(state, 1, Play(card="1X"), "not a card")
    refused(state, 1, PassCards(cards=["3C", "7C", "JC"]), "play a card")


# ---- first trick -----------------------------------------------------------------------------------------

#: Seat 0 holds every club, so the others are void on the first trick.
VOID = [cards("2C 3C 4C 5C 6C 7C 8C 9C TC JC QC KC AC"),
        cards("2D 3D 4D 5D 6D 7D 8D 9D TD JD QS 2H 3H"),
        cards("QD KD AD 2S 3S 4S 5S 6S 7S 8S 9S TS JS"),
        cards("KS AS 4H 5H 6H 7H 8H 9H TH JH QH KH AH")]


def test_no_points_on_first_trick() -> None:
    state = play(setup_fixed(VOID, deal_number=3), 0, "2C")
    assert legal_cards(state, 1) == cards("2D 3D 4D 5D 6D 7D 8D 9D TD JD")  # J♦ not restricted
    refused(state, 1, Play(card="QS"), "first trick")
    refused(state, 1, Play(card="2H"), "first trick")
    state = play_all(state, ["JD", "JS"])
    assert legal_cards(state, 3) == ["KS", "AS"]
    refused(state, 3, Play(card="AH"), "first trick")
    state = play(state, 3, "AS")
    assert not state.hearts_broken and state.leader == 0
    # the second trick is unrestricted for discards
    state = play(state, 0, "3C")
    assert "QS" in legal_cards(state, 1) and "2H" in legal_cards(state, 1)


def test_first_trick_points_when_nothing_else_or_option_off() -> None:
    only = [cards("2C 3C 4C 5C 6C 7C 8C 9C TC JC QC KC AC"),
            cards("2D 3D 4D 5D 6D 7D 8D 9D TD JD QD KD AD"),
            cards("2S 3S 4S 5S 6S 7S 8S 9S TS JS KS AS 2H"),
            cards("QS 3H 4H 5H 6H 7H 8H 9H TH JH QH KH AH")]
    state = play_all(setup_fixed(only, deal_number=3), ["2C", "5D"])
    assert "2H" not in legal_cards(state, 2)
    state = play(state, 2, "9S")
    assert legal_cards(state, 3) == only[3]  # nothing but points: anything goes
    state, events = act(state, 3, Play(card="QS"))
    assert state.hearts_broken and of_kind(events, TrickWon)[0] == TrickWon(0, ("2C", "5D", "9S", "QS"), 13)
    off = play(setup_fixed(VOID, {"no_points_first_trick": False}, deal_number=3), 0, "2C")
    assert legal_cards(off, 1) == VOID[1]
    off, events = act(off, 1, Play(card="QS"))
    assert off.hearts_broken and [e.kind for e in events] == ["played", "hearts_broken"]
    off = play(off, 2, "2S")
    assert legal_cards(off, 3) == VOID[3]
    off = play(off, 3, "AH")
    assert off.deal_points == (14, 0, 0, 0)


# ---- hearts breaking -------------------------------------------------------------------------------------


def after_first_trick(options: dict[str, Any] | None = None) -> State:
    return play_all(setup_fixed(ROUND, options, deal_number=3), ["2C", "3C", "4C", "KC"])  # seat 3 leads


def test_hearts_may_not_be_led_until_broken() -> None:
    state = after_first_trick()
    assert state.leader == 3 and not state.hearts_broken
    refused(state, 3, Play(card="3H"), "not broken")
    assert not any(suit(c) == "H" for c in legal_cards(state, 3))
    free = after_first_trick({"must_break_hearts": False})
    assert "3H" in legal_cards(free, 3) and play(free, 3, "3H").hearts_broken
    # a heart discarded breaks hearts
    void = mid_deal(state, [["2C", "3C"], ["4D", "5H"], ["6C", "7C"], ["2H", "8C"]], leader=0)
    void, events = act(play(void, 0, "2C"), 1, Play(card="5H"))
    assert void.hearts_broken and events[-1].kind == "hearts_broken" and events[-1].seat == 1


@pytest.mark.parametrize("queen_breaks", [True, False])
def test_queen_of_spades_breaks_hearts_option(queen_breaks: bool) -> None:
    state = after_first_trick({"queen_breaks_hearts": queen_breaks})
    state = play_all(state, ["2S", "3S"])
    state, events = act(state, 1, Play(card="QS"))
    assert state.hearts_broken is queen_breaks
    assert ("hearts_broken" in [e.kind for e in events]) is queen_breaks
    state = play(state, 2, "5S")
    assert state.leader == 1
    assert ("5H" in legal_cards(state, 1)) is queen_breaks


def test_only_hearts_may_lead_a_heart() -> None:
    base = after_first_trick()
    state = mid_deal(base, [["2H", "9H"], ["2C", "3C"], ["4C", "5C"], ["6C", "7C"]], leader=0)
    assert legal_cards(state, 0) == ["2H", "9H"]
    state, events = act(state, 0, Play(card="9H"))
    assert state.hearts_broken and events[-1].kind == "hearts_broken"


@pytest.mark.parametrize("option", [False, True])
def test_lead_hearts_when_only_queen_option(option: bool) -> None:
    base = after_first_trick({"lead_hearts_when_only_queen": option})
    hands = [["QS", "2H", "9H"], ["2C", "3C", "8C"], ["4C", "5C", "9C"], ["6C", "7C", "TC"]]
    state = mid_deal(base, hands, leader=0)
    assert legal_cards(state, 0) == (["QS", "2H", "9H"] if option else ["QS"])
    # with another non-heart the option does not apply
    other = mid_deal(base, [["3D", "QS", "9H"], *hands[1:]], leader=0)
    assert legal_cards(other, 0) == ["3D", "QS"]
    broken = mid_deal(base, hands, leader=0, broken=True)
    assert legal_cards(broken, 0) == ["QS", "2H", "9H"]


# ---- scoring ---------------------------------------------------------------------------------------------

HEARTS_BUT_ACE = [r + "H" for r in "23456789TJQK"]
MOON_LAST = ["AH", "2C", "3C", "4C"]


def test_plain_deal_points_and_trick_points() -> None:
    state = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                             must={0: ["QS"], 1: HEARTS_BUT_ACE})
    assert hearts_view(state, None).deal_points == [13, 12, 0, 0]
    state, events = finish(state)
    assert of_kind(events, TrickWon)[0].points == 1
    assert of_kind(events, DealScored) == [DealScored(None, 3, (14, 12, 0, 0), None, (14, 12, 0, 0))]
    assert state.deal_number == 4 and state.pass_direction == "left" and state.phase == "passing"
    assert state.scores == (14, 12, 0, 0) and state.history == ((14, 12, 0, 0),)
    assert [set(h) for h in state.hands] == [set(h) for h in deal_hands(state.match_seed, 4)]
    assert [e.seat for e in of_kind(events, HandDealt)] == [0, 1, 2, 3]
    assert of_kind(events, DealStarted) == [DealStarted(None, 4, "left")]
    assert GAME.outcome(state) is None
    # the next deal is announced exactly as the opening events announce the first one
    assert events[-5:] == GAME.opening_events(state)


def test_opening_events_announce_the_first_deal() -> None:
    state = GAME.setup(4, random.Random(3), {"pass_cards": False})
    opening = GAME.opening_events(state)
    assert opening == [DealStarted(None, 0, "none"), *(HandDealt(s, state.hands[s]) for s in range(4))]
    for event in opening[1:]:
        for viewer in VIEWERS:
            assert ("cards" in event.visible_to(viewer)) is (viewer == event.seat)


def test_shooting_the_moon() -> None:
    state = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[10, 2, 0, 0],
                             must={0: HEARTS_BUT_ACE + ["QS"]})
    state, events = finish(state)
    assert of_kind(events, DealScored)[0].points == (0, 26, 26, 26)
    assert of_kind(events, DealScored)[0].moon == 0
    # one heart elsewhere: no moon
    state = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[10, 2, 0, 0],
                             must={0: HEARTS_BUT_ACE[1:] + ["QS"], 1: ["2H"]})
    assert of_kind(finish(state)[1], DealScored)[0].points == (25, 1, 0, 0)


def test_jack_of_diamonds() -> None:
    opts = {"jack_of_diamonds": True}
    state = last_trick_state(opts, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                             must={0: ["QS"], 1: HEARTS_BUT_ACE, 2: ["JD"]})
    assert hearts_view(state, None).deal_points == [13, 12, -10, 0]
    assert of_kind(finish(state)[1], DealScored)[0].points == (14, 12, -10, 0)
    off = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                           must={0: ["QS"], 1: HEARTS_BUT_ACE, 2: ["JD"]})
    assert of_kind(finish(off)[1], DealScored)[0].points == (14, 12, 0, 0)
    # in a moon deal the J♦ still counts, for the shooter or for anyone else
    moon = last_trick_state(opts, last=MOON_LAST, leader=0, tricks=[10, 2, 0, 0],
                            must={0: HEARTS_BUT_ACE + ["QS"], 1: ["JD"]})
    assert of_kind(finish(moon)[1], DealScored)[0].points == (0, 16, 26, 26)
    moon = last_trick_state(opts, last=MOON_LAST, leader=0, tricks=[10, 2, 0, 0],
                            must={0: HEARTS_BUT_ACE + ["QS", "JD"]})
    assert of_kind(finish(moon)[1], DealScored)[0].points == (-10, 26, 26, 26)
    # a J♦ taken in the last trick
    last = last_trick_state(opts, last=["AD", "2C", "JD", "4C"], leader=0, tricks=[6, 5, 1, 0],
                            must={0: ["QS"], 1: [r + "H" for r in "23456789TJQKA"]})
    state, events = finish(last)
    assert of_kind(events, TrickWon)[0] == TrickWon(0, ("AD", "2C", "JD", "4C"), -10)
    assert of_kind(events, DealScored)[0].points == (3, 13, 0, 0)


def test_no_trick_bonus() -> None:
    opts = {"no_trick_bonus": True}
    state = last_trick_state(opts, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                             must={0: ["QS"], 1: HEARTS_BUT_ACE})
    assert of_kind(finish(state)[1], DealScored)[0].points == (14, 12, 0, -5)
    moon = last_trick_state(opts, last=MOON_LAST, leader=0, tricks=[10, 2, 0, 0],
                            must={0: HEARTS_BUT_ACE + ["QS"]})
    assert of_kind(finish(moon)[1], DealScored)[0].points == (0, 26, 26, 26)
    both = last_trick_state({**opts, "jack_of_diamonds": True}, last=MOON_LAST, leader=0,
                            tricks=[6, 5, 1, 0], must={0: ["QS"], 1: HEARTS_BUT_ACE, 2: ["JD"]})
    assert of_kind(finish(both)[1], DealScored)[0].points == (14, 12, -10, -5)


def test_match_ends_at_target_lowest_wins() -> None:
    state = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                             must={0: ["QS"], 1: HEARTS_BUT_ACE}, scores=(90, 80, 70, 60))
    state, events = finish(state)
    assert state.phase == "over" and GAME.to_act(state) == () and state.turn is None
    assert of_kind(events, MatchOver) == [MatchOver(None, (104, 92, 70, 60), (3,))]
    outcome = GAME.outcome(state)
    assert outcome is not None
    assert outcome.scores == (104, 92, 70, 60) and outcome.winners == (3,) and outcome.lower_is_better
    assert outcome.detail == {"deals": [[14, 12, 0, 0]]}
    assert hearts_view(state, 0).over and hearts_view(state, 0).phase == "over"
    assert GAME.legal_moves(state, 0) == [] and legal_cards(state, 3) == []
    refused(state, 0, Play(card="2C"), "over")
    with pytest.raises(IllegalMove):
        GAME.timeout_move(state, 0)
    # ties for lowest all win; exactly reaching the target ends the match
    tie = last_trick_state({}, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                           must={0: ["QS"], 1: HEARTS_BUT_ACE}, scores=(86, 60, 72, 72))
    tie, _ = finish(tie)
    tie_outcome = GAME.outcome(tie)
    assert tie_outcome is not None and tie_outcome.winners == (1, 2, 3)
    assert tie.scores == (100, 72, 72, 72)
    below = last_trick_state({"target": 101}, last=MOON_LAST, leader=0, tricks=[6, 5, 1, 0],
                             must={0: ["QS"], 1: HEARTS_BUT_ACE}, scores=(86, 0, 0, 0))
    assert finish(below)[0].phase == "passing"


def test_score_helpers() -> None:
    assert hearts_scoring.match_winners([5, 3, 3, 9]) == (1, 2)
    assert hearts_scoring.trick_winner([(1, "2S"), (2, "AH"), (3, "3S"), (0, "KD")]) == 3
    taken = [[c for c in FULL_DECK if suit(c) == "H"] + ["QS"], [], [], []]
    assert hearts_scoring.score_deal(taken, [4, 0, 0, 0], no_trick_bonus=True) == ((0, 26, 26, 26), 0)


# ---- legal moves, timeout, bots, view ------------------------------------------------------------------


def test_legal_moves_and_timeout() -> None:
    state = setup_fixed(ROUND)
    assert GAME.legal_moves(state, 1) == [PassCards(cards=["AD", "KH", "QS"])]
    assert GAME.timeout_move(state, 2) == PassCards(cards=["AH", "KS", "QC"])
    assert legal_cards(state, 1) == sorted(ROUND[1],
                                           key=lambda c: ("CDSH".index(suit(c)), RANK_VALUE[rank(c)]))
    assert GAME.view(state, 1).legal == [LegalAction("pass_cards", cards=legal_cards(state, 1), count=3)]
    playing = after_first_trick()
    assert GAME.timeout_move(playing, 3) == Play(card="2S")
    assert GAME.legal_moves(playing, 3) == [Play(card=c) for c in legal_cards(playing, 3)]
    assert GAME.legal(playing, 3) == [LegalAction("play", cards=legal_cards(playing, 3))]
    assert GAME.legal_moves(playing, 0) == [] == GAME.legal(playing, 0)
    with pytest.raises(IllegalMove):
        GAME.timeout_move(playing, 0)
    ties = mid_deal(playing, [["5H", "5S", "5D", "9C"], ["2C", "3C", "4C", "6C"], ["7C", "8C", "TC", "JC"],
                              ["QC", "KC", "AC", "2D"]], leader=0, broken=True)
    assert GAME.timeout_move(ties, 0) == Play(card="5D")
    assert GAME.timeout_move(play(ties, 0, "5H"), 1) == Play(card="2C")  # lowest when void


def test_bot_passes_danger_and_plays_sensibly() -> None:
    rng = random.Random(5)
    hands = [cards("QS AS KS 2C 3C 4C 5D 6D 7D 2H 3H 4H 5H"), cards("AH KH QH 6C 7C 8C 9C TC 2D 3D 4D 8D 9D")]
    rest = [c for c in FULL_DECK if c not in hands[0] and c not in hands[1]]
    state = setup_fixed([hands[0], hands[1], rest[:13], rest[13:]])
    assert sorted(narrow(GAME.bot_move(state, 0, rng), PassCards).cards) == ["AS", "KS", "QS"]
    assert sorted(narrow(GAME.bot_move(state, 1, rng), PassCards).cards) == ["AH", "KH", "QH"]
    base = after_first_trick()
    duck = play(mid_deal(base, [["TS", "2C"], ["2S", "9S", "QS", "AS"], ["3C"], ["4C"]], leader=0), 0, "TS")
    assert GAME.bot_move(duck, 1, rng) == Play(card="9S")
    void = play(mid_deal(base, [["TC", "2D"], ["2S", "9H", "QS", "AS"], ["3C"], ["4C"]], leader=0), 0, "TC")
    assert GAME.bot_move(void, 1, rng) == Play(card="QS")
    hearts = play(mid_deal(base, [["TC", "2D"], ["2S", "9H", "KH", "AS"], ["3C"], ["4C"]], leader=0), 0, "TC")
    assert GAME.bot_move(hearts, 1, rng) == Play(card="KH")
    lead = mid_deal(base, [["9D", "3S", "QS", "2H"], ["2C"], ["3C"], ["4C"]], leader=0, broken=True)
    assert GAME.bot_move(lead, 0, rng) == Play(card="3S")
    with pytest.raises(IllegalMove):
        GAME.bot_move(lead, 1, rng)


def test_view_fields() -> None:
    state = play(after_first_trick(), 3, "2S")
    mine = hearts_view(state, 0)
    data = msgspec.to_builtins(mine)
    assert set(data) >= {"game", "hand", "counts", "phase", "pass_direction", "passed", "my_pass", "trick",
                         "leader", "turn", "hearts_broken", "deal_points", "scores", "deal_number",
                         "last_trick", "legal", "over"}
    assert data["game"] == "hearts" and mine.phase == "playing" and mine.pass_direction == "none"
    assert mine.hand == sort_hand([c for c in ROUND[0] if c != "2C"])
    assert mine.counts == [12, 12, 12, 11]
    assert mine.trick == [HeartsTrickCard(seat=3, card="2S")] and mine.leader == 3 and mine.turn == 0
    assert mine.legal == [LegalAction("play", cards=["3S", "7S", "JS"])]
    assert mine.scores == [0, 0, 0, 0] and mine.deal_points == [0, 0, 0, 0] and not mine.over
    spectator = hearts_view(state, None)
    assert (spectator.hand, spectator.my_pass, spectator.legal) == (None, None, [])
    assert GAME.view(state, 1).legal == []
    json_text(mine), json_text(spectator)


def test_rules_modules_are_pure() -> None:
    allowed = {"__future__", "dataclasses", "random", "collections.abc", "types", "typing",
               "common.cards", "common.protocol", "common.views", "gameserver.rules.base",
               "gameserver.rules.hearts_scoring", "gameserver.rules.hearts_events"}
    for module in (hearts_module, hearts_scoring, hearts_events):
        tree = ast.parse(Path(module.__file__ or "").read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                assert {a.name for a in node.names} <= allowed
            elif isinstance(node, ast.ImportFrom):
                assert node.module in allowed
            elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
                    and node.value.id == "random":
                assert node.attr == "Random", f"global random.{node.attr} used"
        assert len(Path(module.__file__ or "").read_text().splitlines()) <= 520


# ---- seeded soak runs ------------------------------------------------------------------------------------

OPTION_CHOICES: dict[str, list[Any]] = {
    "no_points_first_trick": [True, False], "must_break_hearts": [True, False],
    "queen_breaks_hearts": [True, False], "any_club_first_lead": [False, True],
    "jack_of_diamonds": [False, True], "no_trick_bonus": [False, True],
    "lead_hearts_when_only_queen": [False, True], "pass_cards": [True, False],
}


def random_options(rng: random.Random, target: int) -> dict[str, Any]:
    return {"target": target, **{k: rng.choice(v) for k, v in OPTION_CHOICES.items() if rng.random() < 0.4}}


def random_move(state: State, seat: int, rng: random.Random) -> Action:
    legal = legal_cards(state, seat)
    if state.phase == "passing":
        return PassCards(cards=rng.sample(legal, 3))
    return Play(card=rng.choice(legal))


Chooser = Callable[[State, int, random.Random], Action]


def all_cards(state: State) -> list[str]:
    held = [c for group in (state.hands, state.taken) for cs in group for c in cs]
    held += [c for _, c in state.trick]
    if state.phase == "passing":
        held += [c for p in state.passes if p is not None for c in p]
    return sorted(held)


def expected_points(taken: list[list[str]], tricks: list[int], state: State) -> tuple[int, ...]:
    """Deal points recomputed from the TrickWon events, independently of hearts_scoring."""
    raw = [sum(1 for c in cs if suit(c) == "H") + (13 if "QS" in cs else 0) for cs in taken]
    moon = [s for s in range(4) if raw[s] == 26]
    points = [0 if s in moon else 26 for s in range(4)] if moon else raw
    for s in range(4):
        if state.options.jack_of_diamonds and "JD" in taken[s]:
            points[s] -= 10
        if state.options.no_trick_bonus and not moon and tricks[s] == 0:
            points[s] -= 5
    return tuple(points)


def run_match(state: State, rng: random.Random, choose: Chooser, *, check: bool = True) -> State:
    """Play to the end, checking conservation, turn order and scoring at every step."""
    taken: list[list[str]] = [[], [], [], []]
    tricks = [0, 0, 0, 0]
    totals = [0, 0, 0, 0]
    while GAME.outcome(state) is None:
        acting = GAME.to_act(state)
        seat = rng.choice(acting)
        state, events = GAME.apply(state, seat, choose(state, seat, rng))
        if check:
            assert all_cards(state) == DECK
        for event in events:
            if isinstance(event, TrickWon):
                assert event.seat is not None
                taken[event.seat] += event.cards
                tricks[event.seat] += 1
            elif isinstance(event, DealScored):
                assert sum(tricks) == 13 and sorted(c for t in taken for c in t) == DECK
                assert event.points == expected_points(taken, tricks, state)
                raw = sum(event.points) + (10 if state.options.jack_of_diamonds else 0)
                if state.options.no_trick_bonus and event.moon is None:
                    raw += 5 * tricks.count(0)
                assert raw == (78 if event.moon is not None else 26)
                totals = [t + p for t, p in zip(totals, event.points, strict=True)]
                assert list(event.scores) == totals
                taken, tricks = [[], [], [], []], [0, 0, 0, 0]
    outcome = GAME.outcome(state)
    assert outcome is not None
    target = state.options.target
    assert list(outcome.scores) == totals and max(totals) >= target
    assert outcome.winners == tuple(s for s in range(4) if totals[s] == min(totals))
    running = [0, 0, 0, 0]
    for points in outcome.detail["deals"][:-1]:
        running = [r + p for r, p in zip(running, points, strict=True)]
        assert max(running) < target
    return state


def test_bot_matches_are_consistent() -> None:
    for i in range(300):
        rng = random.Random(1000 + i)
        target = 100 if i % 5 == 0 else rng.choice([20, 40, 60])
        state = GAME.setup(4, rng, random_options(rng, target))
        run_match(state, rng, GAME.bot_move, check=i % 5 == 0)


def test_random_legal_matches_are_consistent() -> None:
    for i in range(40):
        rng = random.Random(5000 + i)
        run_match(GAME.setup(4, rng, random_options(rng, 60)), rng, random_move)


def test_every_card_is_either_legal_or_refused() -> None:
    for i in range(30):
        rng = random.Random(7000 + i)
        state = GAME.setup(4, rng, random_options(rng, 1))
        while GAME.outcome(state) is None:
            seat = rng.choice(GAME.to_act(state))
            if state.phase == "playing":
                legal = legal_cards(state, seat)
                for card in state.hands[seat]:
                    assert can_play(state, seat, card) is (card in legal)
                    if card not in legal:
                        message = refused(state, seat, Play(card=card), deep=False)
                        assert not set(re.findall(r"[2-9TJQKA][CDHS]", message))
                for other in range(4):
                    if other != seat:
                        assert legal_cards(state, other) == []
                        held = state.hands[other][0] if state.hands[other] else "2C"
                        refused(state, other, Play(card=held), "turn", deep=False)
                        message = refused(state, seat, Play(card=held), deep=False)
                        assert held not in message
            state, _ = GAME.apply(state, seat, random_move(state, seat, rng))


def event_log(seed: int, churn: bool) -> tuple[list[dict[str, Any]], State]:
    rng = random.Random(seed)
    state = GAME.setup(4, rng, {"target": 60})
    log: list[dict[str, Any]] = []
    while GAME.outcome(state) is None:
        if churn:
            random.seed()
            random.random()
        seat = rng.choice(GAME.to_act(state))
        state, events = GAME.apply(state, seat, GAME.bot_move(state, seat, rng))
        log += [e.visible_to(e.seat) for e in events]
    return log, state


def test_deterministic_under_global_random_churn() -> None:
    saved = random.getstate()
    try:
        for seed in (1, 2, 3):
            assert event_log(seed, False) == event_log(seed, True)
    finally:
        random.setstate(saved)


# ---- hidden information ----------------------------------------------------------------------------------


def hidden_sets(state: State) -> dict[int | None, set[str]]:
    """Per viewer, the cards it must not see: other seats' hands and passes, less its own and the played."""
    played = {c for cs in state.taken for c in cs}.union(c for _, c in state.trick)
    owned = [set(state.hands[s]).union(state.passes[s] or ()) for s in range(4)]
    secret = set().union(*owned) - played
    return {None: secret, **{seat: secret - owned[seat] for seat in range(4)}}


VIEWERS: tuple[int | None, ...] = (0, 1, 2, 3, None)


def assert_hidden(data: Any, secret: set[str], seed: str) -> None:
    text = json_text(data)
    leaked = set(CARD_RE.findall(text)) & secret
    assert not leaked, f"leaked {leaked} in {text}"
    assert seed not in text


def json_text(data: Any) -> str:
    """JSON for a view or event (msgspec: the same JSON as json.dumps, fast enough for the soak)."""
    return msgspec.json.encode(data).decode()


def test_hidden_information() -> None:
    games = 0
    for i in range(1020):
        rng = random.Random(90_000 + i)
        options = random_options(rng, 1 if i % 51 else 40)  # mostly single deals, some whole matches
        if i % 3:
            seed = rng.getrandbits(128)
            number = rng.randrange(4)
            state = setup_fixed(deal_hands(seed, number), options, deal_number=number, match_seed=seed)
        else:
            state = GAME.setup(4, rng, options)
        choose: Chooser = GAME.bot_move if i % 2 else random_move
        seed_text = str(state.match_seed)
        hidden = hidden_sets(state)
        while True:
            for viewer in VIEWERS:
                assert_hidden(GAME.view(state, viewer), hidden[viewer], seed_text)
            if GAME.outcome(state) is not None:
                break
            seat = rng.choice(GAME.to_act(state))
            action = choose(state, seat, rng)
            before = hidden
            state, events = GAME.apply(state, seat, action)
            hidden = hidden_sets(state)
            if any(isinstance(e, DealStarted) for e in events):  # the old deal's events: its last card is out
                secret = {v: s - {getattr(action, "card", "")} for v, s in before.items()}
            else:
                secret = hidden
            for event in events:
                if isinstance(event, DealStarted):
                    secret = hidden
                mine, others = event.visible_to(event.seat), event.visible_to(None)
                assert not set(event.secret) & set(others)
                for viewer in VIEWERS:
                    assert_hidden(mine if viewer == event.seat else others, secret[viewer], seed_text)
        games += 1
    assert games >= 1000


@pytest.mark.parametrize("target", [0, -1, 1001, 10**18])
def test_target_outside_its_range_is_refused(target: int) -> None:
    with pytest.raises(ValueError, match="target"):
        GAME.check_options(4, {"target": target})
