"""Playing cards as two-character codes: rank then suit, e.g. "QS", "TD" (ten), "2C".

Owns the deck, rank/suit accessors and ordering helpers shared by every game. Cards are plain strings
so views and logs serialize for free. Pure: no I/O, no randomness of its own.
"""

from __future__ import annotations

import random

RANKS = "23456789TJQKA"
SUITS = "CDHS"  # clubs, diamonds, hearts, spades
RANK_VALUE = {r: i + 2 for i, r in enumerate(RANKS)}  # 2..14, ace high
SUIT_NAMES = {"C": "clubs", "D": "diamonds", "H": "hearts", "S": "spades"}

FULL_DECK: tuple[str, ...] = tuple(r + s for s in SUITS for r in RANKS)
_CARD_SET = frozenset(FULL_DECK)


def rank(card: str) -> str:
    return card[0]


def suit(card: str) -> str:
    return card[1]


def is_card(value: object) -> bool:
    """True for a well-formed card code such as "QS".

    >>> is_card("QS"), is_card("1S"), is_card(7)
    (True, False, False)
    """
    return isinstance(value, str) and value in _CARD_SET


def shuffled_deck(rng: random.Random) -> list[str]:
    """A new 52-card deck in an order drawn from `rng` (the only source of chance)."""
    deck = list(FULL_DECK)
    rng.shuffle(deck)
    return deck


#: Each card's place in a sorted hand: by suit (C, D, S, H), then rank (a view sorts a hand each time).
_HAND_PLACE = {card: i for i, card in enumerate(r + s for s in "CDSH" for r in RANKS)}


def sort_hand(cards: list[str] | tuple[str, ...]) -> list[str]:
    """Cards by suit (C, D, S, H) then rank, the order players usually hold them.

    >>> sort_hand(["AH", "2S", "TC", "3C", "KD"])
    ['3C', 'TC', 'KD', '2S', 'AH']
    """
    return sorted(cards, key=_HAND_PLACE.__getitem__)
