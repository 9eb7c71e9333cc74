"""Fair deals at the table host: the commitment before the cards, the contributions and their order, the
bounded wait, the reveal, replay from the log, and no seed in any frame before its reveal."""

from __future__ import annotations

import json
import random
import secrets
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from common import fairness
from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules import crazy_eights, hearts, holdem
from gameserver.rules.holdem_state import State as HoldemState
from gameserver.table import Result, Sender, rebuild
from tests.unit.gameserver.frames import frames, narrow
from tests.unit.gameserver.recording import RecordingCashTable, RecordingTable

ANN, BOB, CID = Sender("rt:1", 1, "ann"), Sender("rt:2", 2, "bob"), Sender("rt:3", 3, "cid")
WAIT = 2.0


def make_table(game: Any = crazy_eights.GAME, seats: int = 2, seed: int = 11,
               cls: type[RecordingTable] = RecordingTable, **kw: Any) -> RecordingTable:
    table = cls("g1-0001", game, seats=seats, options=game.check_options(seats, kw.pop("options", {})),
                creator=ANN.user, seed=seed, bot_delay=0.0, bot_rng=random.Random(1), entropy_wait=WAIT, **kw)
    table.journal = []
    return table


def announced(seats: int = 2, **kw: Any) -> RecordingTable:
    table = make_table(seats=seats, **kw)
    for who in (ANN, BOB, CID)[:seats]:
        table.handle(who, p.Join(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 2, 0.0)
    return table


def entropy(table: RecordingTable | RecordingCashTable, who: Sender, value: str | None = None,
            deal: int | None = None, commitment: str | None = None, now: float = 0.1) -> Result:
    fair = table.state.fair
    assert fair is not None
    return table.handle(who, p.Entropy(table=table.id, deal=deal or fair.deal, commitment=commitment or
                                       fair.commitment, value=value or secrets.token_hex(32), req=9), 3, now)


def error_of(result: Result, who: Sender) -> p.Error:
    return narrow(frames(result, who.conn)[0], p.Error)


def test_the_commitment_comes_first_and_the_last_contribution_deals_at_once() -> None:
    table = announced()
    fair = narrow(table.state.fair, en.FairDeal)
    assert table.state.game is None and fair.seats == (0, 1) and not fair.dealt
    assert fair.commitment == fairness.commitment(*fairness.deal_secret(11, 1))
    first = entropy(table, ANN, "aa" * 32)
    assert [type(m) for m in frames(first, ANN.conn)] == [p.Ack] and not frames(first, BOB.conn)
    assert table.state.game is None  # still waiting for bob, and nobody else was told of ann's value
    last = entropy(table, BOB, "bb" * 32)
    assert isinstance(last.log[-1], e.Started) and last.log[-1].fair == 1
    view = narrow(frames(last, ANN.conn)[-1], p.View)
    assert view.fair is not None and view.fair.dealt
    assert view.fair.contributed == [0, 1] and view.fair.server == []
    # the cards are the ones the documented stream deals
    seed = fairness.deal_secret(11, 1)[0]
    key = fairness.deal_key(seed, [bytes.fromhex("aa" * 32), bytes.fromhex("bb" * 32)])
    expected = crazy_eights.setup(2, fairness.FairRandom(key), table.options)
    assert table.game_state == expected


def test_contributions_out_of_order_are_refused_and_change_nothing() -> None:
    table = announced()
    before, logged = table.state, len(table.journal)
    unknown = entropy(table, ANN, deal=7)
    assert error_of(unknown, ANN).code == p.E_NO_COMMITMENT and "no commitment for deal 7" in error_of(
        unknown, ANN).text
    wrong = entropy(table, ANN, commitment="0" * 64)
    assert error_of(wrong, ANN).code == p.E_NO_COMMITMENT
    assert "not the commitment" in error_of(wrong, ANN).text
    spectator = entropy(table, CID)
    assert error_of(spectator, CID).code == p.E_NOT_SEATED
    assert table.state == before and len(table.journal) == logged and all(not r.log for r in (
        unknown, wrong, spectator))
    entropy(table, ANN)
    twice = entropy(table, ANN)
    assert error_of(twice, ANN).code == p.E_ALREADY_CONTRIBUTED and not twice.log
    entropy(table, BOB)
    dealt = table.state
    late = entropy(table, BOB, deal=1)
    assert error_of(late, BOB).code == p.E_NO_COMMITMENT and "already dealt" in error_of(late, BOB).text
    assert table.state == dealt and not late.log
    again = table.handle(ANN, p.Start(table=table.id), 4, 0.2)
    assert error_of(again, ANN).code == p.E_ALREADY_STARTED


@settings(max_examples=40, deadline=None)
@given(deal=st.integers(1, 2**53), commitment=st.text("0123456789abcdef", min_size=64, max_size=64),
       dealt=st.booleans())
def test_any_contribution_but_to_the_open_commitment_is_refused(deal: int, commitment: str,
                                                                dealt: bool) -> None:
    table = announced()
    if dealt:
        entropy(table, ANN)
        entropy(table, BOB)
    fair = narrow(table.state.fair, en.FairDeal)
    before, logged = table.state, len(table.journal)
    if not dealt and deal == fair.deal and commitment == fair.commitment:
        return  # the one contribution that is taken
    result = entropy(table, ANN, deal=deal, commitment=commitment)
    assert error_of(result, ANN).code == p.E_NO_COMMITMENT and not result.log
    assert table.state == before and len(table.journal) == logged


def test_the_reducer_refuses_a_log_out_of_order() -> None:
    """A log whose fair-deal entries are out of order (one from somewhere else) does not apply."""
    table = announced()
    entropy(table, ANN, "aa" * 32)
    entropy(table, BOB, "bb" * 32)
    config, log = table.config, list(table.journal)
    commit = next(i for i, x in enumerate(log) if isinstance(x, e.Committed))
    start = next(i for i, x in enumerate(log) if isinstance(x, e.Started))
    late = e.Contributed(deal=1, seat=0, value="cc" * 32)
    swapped = [*log[:commit], *log[commit + 1:start + 1], log[commit]]  # dealt before it was announced
    reveal = en.reveal_of(config, narrow(table.state.fair, en.FairDeal))
    for bad in ([*log, late], swapped, [*log[:start], e.Started(fair=2)],
                [*log[:start], e.Revealed(reveal=reveal)],
                [*log, e.Committed(deal=2, commitment="00" * 32, seats=[0, 1])],
                [*log[:commit], e.Committed(deal=1, commitment="00" * 32, seats=[0, 1])],
                [*log, e.Revealed(reveal=msgspec.structs.replace(reveal, seed="00" * 32))]):
        with pytest.raises(en.Corrupt):
            en.fold(config, en.new_state(config), bad)


def test_the_wait_is_bounded_and_missing_values_come_from_the_server() -> None:
    table = announced()
    entropy(table, ANN, "11" * 32)
    assert table.wake_at() == WAIT
    table.tick(WAIT - 0.01)
    assert table.state.game is None
    result = table.tick(WAIT)
    assert isinstance(result.log[0], e.Started)
    view = narrow(frames(result, ANN.conn)[-1], p.View)
    assert view.fair is not None and view.fair.server == [1] and view.fair.contributed == [0]
    reveal = en.reveal_of(table.config, narrow(table.state.fair, en.FairDeal))
    assert [(c.seat, c.by) for c in reveal.contributions] == [(0, "player"), (1, "server")]
    assert fairness.verify(reveal).ok


def test_bots_and_absent_players_are_not_waited_for() -> None:
    table = make_table(seats=3)
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.connection_lost(BOB.conn, 0.0)
    result = table.handle(ANN, p.Start(table=table.id), 2, 0.0)
    view = narrow(frames(result, ANN.conn)[-1], p.View)
    assert view.fair is not None and view.fair.server == [2] and not view.fair.dealt  # the bot, marked
    assert table.state.game is None
    done = entropy(table, ANN)  # the only one waited for: dealt in the same pass
    assert isinstance(done.log[-1], e.Started)


def test_no_seed_leaves_before_the_reveal_and_the_reveal_verifies() -> None:
    table = announced()
    seed, nonce = (x.hex() for x in fairness.deal_secret(11, 1))
    sent: list[str] = []
    mine = "ab" * 32
    for result in (entropy(table, ANN, mine), entropy(table, BOB)):
        sent += [o.frame for o in result.out]
    dealt = narrow(table.game_state, crazy_eights.State)
    seen = fairness.Seen(seat=0, hand=list(dealt.hands[0]), public=[dealt.discards[0]], contribution=mine)
    now = 0.2
    while table.state.reveal is None:
        table.handle(ANN, p.Leave(table=table.id), 5, now)  # ann leaves: bots play both seats out
        table.handle(BOB, p.Leave(table=table.id), 5, now)
        when = table.wake_at()
        assert when is not None
        now = max(now, when)
        result = table.tick(now)
        if table.state.reveal is None:
            sent += [o.frame for o in result.out]
    assert sent and not any(seed in frame or nonce in frame for frame in sent)
    revealed = [x for x in table.journal if isinstance(x, e.Revealed)]
    assert len(revealed) == 1 and revealed[0].reveal.seed == seed
    verdict = fairness.verify(revealed[0].reveal, seen)
    assert verdict.ok and len(verdict.checked) == 4, verdict


def test_replay_of_the_log_deals_the_same_cards() -> None:
    table = announced()
    entropy(table, ANN)
    entropy(table, BOB)
    stored = [e.from_builtins(json.loads(json.dumps(e.to_builtins(x)))) for x in table.journal]
    copy = make_table()
    rebuild(copy, en.new_state(copy.config), stored)
    assert copy.state == table.state and copy.game_state == table.game_state
    assert en.restore(table.config, en.snapshot(table.state)) == table.state  # a snapshot keeps the deal


def test_a_restart_between_the_commitment_and_the_deal_deals_after_the_wait() -> None:
    table = announced()
    entropy(table, ANN)
    copy = make_table()
    rebuild(copy, en.new_state(copy.config), list(table.journal))
    copy.recovered(100.0, hold=10.0)
    assert copy.state.game is None and copy.wake_at() == 100.0 + WAIT
    result = copy.tick(100.0 + WAIT)
    assert isinstance(result.log[0], e.Started)


def test_every_hearts_deal_is_its_own_fair_deal() -> None:
    table = make_table(hearts.GAME, seats=4, options={"target": 30})
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    for _ in range(3):
        table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 2, 0.0)
    entropy(table, ANN)
    table.handle(ANN, p.Leave(table=table.id), 3, 0.0)  # a bot plays ann's seat from here
    now = 0.0
    while not table.over:
        when = table.wake_at()
        assert when is not None
        now = max(now, when)
        table.tick(now)
    kinds = [type(x).__name__ for x in table.journal if not isinstance(x, (e.Acted, e.Seated, e.Away))]
    deals = narrow(table.game_state, hearts.State).deal_number + 1
    assert deals >= 2 and kinds[:3] == ["Committed", "Contributed", "Started"]
    assert kinds.count("Committed") == kinds.count("Revealed") == deals
    assert kinds.count("Redealt") == deals - 1
    reveals = [x.reveal for x in table.journal if isinstance(x, e.Revealed)]
    assert len({r.seed for r in reveals}) == deals and all(fairness.verify(r).ok for r in reveals)
    stored = [e.from_builtins(json.loads(json.dumps(e.to_builtins(x)))) for x in table.journal]
    copy = make_table(hearts.GAME, seats=4, options={"target": 30})
    rebuild(copy, en.new_state(copy.config), stored)
    assert copy.state == table.state
    assert en.restore(table.config, en.snapshot(table.state)) == table.state


