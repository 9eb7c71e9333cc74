"""Poker arithmetic for Hold'em: the best five of up to seven cards as a comparable key, pots, bot strategy.

`best_hand(cards)` returns a tuple `(category, *tiebreak ranks)` where a higher tuple is a better hand, so
hands compare with `<`, `==` and `max`. Categories run from HIGH_CARD (0) to STRAIGHT_FLUSH (8); the ranks
that follow are card values 2..14 (ace 14) in the order they break ties, e.g. a full house is
`(FULL_HOUSE, trips rank, pair rank)` and two pair is `(TWO_PAIR, high pair, low pair, kicker)`. The
A-2-3-4-5 wheel is a five-high straight. `hand_name(key)` turns a key into words.

The evaluation is direct (rank counts, a rank bitmask for straights, one pass per suit for flushes) rather
than trying all 21 five-card subsets, which keeps it well above 20k seven-card hands a second in CPython.
`side_pots` splits the chips of a hand into main and side pots. `preflop_strength`, `made_hand_strength`
and `bot_choice` are the Hold'em bot's simple strategy. Pure: no I/O; the bot's chance comes from the
rng it is handed.
"""

from __future__ import annotations

import random
from collections.abc import Iterable

from common.cards import RANK_VALUE

(HIGH_CARD, PAIR, TWO_PAIR, THREE_OF_A_KIND, STRAIGHT, FLUSH, FULL_HOUSE, FOUR_OF_A_KIND,
 STRAIGHT_FLUSH) = range(9)

CATEGORY_NAMES = (
    "high card", "pair", "two pair", "three of a kind", "straight", "flush", "full house",
    "four of a kind", "straight flush",
)

_NAMES = {2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine",
          10: "ten", 11: "jack", 12: "queen", 13: "king", 14: "ace"}
_PLURALS = {v: ("sixes" if v == 6 else name + "s") for v, name in _NAMES.items()}

# Bit masks of five consecutive ranks, best first; bit v stands for rank value v, and an ace also sets bit 1.
_STRAIGHTS = tuple((high, 0b11111 << (high - 4)) for high in range(14, 4, -1))


def _straight_high(mask: int) -> int:
    """The top card of the best straight in a rank bitmask, or 0 if there is none."""
    if mask & (1 << 14):
        mask |= 0b10  # the ace plays low as well
    for high, bits in _STRAIGHTS:
        if mask & bits == bits:
            return high
    return 0


def best_hand(cards: Iterable[str]) -> tuple[int, ...]:
    """The rank key of the best five-card hand among `cards` (normally seven: two hole cards + board).

    Works for 1 to 7 cards (fewer than five only make pairs, trips and high cards, which the bot uses to
    read a partial board). Higher keys are better; equal keys split the pot.

    >>> best_hand(["AS", "KS", "QS", "JS", "TS", "2D", "3C"])
    (8, 14)
    >>> best_hand(["5C", "4D", "3H", "2S", "AD", "KC", "KD"])
    (4, 5)
    """
    values: list[int] = []
    by_suit: dict[str, list[int]] = {}
    counts = [0] * 15
    mask = 0
    for card in cards:
        value = RANK_VALUE[card[0]]
        values.append(value)
        by_suit.setdefault(card[1], []).append(value)
        counts[value] += 1
        mask |= 1 << value

    flush: list[int] | None = None
    for suited in by_suit.values():
        if len(suited) >= 5:
            flush = suited
            break
    if flush is not None:
        flush_mask = 0
        for value in flush:
            flush_mask |= 1 << value
        high = _straight_high(flush_mask)
        if high:
            return (STRAIGHT_FLUSH, high)

    # (count, value) for each rank present, biggest groups first, then higher ranks.
    groups = sorted(((counts[v], v) for v in range(14, 1, -1) if counts[v]), reverse=True)
    top_count, top = groups[0]
    second_count = groups[1][0] if len(groups) > 1 else 0

    if top_count == 4:
        kickers = [v for v in values if v != top]
        return (FOUR_OF_A_KIND, top, max(kickers)) if kickers else (FOUR_OF_A_KIND, top)
    if top_count == 3 and second_count >= 2:
        return (FULL_HOUSE, top, groups[1][1])
    if flush is not None:
        return (FLUSH, *sorted(flush, reverse=True)[:5])
    high = _straight_high(mask)
    if high:
        return (STRAIGHT, high)
    singles = sorted((v for v in values if counts[v] == 1), reverse=True)
    if top_count == 3:
        return (THREE_OF_A_KIND, top, *singles[:2])
    if top_count == 2 and second_count == 2:
        low = groups[1][1]
        rest = [v for v in values if v != top and v != low]
        return (TWO_PAIR, top, low, max(rest)) if rest else (TWO_PAIR, top, low)
    if top_count == 2:
        return (PAIR, top, *singles[:3])
    return (HIGH_CARD, *singles[:5])


