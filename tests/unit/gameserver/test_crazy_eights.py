"""Crazy Eights rules: fixed deals for each rule, then seeded random games for the properties."""

from __future__ import annotations

import doctest
import random
import re
from collections import Counter

import msgspec
import pytest

from common.cards import FULL_DECK, SUITS, shuffled_deck
from common.protocol import Action, Draw, Fold, PassTurn, Play
from common.views import CrazyEightsView, LegalAction
from gameserver.rules import crazy_eights as ce
from gameserver.rules import games
from gameserver.rules.base import IllegalMove, Outcome
from gameserver.rules.crazy_eights_events import Drew, HandOver, Played
from tests.unit.gameserver.frames import narrow

G = ce.GAME
ALL_ON = {"queen_skips": True, "ace_reverses": True, "two_draws_two": True}
encode = msgspec.json.Encoder().encode  # JSON, as the table sends it (and fast)
CARD_RE = re.compile(r'"([2-9TJQKA][CDHS])"')


def fixed(hands, top, stock=(), **kw):
    """A hand in progress: `top` is the top discard (a str) or the whole pile (a tuple)."""
    discards = (top,) if isinstance(top, str) else top
    return ce.setup_fixed(hands, stock, discards, **kw)


def refused(state, seat, action, *fragments):
    with pytest.raises(IllegalMove) as info:
        G.apply(state, seat, action)
    for fragment in fragments:
        assert fragment in str(info.value)
    return str(info.value)


def kinds(events):
    return [e.kind for e in events]


def c8_view(state: ce.State, seat: int | None) -> CrazyEightsView:
    return narrow(G.view(state, seat), CrazyEightsView)


def outcome_of(state: ce.State) -> Outcome:
    """The outcome of a hand that is over."""
    return narrow(G.outcome(state), Outcome)


# ---- interface, options, deal --------------------------------------------------------------------


def test_registered_and_described():
    assert games()["crazy_eights"] is G
    assert (G.name, G.title, G.min_seats, G.max_seats) == ("crazy_eights", "Crazy Eights", 2, 5)
    assert dict(G.default_options) == {"queen_skips": False, "ace_reverses": False, "two_draws_two": False}


def test_doctests():
    assert doctest.testmod(ce).failed == 0


def test_check_options():
    assert G.check_options(3, {"queen_skips": True}) == {"queen_skips": True, "ace_reverses": False,
                                                         "two_draws_two": False}
    for seats in (1, 6, 0, "3", True):
        with pytest.raises(ValueError, match="2 to 5 players"):
            G.check_options(seats, {})  # type: ignore[arg-type]  # deliberately not an int, too
    with pytest.raises(ValueError, match="unknown option"):
        G.check_options(2, {"jokers": True})
    with pytest.raises(ValueError, match="must be bool"):
        G.check_options(2, {"queen_skips": 1})


def test_setup_rng_order_is_shuffle_then_dealer():
    for seed in range(20):
        seats = 2 + seed % 4
        a, b = random.Random(seed), random.Random(seed)
        deck = shuffled_deck(b)
        dealer = b.randrange(seats)
        assert G.setup(seats, a, {}) == ce.deal(seats, deck, dealer)
        assert a.random() == b.random()  # no other rng call


def test_two_player_deal_of_seven_one_at_a_time_from_the_top():
    deck = list(FULL_DECK)  # the top is the last card: "AS"
    s = ce.deal(2, deck, dealer=1)
    assert s.hands[0] == tuple(deck[-1:-15:-2]) and s.hands[1] == tuple(deck[-2:-15:-2])
    assert [len(h) for h in s.hands] == [7, 7]
    assert s.discards == (deck[-15],) and s.suit == deck[-15][1]
    assert s.stock == tuple(deck[:-15]) and s.turn == 0 and s.dealer == 1 and s.direction == 1


def test_three_player_deal_of_five_starting_after_the_dealer():
    deck = list(FULL_DECK)
    s = ce.deal(3, deck, dealer=0)
    assert [len(h) for h in s.hands] == [5, 5, 5]
    assert s.hands[1][0] == deck[-1] and s.hands[2][0] == deck[-2] and s.hands[0][0] == deck[-3]
    assert s.turn == 1 and G.to_act(s) == (1,)
    assert len(s.stock) == 52 - 15 - 1
    assert [len(h) for h in ce.deal(5, deck, dealer=4).hands] == [5] * 5
    assert ce.deal(5, deck, dealer=4).turn == 0


