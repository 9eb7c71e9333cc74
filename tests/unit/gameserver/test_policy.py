"""The table policy, rule by rule, with the clock injected: time banks (drawn once the turn clock runs
out, refilled per hand or deal up to a cap), the disconnection bank, away after time-outs, the time-out
move of each game, sitting out at match and cash tables (dealt out, no blinds, stood up after the
limit), and top-ups and rebuys within the table's limits. Every change is a log entry: a table rebuilt
from its log has the same banks and sit-out state."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from typing import Any

import msgspec
import pytest

from common import protocol as p
from common.policy import TablePolicy, policy_problem
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules import games, holdem
from gameserver.rules.hearts_events import DealStarted
from gameserver.table import Refused, Result, Sender, rebuild
from gameserver.table_types import Outbound
from tests.unit.gameserver.frames import narrow
from tests.unit.gameserver.recording import RecordingCashTable, RecordingTable

ANN, BOB, CID, DEE = (Sender(f"rt:{i}", i, n) for i, n in enumerate(("ann", "bob", "cid", "dee"), 1))
PEOPLE = (ANN, BOB, CID, DEE)
GAMES = games()
HOLDEM = holdem.GAME
CASH_OPTIONS = HOLDEM.check_options(4, {"small_blind": 10, "big_blind": 20, "min_buy_in": 200,
                                        "max_buy_in": 2000})
#: Only what a test is about: no time bank, no disconnection bank, unless the test sets one.
PLAIN = TablePolicy(time_bank=0, bank_refill=0, disconnect_bank=0)


def match(game: str = "crazy_eights", seats: int = 2, clock: float | None = 10.0,
          policy: TablePolicy = PLAIN, people: int | None = None) -> RecordingTable:
    rules = GAMES[game]
    table = RecordingTable("g1-0001", rules, seats=seats, options=rules.check_options(seats, {}),
                           creator=ANN.user, seed=7, clock=clock, bot_delay=0.5, policy=policy,
                           bot_rng=random.Random(1))
    table.journal = []
    for who in PEOPLE[:seats if people is None else people]:
        table.handle(who, p.Join(table=table.id), 1, 0.0)
    while any(s is None for s in table.seats):
        table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    return table


def cash(policy: TablePolicy = PLAIN, people: int = 2, stack: int = 500) -> RecordingCashTable:
    table = RecordingCashTable("g1-0001", HOLDEM, seats=4, options=CASH_OPTIONS, creator=ANN.user, seed=5,
                               bot_delay=0.1, hand_pause=1.0, policy=policy, bot_rng=random.Random(5))
    table.journal = []
    for who in PEOPLE[:people]:
        table.handle(who, p.Join(table=table.id, buy_in=stack), 1, 0.0)
    return table


def mover(table: RecordingTable | RecordingCashTable) -> tuple[Sender, int]:
    seat = table.state.to_act[0]
    occupant = narrow(table.seats[seat], en.SeatState)
    return next(w for w in PEOPLE if w.user == occupant.user), seat


def seat_state(table: RecordingTable | RecordingCashTable, seat: int) -> en.SeatState:
    return narrow(table.seats[seat], en.SeatState)


def act(table: RecordingTable | RecordingCashTable, action: p.Action, now: float) -> Result:
    who, _ = mover(table)
    return table.handle(who, p.Act(table=table.id, action=action, seq=table.seq), 1, now)


def views(result: Result) -> list[p.View]:
    return [m for m in (p.decode_server(o.frame) for o in result.out) if isinstance(m, p.View)]


def errors(result: Result) -> list[p.Error]:
    return [m for m in (p.decode_server(o.frame) for o in result.out) if isinstance(m, p.Error)]


def run_until(table: RecordingTable | RecordingCashTable, stop: Callable[[], bool], now: float = 0.0,
              limit: int = 5000) -> float:
    for _ in range(limit):
        if stop():
            return now
        when = table.wake_at()
        assert when is not None, f"the table stalled: {table.state!r}"
        now = max(now, when)
        table.tick(now)
    raise AssertionError("did not happen in time")


def replayed_state(table: RecordingTable | RecordingCashTable) -> en.TableState:
    """The state folded from `table`'s log as stored (JSON) and read back: what recovery rebuilds."""
    stored = [e.from_builtins(json.loads(json.dumps(e.to_builtins(x)))) for x in table.journal]
    return en.fold(table.config, en.new_state(table.config), stored)


# ---- the policy itself ----------------------------------------------------------------------------


