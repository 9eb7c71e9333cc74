"""The fair-deal scheme: an independent re-computation from the README's words, the properties that make
it fair (a changed contribution changes the deck; the seed is bound by the commitment, so the server
cannot choose a deck after the contributions), the verifier's checks and the `verify` command."""

from __future__ import annotations

import hashlib
import json
import random

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common import fairness as f
from common.cards import FULL_DECK
from common.views import FairContribution, FairReveal

value32 = st.binary(min_size=32, max_size=32)


def readme_deck(seed: bytes, contributions: list[bytes]) -> tuple[list[str], int]:
    """The README's "Provably fair shuffles" spec, written again from its text with no code of
    common.fairness: HMAC-SHA256 by its definition over hashlib, the whole stream made up front.
    Returns the deck and the next below(4) (the Crazy Eights dealer of four seats)."""

    def hmac_sha256(key: bytes, msg: bytes) -> bytes:
        key = key.ljust(64, b"\0")  # keys are 32 bytes: no pre-hash
        inner = hashlib.sha256(bytes(k ^ 0x36 for k in key) + msg).digest()
        return hashlib.sha256(bytes(k ^ 0x5C for k in key) + inner).digest()

    key = hmac_sha256(seed, b"".join(contributions))
    stream = b"".join(hmac_sha256(key, i.to_bytes(8, "big")) for i in range(64))
    words = [int.from_bytes(stream[i:i + 4], "big") for i in range(0, len(stream), 4)]
    at = 0

    def below(n: int) -> int:
        nonlocal at
        while True:
            u = words[at]
            at += 1
            if u < 2**32 - 2**32 % n:
                return u % n

    cards = [rank + suit for suit in "CDHS" for rank in "23456789TJQKA"]
    for i in range(51, 0, -1):
        j = below(i + 1)
        cards[i], cards[j] = cards[j], cards[i]
    return cards, below(4)


def reveal_for(seed: bytes, nonce: bytes, values: dict[int, bytes], server: list[int],
               game: str = "crazy_eights", context: dict[str, object] | None = None) -> FairReveal:
    seats = sorted([*values, *server])
    contributions = f.contributions_of(seed, seats, {s: v.hex() for s, v in values.items()})
    return FairReveal(scheme=f.SCHEME, table="g1-0001", deal=1, game=game,
                      commitment=f.commitment(seed, nonce),
                      seed=seed.hex(), nonce=nonce.hex(), contributions=contributions,
                      context=context or {"seats": len(seats)})


@settings(max_examples=60, deadline=None)
@given(seed=value32, contributions=st.lists(value32, min_size=1, max_size=9))
def test_an_independent_implementation_of_the_readme_agrees(seed: bytes, contributions: list[bytes]) -> None:
    key = f.deal_key(seed, contributions)
    rng = f.FairRandom(key)
    deck = f.deck(key)
    own = list(FULL_DECK)
    rng.shuffle(own)
    expected, dealer = readme_deck(seed, contributions)
    assert deck == own == expected
    assert rng.randrange(4) == dealer  # the rules' next draw continues the same stream
    assert sorted(deck) == sorted(FULL_DECK)


@settings(max_examples=80, deadline=None)
@given(seed=value32, contributions=st.lists(value32, min_size=1, max_size=9), data=st.data())
def test_a_single_changed_contribution_changes_the_deck(seed: bytes, contributions: list[bytes],
                                                        data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(contributions) - 1))
    changed = data.draw(value32.filter(lambda v: v != contributions[index]))
    other = contributions[:index] + [changed] + contributions[index + 1:]
    assert f.deck(f.deal_key(seed, other)) != f.deck(f.deal_key(seed, contributions))


@settings(max_examples=60, deadline=None)
@given(seed=value32, other=value32, nonce=st.binary(min_size=16, max_size=16), mine=value32)
def test_the_commitment_binds_the_seed(seed: bytes, other: bytes, nonce: bytes, mine: bytes) -> None:
    """A server that saw the contributions and wanted another deck must reveal another seed (or another
    server contribution): the check against the commitment and the seed-fixed server values refuses it."""
    honest = reveal_for(seed, nonce, {0: mine}, server=[1])
    assert f.verify(honest).ok
    if other != seed:
        swapped = msgspec.structs.replace(honest, seed=other.hex())
        verdict = f.verify(swapped)
        assert not verdict.ok and "commitment" in verdict.problems[0]
        assert f.deck(f.reveal_key(swapped)) != f.deck(f.reveal_key(honest))
    chosen = msgspec.structs.replace(honest, contributions=[
        honest.contributions[0], FairContribution(seat=1, value=other.hex(), by="server")])
    if other != f.server_contribution(seed, 1):
        assert not f.verify(chosen).ok


