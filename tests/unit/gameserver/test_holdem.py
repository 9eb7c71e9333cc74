"""No-Limit Hold'em rules (gameserver.rules.holdem): fixed-deal scenarios, then random-hand properties."""

from __future__ import annotations

import dataclasses
import json
import random
import re
from typing import Any

import pytest
from msgspec import to_builtins
from msgspec.json import encode

from common.cards import shuffled_deck
from common.protocol import Bet, Call, Check, Draw, Fold, Raise
from common.views import HoldemPot, HoldemView, LegalAction
from gameserver.rules import games
from gameserver.rules.base import IllegalMove, Outcome
from gameserver.rules.holdem import GAME, next_button, opening_events, setup_fixed
from gameserver.rules.holdem_state import BlindPosted, HandOver, HandStarted, HoleCards, State
from tests.unit.gameserver.frames import narrow

BOARD = ["2C", "7D", "9H", "3S", "4C"]  # no straight or flush possible with the hole cards used below


def table(stacks: list[int], button: int, holes: Any, board: list[str] = BOARD, **options: Any) -> State:
    opts = {"small_blind": 50, "big_blind": 100, "min_buy_in": 100, **options, "stacks": stacks,
            "button": button}
    return setup_fixed(len(stacks), opts, holes, board)


def play(state: State, *moves: tuple[int, Any]) -> tuple[State, list[Any]]:
    events: list[Any] = []
    for seat, action in moves:
        assert GAME.to_act(state) == (seat,), (GAME.to_act(state), seat, action)
        state, new = GAME.apply(state, seat, action)
        events.extend(new)
    return state, events


def refused(state: State, seat: int, action: Any, words: str = "") -> None:
    before = dataclasses.replace(state)
    with pytest.raises(IllegalMove) as err:
        GAME.apply(state, seat, action)
    assert words in str(err.value)
    assert state == before


def kinds(events: list[Any]) -> list[str]:
    return [e.kind for e in events]


def holdem_view(state: State, seat: int | None) -> HoldemView:
    return narrow(GAME.view(state, seat), HoldemView)


def outcome_of(state: State) -> Outcome:
    """The outcome of a hand that is over."""
    return narrow(GAME.outcome(state), Outcome)


FOUR = [("AS", "AD"), ("KS", "KD"), ("QS", "QD"), ("JS", "JD")]


# ---- options, registry, button -------------------------------------------------------------------


def test_registered_with_its_metadata() -> None:
    assert games()["holdem"] is GAME
    assert (GAME.title, GAME.min_seats, GAME.max_seats) == ("No-Limit Hold'em", 2, 9)
    assert GAME.check_options(6, {}) == {"small_blind": 50, "big_blind": 100, "min_buy_in": 2000,
                                         "max_buy_in": 20000}


@pytest.mark.parametrize("options", [
    {"ante": 5}, {"small_blind": 0}, {"big_blind": -100}, {"small_blind": 200}, {"small_blind": True},
    {"min_buy_in": 30000}, {"min_buy_in": 50}, {"stacks": [100, 100]}, {"stacks": [100, -1, 100]},
    {"stacks": [100, 0, 0]}, {"stacks": "lots"}, {"stacks": [100, 1.5, 100]}, {"button": 3},
    {"button": -1}, {"button": True}, {"stacks": [100, 0, 100], "button": 1},
])
def test_bad_options_are_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        GAME.check_options(3, options)


def test_per_hand_options_are_accepted_and_optional() -> None:
    merged = GAME.check_options(3, {"stacks": [500, 0, 700], "button": 2})
    assert merged["stacks"] == [500, 0, 700] and merged["button"] == 2
    with pytest.raises(ValueError):
        GAME.check_options(10, {})
    state = GAME.setup(3, random.Random(1), GAME.check_options(3, {}))  # the host's create-time options
    assert state.stacks[0] + state.bets[0] == 20000 and state.button == 0