def test_the_policy_has_defaults_and_refuses_what_is_out_of_range() -> None:
    assert TablePolicy() == TablePolicy(time_bank=30, bank_refill=5, bank_max=60, disconnect_bank=30,
                                        grace=120, away_after=2, sit_out_max=600)
    with pytest.raises(msgspec.ValidationError, match="<= 600"):
        msgspec.convert({"time_bank": 10_000}, TablePolicy)
    with pytest.raises(msgspec.ValidationError, match=">= 1"):
        msgspec.convert({"away_after": 0}, TablePolicy)
    with pytest.raises(msgspec.ValidationError, match="unknown field"):
        msgspec.convert({"time_bonk": 3}, TablePolicy)
    assert policy_problem(TablePolicy(time_bank=61, bank_max=60)) is not None
    decoded = p.decode_client('{"msg": "create_table", "game": "holdem", "seats": 2, "policy": {"grace": 5}}')
    assert narrow(decoded, p.CreateTable).policy == TablePolicy(grace=5)


def test_the_policy_and_the_banks_are_in_every_view_and_the_table_info() -> None:
    table = match(policy=TablePolicy(time_bank=20, bank_refill=5, bank_max=40))
    assert table.info().policy == table.policy
    result = table.handle(ANN, p.Resume(table=table.id), 1, 1.0)
    view = views(result)[0]
    assert view.policy == table.policy and view.time_banks == [25.0, 25.0]  # 20, and 5 for the deal
    _, seat = mover(table)
    assert view.deadline == 10.0 and view.bank_ends == {seat: 35.0}


# ---- time bank --------------------------------------------------------------------------------------


def test_the_time_bank_is_drawn_once_the_turn_clock_runs_out_and_charged_once_per_turn() -> None:
    table = match(policy=TablePolicy(time_bank=20, bank_refill=0, disconnect_bank=0))
    who, seat = mover(table)
    assert table.tick(10.0).log == [], "the clock has run out, the time bank has not"
    assert table.wake_at() == pytest.approx(30.0)
    drew = act(table, p.Draw(), 15.0)
    assert drew.log[0] == e.Banked(seat=seat, time=5.0) and isinstance(drew.log[1], e.Acted)
    assert seat_state(table, seat).bank == 15.0
    if table.state.to_act == (seat,):  # a draw leaves the turn open: the rest of it is drawn, not 5 s again
        legal = table.game.legal_moves(table.game_state, seat)
        ended = act(table, next((m for m in legal if not isinstance(m, p.Draw)), legal[0]), 18.0)
        assert ended.log[0] == e.Banked(seat=seat, time=3.0)
        assert seat_state(table, seat).bank == 12.0
    assert replayed_state(table) == table.state


def test_the_clock_acts_when_the_time_bank_is_used_up() -> None:
    table = match(policy=TablePolicy(time_bank=20, bank_refill=0, disconnect_bank=0, away_after=10))
    _, seat = mover(table)
    result = table.tick(30.0)
    assert result.log[0] == e.Banked(seat=seat, time=20.0)
    clock_moves = [x for x in result.log if isinstance(x, e.Acted)]
    assert clock_moves and all(x.by == "clock" and x.seat == seat for x in clock_moves)
    assert seat_state(table, seat).bank == 0.0
    # the seat's next turn: nothing left in the bank, so the clock acts at the deadline itself
    run_until(table, lambda: table.state.to_act == (seat,), 30.0)
    assert table.wake_at() == table.deadline


def test_time_banks_refill_every_hand_up_to_the_cap() -> None:
    policy = TablePolicy(time_bank=10, bank_refill=4, bank_max=16)
    config = en.TableConfig(id="t", game=HOLDEM, seats=2, options=CASH_OPTIONS, seed=3, policy=policy)
    state = en.fold(config, en.new_state(config), [
        e.Seated(seat=0, user=1, name="ann", stack=500), e.Seated(seat=1, user=2, name="bob", stack=500)])
    assert [s.bank for s in state.seats if s] == [10.0, 10.0]
    banks = []
    for n in (1, 2, 3):
        stacks = [s.stack for s in state.seats if s]
        state, _ = en.evolve(config, state, e.HandDealt(n=n, stacks=stacks, button=n % 2))
        banks.append(narrow(state.seats[0], en.SeatState).bank)
        state, _ = en.evolve(config, state, e.Acted(seat=state.to_act[0], action=p.Fold()))
    assert banks == [14.0, 16.0, 16.0]