def test_starter_eight_goes_to_the_bottom_of_the_stock():
    rest = [c for c in FULL_DECK if c not in ("8H", "8D", "5C")]
    deck = rest[:-14] + ["5C", "8D", "8H"] + rest[-14:]  # 14 dealt from the end, then 8H, 8D, 5C turned up
    s = ce.deal(2, deck, dealer=0)
    assert s.discards == ("5C",) and s.suit == "C"
    assert s.stock[:2] == ("8D", "8H") and len(s.stock) == 52 - 14 - 1
    assert ce.start_events(s)[-1].visible_to(None) == {"seat": None, "dealer": 0, "first": 1, "starter": "5C",
                                                      "kind": "started"}


def test_start_events_show_each_hand_only_to_its_seat():
    s = G.setup(3, random.Random(5), {})
    dealt = ce.start_events(s)[:3]
    assert dealt[1].visible_to(1)["cards"] == s.hands[1]
    assert "cards" not in dealt[1].visible_to(0) and "cards" not in dealt[1].visible_to(None)


# ---- plays ---------------------------------------------------------------------------------------


def test_match_by_suit_and_by_rank():
    s = fixed([["7S", "QH", "3D"], ["2C"]], "QS", ["4C"])
    s1, ev = G.apply(s, 0, Play("7S"))
    assert (s1.discards[-1], s1.suit, s1.turn, s1.hands[0]) == ("7S", "S", 1, ("QH", "3D"))
    assert ev[0].visible_to(1) == {"seat": 0, "card": "7S", "suit": "S", "kind": "played"}
    s2, _ = G.apply(s, 0, Play("QH"))
    assert (s2.suit, s2.turn) == ("H", 1)
    msg = refused(s, 0, Play("3D"), "3D does not match the current suit (spades) or rank (Q)")
    assert "2C" not in msg and "4C" not in msg


def test_eight_names_the_suit_and_needs_one_unless_last():
    s = fixed([["8C", "5H"], ["2C"]], "KS", ["4C"])
    refused(s, 0, Play("8C"), "name the new suit")
    for bad in ("X", "CD", "", "clubs"):
        refused(s, 0, Play("8C", suit=bad), "not a suit")
    s1, ev = G.apply(s, 0, Play("8C", suit="H"))
    assert (s1.suit, s1.discards[-1]) == ("H", "8C") and narrow(ev[0], Played).suit == "H"
    refused(s1, 1, Play("2C"), "current suit (hearts) or rank (8)")
    moves = G.legal_moves(s, 0)
    assert [m for m in moves if isinstance(m, Play)] == [Play("8C", suit=x) for x in SUITS]
    assert G.legal(s, 0) == [LegalAction("play", cards=["8C"], suits=list(SUITS)), LegalAction("draw")]
    last = fixed([["8C"], ["2C", "3C"]], "KS", ["4C"])
    assert G.legal_moves(last, 0) == [Play("8C"), Draw()]
    assert G.legal(last, 0) == [LegalAction("play", cards=["8C"]), LegalAction("draw")]  # no suit to name
    end, ev = G.apply(last, 0, Play("8C"))
    assert end.over and G.to_act(end) == () and kinds(ev) == ["played", "hand_over"]
    assert outcome_of(end).scores == (0, 5) and outcome_of(end).winners == (0,)


def test_non_eight_with_a_suit_is_refused():
    s = fixed([["7S", "QH"], ["2C"]], "QS", ["4C"])
    refused(s, 0, Play("7S", suit="H"), "only an 8 names a suit")


def test_out_of_turn_and_unheld_and_bad_cards_refused_state_unchanged():
    s = fixed([["7S", "QH"], ["2S", "9C"]], "QS", ["4C", "5C"])
    before = ce.setup_fixed(s.hands, s.stock, s.discards)
    refused(s, 1, Play("2S"), "not your turn")
    refused(s, 1, Draw(), "not your turn")
    msg = refused(s, 0, Play("2S"), "you do not hold 2S")
    assert "9C" not in msg and "4C" not in msg and "5C" not in msg
    refused(s, 0, Play("ZZ"), "not a card")
    refused(s, 0, Fold(), "no 'fold' move")
    assert s == before
    assert G.legal_moves(s, 1) == []