def test_next_button_skips_empty_seats_and_wraps() -> None:
    stacks = [500, 0, 0, 300, 0]
    assert next_button(None, stacks) == 0
    assert next_button(0, stacks) == 3
    assert next_button(3, stacks) == 0
    assert next_button(4, stacks) == 0
    assert next_button(0, [500, 0, 0, 0, 0]) == 0
    with pytest.raises(ValueError):
        next_button(0, [0, 0])


# ---- dealing -------------------------------------------------------------------------------------


def test_dealing_order_from_the_shuffled_deck() -> None:
    stacks = [1000, 0, 1000, 1000]
    opts = GAME.check_options(4, {"stacks": stacks, "button": 2})
    state = GAME.setup(4, random.Random(99), opts)
    deck = shuffled_deck(random.Random(99))
    # One card at a time from the seat after the button, clockwise, ending on the button: 3, 0, 2.
    assert state.hole[3] == (deck[0], deck[3])
    assert state.hole[0] == (deck[1], deck[4])
    assert state.hole[2] == (deck[2], deck[5])
    assert state.hole[1] is None
    assert (state.sb_seat, state.bb_seat, GAME.to_act(state)) == (3, 0, (2,))
    state, events = play(state, (2, Raise(to=1000)), (3, Call()), (0, Call()))  # all in: run it out
    # Burn, flop, burn, turn, burn, river.
    assert state.board == (deck[7], deck[8], deck[9], deck[11], deck[13])
    assert [e.street for e in events if e.kind == "street"] == ["flop", "turn", "river"]


def test_fixed_deal_and_opening_events() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    assert [state.hole[s] for s in range(3)] == FOUR[:3]
    opening = opening_events(state)
    assert kinds(opening) == ["hand_started", "blind_posted", "blind_posted", "hole_cards", "hole_cards",
                              "hole_cards"]
    blinds = [narrow(e, BlindPosted) for e in opening[1:3]]
    assert [(e.seat, e.blind, e.amount) for e in blinds] == [(1, "small", 50), (2, "big", 100)]
    assert opening[3].seat == 1  # dealt from the seat after the button
    assert "cards" not in opening[3].visible_to(None) and "cards" not in opening[3].visible_to(0)
    assert opening[3].visible_to(opening[3].seat)["cards"] == FOUR[opening[3].seat]


# ---- blinds and who acts -------------------------------------------------------------------------


def test_blinds_and_first_actor_three_or_more() -> None:
    state = table([1000, 1000, 1000, 1000], 0, FOUR)
    assert (state.sb_seat, state.bb_seat) == (1, 2)
    assert state.bets == (0, 50, 100, 0)
    assert GAME.to_act(state) == (3,)
    view = holdem_view(state, 3)
    assert (view.button, view.small_blind_seat, view.big_blind_seat) == (0, 1, 2)
    assert view.street == "preflop" and view.to_call == 100
    state, _ = play(state, (3, Call()), (0, Call()), (1, Call()), (2, Check()))
    assert state.street == "flop" and GAME.to_act(state) == (1,)  # first active seat after the button
    state, _ = play(state, (1, Check()), (2, Check()), (3, Check()), (0, Check()))
    assert state.street == "turn" and GAME.to_act(state) == (1,)


def test_blinds_skip_empty_seats() -> None:
    stacks = [0, 1000, 0, 1000, 1000, 0]
    state = table(stacks, 1, {1: FOUR[0], 3: FOUR[1], 4: FOUR[2]})
    assert (state.sb_seat, state.bb_seat) == (3, 4)
    assert GAME.to_act(state) == (1,)
    state, _ = play(state, (1, Call()), (3, Fold()))
    assert GAME.to_act(state) == (4,)
    state, _ = play(state, (4, Check()))
    assert state.street == "flop" and GAME.to_act(state) == (4,)  # the small blind folded


@pytest.mark.parametrize(("stacks", "button", "other"), [([1000, 1000], 0, 1), ([1000, 1000], 1, 0),
                                                         ([0, 800, 0, 900], 3, 1)])