def hand_name(key: tuple[int, ...]) -> str:
    """Words for a `best_hand` key, e.g. "Full house, kings over fours" or "Pair of jacks".

    >>> hand_name((6, 13, 4))
    'Full house, kings over fours'
    >>> hand_name((4, 5))
    'Straight, five high'
    """
    category = key[0]
    ranks = key[1:]
    if category == STRAIGHT_FLUSH:
        return "Royal flush" if ranks[0] == 14 else f"Straight flush, {_NAMES[ranks[0]]} high"
    if category == FOUR_OF_A_KIND:
        return f"Four of a kind, {_PLURALS[ranks[0]]}"
    if category == FULL_HOUSE:
        return f"Full house, {_PLURALS[ranks[0]]} over {_PLURALS[ranks[1]]}"
    if category == FLUSH:
        return f"Flush, {_NAMES[ranks[0]]} high"
    if category == STRAIGHT:
        return f"Straight, {_NAMES[ranks[0]]} high"
    if category == THREE_OF_A_KIND:
        return f"Three of a kind, {_PLURALS[ranks[0]]}"
    if category == TWO_PAIR:
        return f"Two pair, {_PLURALS[ranks[0]]} and {_PLURALS[ranks[1]]}"
    if category == PAIR:
        return f"Pair of {_PLURALS[ranks[0]]}"
    return f"High card, {_NAMES[ranks[0]]}"


def side_pots(committed: Iterable[int], live: Iterable[int]) -> list[tuple[int, tuple[int, ...]]]:
    """Split each seat's chips committed this hand into (amount, eligible seats) pots, main pot first.

    `live` are the seats still in (they alone may win); folded seats' chips count towards the pots.
    One pot per distinct amount committed by a live seat; anything above the largest (never, once
    uncalled bets are returned) joins the last pot.

    >>> side_pots([100, 300, 300, 50], [0, 1, 2])
    [(350, (0, 1, 2)), (400, (1, 2))]
    """
    committed = list(committed)
    live = list(live)
    pots: list[tuple[int, tuple[int, ...]]] = []
    prev = 0
    for level in sorted({committed[s] for s in live}):
        amount = sum(min(c, level) - min(c, prev) for c in committed)
        if amount > 0:
            pots.append((amount, tuple(s for s in live if committed[s] >= level)))
        prev = level
    leftover = sum(max(0, c - prev) for c in committed)
    if leftover:
        pots[-1] = (pots[-1][0] + leftover, pots[-1][1])
    return pots


# ---- rough strength estimates for bots --------------------------------------------------------------


def preflop_strength(hole: tuple[str, str] | list[str]) -> float:
    """A 0..1 chart for two hole cards: pairs by rank, then high cards, suitedness, connectedness.

    >>> preflop_strength(("AS", "AH")) > preflop_strength(("KS", "QS")) > preflop_strength(("7D", "2C"))
    True
    """
    a, b = sorted((RANK_VALUE[hole[0][0]], RANK_VALUE[hole[1][0]]), reverse=True)
    if a == b:
        return 0.5 + 0.5 * (a - 2) / 12
    score = 0.5 * a / 14 + 0.3 * b / 14
    if hole[0][1] == hole[1][1]:
        score += 0.08
    score += {1: 0.06, 2: 0.03, 3: 0.0}.get(a - b, -0.08)
    return max(0.0, min(score, 0.95))


_MADE_STRENGTH = (0.1, 0.45, 0.68, 0.78, 0.84, 0.88, 0.94, 0.98, 1.0)


def made_hand_strength(hole: tuple[str, str] | list[str], board: tuple[str, ...] | list[str]) -> float:
    """A 0..1 estimate of a made hand after the flop: its category, discounted when the board plays."""
    key = best_hand([*hole, *board])
    if key[0] < STRAIGHT and key[0] <= best_hand(board)[0]:
        return 0.12  # the board's own pair or trips: nothing of our own
    strength = _MADE_STRENGTH[key[0]]
    if key[0] == PAIR:  # top pair or an overpair is worth more than a low pair
        top_board = max(RANK_VALUE[c[0]] for c in board)
        strength += 0.15 if key[1] >= top_board else (-0.1 if key[1] < 8 else 0.0)
    elif key[0] == HIGH_CARD and max(RANK_VALUE[c[0]] for c in hole) == 14:
        strength = 0.18
    return strength


def bot_choice(hole: tuple[str, str], board: tuple[str, ...], to_call: int, pot: int, chips: int, top: int,
               span: tuple[int, int] | None, rng: random.Random) -> tuple[str, int]:
    """("raise", round total) | ("check" | "call" | "fold", 0) for a bot holding `hole`.

    `chips` is the bot's stack plus its bet this round, `top` the largest bet, `span` the (min, max) it may
    bet or raise to (None: it may not). Raises strong hands (and now and then a medium one, rarely a bluff),
    calls when its strength beats the pot odds by a margin, checks when free, otherwise folds.
    """
    strength = preflop_strength(hole) if not board else made_hand_strength(hole, board)
    strength = min(1.0, max(0.0, strength + rng.uniform(-0.06, 0.06)))
    aggressive = strength >= 0.8 or (strength >= 0.65 and rng.random() < 0.25) or rng.random() < 0.04
    if span is not None and aggressive:
        to = top + int(pot * rng.choice((0.5, 0.75, 1.0)))
        if strength >= 0.97 and rng.random() < 0.5:
            to = span[1]  # shove the nuts now and then
        return "raise", max(span[0], min(span[1], to))
    if to_call == 0:
        return "check", 0
    odds = to_call / (pot + to_call)
    if strength >= odds + 0.15 and (strength >= 0.6 or to_call / max(1, chips) < 0.35):
        return "call", 0
    return "fold", 0