# ---- drawing and passing -------------------------------------------------------------------------


def test_draw_up_to_five_then_must_pass_or_play():
    stock = ["2D", "3D", "4D", "5D", "6D", "7D", "9D"]
    s = fixed([["2C"], ["3C"]], "KS", stock)
    refused(s, 0, PassTurn(), "only after drawing 5")
    drawn = []
    for i in range(5):
        assert Draw() in G.legal_moves(s, 0) and PassTurn() not in G.legal_moves(s, 0)
        s, ev = G.apply(s, 0, Draw())
        drawn.append(narrow(ev[0], Drew).card)
        assert s.drawn == i + 1 and s.turn == 0
        assert ev[0].visible_to(0)["card"] == drawn[-1] and "card" not in ev[0].visible_to(1)
    assert drawn == ["9D", "7D", "6D", "5D", "4D"]  # from the top (the end)
    refused(s, 0, Draw(), "already drawn 5")
    assert G.legal_moves(s, 0) == [PassTurn()]
    s, ev = G.apply(s, 0, PassTurn())
    assert kinds(ev) == ["passed"] and (s.turn, s.drawn, s.passes) == (1, 0, 1)


def test_may_draw_even_when_able_to_play_and_a_play_ends_the_turn():
    s = fixed([["2S", "9H"], ["3C"]], "KS", ["5D", "6D"])
    s, _ = G.apply(s, 0, Draw())
    s, _ = G.apply(s, 0, Play("2S"))
    assert (s.turn, s.drawn) == (1, 0)


def test_empty_stock_no_draw_but_pass():
    s = fixed([["2C", "3C"], ["4C"]], "KS", [])
    refused(s, 0, Draw(), "stock is empty")
    assert G.legal_moves(s, 0) == [PassTurn()]
    assert G.timeout_move(s, 0) == PassTurn()


def test_blocked_after_players_plus_one_passes():
    s = fixed([["2C", "3C"], ["4C", "KH"], ["5C"]], "KS", [])
    for i in range(3):
        s, ev = G.apply(s, s.turn, PassTurn())
        assert not s.over and s.passes == i + 1
    s, ev = G.apply(s, s.turn, PassTurn())
    assert s.over and kinds(ev) == ["passed", "hand_over"]
    out = outcome_of(s)
    assert out.scores == (5, 14, 5) and out.winners == (0, 2) and out.lower_is_better
    assert out.detail == {"went_out": None, "hands": {0: ["2C", "3C"], 1: ["4C", "KH"], 2: ["5C"]}}
    assert ev[-1].visible_to(None)["reason"] == "blocked"


def test_a_draw_resets_the_pass_count():
    s = fixed([["2C"], ["3C"]], "KS", ["4D"], drawn=5, passes=0)
    s, _ = G.apply(s, 0, PassTurn())  # 1
    s, _ = G.apply(s, 1, Draw())  # stock now empty; count reset
    for _ in range(2):
        s, _ = G.apply(s, s.turn, PassTurn())
    assert not s.over and s.passes == 2
    s, ev = G.apply(s, s.turn, PassTurn())
    assert s.over and narrow(ev[-1], HandOver).reason == "blocked"


def test_play_limit_of_one_hundred_cards():
    s = fixed([["2S", "3C"], ["4C", "AD"]], "KS", ["5S"], plays=98)
    s, _ = G.apply(s, 0, Play("2S"))
    assert not s.over and s.plays == 99
    s, ev = G.apply(s, 1, Draw())
    s, ev = G.apply(s, 1, Play("5S"))  # the 100th play (draws do not count)
    assert s.over and narrow(ev[-1], HandOver).reason == "limit" and s.went_out is None
    assert outcome_of(s).scores == (3, 5) and outcome_of(s).winners == (0,)


