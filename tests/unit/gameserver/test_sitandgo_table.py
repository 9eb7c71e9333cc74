"""The sit-and-go table: registration and refunds, the start, rising blinds on an injected clock,
busts and places, the prize table paid once, balance chips conserved, and a rebuild from the log in the
middle of the tournament (a crash) that finishes it the same way."""

from __future__ import annotations

import random
from collections import Counter

import msgspec
import pytest

from common import protocol as p
from common import sitandgo as sg
from common.views import HoldemView
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.holdem import GAME
from gameserver.sitandgo import options_for
from gameserver.table import Result, Sender, rebuild
from tests.unit.gameserver.frames import narrow
from tests.unit.gameserver.recording import RecordingSitAndGo

ANN, BOB, CID = Sender("rt:1", 1, "ann"), Sender("rt:2", 2, "bob"), Sender("rt:3", 3, "cid")
FAST = sg.SitAndGo(buy_in=100, fee=10, stack=200, levels=[sg.BlindLevel(10, 20), sg.BlindLevel(25, 50),
                                                           sg.BlindLevel(50, 100)], level_seconds=30)


def make_table(seats: int = 4, settings: sg.SitAndGo = FAST, seed: int = 3) -> RecordingSitAndGo:
    table = RecordingSitAndGo("g1-0001", GAME, seats=seats, options=options_for(GAME, seats, settings, {}),
                              creator=ANN.user, seed=seed, bot_delay=0.1, hand_pause=1.0,
                              bot_rng=random.Random(seed))
    table.journal = []
    return table


def errors(result: Result) -> list[p.Error]:
    return [m for m in (p.decode_server(o.frame) for o in result.out) if isinstance(m, p.Error)]


def join(table: RecordingSitAndGo, who: Sender, now: float = 0.0) -> Result:
    """As the server does: the entry is checked against the balance, then the join decided."""
    body = p.Join(table=table.id)
    body.buy_in = table.buy_in_for(body, balance=10_000)
    return table.handle(who, body, 1, now)


def run_to_end(table: RecordingSitAndGo, now: float, ledger: Counter[int], limit: int = 50_000) -> float:
    for _ in range(limit):
        if table.over:
            return now
        when = table.wake_at()
        assert when is not None, "the tournament stalled"
        now = max(now, when)
        for account, delta in table.tick(now).chips:
            ledger[account] += delta
    raise AssertionError("the tournament did not end")


def test_registration_refunds_and_no_join_after_the_start() -> None:
    table = make_table(seats=3)
    result = join(table, ANN)
    assert result.chips == [(ANN.user, -110)] and table.status == "waiting"
    assert table.seats[0] is not None and table.seats[0].stack == 200, "tournament chips, not the entry"
    assert en.chips_on_table(table.state) == 110, "the table holds the entry paid"
    left = table.handle(ANN, p.Leave(table=table.id), 1, 0.0)
    assert left.chips == [(ANN.user, 110)] and table.seats[0] is None, "leaving before the start refunds"
    assert en.chips_on_table(table.state) == 0
    join(table, ANN)
    join(table, BOB)
    refused = table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    assert errors(refused)[0].code == p.E_NOT_STARTED, "it starts by itself"
    started = table.handle(ANN, p.AddBot(table=table.id), 1, 5.0)
    assert started.chips == [(e.HOUSE, -110)], "the house pays a bot's entry"
    assert any(isinstance(x, e.SitAndGoStarted) and x.at == 5.0 for x in started.log)
    assert table.status == "playing" and table.in_hand() and table.hand_no == 1
    with pytest.raises(Exception, match="has started"):
        table.buy_in_for(p.Join(table=table.id), balance=10_000)
    late = table.handle(CID, p.Join(table=table.id, buy_in=110), 1, 5.0)
    assert errors(late)[0].code == p.E_ALREADY_STARTED
    assert errors(table.handle(ANN, p.TopUp(table=table.id, amount=10), 1, 5.0))[0].code == p.E_BAD_FIELD


def test_leaving_mid_tournament_keeps_the_stack_in_play() -> None:
    table = make_table(seats=2)
    join(table, ANN)
    join(table, BOB)
    assert table.in_hand()
    stack = en.stacks(table.config, table.state)
    left = table.handle(BOB, p.Leave(table=table.id), 1, 0.0)
    assert left.chips == [] and table.seats[1] is not None and table.seats[1].away, "no cashout: away"
    assert en.stacks(table.config, table.state) == stack
    assert en.chips_on_table(table.state) == 220


