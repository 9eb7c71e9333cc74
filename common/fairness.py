"""Provably fair deals: the commitment, the deck derived from the server's seed and every seat's
contribution, and the check a player (or anyone) runs on a revealed deal.

Scheme "felt-shuffle-v1" (README, "Provably fair shuffles", says the same in prose):
  * commitment  = hex(SHA-256(seed || nonce)), seed 32 bytes, nonce 16 bytes;
  * contributions c_0 .. c_{k-1}: 32 bytes each, one per contributing seat in increasing seat order; a
    seat whose client sent none gets the server's, HMAC-SHA256(key=seed, msg=ASCII "server:" + decimal
    seat), fixed by the commitment so the server cannot choose it after seeing the others;
  * key         = HMAC-SHA256(key=seed, msg=c_0 || ... || c_{k-1});
  * stream      = block 0 || block 1 || ..., block i = HMAC-SHA256(key, i as 8-byte big-endian);
    draws are its consecutive 4-byte big-endian words u;
  * below(n)    = first u < 2^32 - (2^32 mod n), taken mod n (rejection sampling; n <= 2^32);
  * deck        = FULL_DECK (2C 3C .. AC 2D .. AD 2H .. AH 2S .. AS), then for i = 51 down to 1:
    j = below(i + 1), swap deck[i] and deck[j] (Fisher-Yates);
  * what else the game draws continues the same stream (Crazy Eights: dealer = below(seats)).

`FairRandom(key)` is a `random.Random` drawing from that stream, so the pure rules modules take it as
their injected rng unchanged. Everything here is pure (no I/O, no clock) but `main`, the `verify`
command. `dealt_cards` re-deals the deck as each game's rules do, for checking the cards a player saw.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import random
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from common.cards import FULL_DECK
from common.views import FairContribution, FairReveal
from common.views import Seen as Seen  # what a player saw of a deal: the verifier's input

SCHEME = "felt-shuffle-v1"
SEED_BYTES = 32
NONCE_BYTES = 16
CONTRIBUTION_BYTES = 32
_WORD = 1 << 32


def commitment(seed: bytes, nonce: bytes) -> str:
    """hex(SHA-256(seed || nonce)).

    >>> commitment(bytes(32), bytes(16))[:16]
    '17b0761f87b081d5'
    """
    return hashlib.sha256(seed + nonce).hexdigest()


def deal_secret(table_secret: int, deal: int) -> tuple[bytes, bytes]:
    """The game server's (seed, nonce) for deal `deal` of a table, derived from the table's 128-bit secret,
    so the log need not hold them and recovery derives the same ones. Not part of what a verifier needs."""
    secret = table_secret.to_bytes(32, "big")
    seed = hmac.digest(secret, f"felt-seed:{deal}".encode(), "sha256")
    nonce = hmac.digest(secret, f"felt-nonce:{deal}".encode(), "sha256")[:NONCE_BYTES]
    return seed, nonce


def server_contribution(seed: bytes, seat: int) -> bytes:
    """The value of a seat that sent none (a bot, an absent player): HMAC-SHA256(seed, "server:<seat>")."""
    return hmac.digest(seed, f"server:{seat}".encode(), "sha256")


def deal_key(seed: bytes, contributions: Sequence[bytes]) -> bytes:
    """HMAC-SHA256(key=seed, msg=the contributions in seat order, concatenated)."""
    for value in contributions:
        if len(value) != CONTRIBUTION_BYTES:
            raise ValueError(f"a contribution is {CONTRIBUTION_BYTES} bytes, not {len(value)}")
    return hmac.digest(seed, b"".join(contributions), "sha256")


class Stream:
    """The counter-mode HMAC-SHA256 stream of a key, read as 32-bit big-endian words."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._block = 0
        self._buffer = b""

    def word(self) -> int:
        if not self._buffer:
            self._buffer = hmac.digest(self._key, self._block.to_bytes(8, "big"), "sha256")
            self._block += 1
        word, self._buffer = self._buffer[:4], self._buffer[4:]
        return int.from_bytes(word, "big")

    def below(self, n: int) -> int:
        """A uniform integer in [0, n) by rejection sampling."""
        if not 0 < n <= _WORD:
            raise ValueError(f"below({n}): n must be from 1 to 2**32")
        limit = _WORD - _WORD % n
        while True:
            u = self.word()
            if u < limit:
                return u % n