def test_scoring_values():
    assert ce.penalty(["8C"]) == 50
    assert [ce.penalty([r + "H"]) for r in "23456789TJQKA"] == [2, 3, 4, 5, 6, 7, 50, 9, 10, 10, 10, 10, 1]
    s = fixed([["KS"], ["8D", "AH", "TC"], ["QC", "JD", "9S", "2H"]], "KH", ["5D"])
    s, _ = G.apply(s, 0, Play("KS"))
    out = outcome_of(s)
    assert out.scores == (0, 61, 31) and out.winners == (0,) and out.detail["went_out"] == 0
    v = c8_view(s, 1)
    assert v.over and v.scores == [0, 61, 31] and v.turn is None and v.legal == []


# ---- special cards -------------------------------------------------------------------------------


def test_specials_are_off_by_default():
    s = fixed([["QS", "AS", "2S", "5C"], ["3C"], ["4C"]], "KS", ["5D"])
    for card in ("QS", "AS", "2S"):
        s1, ev = G.apply(s, 0, Play(card))
        assert (s1.turn, s1.direction, s1.pending, kinds(ev)) == (1, 1, 0, ["played"])


def test_queen_skips():
    s = fixed([["QS", "5C"], ["3C"], ["4C"]], "KS", ["5D"], options={"queen_skips": True})
    s1, ev = G.apply(s, 0, Play("QS"))
    assert s1.turn == 2 and kinds(ev) == ["played", "skipped"] and ev[1].seat == 1
    two = fixed([["QS", "5C"], ["3C"]], "KS", ["5D"], options={"queen_skips": True})
    assert G.apply(two, 0, Play("QS"))[0].turn == 0


def test_ace_reverses_and_with_two_players_skips():
    opts = {"ace_reverses": True}
    s = fixed([["AS", "5C"], ["3C"], ["4S", "6C"]], "KS", ["5D"], options=opts)
    s1, ev = G.apply(s, 0, Play("AS"))
    assert (s1.turn, s1.direction) == (2, -1) and kinds(ev) == ["played", "reversed"]
    s2, _ = G.apply(s1, 2, Play("4S"))
    assert s2.turn == 1 and c8_view(s2, None).direction == -1
    two = fixed([["AS", "5C"], ["3C"]], "KS", ["5D"], options=opts)
    s1, ev = G.apply(two, 0, Play("AS"))
    assert (s1.turn, s1.direction, kinds(ev)) == (0, 1, ["played", "skipped"])


def dataclass_replace(state, **changes):
    import dataclasses

    return dataclasses.replace(state, **changes)


def test_two_draws_two_stacks_and_is_taken_at_once():
    opts = {"two_draws_two": True}
    stock = ["9D", "TD", "JD", "4S", "5S", "6S", "7S"]
    s = fixed([["2S", "5C"], ["2H", "3H", "KC"], ["4C", "9C"]], "KS", stock, options=opts)
    s, ev = G.apply(s, 0, Play("2S"))
    assert (s.turn, s.pending) == (1, 2) and ev[-1].visible_to(None) == {"seat": 1, "pending": 2,
                                                                         "kind": "penalty"}
    assert G.legal_moves(s, 1) == [Play("2H"), Draw()]
    assert G.legal(s, 1) == [LegalAction("play", cards=["2H"]), LegalAction("draw")]  # only a 2 answers
    refused(s, 1, Play("3H"), "answer the 2 with a 2, or draw the 2 penalty cards")
    refused(s, 1, PassTurn(), "draw the 2 penalty cards")
    s, ev = G.apply(s, 1, Play("2H"))
    assert (s.turn, s.pending) == (2, 4)
    assert G.legal_moves(s, 2) == [Draw()] and G.timeout_move(s, 2) == Draw()
    s, ev = G.apply(s, 2, Draw())
    drew = [narrow(e, Drew) for e in ev]
    assert [e.card for e in drew] == ["7S", "6S", "5S", "4S"] and all(e.penalty for e in drew)
    assert (s.turn, s.pending, s.drawn, len(s.hands[2])) == (2, 0, 0, 6)
    # the turn continues normally: play on the 2 (hearts) or draw up to 5 more
    assert Play("4S") not in G.legal_moves(s, 2) and Draw() in G.legal_moves(s, 2)
    for _ in range(3):
        s, _ = G.apply(s, 2, Draw())
    assert not s.stock and G.legal_moves(s, 2) == [PassTurn()]


