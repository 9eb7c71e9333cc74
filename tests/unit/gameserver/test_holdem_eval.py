"""The Hold'em hand evaluator, pot splitter and bot strategy helpers (gameserver.rules.holdem_eval)."""

from __future__ import annotations

import itertools
import random
import time
from collections import Counter

import pytest

from common.cards import FULL_DECK, RANK_VALUE
from gameserver.rules.holdem_eval import (
    FLUSH,
    FOUR_OF_A_KIND,
    FULL_HOUSE,
    HIGH_CARD,
    PAIR,
    STRAIGHT,
    STRAIGHT_FLUSH,
    THREE_OF_A_KIND,
    TWO_PAIR,
    best_hand,
    bot_choice,
    hand_name,
    made_hand_strength,
    preflop_strength,
    side_pots,
)


def hand(text: str) -> list[str]:
    return text.split()


# ---- an independent, deliberately naive five-card ranker, to check best-of-seven against -----------


def naive_five(cards: tuple[str, ...]) -> tuple[int, ...]:
    values = sorted((RANK_VALUE[c[0]] for c in cards), reverse=True)
    flush = len({c[1] for c in cards}) == 1
    distinct = sorted(set(values), reverse=True)
    straight = 0
    if len(distinct) == 5 and distinct[0] - distinct[4] == 4:
        straight = distinct[0]
    elif distinct == [14, 5, 4, 3, 2]:
        straight = 5
    counts = Counter(values)
    by_group = sorted(counts.items(), key=lambda kv: (kv[1], kv[0]), reverse=True)
    shape = [n for _, n in by_group]
    ranks = [v for v, _ in by_group]
    if straight and flush:
        return (8, straight)
    if shape == [4, 1]:
        return (7, *ranks)
    if shape == [3, 2]:
        return (6, *ranks)
    if flush:
        return (5, *values)
    if straight:
        return (4, straight)
    if shape == [3, 1, 1]:
        return (3, *ranks)
    if shape == [2, 2, 1]:
        return (2, *ranks)
    if shape == [2, 1, 1, 1]:
        return (1, *ranks)
    return (0, *values)


def naive_best(cards: list[str]) -> tuple[int, ...]:
    return max(naive_five(combo) for combo in itertools.combinations(cards, 5))


# ---- categories ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("cards", "category", "name"), [
    ("AS KS QS JS TS 2D 3C", STRAIGHT_FLUSH, "Royal flush"),
    ("9H 8H 7H 6H 5H AH KD", STRAIGHT_FLUSH, "Straight flush, nine high"),
    ("AD 2D 3D 4D 5D KC KS", STRAIGHT_FLUSH, "Straight flush, five high"),
    ("9C 9D 9H 9S 2D 3C KH", FOUR_OF_A_KIND, "Four of a kind, nines"),
    ("KC KD KH 4S 4D 2C 3H", FULL_HOUSE, "Full house, kings over fours"),
    ("AH 9H 7H 4H 2H KD KS", FLUSH, "Flush, ace high"),
    ("TC 9D 8H 7S 6D 2C 2H", STRAIGHT, "Straight, ten high"),
    ("AC 2D 3H 4S 5D 9C JH", STRAIGHT, "Straight, five high"),
    ("7C 7D 7H KS 2D 4C 9H", THREE_OF_A_KIND, "Three of a kind, sevens"),
    ("KC KD 4H 4S 2D 9C JH", TWO_PAIR, "Two pair, kings and fours"),
    ("JC JD 4H 6S 2D 9C KH", PAIR, "Pair of jacks"),
    ("6C 6D 4H 8S 2D 9C KH", PAIR, "Pair of sixes"),
    ("AC QD 4H 6S 2D 9C JH", HIGH_CARD, "High card, ace"),
])
def test_every_category_and_its_name(cards: str, category: int, name: str) -> None:
    key = best_hand(hand(cards))
    assert key[0] == category
    assert hand_name(key) == name
    assert key == naive_best(hand(cards))