def test_heads_up_button_posts_small_blind_and_acts_first_preflop(stacks: list[int], button: int,
                                                                 other: int) -> None:
    state = table(stacks, button, {button: FOUR[0], other: FOUR[1]})
    assert (state.sb_seat, state.bb_seat) == (button, other)
    assert state.bets[button] == 50 and state.bets[other] == 100
    assert GAME.to_act(state) == (button,)
    state, _ = play(state, (button, Call()), (other, Check()))
    assert state.street == "flop" and GAME.to_act(state) == (other,)  # the button acts last after the flop
    state, _ = play(state, (other, Check()), (button, Check()))
    assert state.street == "turn" and GAME.to_act(state) == (other,)


def test_short_blinds_post_all_in() -> None:
    state = table([1000, 30, 60, 1000], 0, FOUR)
    assert state.bets == (0, 30, 60, 0) and state.stacks[1] == 0 and state.stacks[2] == 0
    assert holdem_view(state, 3).to_call == 60
    assert GAME.view(state, 3).legal[-1] == LegalAction("raise", field="to", min=160, max=1000)
    assert [narrow(e, BlindPosted).all_in for e in opening_events(state) if e.kind == "blind_posted"] == [
        True, True]


def test_nobody_acts_when_the_only_player_with_chips_is_matched() -> None:
    state = table([1000, 30], 1, {0: FOUR[0], 1: FOUR[1]})  # the button posts 30 of its small blind
    assert state.over  # the big blind has nobody to bet against: 70 back, board run out, AA wins
    assert state.payouts == (60, 0) and state.stacks == (1030, 0)


# ---- bet and raise sizes -------------------------------------------------------------------------


def test_minimum_bet_is_the_big_blind() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    state, _ = play(state, (0, Call()), (1, Call()), (2, Check()))
    assert GAME.legal_moves(state, 1) == [Check(), Bet(amount=100), Bet(amount=900)]
    assert GAME.view(state, 1).legal == [LegalAction("check"),
                                         LegalAction("bet", field="amount", min=100, max=900)]
    refused(state, 1, Bet(amount=99), "between 100 and 900")
    refused(state, 1, Bet(amount=901))
    refused(state, 1, Raise(to=200), "bet instead")
    state, events = play(state, (1, Bet(amount=100)))
    assert events[-1].kind == "action" and (events[-1].action, events[-1].amount) == ("bet", 100)
    refused(state, 2, Bet(amount=300), "raise instead")


def test_short_stack_may_bet_all_in_below_the_minimum() -> None:
    state = table([1000, 1000, 160], 0, FOUR[:3])
    state, _ = play(state, (0, Call()), (1, Call()), (2, Check()))
    state, _ = play(state, (1, Check()))
    assert GAME.view(state, 2).legal == [LegalAction("check"),
                                         LegalAction("bet", field="amount", min=60, max=60)]
    refused(state, 2, Bet(amount=59))
    state, _ = play(state, (2, Bet(amount=60)))
    assert state.stacks[2] == 0 and holdem_view(state, 0).all_in[2]


def test_minimum_raise_preflop_and_after_a_raise() -> None:
    state = table([5000, 5000, 5000, 5000], 0, FOUR)
    assert GAME.legal_moves(state, 3) == [Fold(), Call(), Raise(to=200), Raise(to=5000)]
    refused(state, 3, Raise(to=199), "between 200 and 5000")
    refused(state, 3, Bet(amount=200), "raise instead")  # the big blind counts as the bet
    state, _ = play(state, (3, Raise(to=500)))  # a raise of 400
    assert GAME.view(state, 0).legal[-1] == LegalAction("raise", field="to", min=900, max=5000)
    refused(state, 0, Raise(to=899))
    state, events = play(state, (0, Raise(to=900)))
    assert (events[-1].action, events[-1].to, events[-1].amount) == ("raise", 900, 900)
    assert GAME.view(state, 1).legal[-1].min == 1300