def test_blinds_rise_with_the_clock() -> None:
    table = make_table(seats=2, settings=msgspec.structs.replace(FAST, stack=2000))
    join(table, ANN)
    join(table, BOB, now=100.0)  # started at 100: levels at 100, 130, 160
    for who in (ANN, BOB):
        table.connection_lost(who.conn, 100.0)  # their turns are checked or folded for them
    deals: list[e.HandDealt] = []
    now = 100.0
    while now < 200.0 and not table.over:
        now = max(now, table.wake_at() or now + 1)
        table.tick(now)
        deals = [x for x in table.journal if isinstance(x, e.HandDealt)]
    view = table._info()
    levels = {d.level: d.blinds for d in deals}
    assert levels[0] == [10, 20] and levels[1] == [25, 50] and levels[2] == [50, 100]
    first_l1 = next(i for i, d in enumerate(deals) if d.level == 1)
    assert all(d.level == 0 for d in deals[:first_l1]) and view.state in ("running", "finished")
    assert narrow(table.game.view(table.state.game, 0), HoldemView).big_blind in (50, 100)


def test_levels_by_hands_and_the_view() -> None:
    settings = msgspec.structs.replace(FAST, level_seconds=None, level_hands=2, stack=5000)
    table = make_table(seats=2, settings=settings)
    join(table, ANN)
    info = table._info()
    assert (info.state, info.registered, info.seats, info.pool, info.prizes) == (
        "registering", 1, 2, 200, [200])
    join(table, BOB)
    info = table._info()
    assert (info.level, info.small_blind, info.big_blind, info.hands_to_next_level, info.next_blinds) == (
        1, 10, 20, 1, [25, 50])


def play_out(seats: int, seed: int) -> tuple[RecordingSitAndGo, Counter[int]]:
    table = make_table(seats=seats, seed=seed)
    ledger: Counter[int] = Counter()
    for account, delta in join(table, ANN).chips:
        ledger[account] += delta
    for _ in range(seats - 1):
        for account, delta in table.handle(ANN, p.AddBot(table=table.id), 1, 0.0).chips:
            ledger[account] += delta
    table.connection_lost(ANN.conn, 0.0)
    run_to_end(table, 0.0, ledger)
    return table, ledger


@pytest.mark.parametrize(("seats", "seed"), [(2, 1), (5, 2), (7, 4)])
def test_played_to_the_end_pays_the_prize_table_and_conserves_balance_chips(seats: int, seed: int) -> None:
    table, ledger = play_out(seats, seed)
    tourney = table.tourney
    assert table.over and table.status == "over" and tourney.ended
    assert sorted(tourney.places.values()) == list(range(1, seats + 1)), "every place once"
    expected = sg.prizes(100 * seats, seats)
    by_place = {place: tourney.prizes.get(seat, 0) for seat, place in tourney.places.items()}
    assert [by_place[i + 1] for i in range(len(expected))] == expected
    assert sum(ledger.values()) == 0, "balance chips: entries in = prizes + fees out"
    assert ledger[e.HOUSE] == sum(p for s, p in tourney.prizes.items() if tourney.entrants[s].user == 0) \
        - 110 * (seats - 1) + 10 * seats
    assert en.chips_on_table(table.state) == 0
    ended = [x for x in table.journal if isinstance(x, e.SitAndGoEnded)]
    assert len(ended) == 1 and ended[0].fee == 10 * seats
    absent = [x.action for x in table.journal if isinstance(x, e.Acted) and x.seat == 0]
    assert absent and all(isinstance(a, (p.Check, p.Fold)) for a in absent), \
        "an absent person is checked or folded for, never bet for"
    winner = ended[0].winner
    assert narrow(table.seats[winner], en.SeatState).stack == 200 * seats, "all the chips"


def test_a_rebuild_in_the_middle_finishes_the_same_way() -> None:
    """The log up to a point rebuilds the table (a crash and takeover); it plays on to an end that pays
    the prize table, and the balance ledger over both halves is conserved."""
    table = make_table(seats=4, seed=8)
    ledger: Counter[int] = Counter()
    for account, delta in join(table, ANN).chips:
        ledger[account] += delta
    for _ in range(3):
        for account, delta in table.handle(ANN, p.AddBot(table=table.id), 1, 0.0).chips:
            ledger[account] += delta
    table.connection_lost(ANN.conn, 0.0)
    now = 0.0
    while not any(isinstance(x, e.Busted) for x in table.journal):
        now = max(now, table.wake_at() or now)
        for account, delta in table.tick(now).chips:
            ledger[account] += delta
    log = list(table.journal)
    again = make_table(seats=4, seed=8)
    rebuild(again, en.new_state(again.config), log)
    assert again.state == table.state, "the log rebuilds the tournament exactly"
    again.recovered(now, hold=0.0)
    again.journal = list(log)
    assert sum(ledger.values()) + en.chips_on_table(again.state) == 0
    run_to_end(again, now, ledger)
    assert again.tourney.ended and sum(ledger.values()) == 0, "conserved across the crash"
    fresh = make_table(seats=4, seed=8)
    rebuild(fresh, en.new_state(fresh.config), again.journal)
    assert fresh.state == again.state and en.over(fresh.config, fresh.state)