def test_time_banks_refill_at_each_deal_of_a_hearts_match() -> None:
    from gameserver import policy as pol

    assert pol.new_deal([DealStarted(None, 2, "right")])
    table = match("hearts", seats=4, clock=None, people=1, policy=TablePolicy(time_bank=20, bank_refill=5))
    table.handle(ANN, p.SitOut(table=table.id), 1, 0.0)  # a bot plays her cards: the deals go by
    assert seat_state(table, 0).bank == 25.0  # 20, and 5 for the first deal
    first = table.state.game.deal_number
    run_until(table, lambda: table.state.game.deal_number == first + 1)
    assert seat_state(table, 0).bank == 30.0


# ---- disconnection bank -------------------------------------------------------------------------------


def test_a_disconnected_players_turn_waits_for_their_disconnection_bank_then_a_bot_plays() -> None:
    table = match(clock=None, policy=TablePolicy(disconnect_bank=20, time_bank=0, bank_refill=0))
    who, seat = mover(table)
    table.connection_lost(who.conn, 0.0)
    assert table.wake_at() == pytest.approx(20.0)
    assert table.tick(19.0).log == []
    result = table.tick(20.0)
    assert result.log[0] == e.Banked(seat=seat, disconnect=20.0)
    assert isinstance(result.log[1], e.Acted) and narrow(result.log[1], e.Acted).by == "bot"
    assert seat_state(table, seat).dbank == 0.0
    other = next(w for w in (ANN, BOB) if w != who)
    table.connection_lost(other.conn, 20.0)  # from now on bots play both seats
    # used up: from now on a bot plays their turns after the usual bot delay
    now = run_until(table, lambda: table.state.to_act == (seat,), 20.0)
    wake = table.wake_at()
    assert wake is not None and wake <= now + table.bot_delay


def test_coming_back_during_the_wait_draws_only_the_time_waited() -> None:
    table = match(clock=None, policy=TablePolicy(disconnect_bank=20, time_bank=0, bank_refill=0))
    who, seat = mover(table)
    table.connection_lost(who.conn, 0.0)
    back = table.handle(who, p.Resume(table=table.id, last_seq=table.seq), 1, 12.0)
    assert back.log == [e.Banked(seat=seat, disconnect=12.0)]
    assert seat_state(table, seat).dbank == 8.0
    assert table.tick(30.0).log == [], "connected again: no bot plays for them"
    assert replayed_state(table) == table.state


# ---- time-outs and bots -------------------------------------------------------------------------------


@pytest.mark.parametrize("game", ["crazy_eights", "hearts", "holdem"])
def test_on_time_out_each_game_makes_its_own_move(game: str) -> None:
    """Crazy Eights: draw, else pass; Hearts: the lowest legal card (the three highest when passing);
    Hold'em: check, else fold."""
    if game == "holdem":
        table: RecordingTable | RecordingCashTable = cash(people=2)
        table.clock = 10.0
        table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    else:
        table = match(game, seats=4 if game == "hearts" else 2, people=4 if game == "hearts" else 2)
    _, seat = mover(table)
    expected = table.game.timeout_move(table.game_state, seat)
    if game == "holdem":
        assert isinstance(expected, (p.Check, p.Fold))
    result = table.tick(10.0)
    first = narrow(result.log[0], e.Acted)
    assert (first.seat, first.action, first.by) == (seat, expected, "clock")


def test_after_away_after_time_outs_a_bot_takes_the_seat_marked_away_for_everyone() -> None:
    table = match(policy=msgspec.structs.replace(PLAIN, away_after=1))
    _, seat = mover(table)
    result = table.tick(10.0)
    assert seat_state(table, seat).away
    assert all(v.away == [seat] and seat in v.bots for v in views(result))
    patient = match(policy=msgspec.structs.replace(PLAIN, away_after=3))
    _, seat = mover(patient)
    patient.tick(10.0)
    assert not seat_state(patient, seat).away and seat_state(patient, seat).timeouts >= 1


# ---- sitting out ------------------------------------------------------------------------------------