def test_short_all_in_does_not_reopen_betting_for_those_who_acted() -> None:
    state = table([1000, 1000, 1000, 1000, 150], 0, FOUR + [("2S", "2D")])
    # seat 3 limps, seat 4 raises all-in to 150: 50 more, less than a full raise of 100.
    state, _ = play(state, (3, Call()), (4, Raise(to=150)))
    # seat 0 has not acted yet: it may raise
    assert GAME.view(state, 0).legal[-1] == LegalAction("raise", field="to", min=250, max=1000)
    state, _ = play(state, (0, Call()), (1, Call()))
    assert GAME.view(state, 2).legal[-1].type == "raise"  # the big blind has not acted either
    state, _ = play(state, (2, Call()))
    assert GAME.to_act(state) == (3,)
    assert GAME.legal_moves(state, 3) == [Fold(), Call()]  # the limper may only call or fold
    assert GAME.view(state, 3).legal == [LegalAction("fold"), LegalAction("call", cost=50)]
    refused(state, 3, Raise(to=250), "may not raise")
    state, _ = play(state, (3, Call()))
    assert state.street == "flop"


def test_full_raise_after_a_short_all_in_reopens() -> None:
    state = table([1000, 1000, 1000, 1000, 150], 0, FOUR + [("2S", "2D")])
    state, _ = play(state, (3, Call()), (4, Raise(to=150)), (0, Raise(to=250)), (1, Fold()), (2, Fold()))
    assert GAME.view(state, 3).legal[-1] == LegalAction("raise", field="to", min=350, max=1000)


def test_short_all_ins_that_add_up_to_a_full_raise_reopen() -> None:
    six = FOUR + [("2S", "2D"), ("8S", "8D")]
    # Seat 3 raises to 200 (a raise of 100); two short all-ins follow.
    state = table([1000, 1000, 1000, 1000, 250, 280], 0, six)
    state, _ = play(state, (3, Raise(to=200)), (4, Raise(to=250)), (5, Raise(to=280)), (0, Call()),
                    (1, Fold()), (2, Fold()))
    assert GAME.legal_moves(state, 3) == [Fold(), Call()]  # 80 more in all: still no full raise
    state = table([1000, 1000, 1000, 1000, 250, 300], 0, six)
    state, _ = play(state, (3, Raise(to=200)), (4, Raise(to=250)), (5, Raise(to=300)), (0, Call()),
                    (1, Fold()), (2, Fold()))
    assert GAME.view(state, 3).legal[-1] == LegalAction("raise", field="to", min=400, max=1000)  # 100 in all


def test_no_raise_when_nobody_could_answer() -> None:
    state = table([1000, 1000, 300], 0, FOUR[:3])
    state, _ = play(state, (0, Fold()), (1, Call()), (2, Raise(to=300)))  # the big blind is all in
    assert GAME.legal_moves(state, 1) == [Fold(), Call()]
    refused(state, 1, Raise(to=1000), "may not raise")
    state, _ = play(state, (1, Call()))
    assert state.over


# ---- fold, check, call, turn order -----------------------------------------------------------------


def test_folding_when_checking_is_free_is_refused() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    state, _ = play(state, (0, Call()), (1, Call()))
    assert Fold() not in GAME.legal_moves(state, 2)
    refused(state, 2, Fold(), "you can check for free")
    assert GAME.timeout_move(state, 2) == Check()
    for seed in range(30):
        assert GAME.bot_move(state, 2, random.Random(seed)) != Fold()


def test_illegal_and_out_of_turn_actions_change_nothing() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    refused(state, 1, Call(), "not your turn")
    refused(state, 7, Call(), "not your turn")
    refused(state, 0, Check(), "100 to call")
    refused(state, 0, Raise(to=True))
    refused(state, 0, Raise(to=1001))
    refused(state, 0, Draw(), "not a Hold'em action")
    assert GAME.legal_moves(state, 1) == []
    state, _ = play(state, (0, Call()), (1, Call()))
    refused(state, 2, Call(), "nothing to call")
    state, _ = play(state, (2, Check()), (1, Check()), (2, Check()), (0, Check()))
    state, _ = play(state, (1, Check()), (2, Check()), (0, Check()), (1, Check()), (2, Check()), (0, Check()))
    assert state.over and GAME.to_act(state) == ()
    refused(state, 1, Check(), "over")