def test_two_penalty_limited_by_stock_and_lapses_on_an_empty_stock():
    opts = {"two_draws_two": True}
    s = fixed([["2S", "5C"], ["3H", "KC"]], "KS", ["9D"], options=opts)
    s, _ = G.apply(s, 0, Play("2S"))
    s, ev = G.apply(s, 1, Draw())
    assert [narrow(e, Drew).card for e in ev] == ["9D"] and s.pending == 0 and not s.stock
    s = fixed([["2S", "5C"], ["3H", "KC"]], "KS", [], options=opts)
    s, _ = G.apply(s, 0, Play("2S"))
    assert G.legal_moves(s, 1) == [PassTurn()]
    s, _ = G.apply(s, 1, PassTurn())
    assert s.pending == 0 and s.turn == 0


# ---- views, bot, timeout -------------------------------------------------------------------------


def test_view_shows_own_hand_counts_and_legal_only():
    s = fixed([["7S", "QH"], ["2C", "9D", "8H"]], ("3S", "QS"), ["4C", "5C"])
    v0 = c8_view(s, 0)
    assert v0.hand == ["7S", "QH"] and v0.counts == [2, 3] and v0.stock == 2
    assert (v0.top, v0.suit, v0.turn, v0.discards) == ("QS", "S", 0, ["3S", "QS"])
    assert v0.legal == [LegalAction("play", cards=["7S", "QH"]), LegalAction("draw")]
    assert v0.legal == G.legal(s, 0)
    v1 = c8_view(s, 1)
    assert v1.hand == ["2C", "9D", "8H"] and v1.legal == [] and not v1.over
    spectator = c8_view(s, None)
    assert spectator.hand is None and spectator.legal == [] and spectator.counts == [2, 3]
    data = msgspec.to_builtins(spectator)
    for key in ("game", "drawn_this_turn", "direction", "pending_draw"):
        assert key in data
    encode(v0)


def test_bot_prefers_long_suit_high_penalty_and_saves_eights():
    s = fixed([["3S", "KS", "8D", "QH", "4H", "5H"], ["2C"]], "QS", ["4C"])
    assert G.bot_move(s, 0, random.Random(1)) == Play("QH")  # hearts held most
    s = fixed([["3S", "KS", "8D", "4C"], ["2C"]], "9S", ["4D"])
    assert G.bot_move(s, 0, random.Random(1)) == Play("KS")
    s = fixed([["8D", "4C", "5C", "6H"], ["2C"]], "9S", ["4D"])
    assert G.bot_move(s, 0, random.Random(1)) == Play("8D", suit="C")
    s = fixed([["8D"], ["2C"]], "9S", ["4D"])
    assert G.bot_move(s, 0, random.Random(1)) == Play("8D")
    s = fixed([["4C", "5C"], ["2C"]], "9S", ["4D"])
    assert G.bot_move(s, 0, random.Random(1)) == Draw()
    assert G.bot_move(dataclass_replace(s, drawn=5), 0, random.Random(1)) == PassTurn()


def test_timeout_draws_else_passes():
    s = fixed([["4C", "9S"], ["2C"]], "9D", ["4D"])
    assert G.timeout_move(s, 0) == Draw()
    assert G.timeout_move(dataclass_replace(s, drawn=5), 0) == PassTurn()


# ---- properties over seeded games ----------------------------------------------------------------


def options_for(i):
    return {"queen_skips": i % 2 == 1, "ace_reverses": i % 3 == 1, "two_draws_two": i % 5 >= 2}


def check_conserved(s):
    cards = [c for h in s.hands for c in h] + list(s.stock) + list(s.discards)
    assert len(cards) == 52 and set(cards) == set(FULL_DECK)


def play_game(seed, *, uniform=False, check=None):
    """One seeded game; returns (final state, list of (seat, action, events))."""
    rng = random.Random(seed)
    seats = 2 + seed % 4
    s = G.setup(seats, rng, options_for(seed))
    log = []
    if check:
        check(None, s, ce.start_events(s))
    while not s.over:
        (seat,) = G.to_act(s)
        if uniform:
            action = rng.choice(G.legal_moves(s, seat))
        else:
            action = G.bot_move(s, seat, rng)
        new, events = G.apply(s, seat, action)
        log.append((seat, action, events))
        if check:
            check(s, new, events)
        s = new
        assert len(log) < 2000
    return s, log