def test_category_order() -> None:
    ladder = ["AC QD 4H 6S 2D 9C JH", "JC JD 4H 6S 2D 9C KH", "KC KD 4H 4S 2D 9C JH",
              "7C 7D 7H KS 2D 4C 9H", "AC 2D 3H 4S 5D 9C JH", "AH 9H 7H 4H 2H KD KS",
              "KC KD KH 4S 4D 2C 3H", "9C 9D 9H 9S 2D 3C KH", "AD 2D 3D 4D 5D KC KS"]
    keys = [best_hand(hand(h)) for h in ladder]
    assert keys == sorted(keys)
    assert len(set(keys)) == len(keys)


# ---- kickers, wheel, ties, best of seven -----------------------------------------------------------


@pytest.mark.parametrize(("better", "worse"), [
    ("AS AD KC 9H 7D 3C 2S", "AH AC QC 9D 7S 3D 2H"),  # pair, first kicker
    ("AS AD KC 9H 8D 3C 2S", "AH AC KD 9D 7S 3D 2H"),  # pair, third kicker
    ("KS KD 4C 4H AD 3C 2S", "KH KC 4D 4S QD 3D 2H"),  # two pair, kicker
    ("KS KD 5C 5H 2D 3C 8S", "KH KC 4D 4S QD 3D 2H"),  # two pair, second pair
    ("7S 7D 7C AH 4D 3C 2S", "7H 7C 7D KS QD 3D 2H"),  # trips, kicker
    ("9C 9D 9H 9S AD 3C 2H", "9C 9D 9H 9S KD 3C 2H"),  # quads kicker
    ("AH 9H 7H 4H 3H KD KS", "AH 9H 7H 4H 2H KD KS"),  # flush, fifth card
    ("6C 2D 3H 4S 5D 9C JH", "AC 2D 3H 4S 5D 9C JH"),  # six-high straight beats the wheel
    ("QC QD QH 2S 2D 3C 3H", "JC JD JH AS AD 3C 2H"),  # full house by trips
    ("QC QD QH 3S 3D 2C 2H", "QC QD QH 2S 2D AC 3H"),  # full house by the pair
])
def test_kickers_and_ranks_decide(better: str, worse: str) -> None:
    assert best_hand(hand(better)) > best_hand(hand(worse))


def test_wheel_is_the_lowest_straight() -> None:
    wheel = best_hand(hand("AC 2D 3H 4S 5D KC KH"))
    assert wheel == (STRAIGHT, 5)
    assert wheel < best_hand(hand("2C 3D 4H 5S 6D KC KH"))
    assert wheel > best_hand(hand("KC KD KH 7S 2D 9C 4H"))  # still beats trips
    assert best_hand(hand("AC KD QH JS TD 2C 3H")) == (STRAIGHT, 14)  # ace-high straight, no wraparound
    assert best_hand(hand("QC KD AH 2S 3D 8C 8H"))[0] == PAIR  # Q-K-A-2-3 is no straight


def test_ties_when_the_board_plays() -> None:
    board = hand("AS KS QS JS TS")
    assert best_hand(["2C", "3D", *board]) == best_hand(["4H", "5C", *board])
    board = hand("9C 9D 5H 5S KD")  # two pair on board, king kicker plays for both
    assert best_hand(["2C", "3D", *board]) == best_hand(["4H", "7C", *board])
    assert best_hand(["2C", "3D", *board]) < best_hand(["AH", "3C", *board])


def test_best_five_are_picked_from_seven() -> None:
    assert best_hand(hand("2H 2D 2C KS KD KH 9S")) == (FULL_HOUSE, 13, 2)  # two sets: the higher is trips
    assert best_hand(hand("KS KD 7C 7H 3D 3C AS")) == (TWO_PAIR, 13, 7, 14)  # three pairs
    assert best_hand(hand("KS KD 7C 7H 3D 3C 2S")) == (TWO_PAIR, 13, 7, 3)  # third pair is the kicker
    assert best_hand(hand("AH KH 9H 5H 2H 3H QD")) == (FLUSH, 14, 13, 9, 5, 3)  # six hearts: best five
    assert best_hand(hand("8C 9C TC JC QC KC 2D")) == (STRAIGHT_FLUSH, 13)
    assert best_hand(hand("5D 6D 7D 8D 9S TD 4D")) == (STRAIGHT_FLUSH, 8)  # not the 9-high straight
    assert best_hand(hand("5D 6D 7D 8D 9S TC 2D")) == (FLUSH, 8, 7, 6, 5, 2)
    assert best_hand(hand("9C 9D 9H 9S KD KC KH")) == (FOUR_OF_A_KIND, 9, 13)