def test_timeout_folds_facing_a_bet() -> None:
    state = table([1000, 1000], 0, FOUR[:2])
    assert GAME.timeout_move(state, 0) == Fold()


# ---- pots ----------------------------------------------------------------------------------------


def test_side_pots_with_three_all_ins_of_different_sizes() -> None:
    state = table([300, 600, 1000, 2000], 3, FOUR)  # AA, KK, QQ, JJ; the shortest stack is best
    state, events = play(state, (2, Raise(to=1000)), (3, Call()), (0, Call()), (1, Call()))
    assert state.over and len(state.board) == 5
    view = holdem_view(state, None)
    assert view.pots == [HoldemPot(1200, [0, 1, 2, 3]), HoldemPot(900, [1, 2, 3]), HoldemPot(800, [2, 3])]
    assert view.payouts == [1200, 900, 800, 0]
    assert view.stacks == [1200, 900, 800, 1000]
    awards = [(e.seat, e.amount, e.pot) for e in events if e.kind == "pot_awarded"]
    assert awards == [(0, 1200, 0), (1, 900, 1), (2, 800, 2)]
    outcome = outcome_of(state)
    assert outcome.scores == (900, 300, -200, -1000) and outcome.winners == (0, 1, 2)
    assert outcome.lower_is_better is False
    assert outcome.detail["board"] == BOARD and set(outcome.detail["shown"]) == {0, 1, 2, 3}
    assert outcome.detail["pots"] == [{"amount": 1200, "eligible": [0, 1, 2, 3]},
                                      {"amount": 900, "eligible": [1, 2, 3]},
                                      {"amount": 800, "eligible": [2, 3]}]
    json.dumps(dict(outcome.detail))  # stored as JSON with the finished game


@pytest.mark.parametrize(("button", "first"), [(0, 2), (1, 0)])
def test_split_pot_odd_chip_goes_to_first_winner_after_the_button(button: int, first: int) -> None:
    royal = ["AS", "KS", "QS", "JS", "TS"]
    holes = [("2C", "3D"), ("4C", "5D"), ("6C", "7D")]
    state = table([1000, 1000, 1000], button, holes, royal, small_blind=25, big_blind=50)
    sb, bb, utg = state.sb_seat, state.bb_seat, state.button
    state, _ = play(state, (utg, Call()), (sb, Fold()), (bb, Check()))
    while not state.over:
        state, _ = play(state, (GAME.to_act(state)[0], Check()))
    winners = sorted({utg, bb})
    assert first in winners
    other = next(s for s in winners if s != first)
    assert state.payouts is not None and state.payouts[first] == 63 and state.payouts[other] == 62  # pot 125
    assert set(outcome_of(state).winners) == set(winners)


def test_three_way_split_gives_the_whole_remainder_to_the_first_winner() -> None:
    royal = ["AS", "KS", "QS", "JS", "TS"]
    holes = [("2C", "3D"), ("4C", "5D"), ("6C", "7D"), ("8C", "9D")]
    state = table([1000] * 4, 0, holes, royal, small_blind=20, big_blind=50)
    state, _ = play(state, (3, Call()), (0, Call()), (1, Fold()), (2, Check()))
    while not state.over:
        state, _ = play(state, (GAME.to_act(state)[0], Check()))
    assert state.payouts == (56, 0, 58, 56)  # pot 170 = 3 x 56 + 2; seat 2 is first after the button


def test_uncalled_bet_is_returned_before_pots_are_built() -> None:
    state = table([5000, 800], 0, FOUR[:2])
    state, events = play(state, (0, Raise(to=5000)), (1, Call()))
    returned = [(e.seat, e.amount) for e in events if e.kind == "uncalled_returned"]
    assert returned == [(0, 4200)]
    assert holdem_view(state, None).pots == [HoldemPot(1600, [0, 1])]
    assert sum(state.stacks) == 5800