def test_the_reducer_refuses_entries_that_do_not_fit() -> None:
    table = make_table(seats=2)
    config, state = table.config, table.state
    with pytest.raises(en.Corrupt):  # the wrong price
        en.evolve(config, state, e.Seated(seat=0, user=1, name="ann", stack=200, paid=5))
    state, _ = en.evolve(config, state, e.Seated(seat=0, user=1, name="ann", stack=200, paid=110))
    with pytest.raises(en.Corrupt):  # a refund short of what was paid
        en.evolve(config, state, e.Unseated(seat=0, user=1, cashout=100))
    with pytest.raises(en.Corrupt):  # started with a free seat
        en.evolve(config, state, e.SitAndGoStarted(at=0.0))
    with pytest.raises(en.Corrupt):  # nobody is out of chips
        en.evolve(config, state, e.Busted(seat=0, place=2))
    cash = GAME.check_options(2, {})
    plain = en.TableConfig(id="g1-2", game=GAME, seats=2, options=cash, seed=1)
    with pytest.raises(en.Corrupt):  # a cash table has no tournament entries
        en.evolve(plain, en.new_state(plain), e.Seated(seat=0, user=1, name="ann", stack=200, paid=110))


def test_closing_a_running_sit_and_go_refunds_every_entry() -> None:
    table = make_table(seats=2)
    join(table, ANN)
    join(table, BOB)
    closed = table.close("admin", 1.0)
    assert sorted(closed.chips) == [(ANN.user, 110), (BOB.user, 110)] and en.chips_on_table(table.state) == 0


def test_each_hand_exports_its_level_s_blinds_and_replays_in_pokerkit() -> None:
    """A tournament's hands are finished games like a cash table's; their PHH posts the blinds of the
    level the hand was dealt at (hands all in on the blinds included), and pokerkit agrees on the end."""
    import pokerkit

    from common import history as ch
    from gameserver import history

    table = make_table(seats=3, seed=5)
    join(table, ANN)
    records = []
    for _ in range(2):
        table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.connection_lost(ANN.conn, 0.0)
    now = 0.0
    while not table.over:
        now = max(now, table.wake_at() or now)
        result = table.tick(now)
        if result.finished is not None:
            records.append(result.finished)
    levels = set()
    for record in records:
        assert record.deal is not None and isinstance(record.deal[1], e.HandDealt)
        blinds = record.deal[1].blinds
        assert blinds is not None
        levels.add(tuple(blinds))
        stored = history.build(table.config, record).replay
        phh = ch.phh_for(stored, ch.FULL)
        assert phh is not None and f"blinds_or_straddles = [{blinds[0]}, {blinds[1]}" in phh
        hh = pokerkit.HandHistory.loads(phh)
        state = None
        for state in hh:  # noqa: B007 (the last state is the hand's end)
            pass
        assert state is not None and hh.finishing_stacks == list(state.stacks), phh
    assert len(levels) >= 2, "the blinds rose during the tournament"
    assert any(not any(isinstance(x, e.Acted) for x in r.entries) for r in records), \
        "(this seed has) a hand all in on the blinds, ended and recorded at its deal"


def test_a_snapshot_round_trip_keeps_the_tournament() -> None:
    table = make_table(seats=2)
    join(table, ANN)
    join(table, BOB, now=7.0)
    restored = en.restore(table.config, en.snapshot(table.state))
    assert restored == table.state and restored.tourney is not None and restored.tourney.started_at == 7.0


def test_a_registrant_away_past_the_grace_period_is_refunded_before_the_start_not_after() -> None:
    table = make_table(seats=3)
    join(table, ANN)
    join(table, BOB)
    table.connection_lost(BOB.conn, 0.0)
    grace = table.grace_period
    refunded = table.tick(grace + 1)
    assert refunded.chips == [(BOB.user, 110)] and table.seats[1] is None
    join(table, BOB, now=grace + 2)
    join(table, CID, now=grace + 2)  # full: it starts
    table.connection_lost(CID.conn, grace + 2)
    later = table.tick(2 * grace + 10)
    assert later.chips == [] and table.seats[2] is not None, "after the start the seat and stack stay"
    assert table.seats[2].away or table.tourney.places.get(2) is not None