def shuffle(stream: Stream, items: list[Any]) -> None:
    """Fisher-Yates in place: for i from the last index down to 1, swap items[i] with items[below(i+1)]."""
    for i in range(len(items) - 1, 0, -1):
        j = stream.below(i + 1)
        items[i], items[j] = items[j], items[i]


class FairRandom(random.Random):
    """A `random.Random` whose every draw comes from `Stream(key)`: `shuffle` is the documented
    Fisher-Yates, `randrange`/`choice` use `below`; the rules need no change to deal from it."""

    def __init__(self, key: bytes) -> None:
        self.stream = Stream(key)
        super().__init__(0)

    def seed(self, *args: Any, **kwargs: Any) -> None:  # the key is the only seed
        pass

    def getstate(self) -> Any:
        raise TypeError("a FairRandom has no state to save: derive it again from its key")

    def setstate(self, state: Any) -> None:
        raise TypeError("a FairRandom has no state to restore")

    def random(self) -> float:
        a, b = self.stream.word() >> 5, self.stream.word() >> 6
        return (a * 67108864.0 + b) * (1.0 / 9007199254740992.0)

    def getrandbits(self, k: int) -> int:
        words = (k + 31) // 32
        value = 0
        for _ in range(words):
            value = (value << 32) | self.stream.word()
        return value >> (32 * words - k)

    def _randbelow(self, n: int) -> int:  # what randrange, choice and sample use
        if n <= _WORD:
            return self.stream.below(n)
        bits = n.bit_length()
        while True:
            r = self.getrandbits(bits)
            if r < n:
                return r

    def shuffle(self, x: list[Any]) -> None:  # type: ignore[override]
        shuffle(self.stream, x)


def deck(key: bytes) -> list[str]:
    """The deck order a key gives (top: the game's rules say which end)."""
    cards = list(FULL_DECK)
    shuffle(Stream(key), cards)
    return cards


# ---- a revealed deal, checked ------------------------------------------------------------------


def reveal_key(reveal: FairReveal) -> bytes:
    """The deal key of a revealed deal (its contributions in seat order)."""
    values = [bytes.fromhex(c.value) for c in sorted(reveal.contributions, key=lambda c: c.seat)]
    return deal_key(bytes.fromhex(reveal.seed), values)


@dataclass
class Dealt:
    """What a deal gave: each seat's cards as dealt, the public cards in the order they are shown, and
    (Crazy Eights) the stock left after the deal, its top LAST."""

    hands: dict[int, list[str]]
    public: list[str]
    stock: list[str] = field(default_factory=list)


def dealt_cards(game: str, key: bytes, context: Mapping[str, Any]) -> Dealt:
    """Each seat's dealt cards and the public cards, as `game`'s rules deal from the key's stream."""
    rng = Stream(key)
    cards = list(FULL_DECK)
    shuffle(rng, cards)
    seats = int(context["seats"])
    if game == "crazy_eights":  # top of the deck is its END; the dealer is the next draw
        dealer = rng.below(seats)
        hands: dict[int, list[str]] = {s: [] for s in range(seats)}
        for _ in range(7 if seats == 2 else 5):
            for i in range(seats):
                hands[(dealer + 1 + i) % seats].append(cards.pop())
        starter = cards.pop()
        while starter[0] == "8":  # an 8 goes back under the stock
            cards.insert(0, starter)
            starter = cards.pop()
        return Dealt(hands, [starter], cards)
    if game == "hearts":  # one at a time from the top (index 0), seat 0 first
        return Dealt({s: cards[s::4] for s in range(4)}, [])
    if game == "holdem":  # from index 0: two rounds from the seat after the button, then burn-and-turn
        button, dealt = int(context["button"]), [bool(x) for x in context["dealt"]]
        order = [s % seats for s in range(button + 1, button + 1 + seats) if dealt[s % seats]]
        n = len(order)
        hands = {seat: [cards[i], cards[n + i]] for i, seat in enumerate(order)}
        at = 2 * n
        board = cards[at + 1:at + 4] + [cards[at + 5], cards[at + 7]]
        return Dealt(hands, board)
    raise ValueError(f"no deal is known for game {game!r}")