def test_fold_to_the_big_blind_returns_its_uncalled_half() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    state, events = play(state, (0, Fold()), (1, Fold()))
    assert kinds(events)[-4:] == ["action", "uncalled_returned", "pot_awarded", "hand_over"]
    assert [(e.seat, e.amount) for e in events if e.kind in ("uncalled_returned", "pot_awarded")] == [
        (2, 50), (2, 100)]
    assert state.stacks == (1000, 950, 1050)
    assert outcome_of(state).scores == (0, -50, 50) and outcome_of(state).winners == (2,)


def test_win_without_showdown_keeps_every_hand_hidden() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    state, events = play(state, (0, Call()), (1, Call()), (2, Check()), (1, Bet(amount=300)), (2, Fold()),
                         (0, Fold()))
    assert state.over and state.payouts == (0, 300, 0)
    assert not state.shown and "showdown" not in kinds(events)
    for viewer in (None, 0, 2):
        seen = encode([GAME.view(state, viewer), [e.visible_to(viewer) for e in events]]).decode()
        assert holdem_view(state, viewer).shown is None
        for card in FOUR[1]:
            assert f'"{card}"' not in seen
    assert holdem_view(state, 1).hole == list(FOUR[1])
    assert outcome_of(state).detail["shown"] == {}


def test_board_runs_out_when_players_are_all_in() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    state, _ = play(state, (0, Raise(to=1000)), (1, Fold()))
    state, events = play(state, (2, Call()))
    assert kinds(events) == ["action", "street", "street", "street", "showdown", "pot_awarded", "hand_over"]
    assert state.board == tuple(BOARD) and state.over
    assert holdem_view(state, 1).shown == {0: list(FOUR[0]), 2: list(FOUR[2])}  # folded seat 1 not shown
    shown = events[4].visible_to(None)["hands"]
    assert [(h["seat"], h["hand"]) for h in shown] == [(0, "Pair of aces"), (2, "Pair of queens")]


def test_all_in_with_one_caller_left_with_chips_stops_betting() -> None:
    state = table([1000, 300, 1000], 0, FOUR[:3])
    state, _ = play(state, (0, Call()), (1, Raise(to=300)), (2, Call()), (0, Call()))
    assert state.street == "flop" and GAME.to_act(state) == (2,)  # two players still have chips
    state, _ = play(state, (2, Bet(amount=700)), (0, Call()))
    assert state.over and len(state.board) == 5


# ---- views ---------------------------------------------------------------------------------------


def test_view_shows_own_cards_and_legal_moves_only() -> None:
    state = table([1000, 1000, 1000], 0, FOUR[:3])
    mine = holdem_view(state, 0)
    assert mine.hole == list(FOUR[0]) and mine.legal
    other = holdem_view(state, 1)
    assert other.hole == list(FOUR[1]) and other.legal == []
    spectator = holdem_view(state, None)
    assert spectator.hole is None and spectator.legal == [] and spectator.to_call == 0
    data = to_builtins(spectator)
    for key in ("game", "board", "pot", "pots", "stacks", "bets", "folded", "all_in", "button",
                "small_blind_seat", "big_blind_seat", "street", "turn", "to_call", "legal", "over"):
        assert key in data
    assert spectator.pot == 150 and spectator.turn == 0 and data["game"] == "holdem"
    assert spectator.payouts is None and "deck" not in data and spectator.shown is None
    assert GAME.outcome(state) is None


# ---- properties over random hands ----------------------------------------------------------------


def random_options(rng: random.Random) -> tuple[int, dict[str, Any]]:
    """A random table: 2-9 seats, some empty, stacks from a few chips to deep; blinds of several sizes."""
    seats = rng.randint(2, 9)
    bb = rng.choice([2, 10, 100])
    sb = rng.randint(1, bb)
    stacks = [rng.choice([0, rng.randint(1, 3 * bb), rng.randint(bb, 50 * bb), rng.randint(1, 300 * bb)])
              for _ in range(seats)]
    while sum(1 for s in stacks if s) < 2:
        stacks[rng.randrange(seats)] = rng.randint(1, 100 * bb)
    button = rng.choice([s for s in range(seats) if stacks[s]])
    opts = {"small_blind": sb, "big_blind": bb, "min_buy_in": bb, "max_buy_in": 100 * bb, "stacks": stacks,
            "button": button}
    return seats, GAME.check_options(seats, opts)


