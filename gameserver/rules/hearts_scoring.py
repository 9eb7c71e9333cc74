"""Hearts card values, card orders, deal scoring and the bot's card choices: pure helpers for `hearts`.

Owns what a card is worth, who wins a trick, how a finished deal is scored (moon, J♦, no-trick bonus), the
"highest"/"lowest" card orders shared by the timeout and bot moves, and which cards a bot picks. Works on
cards only (never on a game state); no I/O, and no randomness but the rng a bot is handed for tie-breaks.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

from common.cards import RANK_VALUE, rank, suit
from common.views import PassDirection

TWO_OF_CLUBS = "2C"
QUEEN_OF_SPADES = "QS"
JACK_OF_DIAMONDS = "JD"
HEARTS = "H"
DEAL_POINTS = 26  # 13 hearts + 13 for the Q♠
JACK_POINTS = -10
NO_TRICK_POINTS = -5
PASS_COUNT = 3

#: Pass directions in the order they rotate, with the seat offset of the receiver.
PASS_DIRECTIONS: tuple[tuple[PassDirection, int], ...] = (
    ("left", 1), ("right", 3), ("across", 2), ("none", 0))
PASS_OFFSETS = dict(PASS_DIRECTIONS)

#: Suit order for ties between cards of equal rank (the order players sort their hands in).
SUIT_ORDER = {"C": 0, "D": 1, "S": 2, "H": 3}


def card_key(card: str) -> tuple[int, int]:
    """Order cards by rank, ties by suit C < D < S < H.

    >>> sorted(["2H", "2C", "AS", "2S"], key=card_key)
    ['2C', '2S', '2H', 'AS']
    """
    return RANK_VALUE[rank(card)], SUIT_ORDER[suit(card)]


def highest(cards: Sequence[str], count: int = 1) -> list[str]:
    """The `count` highest cards by `card_key`, highest first.

    >>> highest(["2C", "AH", "KS", "AC"], 3)
    ['AH', 'AC', 'KS']
    """
    return sorted(cards, key=card_key, reverse=True)[:count]


def penalty(card: str) -> int:
    """Penalty points of one card: a heart 1, the Q♠ 13, anything else 0.

    >>> penalty("5H"), penalty("QS"), penalty("JD")
    (1, 13, 0)
    """
    if suit(card) == HEARTS:
        return 1
    return 13 if card == QUEEN_OF_SPADES else 0


def trick_points(cards: Sequence[str], jack_of_diamonds: bool = False) -> int:
    """Points for taking `cards`: their penalties, and -10 for the J♦ when that option is on.

    >>> trick_points(["2C", "QS", "4H", "JD"]), trick_points(["2C", "QS", "4H", "JD"], True)
    (14, 4)
    """
    points = sum(penalty(card) for card in cards)
    if jack_of_diamonds and JACK_OF_DIAMONDS in cards:
        points += JACK_POINTS
    return points


def trick_winner(trick: Sequence[tuple[int, str]]) -> int:
    """The seat whose card is the highest of the suit led (no trumps).

    >>> trick_winner([(2, "5C"), (3, "AD"), (0, "9C"), (1, "7C")])
    0
    """
    led = suit(trick[0][1])
    followers = [(RANK_VALUE[rank(card)], seat) for seat, card in trick if suit(card) == led]
    return max(followers)[1]


def moon_shooter(taken: Sequence[Sequence[str]]) -> int | None:
    """The seat that took every heart and the Q♠ this deal, if any.

    >>> moon_shooter([["QS"] + [r + "H" for r in "23456789TJQKA"], [], [], []])
    0
    """
    for seat, cards in enumerate(taken):
        if QUEEN_OF_SPADES in cards and sum(1 for card in cards if suit(card) == HEARTS) == 13:
            return seat
    return None


def score_deal(
    taken: Sequence[Sequence[str]],
    tricks_won: Sequence[int],
    *,
    jack_of_diamonds: bool = False,
    no_trick_bonus: bool = False,
) -> tuple[tuple[int, ...], int | None]:
    """Each seat's points for a finished deal, and the moon shooter (None if nobody shot the moon).

    Hearts 1 and the Q♠ 13 to whoever took them. A moon shooter scores 0 and every other seat 26. Then,
    if on, the J♦ gives -10 to whoever took it (also in a moon deal, the shooter included), and a seat
    that took no trick gets -5 (never in a moon deal).

    >>> score_deal([["QS"] + [r + "H" for r in "23456789TJQKA"], ["JD"], [], []], [12, 1, 0, 0],
    ...            jack_of_diamonds=True, no_trick_bonus=True)
    ((0, 16, 26, 26), 0)
    """
    shooter = moon_shooter(taken)
    if shooter is None:
        points = [sum(penalty(card) for card in cards) for cards in taken]
    else:
        points = [0 if seat == shooter else DEAL_POINTS for seat in range(len(taken))]
    if jack_of_diamonds:
        for seat, cards in enumerate(taken):
            if JACK_OF_DIAMONDS in cards:
                points[seat] += JACK_POINTS
    if no_trick_bonus and shooter is None:
        for seat, won in enumerate(tricks_won):
            if won == 0:
                points[seat] += NO_TRICK_POINTS
    return tuple(points), shooter


def match_winners(scores: Sequence[int]) -> tuple[int, ...]:
    """Every seat with the lowest total.

    >>> match_winners([40, 12, 103, 12])
    (1, 3)
    """
    low = min(scores)
    return tuple(seat for seat, score in enumerate(scores) if score == low)


# ---- bot choices ------------------------------------------------------------------------------------


def danger(card: str) -> int:
    """How much a bot wants to be rid of `card`: the Q♠, then A♠/K♠, then high cards (hearts first).

    >>> sorted(["AC", "QS", "AH", "KS", "2H"], key=danger, reverse=True)
    ['QS', 'KS', 'AH', 'AC', '2H']
    """
    if card == QUEEN_OF_SPADES:
        return 100
    if suit(card) == "S" and rank(card) in "AK":
        return 60 + RANK_VALUE[rank(card)]
    return 2 * RANK_VALUE[rank(card)] + (1 if suit(card) == HEARTS else 0)


def _rank_of(card: str) -> int:
    return RANK_VALUE[rank(card)]


def _pick(cards: Sequence[str], key: Callable[[str], int], rng: random.Random, *, low: bool = False) -> str:
    """The card with the highest (or lowest) `key`, ties broken by `rng`."""
    values = [key(card) for card in cards]
    best = min(values) if low else max(values)
    tied = [card for card, value in zip(cards, values, strict=True) if value == best]
    return tied[0] if len(tied) == 1 else rng.choice(tied)


def bot_pass(hand: Sequence[str], rng: random.Random) -> list[str]:
    """The three most dangerous cards of `hand` (ties broken by `rng`)."""
    return sorted(hand, key=lambda card: (danger(card), rng.random()), reverse=True)[:PASS_COUNT]


def bot_card(trick: Sequence[tuple[int, str]], legal: Sequence[str], rng: random.Random) -> str:
    """A bot's card from the non-empty `legal`: lead low and safe; when following, the highest card that
    still loses the trick, else (last to play, or no choice) the highest but the Q♠; when void, the Q♠,
    then the highest heart, then the most dangerous card.

    >>> bot_card([(0, "TS")], ["2S", "9S", "QS", "AS"], random.Random(0))
    '9S'
    >>> bot_card([(0, "TC")], ["2S", "9H", "QS", "AS"], random.Random(0))
    'QS'
    """
    if len(legal) == 1:
        return legal[0]
    if not trick:
        return _pick([c for c in legal if penalty(c) == 0] or legal, _rank_of, rng, low=True)
    led = suit(trick[0][1])
    if suit(legal[0]) == led:  # following suit: then every legal card is of that suit
        top = max(_rank_of(card) for _, card in trick if suit(card) == led)
        under = [card for card in legal if _rank_of(card) < top]
        if under:
            return _pick(under, _rank_of, rng)
        return _pick([c for c in legal if c != QUEEN_OF_SPADES] or legal, _rank_of, rng)
    if QUEEN_OF_SPADES in legal:
        return QUEEN_OF_SPADES
    hearts = [card for card in legal if suit(card) == HEARTS]
    return _pick(hearts, _rank_of, rng) if hearts else _pick(legal, danger, rng)