@dataclass
class Verdict:
    ok: bool
    problems: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)
    deck: list[str] = field(default_factory=list)


def _hex_bytes(value: str, size: int, what: str, problems: list[str]) -> bytes | None:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        problems.append(f"{what} is not hex")
        return None
    if len(raw) != size:
        problems.append(f"{what} is {len(raw)} bytes, not {size}")
        return None
    return raw


def verify(reveal: FairReveal, seen: Seen | None = None) -> Verdict:
    """Check a revealed deal: the seed and nonce give the commitment, every server contribution is the
    one the seed fixes, and (with `seen`) the player's own contribution was used and the cards they saw
    are the ones this deck deals."""
    problems: list[str] = []
    checked: list[str] = []
    if reveal.scheme != SCHEME:
        return Verdict(False, [f"unknown scheme {reveal.scheme!r} (this checker knows {SCHEME})"])
    seed = _hex_bytes(reveal.seed, SEED_BYTES, "the seed", problems)
    nonce = _hex_bytes(reveal.nonce, NONCE_BYTES, "the nonce", problems)
    values = [_hex_bytes(c.value, CONTRIBUTION_BYTES, f"seat {c.seat}'s contribution", problems)
              for c in reveal.contributions]
    if seed is None or nonce is None or None in values:
        return Verdict(False, problems)
    assert seed is not None and nonce is not None
    if commitment(seed, nonce) != reveal.commitment.lower():
        problems.append("SHA-256(seed || nonce) is not the commitment shown before the deal")
    else:
        checked.append("the seed and nonce match the commitment")
    for c in reveal.contributions:
        if c.by == "server" and bytes.fromhex(c.value) != server_contribution(seed, c.seat):
            problems.append(f"seat {c.seat}'s server contribution is not the one the seed fixes")
    if [c.seat for c in reveal.contributions] != sorted({c.seat for c in reveal.contributions}):
        problems.append("contributions are not one per seat in seat order")
    key = reveal_key(reveal)
    cards = deck(key)
    if seen is not None and seen.seat is not None:
        _check_seen(reveal, key, seen, problems, checked)
    return Verdict(not problems, problems, checked, cards)


def _check_seen(reveal: FairReveal, key: bytes, seen: Seen, problems: list[str], checked: list[str]) -> None:
    mine = next((c for c in reveal.contributions if c.seat == seen.seat), None)
    if seen.contribution is not None and mine is not None and mine.by == "server":
        checked.append("your value came after the deal, so the server's stood in for your seat")
    elif seen.contribution is not None:
        if mine is None or mine.value.lower() != seen.contribution.lower():
            problems.append("the contribution your client sent was not used")
        else:
            checked.append("your contribution was used")
    dealt = dealt_cards(reveal.game, key, reveal.context)
    if seen.hand:
        expected = dealt.hands.get(seen.seat or 0, [])
        if sorted(seen.hand) != sorted(expected):
            problems.append(f"you were dealt {' '.join(seen.hand)}; this deck deals {' '.join(expected)}")
        else:
            checked.append(f"your {len(seen.hand)} dealt cards")
    if seen.public:
        if seen.public != dealt.public[:len(seen.public)]:
            problems.append(f"the table showed {' '.join(seen.public)}; this deck gives "
                            f"{' '.join(dealt.public[:len(seen.public)])}")
        else:
            checked.append(f"{len(seen.public)} public card(s)")
    other_cards = [(seat, card) for seat, cards in sorted(seen.others.items()) for card in cards]
    wrong = [f"{card} (seat {seat})" for seat, card in other_cards if card not in dealt.hands.get(seat, [])]
    if wrong:
        problems.append(f"cards seen in other hands that this deck did not deal them: {' '.join(wrong)}")
    elif other_cards:
        checked.append(f"{len(other_cards)} card(s) seen in other hands")
    stock = dealt.stock
    misdrawn = [card for left, card in seen.drawn if not 0 <= left < len(stock) or stock[left] != card]
    if misdrawn:
        problems.append(f"you drew {' '.join(misdrawn)}, which this deck's stock did not hold there")
    elif seen.drawn:
        checked.append(f"{len(seen.drawn)} card(s) you drew")