def random_action(state: State, seat: int, rng: random.Random) -> Any:
    """A bot move, a listed representative, or a uniformly random legal action with a random amount."""
    roll = rng.random()
    if roll < 0.4:
        return GAME.bot_move(state, seat, rng)
    if roll < 0.55:
        return rng.choice(GAME.legal_moves(state, seat))
    legal = GAME.view(state, seat).legal
    choice = rng.choice(legal)
    kind = choice.type
    if kind in ("bet", "raise"):
        assert choice.min is not None and choice.max is not None
        amount = rng.choice([choice.min, choice.max, rng.randint(choice.min, choice.max)])
        return Bet(amount=amount) if kind == "bet" else Raise(to=amount)
    if kind == "fold" and rng.random() < 0.5:  # keep more hands going to showdown
        return Call()
    return {"fold": Fold, "check": Check, "call": Call}[kind]()


def play_random_hand(seed: int, check: Any = None, record: bool = True) -> tuple[State, list[dict[str, Any]]]:
    """Play one random hand to the end; `check(state, events)` runs after setup and after every step.

    With `record`, also return the full event log (secret fields included)."""
    rng = random.Random(seed)
    seats, opts = random_options(rng)
    state = GAME.setup(seats, rng, opts)
    log = [dataclasses.asdict(e) | {"kind": e.kind} for e in opening_events(state) if record]
    if check:
        check(state, opening_events(state))
    while GAME.to_act(state):
        (seat,) = GAME.to_act(state)
        state, events = GAME.apply(state, seat, random_action(state, seat, rng))
        log.extend(dataclasses.asdict(e) | {"kind": e.kind} for e in events if record)
        if check:
            check(state, events)
    return state, log


def test_chips_are_conserved_over_thousands_of_random_hands() -> None:
    streets: set[int] = set()
    showdowns = side_pots = 0
    for seed in range(3000):
        total = None

        def conserved(state: State, events: list[Any], seed: int = seed) -> None:
            nonlocal total
            if total is None:
                total = sum(state.initial)
            in_play = 0 if state.over else sum(state.committed)
            assert sum(state.stacks) + in_play == total, seed
            assert all(s >= 0 for s in state.stacks)
            assert GAME.to_act(state) == (() if state.over else (state.turn,))

        state, _ = play_random_hand(seed, conserved, record=False)
        outcome = GAME.outcome(state)
        assert outcome is not None and sum(outcome.scores) == 0
        assert list(outcome.detail["stacks"]) == list(state.stacks) and sum(state.stacks) == total
        assert sum(outcome.detail["payouts"]) == sum(p.amount for p in state.pots) == sum(state.committed)
        assert all(score == 0 for score, dealt in zip(outcome.scores, state.dealt, strict=True) if not dealt)
        assert state.payouts is not None
        assert set(outcome.winners) == {s for s, won in enumerate(state.payouts) if won}
        streets.add(len(state.board))
        showdowns += bool(state.shown)
        side_pots += len(state.pots) > 1
    assert streets == {0, 3, 4, 5} and showdowns > 500 and side_pots > 100  # the hands were varied