def test_the_seen_cards_are_checked_against_the_deck() -> None:
    seed, nonce, mine = bytes(range(32)), bytes(16), bytes([7]) * 32
    reveal = reveal_for(seed, nonce, {1: mine}, server=[0], context={"seats": 2})
    dealt = f.dealt_cards("crazy_eights", f.reveal_key(reveal), reveal.context)
    seen = f.Seen(seat=1, hand=list(reversed(dealt.hands[1])), public=dealt.public, contribution=mine.hex())
    verdict = f.verify(reveal, seen)
    assert verdict.ok, verdict.problems
    assert any("7 dealt cards" in line for line in verdict.checked)
    assert any("your contribution was used" in line for line in verdict.checked)
    wrong = f.verify(reveal, msgspec.structs.replace(seen, hand=dealt.hands[0]))
    assert not wrong.ok and "you were dealt" in wrong.problems[0]
    not_mine = f.verify(reveal, msgspec.structs.replace(seen, contribution="00" * 32))
    assert not not_mine.ok and "not used" in not_mine.problems[0]
    stock = dealt.stock
    drew = f.verify(reveal, f.Seen(seat=1, drawn=[(len(stock) - 1, stock[-1]), (len(stock) - 2, stock[-2])],
                                   others={0: dealt.hands[0][:2]}))
    assert drew.ok and "2 card(s) you drew" in drew.checked
    assert "2 card(s) seen in other hands" in drew.checked
    bad_draw = f.verify(reveal, f.Seen(seat=1, drawn=[(len(stock) - 1, stock[0])]))
    assert not bad_draw.ok and "you drew" in bad_draw.problems[0]
    bad_other = f.verify(reveal, f.Seen(seat=1, others={0: dealt.hands[1][:1]}))
    assert not bad_other.ok and "other hands" in bad_other.problems[0]
    late = f.verify(reveal, f.Seen(seat=0, contribution="00" * 32))  # sent after the deal: not a failure
    assert late.ok and "the server's stood in" in late.checked[-1]
    board = f.verify(reveal, msgspec.structs.replace(seen, hand=[], public=["2C"]
                                                     if dealt.public != ["2C"] else ["3C"]))
    assert not board.ok and "the table showed" in board.problems[0]


def test_bad_values_are_refused_clearly() -> None:
    reveal = reveal_for(bytes(32), bytes(16), {0: bytes(32)}, server=[1])
    assert "not hex" in f.verify(msgspec.structs.replace(reveal, seed="zz" * 32)).problems[0]
    assert "8 bytes, not 16" in f.verify(msgspec.structs.replace(reveal, nonce="00" * 8)).problems[0]
    assert "unknown scheme" in f.verify(msgspec.structs.replace(reveal, scheme="v0")).problems[0]
    with pytest.raises(ValueError, match="32 bytes"):
        f.deal_key(bytes(32), [b"short"])


def test_fair_random_serves_the_rules_calls_from_the_stream() -> None:
    rng = f.FairRandom(bytes(32))
    twin = f.Stream(bytes(32))
    assert rng.randrange(52) == twin.below(52)
    assert 0 <= rng.random() < 1 and rng.getrandbits(128) < 2**128
    assert rng.choice("abc") in "abc"
    with pytest.raises(TypeError):
        rng.getstate()
    random.Random(1).random()  # the global generator is another thing altogether
    assert f.FairRandom(bytes(32)).randrange(52) == f.Stream(bytes(32)).below(52)


def test_the_verify_command(tmp_path, capsys) -> None:
    seed, nonce = bytes([3]) * 32, bytes([4]) * 16
    reveal = reveal_for(seed, nonce, {0: bytes([5]) * 32}, server=[1, 2])
    path = tmp_path / "deal.json"
    path.write_bytes(msgspec.json.encode(reveal))
    assert f.main(["verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "VERIFIED" in out and "deck: " in out
    tampered = msgspec.to_builtins(reveal)
    tampered["nonce"] = "00" * 16
    assert f.main(["verify", json.dumps({"reveal": tampered})]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
    assert f.main(["verify", '{"nonsense": 1}']) == 2