def test_matches_naive_best_of_21_on_random_hands() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        cards = rng.sample(FULL_DECK, 7)
        assert best_hand(cards) == naive_best(cards), cards


def test_seven_card_category_frequencies_look_right() -> None:
    rng = random.Random(11)
    counts = Counter(best_hand(rng.sample(FULL_DECK, 7))[0] for _ in range(20000))
    # True 7-card odds: pair 43.8%, two pair 23.5%, high card 17.4%, trips 4.8%, straight 4.6%, flush 3.0%.
    assert 0.41 < counts[PAIR] / 20000 < 0.47
    assert 0.21 < counts[TWO_PAIR] / 20000 < 0.26
    assert 0.15 < counts[HIGH_CARD] / 20000 < 0.20
    assert 0.035 < counts[STRAIGHT] / 20000 < 0.058


def test_fast_enough() -> None:
    rng = random.Random(3)
    hands = [rng.sample(FULL_DECK, 7) for _ in range(20000)]
    start = time.perf_counter()
    for cards in hands:
        best_hand(cards)
    assert time.perf_counter() - start < 1.0  # >= 20k seven-card evaluations a second


def test_names_cover_plurals_and_highs() -> None:
    assert hand_name((FULL_HOUSE, 6, 14)) == "Full house, sixes over aces"
    assert hand_name((TWO_PAIR, 10, 2, 5)) == "Two pair, tens and twos"
    assert hand_name((STRAIGHT_FLUSH, 5)) == "Straight flush, five high"
    assert hand_name((FLUSH, 12, 9, 7, 4, 2)) == "Flush, queen high"


# ---- pots ----------------------------------------------------------------------------------------


def test_side_pots_by_commitment_levels() -> None:
    # seat 3 folded after putting in 50; three all-ins of different sizes plus a covering caller.
    pots = side_pots([300, 600, 1000, 50, 1000], [0, 1, 2, 4])
    assert pots == [(1250, (0, 1, 2, 4)), (900, (1, 2, 4)), (800, (2, 4))]
    assert sum(a for a, _ in pots) == 2950


def test_side_pots_single_pot_and_folded_chips() -> None:
    assert side_pots([100, 100, 100], [0, 1, 2]) == [(300, (0, 1, 2))]
    assert side_pots([100, 40, 0], [0]) == [(140, (0,))]


# ---- bot helpers ---------------------------------------------------------------------------------


def test_preflop_chart_orders_hands_sensibly() -> None:
    assert preflop_strength(("AS", "AD")) == 1.0
    assert preflop_strength(("AS", "KS")) > preflop_strength(("AS", "KD")) > preflop_strength(("9C", "8D"))
    assert preflop_strength(("TS", "9S")) > preflop_strength(("TS", "4S"))
    assert preflop_strength(("2C", "2D")) > preflop_strength(("7D", "2C"))


def test_made_hand_strength_discounts_the_board() -> None:
    strong = made_hand_strength(("AS", "AD"), ("AC", "7D", "2H"))
    board_pair = made_hand_strength(("3S", "4D"), ("KC", "KD", "9H"))
    top_pair = made_hand_strength(("KS", "4D"), ("KC", "8D", "2H"))
    low_pair = made_hand_strength(("3S", "4D"), ("KC", "3D", "9H"))
    assert strong > top_pair > low_pair > board_pair


def test_bot_choice_is_legal_shaped() -> None:
    rng = random.Random(1)
    for _ in range(200):
        kind, to = bot_choice(("AS", "AD"), (), 100, 150, 5000, 100, (200, 5000), rng)
        assert kind in ("raise", "call") and (kind != "raise" or 200 <= to <= 5000)
        kind, _ = bot_choice(("7D", "2C"), (), 0, 200, 5000, 100, None, rng)
        assert kind == "check"
        kind, _ = bot_choice(("7D", "2C"), (), 4900, 5100, 5000, 5000, None, rng)
        assert kind == "fold"