def test_deterministic_despite_global_random_churn(monkeypatch: pytest.MonkeyPatch) -> None:
    first = [play_random_hand(seed) for seed in range(150)]

    def churn(state: State, events: list[Any]) -> None:
        random.seed(random.random())
        random.random()

    saved = random.getstate()
    try:
        second = [play_random_hand(seed, churn) for seed in range(150)]
    finally:
        random.setstate(saved)
    assert first == second

    def forbidden(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the global random module was used")

    for name in ("random", "shuffle", "choice", "randint", "randrange", "sample", "uniform"):
        monkeypatch.setattr(random, name, forbidden)
    third = [play_random_hand(seed) for seed in range(150)]
    assert first == third


def test_views_and_events_never_leak_hidden_cards() -> None:
    """For every seat and a spectator, at every step: no card but the board, one's own hole and hands
    shown at showdown ever appears in the JSON of the view or of the visible events."""
    card_pattern = re.compile(r'"([2-9TJQKA][CDHS])"')
    for seed in range(1000):
        def private(state: State, events: list[Any], seed: int = seed) -> None:
            public = set(state.board) | {c for _, cards in state.shown for c in cards}
            for viewer in [None, *range(state.seats)]:
                allowed = public | set(state.hole[viewer] or () if viewer is not None else ())
                seen = [GAME.view(state, viewer), [e.visible_to(viewer) for e in events]]
                text = encode(seen).decode()
                leaked = set(card_pattern.findall(text)) - allowed
                assert not leaked, (seed, viewer, leaked)
                if viewer is not None and state.hole[viewer] is not None:
                    assert holdem_view(state, viewer).hole == list(state.hole[viewer])

        play_random_hand(seed + 10_000, private, record=False)


def test_shown_hands_are_exactly_those_still_in_at_showdown() -> None:
    for seed in range(300):
        state, log = play_random_hand(seed + 20_000)
        live = [s for s in range(state.seats) if state.dealt[s] and not state.folded[s]]
        if len(live) > 1:
            assert [s for s, _ in state.shown] == live
            assert [h["seat"] for e in log if e["kind"] == "showdown" for h in e["hands"]] == live
        else:
            assert not state.shown and not any(e["kind"] == "showdown" for e in log)


def test_bots_play_legal_moves_and_value_strong_hands() -> None:
    rng = random.Random(5)
    for seed in range(300):
        hand_rng = random.Random(seed)
        seats, opts = random_options(hand_rng)
        state = GAME.setup(seats, hand_rng, opts)
        while GAME.to_act(state):
            (seat,) = GAME.to_act(state)
            move = GAME.bot_move(state, seat, rng)
            if holdem_view(state, seat).to_call == 0:
                assert not isinstance(move, Fold)
            state, _ = GAME.apply(state, seat, move)
    aces = table([5000, 5000, 5000], 0, FOUR[:3])
    assert all(isinstance(GAME.bot_move(aces, 0, random.Random(s)), Raise) for s in range(20))
    junk = table([5000, 5000, 5000], 0, [("8D", "3C"), ("KS", "KD"), ("QS", "QD")])
    junk, _ = play(junk, (0, Call()), (1, Raise(to=5000)), (2, Fold()))
    assert all(isinstance(GAME.bot_move(junk, 0, random.Random(s)), Fold) for s in range(20))


def test_opening_events_are_worked_out_from_the_state() -> None:
    """The deal's events come from the state alone: the same at every later step of the hand, and when
    nobody can act after the blinds they include the whole run-out, ending on the settled stacks."""
    ran_out = 0
    for seed in range(800):
        rng = random.Random(seed + 30_000)
        seats, opts = random_options(rng)
        state = GAME.setup(seats, rng, opts)
        opening = opening_events(state)
        order = [s % seats for s in range(state.button + 1, state.button + seats + 1)
                 if state.dealt[s % seats]]
        assert kinds(opening)[:3 + len(order)] == ["hand_started", "blind_posted", "blind_posted",
                                                    *["hole_cards"] * len(order)]
        assert narrow(opening[0], HandStarted).stacks == state.initial
        assert [(e.seat, narrow(e, HoleCards).cards) for e in opening[3:3 + len(order)]] == [
            (s, state.hole[s]) for s in order]
        if state.over:
            ran_out += 1
            assert opening[-1].kind == "hand_over" and narrow(opening[-1], HandOver).stacks == state.stacks
        else:
            assert len(opening) == 3 + len(order)
        while GAME.to_act(state):
            (seat,) = GAME.to_act(state)
            state, _ = GAME.apply(state, seat, random_action(state, seat, rng))
            assert opening_events(state) == opening
    assert ran_out >= 10  # the case that needs the run-out came up