def check_final(s):
    out = outcome_of(s)
    hands = out.detail["hands"]
    assert sum(len(h) for h in hands.values()) + len(s.stock) + len(s.discards) == 52
    went = out.detail["went_out"]
    assert out.scores == tuple(0 if seat == went else ce.penalty(h) for seat, h in hands.items())
    if went is not None:
        assert hands[went] == [] and out.scores[went] == 0
    assert set(out.winners) == {i for i, v in enumerate(out.scores) if v == min(out.scores)}
    assert s.plays < 100 and G.to_act(s) == () and G.legal_moves(s, 0) == []


def test_many_bot_and_random_games_end_consistently():
    ends: Counter[str] = Counter()
    for seed in range(600):
        uniform = seed % 6 == 5
        s, _ = play_game(seed, uniform=uniform, check=lambda old, new, ev: check_conserved(new))
        check_final(s)
        ends["out" if s.went_out is not None else "blocked"] += 1
    assert ends["out"] > 300 and ends["blocked"] > 0


def test_legal_moves_agree_with_apply_and_refusals_leak_nothing():
    candidates: list[Action] = [*[Play(c) for c in FULL_DECK],
                                *[Play(c, x) for c in FULL_DECK for x in SUITS], Draw(), PassTurn()]
    checked = 0
    for seed in range(40):
        s, log = play_game(seed, uniform=seed % 2 == 0)
        s = G.setup(2 + seed % 4, random.Random(seed), options_for(seed))
        for step, (seat, action, _) in enumerate(log):
            if step % 4 == 0:
                legal = G.legal_moves(s, seat)
                own = set(s.hands[seat]) | set(s.discards)
                for cand in candidates:
                    try:
                        G.apply(s, seat, cand)
                        ok = True
                    except IllegalMove as exc:
                        ok = False
                        named = set(re.findall(r"\b[2-9TJQKA][CDHS]\b", str(exc)))
                        assert named <= own | {getattr(cand, "card", "")}, (str(exc), cand)
                    last_eight = (isinstance(cand, Play) and cand.card[0] == "8" and cand.suit
                                  and s.hands[seat] == (cand.card,))
                    assert ok == (cand in legal or bool(last_eight and not s.pending)), (cand, legal)
                checked += 1
            s, _ = G.apply(s, seat, action)
    assert checked > 100


def test_same_seed_same_log_despite_global_random_churn():
    def run(seed, churn):
        rng = random.Random(seed)
        s = G.setup(2 + seed % 4, rng, options_for(seed))
        out = [e.visible_to(0) for e in ce.start_events(s)]
        while not s.over:
            if churn:
                random.seed(churn)
                random.shuffle(list(FULL_DECK))
                churn += 1
            (seat,) = G.to_act(s)
            s, events = G.apply(s, seat, G.bot_move(s, seat, rng))
            out.extend(dataclass_to_dict(e) for e in events)
        return out, G.outcome(s)

    for seed in range(30):
        assert run(seed, 0) == run(seed, 1000 + seed)


def dataclass_to_dict(event):
    return {**event.visible_to(event.seat), "seat": event.seat}


def test_hidden_information_in_views_and_events():
    """At every step no viewer's JSON (view + that step's events) names another hand's or the stock's card."""
    card_re = re.compile(rb'"([2-9TJQKA][CDHS])"')  # card codes as whole JSON strings

    def check(old, new, events):
        hidden_from_all = set(new.stock).union(*new.hands)
        for viewer in [*range(new.seats), None]:
            shown = encode([G.view(new, viewer), [e.visible_to(viewer) for e in events]])
            own = new.hands[viewer] if viewer is not None else ()
            leaked = {c for c in card_re.findall(shown) if c.decode() in hidden_from_all} - {
                c.encode() for c in own}
            assert not leaked, (viewer, leaked)

    for seed in range(1000):
        play_game(10_000 + seed, uniform=seed % 4 == 3, check=check)