def test_sitting_out_of_a_match_lets_a_bot_play_until_the_player_sits_in() -> None:
    early = RecordingTable("g1-0002", GAMES["crazy_eights"], seats=2, options={}, creator=1, seed=1)
    early.journal = []
    early.handle(ANN, p.Join(table=early.id), 1, 0.0)
    assert errors(early.handle(ANN, p.SitOut(table=early.id), 1, 0.0))[0].code == p.E_NOT_STARTED
    table = match(clock=10.0)
    out = table.handle(ANN, p.SitOut(table=table.id), 1, 1.0)
    assert out.log == [e.SatOut(seat=0), e.Away(seat=0)]
    assert all(v.away == [0] and v.sitting_out == [0] for v in views(out))
    run_until(table, lambda: any(isinstance(x, e.Acted) and x.seat == 0 and x.by == "bot"
                                 for x in table.journal), 1.0)
    again = table.handle(ANN, p.Resume(table=table.id), 1, 50.0)
    assert again.log == [] and seat_state(table, 0).away, "a reload does not end sitting out"
    back = table.handle(ANN, p.SitIn(table=table.id), 1, 51.0)
    assert back.log == [e.SatIn(seat=0), e.Back(seat=0)] and not seat_state(table, 0).away
    assert replayed_state(table) == table.state


def test_a_cash_player_sitting_out_is_dealt_out_and_pays_no_blinds_until_back() -> None:
    table = cash(people=3)
    for who in (ANN, BOB, CID):
        table.connection_lost(who.conn, 0.0)  # bots play everyone's turns (no disconnection bank)
    table.grace_period = 10_000.0
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    sat = table.handle(BOB, p.SitOut(table=table.id), 1, 0.0)
    assert sat.log == [e.SatOut(seat=1)], "sitting out mid-hand: the hand is played out first"
    assert all(v.sitting_out == [1] for v in views(sat))
    now = run_until(table, lambda: table.hand_no == 2)
    bob_stack = seat_state(table, 1).stack
    for _ in range(3):  # hands without him: never dealt in, never a blind
        hand = table.hand_no
        assert HOLDEM.dealt_in(table.game_state)[1] is False
        dealt = [x for x in table.journal if isinstance(x, e.HandDealt)][-1]
        assert dealt.stacks[1] == 0
        def next_hand(hand: int = hand) -> bool:
            return table.hand_no == hand + 1 or len(en.funded(table.state)) < 2

        now = run_until(table, next_hand, now)
        assert seat_state(table, 1).stack == bob_stack
        if len(en.funded(table.state)) < 2:
            break
    table.handle(BOB, p.SitIn(table=table.id), 1, now)
    hand = table.hand_no
    run_until(table, lambda: table.hand_no > hand and table.in_hand(), now)
    assert HOLDEM.dealt_in(table.game_state)[1] is True
    assert replayed_state(table) == table.state


def test_sitting_out_past_the_limit_stands_the_player_up_with_the_stack_returned() -> None:
    table = cash(policy=msgspec.structs.replace(PLAIN, sit_out_max=60), people=2, stack=700)
    table.handle(BOB, p.SitOut(table=table.id), 1, 5.0)
    assert table.wake_at() == pytest.approx(65.0)
    assert table.tick(64.0).log == []
    result = table.tick(65.0)
    assert result.log == [e.Unseated(seat=1, user=BOB.user, cashout=700)]
    assert result.chips == [(BOB.user, 700)]
    assert table.seats[1] is None
    back_in_time = cash(policy=msgspec.structs.replace(PLAIN, sit_out_max=60), people=2)
    back_in_time.handle(BOB, p.SitOut(table=back_in_time.id), 1, 5.0)
    back_in_time.handle(BOB, p.SitIn(table=back_in_time.id), 1, 30.0)
    assert back_in_time.tick(65.0).log == [] and back_in_time.seats[1] is not None


def test_who_sits_out_is_rebuilt_after_a_restart_and_gets_the_limit_again() -> None:
    table = cash(policy=msgspec.structs.replace(PLAIN, sit_out_max=60), people=2)
    table.handle(BOB, p.SitOut(table=table.id), 1, 5.0)
    copy = cash(policy=table.policy, people=0)
    rebuild(copy, en.new_state(copy.config), [e.from_builtins(e.to_builtins(x)) for x in table.journal])
    copy.recovered(100.0, hold=10.0)
    assert copy.state == table.state and seat_state(copy, 1).sitting_out
    assert copy.sat_out_since == {1: 100.0}


# ---- top-up and rebuy ---------------------------------------------------------------------------------


def refusal(call: Callable[[], Any]) -> Refused:
    with pytest.raises(Refused) as caught:
        call()
    return caught.value