def reveal_from(obj: Any) -> tuple[FairReveal, Seen | None]:
    """A reveal (and what was seen) from JSON: a `FairReveal` object, a log entry carrying one under
    "reveal", or {"reveal": ..., "seen": ...}."""
    if isinstance(obj, dict) and "reveal" in obj:
        # (strict=False: JSON's object keys are text, `others` is keyed by seat number)
        seen = msgspec.convert(obj["seen"], Seen, strict=False) if obj.get("seen") is not None else None
        return msgspec.convert(obj["reveal"], FairReveal), seen
    return msgspec.convert(obj, FairReveal), None


def deals_in(text: str) -> list[tuple[FairReveal, Seen | None]]:
    """Every revealed deal in `text`: a reveal, {"reveal", "seen"}, a log entry, a `felt-replay` export
    (all of its deals) or a Hold'em PHH export. Raises ValueError (or msgspec's) when there is none."""
    stripped = text.lstrip()
    if not stripped.startswith(("{", "[")):
        fields = tomllib.loads(text)
        raw = fields.get("_felt_fair_reveal")
        if not isinstance(raw, str):
            raise ValueError("this PHH file has no _felt_fair_reveal (a hand from before fair deals?)")
        return [reveal_from(json.loads(raw))]
    obj = json.loads(text)
    if isinstance(obj, dict) and obj.get("format") == "felt-replay":
        deals = obj.get("fair")
        if not isinstance(deals, list) or not deals:
            raise ValueError("this replay has no revealed deals (a game from before fair deals?)")
        return [reveal_from(one) for one in deals]
    return [reveal_from(obj)]


def contributions_of(seed: bytes, seats: Sequence[int], values: Mapping[int, str]) -> list[FairContribution]:
    """Each contributing seat's value in seat order: the player's where it sent one, else the server's."""
    return [FairContribution(seat=s, value=values[s], by="player") if s in values
            else FairContribution(seat=s, value=server_contribution(seed, s).hex(), by="server")
            for s in sorted(seats)]


def main(argv: list[str] | None = None) -> int:
    """`python -m common.fairness verify FILE_OR_JSON`: check revealed deals (a reveal, or every deal of an
    exported game: JSON replay or PHH); exit 0 when every one verifies."""
    import argparse
    import pathlib
    import sys

    ap = argparse.ArgumentParser(prog="python -m common.fairness", description=main.__doc__)
    sub = ap.add_subparsers(dest="command", required=True)
    check = sub.add_parser("verify", help="check revealed deals against their commitments")
    check.add_argument("source", help="a JSON or PHH file, '-' for standard input, or the JSON text itself")
    check.add_argument("--seen", help="JSON of what you saw: {seat, hand, public, contribution}")
    args = ap.parse_args(argv)
    source: str = args.source
    if source == "-":
        text = sys.stdin.read()
    elif source.lstrip().startswith("{"):
        text = source
    else:
        text = pathlib.Path(source).read_text()
    try:
        deals = deals_in(text)
        if args.seen:
            if len(deals) != 1:
                raise ValueError(f"--seen needs a single deal; this has {len(deals)}")
            deals = [(deals[0][0], msgspec.convert(json.loads(args.seen), Seen, strict=False))]
    except (ValueError, tomllib.TOMLDecodeError, msgspec.ValidationError) as exc:
        print(f"not a revealed deal: {exc}", file=sys.stderr)
        return 2
    failed = 0
    for reveal, seen in deals:
        verdict = verify(reveal, seen)
        failed += not verdict.ok
        print(f"table {reveal.table}, deal {reveal.deal} ({reveal.game}): "
              f"{'VERIFIED' if verdict.ok else 'NOT VERIFIED'}")
        for line in verdict.checked:
            print(f"  ok: {line}")
        for line in verdict.problems:
            print(f"  FAIL: {line}")
        print(f"  deck: {' '.join(verdict.deck)}")
    if len(deals) > 1:
        print(f"{len(deals) - failed} of {len(deals)} deals verified")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
