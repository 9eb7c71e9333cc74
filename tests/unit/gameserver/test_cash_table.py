"""The Hold'em cash table: buy-ins, hand after hand, the button, standing up, chips conserved, replay."""

from __future__ import annotations

import json
import random
from collections.abc import Callable

import pytest

from common import protocol as p
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.holdem import GAME
from gameserver.table import Result, Sender, rebuild
from tests.unit.gameserver.frames import narrow
from tests.unit.gameserver.recording import RecordingCashTable

ANN, BOB, CID = Sender("rt:1", 1, "ann"), Sender("rt:2", 2, "bob"), Sender("rt:3", 3, "cid")
OPTIONS = GAME.check_options(4, {"small_blind": 10, "big_blind": 20, "min_buy_in": 200, "max_buy_in": 2000})


def make_table(seed: int = 5) -> RecordingCashTable:
    table = RecordingCashTable("g1-0001", GAME, seats=4, options=OPTIONS, creator=ANN.user, seed=seed,
                               bot_delay=0.1, hand_pause=1.0, bot_rng=random.Random(seed))
    table.journal = []
    return table


def errors(result: Result) -> list[p.Error]:
    return [m for m in (p.decode_server(o.frame) for o in result.out) if isinstance(m, p.Error)]


def run_until(table: RecordingCashTable, stop: Callable[..., bool], now: float = 0.0,
              limit: int = 20000) -> float:
    ledger: list[tuple[int, int]] = []
    for _ in range(limit):
        if stop():
            return now
        when = table.wake_at()
        assert when is not None, "the table stalled"
        now = max(now, when)
        ledger.extend(table.tick(now).chips)
    raise AssertionError("did not happen in time")


def test_buy_in_limits_and_the_ledger() -> None:
    table = make_table()
    with pytest.raises(Exception, match="between 200 and 2000"):
        table.buy_in_for(p.Join(table=table.id, buy_in=50), balance=10_000)
    with pytest.raises(Exception, match="you have 100 chips"):
        table.buy_in_for(p.Join(table=table.id, buy_in=500), balance=100)
    assert table.buy_in_for(p.Join(table=table.id), balance=10_000) == 200  # default: the minimum
    result = table.handle(ANN, p.Join(table=table.id, buy_in=500), 1, 0.0)
    assert result.chips == [(1, -500)] and narrow(table.seats[0], en.SeatState).stack == 500
    refused = table.handle(BOB, p.Join(table=table.id), 1, 0.0)  # the server always fills buy_in in
    assert errors(refused)[0].code == p.E_BAD_FIELD and refused.chips == []


def test_hands_follow_each_other_and_the_button_moves() -> None:
    table = make_table()
    table.handle(ANN, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    start = table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    assert errors(start)[0].code == p.E_NOT_STARTED
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.Leave(table=table.id), 1, 0.0)  # between hands: stands up at once
    assert table.seats[0] is None
    table.handle(ANN, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    assert table.in_hand() and table.hand_no == 1
    buttons = [table.button]
    total = en.chips_on_table(table.state)
    assert total == 1000 + 2 * 200  # the bots bought in with the minimum, from the house
    ann_conn_gone = table.connection_lost(ANN.conn, 0.0)  # a bot covers ANN from now on
    assert ann_conn_gone.out == [] or all(o.conns for o in ann_conn_gone.out)
    for n in range(2, 6):
        run_until(table, lambda n=n: table.hand_no == n or len(en.funded(table.state)) < 2)
        if table.hand_no != n:
            break
        buttons.append(table.button)
        assert en.chips_on_table(table.state) == total, "chips on the table are conserved"
    assert len(set(buttons)) > 1, "the button moves"


def test_standing_up_mid_hand_waits_for_the_end_and_cashes_out() -> None:
    table = make_table()
    table.handle(ANN, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(CID, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    left = table.handle(BOB, p.Leave(table=table.id), 1, 0.0)
    assert left.chips == [] and table.seats[1] is not None and table.seats[1].leaving
    for who in (ANN, CID):  # let bots finish the hand for everyone
        table.connection_lost(who.conn, 0.0)
    cashed: list[tuple[int, int]] = []
    now = 0.0
    for _ in range(500):
        if table.seats[1] is None:
            break
        when = table.wake_at()
        assert when is not None
        now = max(now, when)
        cashed.extend(table.tick(now).chips)
    assert table.seats[1] is None
    assert cashed and cashed[0][0] == BOB.user and cashed[0][1] >= 0
    assert sum(table.stacks()) + cashed[0][1] == 3000


def test_replay_rebuilds_a_hand_in_progress() -> None:
    table = make_table()
    table.handle(ANN, p.Join(table=table.id, buy_in=800), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id, buy_in=900), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    rng = random.Random(2)
    for _ in range(3):
        if not table.in_hand():
            break  # a fold can end the hand: the replay must rebuild that too
        seat = GAME.to_act(table.game_state)[0]
        action = GAME.bot_move(table.game_state, seat, rng)
        table.handle((ANN, BOB)[seat], p.Act(table=table.id, action=action), 1, 0.0)
    copy = make_table()
    stored = [e.from_builtins(json.loads(json.dumps(e.to_builtins(x)))) for x in table.journal]
    rebuild(copy, en.new_state(copy.config), stored)
    assert copy.state == table.state and copy.stacks() == table.stacks() and copy.button == table.button
    assert [s.stack if s else None for s in copy.seats] == [s.stack if s else None for s in table.seats]


def test_after_the_grace_period_an_absent_player_is_stood_up_with_the_stack_returned() -> None:
    table = make_table()
    table.grace_period = 30.0
    table.handle(ANN, p.Join(table=table.id, buy_in=700), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id, buy_in=900), 1, 0.0)
    table.connection_lost(BOB.conn, 5.0)  # between hands: nothing to finish first
    assert table.wake_at() == pytest.approx(35.0)
    result = table.tick(35.0)
    assert table.seats[1] is None and result.chips == [(BOB.user, 900)]
    assert e.Unseated(seat=1, user=BOB.user, cashout=900) in result.log


def test_a_bot_standing_in_for_a_leaving_player_only_checks_or_folds() -> None:
    """Stand up mid-hand: the seat is marked leaving in everyone's view, and until the hand ends the bot
    that covers it never puts chips in for the player (check when free, else fold)."""
    table = make_table(seed=11)
    table.handle(ANN, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(CID, p.Join(table=table.id, buy_in=1000), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    left = table.handle(BOB, p.Leave(table=table.id), 1, 0.0)
    views = [m for m in (p.decode_server(o.frame) for o in left.out) if isinstance(m, p.View)]
    assert views and all(v.leaving == [1] and v.away == [1] for v in views)
    for who in (ANN, CID):
        table.connection_lost(who.conn, 0.0)
    start = len(table.journal)
    run_until(table, lambda: table.seats[1] is None)
    bob_moves = [x.action for x in table.journal[start:] if isinstance(x, e.Acted) and x.seat == 1]
    others = [x.action for x in table.journal[start:] if isinstance(x, e.Acted) and x.seat != 1]
    assert others, "the others played the hand out"
    assert all(isinstance(a, (p.Check, p.Fold)) for a in bob_moves), bob_moves