def test_top_ups_between_hands_within_the_limits_and_the_balance() -> None:
    table = cash(people=2, stack=500)
    top = p.TopUp(table=table.id, amount=1500)
    assert table.top_up_for(ANN, top, balance=1500) == 1500
    over = refusal(lambda: table.top_up_for(ANN, p.TopUp(table=table.id, amount=1600), balance=10_000))
    assert over.code == p.E_BAD_FIELD and "200–2000" in over.text and "add 1–1500" in over.text
    poor = refusal(lambda: table.top_up_for(ANN, top, balance=900))
    assert poor.code == p.E_INSUFFICIENT_CHIPS and "you have 900 chips" in poor.text
    assert refusal(lambda: table.top_up_for(CID, top, balance=10_000)).code == p.E_NOT_SEATED
    result = table.handle(ANN, top, 1, 0.0)
    assert result.log == [e.ToppedUp(seat=0, user=ANN.user, amount=1500)]
    assert result.chips == [(ANN.user, -1500)]
    assert seat_state(table, 0).stack == 2000
    full = refusal(lambda: table.top_up_for(ANN, p.TopUp(table=table.id, amount=1), balance=10_000))
    assert "maximum" in full.text
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    mid = table.handle(BOB, p.TopUp(table=table.id, amount=100), 1, 0.0)
    assert errors(mid)[0].code == p.E_ALREADY_STARTED and mid.log == [] and mid.chips == []
    assert replayed_state(table) == table.state


def test_a_rebuy_brings_an_empty_stack_to_at_least_the_minimum() -> None:
    table = cash(people=2, stack=500)
    busted = msgspec.structs.replace(seat_state(table, 1), stack=0)  # as a player who lost every chip
    table.state = msgspec.structs.replace(table.state, seats=(table.seats[0], busted, None, None))
    short = refusal(lambda: table.top_up_for(BOB, p.TopUp(table=table.id, amount=100), balance=10_000))
    assert "add 200–2000" in short.text
    result = table.handle(BOB, p.TopUp(table=table.id, amount=200), 1, 0.0)
    assert result.chips == [(BOB.user, -200)] and seat_state(table, 1).stack == 200


def test_top_ups_are_for_cash_tables_only() -> None:
    table = match(clock=None)
    refused = table.handle(ANN, p.TopUp(table=table.id, amount=100), 1, 0.0)
    assert errors(refused)[0].code == p.E_BAD_TABLE and refused.log == []


def test_a_top_up_in_the_middle_of_its_hand_is_a_corrupt_log() -> None:
    table = cash(people=2)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    with pytest.raises(en.Corrupt):
        en.evolve(table.config, table.state, e.ToppedUp(seat=0, user=ANN.user, amount=100))


def test_chip_moves_of_the_policy_entries() -> None:
    assert e.chip_move(e.ToppedUp(seat=0, user=4, amount=300)) == (4, -300)
    assert e.chip_move(e.Banked(seat=0, time=3.0)) is None and e.chip_move(e.SatOut(seat=0)) is None
    out = Outbound(["rt:1"], "{}")
    assert Result(out=[out], log=[e.ToppedUp(seat=0, user=4, amount=300)]).chips == [(4, -300)]


def test_before_a_hand_over_what_the_turn_drew_is_written_and_the_next_owner_carries_on() -> None:
    table = match(policy=TablePolicy(time_bank=20, bank_refill=0, disconnect_bank=0))
    _, seat = mover(table)
    assert not table.banks_running(9.0)
    assert table.banks_running(16.0)
    settled = table.settle_banks(16.0)
    table.journal.extend(settled.log)
    assert settled.log == [e.Banked(seat=seat, time=6.0)] and seat_state(table, seat).bank == 14.0
    assert table.settle_banks(16.0).log == [], "drawn once"
    # the next owner: the log as stored, the turn clock as it was (run out), the bank as left
    copy = RecordingTable("g1-0001", table.game, seats=2, options=table.options, creator=ANN.user, seed=7,
                          clock=10.0, bot_delay=0.5, policy=table.policy)
    copy.journal = []
    rebuild(copy, en.new_state(copy.config), [e.from_builtins(e.to_builtins(x)) for x in table.journal])
    copy.recovered(100.0, hold=0.0)
    copy.restore_clock(100.0, 0.0)
    assert copy.state == table.state
    who, _ = mover(copy)
    copy.handle(who, p.Resume(table=copy.id, last_seq=copy.seq), 1, 100.0)  # the player follows the table
    assert copy.wake_at() == pytest.approx(114.0), "the clock acts once the 14 s left are used"