def test_each_holdem_hand_is_dealt_from_its_announced_deal() -> None:
    options = holdem.GAME.check_options(3, {"small_blind": 10, "big_blind": 20, "min_buy_in": 200,
                                            "max_buy_in": 2000})
    table = RecordingCashTable("g1-0001", holdem.GAME, seats=3, options=options, creator=ANN.user, seed=5,
                               bot_delay=0.0, hand_pause=1.0, bot_rng=random.Random(5), entropy_wait=WAIT)
    table.journal = []
    table.handle(ANN, p.Join(table=table.id, buy_in=500), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    mine = "cd" * 32
    entropy(table, ANN, mine)
    state = narrow(table.game_state, HoldemState)
    seen = fairness.Seen(seat=0, hand=list(state.hole[0] or ()), contribution=mine)
    table.handle(ANN, p.Leave(table=table.id), 2, 0.0)
    now = 0.0
    boards: dict[int, list[str]] = {}  # hand number -> its board as the table showed it
    def revealed() -> int:
        return len([x for x in table.journal if isinstance(x, e.Revealed)])

    while revealed() < 3 or (max(map(len, boards.values())) < 5 and revealed() < 40):
        when = table.wake_at()
        assert when is not None
        now = max(now, when)
        table.tick(now)
        if table.game_state is not None:
            boards[table.state.hand_no] = list(narrow(table.game_state, HoldemState).board)
    reveals = [x.reveal for x in table.journal if isinstance(x, e.Revealed)]
    assert [r.deal for r in reveals[:3]] == [1, 2, 3] and reveals[0].context["button"] in (0, 1, 2)
    assert fairness.verify(reveals[0], seen).ok
    hands = [x for x in table.journal if isinstance(x, e.HandDealt)]
    assert [h.fair for h in hands] == list(range(1, len(hands) + 1))
    for reveal, hand in zip(reveals, hands, strict=False):
        key = fairness.reveal_key(reveal)
        dealt = fairness.dealt_cards("holdem", key, reveal.context)
        replayed = en.hand_setup(table.config, hand, fairness.FairRandom(key))
        assert {s: list(c) for s, c in enumerate(replayed.hole) if c} == dealt.hands
        assert boards[hand.n] == dealt.public[:len(boards[hand.n])]
    assert max(len(b) for b in boards.values()) == 5, boards


def test_a_hand_announced_when_too_few_stay_is_dealt_at_the_next_start() -> None:
    options = holdem.GAME.check_options(3, {"small_blind": 10, "big_blind": 20, "min_buy_in": 200,
                                            "max_buy_in": 2000})
    table = RecordingCashTable("g1-0001", holdem.GAME, seats=3, options=options, creator=ANN.user, seed=5,
                               bot_delay=0.0, hand_pause=1.0, entropy_wait=WAIT)
    table.journal = []
    for who in (ANN, BOB):
        table.handle(who, p.Join(table=table.id, buy_in=500), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    table.handle(BOB, p.Leave(table=table.id), 1, 0.1)  # between hands: stood up at once
    entropy(table, ANN)
    assert table.state.game is None and en.pending_deal(table.state) is not None and table.wake_at() is None
    table.handle(CID, p.Join(table=table.id, buy_in=500), 1, 1.0)
    started = table.handle(CID, p.Start(table=table.id), 1, 1.0)
    assert not [m for m in frames(started, CID.conn) if isinstance(m, p.Error)]
    table.tick(1.0 + WAIT)
    hand = next(x for x in table.journal if isinstance(x, e.HandDealt))
    assert hand.fair == 1 and hand.stacks == [500, 500, 0]  # cid took bob's seat


def test_the_checker_deals_as_the_rules_do() -> None:
    for i in range(30):
        key = random.Random(i).randbytes(32)
        seats = 2 + i % 4
        ce = crazy_eights.setup(seats, fairness.FairRandom(key), crazy_eights.check_options(seats, {}))
        dealt = fairness.dealt_cards("crazy_eights", key, {"seats": seats})
        assert {s: sorted(h) for s, h in enumerate(ce.hands)} == {
            s: sorted(h) for s, h in dealt.hands.items()}
        assert [ce.discards[0]] == dealt.public and list(ce.stock) == dealt.stock
        he = hearts.GAME.setup(4, fairness.FairRandom(key), {"deal_by_host": True})
        assert [sorted(h) for h in he.hands] == [sorted(h) for h in fairness.dealt_cards(
            "hearts", key, {"seats": 4}).hands.values()]
