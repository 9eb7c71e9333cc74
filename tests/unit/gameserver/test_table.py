"""The table host: validation order, per-viewer frames, bots, the clock, resume and replay."""

from __future__ import annotations

import json
import random
from typing import Any

import msgspec
import pytest

from common import protocol as p
from common.cards import sort_hand
from common.policy import DEFAULT, TablePolicy
from common.views import CrazyEightsView
from gameserver import engine as en
from gameserver import entries as e
from gameserver.rules.crazy_eights import GAME
from gameserver.table import Sender, rebuild
from tests.unit.gameserver.frames import frames, narrow
from tests.unit.gameserver.recording import RecordingTable

ANN, BOB, CID = Sender("rt:1", 1, "ann"), Sender("rt:2", 2, "bob"), Sender("rt:3", 3, "cid")
#: No time bank and no disconnection bank: the turn clock and the bots alone, as before table policies.
NO_BANKS = TablePolicy(time_bank=0, bank_refill=0, disconnect_bank=0)


def make_table(seats: int = 2, clock: float | None = None, seed: int = 7,
               policy: TablePolicy = DEFAULT) -> RecordingTable:
    table = RecordingTable("g1-0001", GAME, seats=seats, options=GAME.check_options(seats, {}),
                           creator=ANN.user, seed=seed, clock=clock, bot_delay=0.5, bot_rng=random.Random(1),
                           policy=policy)
    table.journal = []
    return table


def replayed(table: RecordingTable, entries: list[e.AnyEntry] | None = None) -> RecordingTable:
    """A new table rebuilt from `table`'s log, stored as JSON and read back."""
    copy = make_table(table.config.seats, table.clock, table.config.seed, table.policy)
    stored = [e.from_builtins(json.loads(json.dumps(e.to_builtins(x)))) for x in (entries or table.journal)]
    rebuild(copy, en.new_state(copy.config), stored)
    return copy


def started(seats: int = 2, **kw: Any) -> RecordingTable:
    table = make_table(seats, **kw)
    for who in (ANN, BOB, CID)[:seats]:
        table.handle(who, p.Join(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 2, 0.0)
    return table


def mover(table: RecordingTable) -> Sender:
    return (ANN, BOB, CID)[GAME.to_act(table.game_state)[0]]


def test_seats_fill_in_order_and_refuse_when_full() -> None:
    table = make_table(2)
    acks = [narrow(frames(table.handle(w, p.Join(table=table.id, req=5), 1, 0.0), w.conn)[0], p.Ack)
            for w in (ANN, BOB)]
    assert [(a.seat, a.req) for a in acks] == [(0, 5), (1, 5)]
    full = frames(table.handle(CID, p.Join(table=table.id, req=6), 1, 0.0), CID.conn)
    assert isinstance(full[0], p.Error) and full[0].code == p.E_TABLE_FULL and full[0].req == 6


def test_start_needs_every_seat_and_a_seated_player() -> None:
    table = make_table(3)
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    err = frames(table.handle(ANN, p.Start(table=table.id), 1, 0.0), ANN.conn)[0]
    assert isinstance(err, p.Error) and err.code == p.E_NOT_STARTED and "2 seat" in err.text
    err = frames(table.handle(BOB, p.Start(table=table.id), 1, 0.0), BOB.conn)[0]
    assert isinstance(err, p.Error) and err.code == p.E_NOT_SEATED


def test_only_the_creator_adds_bots() -> None:
    table = make_table(3)
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    table.handle(BOB, p.Join(table=table.id), 1, 0.0)
    err = frames(table.handle(BOB, p.AddBot(table=table.id), 1, 0.0), BOB.conn)[0]
    assert isinstance(err, p.Error) and err.code == p.E_NOT_CREATOR
    ack = frames(table.handle(ANN, p.AddBot(table=table.id), 1, 0.0), ANN.conn)[0]
    assert isinstance(ack, p.Ack) and ack.seat == 2 and table.players()[2] == "Bot 1"


def test_each_seat_gets_only_its_own_hand() -> None:
    table = started(2)
    result = table.handle(ANN, p.Resume(table=table.id), 3, 0.0)
    view = next(m for m in frames(result, ANN.conn) if isinstance(m, p.View))
    assert isinstance(view.view, CrazyEightsView) and view.view.hand is not None
    assert view.seat == 0 and view.view.hand == sort_hand(table.game_state.hands[0])
    bob_hand = narrow(GAME.view(table.game_state, 1), CrazyEightsView).hand
    assert bob_hand and not set(bob_hand) & set(view.view.hand)
    text = msgspec.json.encode(view.view).decode() + json.dumps(view.events)
    assert not any(f'"{card}"' in text for card in bob_hand)


def test_refusals_come_in_order_and_change_nothing() -> None:
    table = started(2)
    seq, log_len, state, conns = table.seq, len(table.journal), table.state, dict(table.conns)
    other = BOB if mover(table) is ANN else ANN
    cases = [
        (CID, p.Act(table=table.id, action=p.Draw(), req=1), p.E_NOT_SEATED),
        (other, p.Act(table=table.id, action=p.Draw(), req=2), p.E_NOT_YOUR_TURN),
        (mover(table), p.Act(table=table.id, action=p.Draw(), seq=seq - 1, req=3), p.E_STALE),
        (mover(table), p.Act(table=table.id, action=p.PassTurn(), req=4), p.E_ILLEGAL_MOVE),
        (mover(table), p.Act(table=table.id, action=p.Play(card="ZZ"), req=5), p.E_ILLEGAL_MOVE),
        # the mover on a second connection: refused, and the seat stays with the first connection
        (Sender("rt:9", mover(table).user, "x"), p.Act(table=table.id, action=p.PassTurn(), req=6),
         p.E_ILLEGAL_MOVE),
    ]
    for who, req, code in cases:
        result = table.handle(who, req, 9, 1.0)
        [err] = frames(result, who.conn)
        assert isinstance(err, p.Error) and err.code == code and err.req == req.req, (code, err)
        assert result.log == [] and len(result.out) == 1
    assert (table.seq, len(table.journal), table.state, table.conns) == (seq, log_len, state, conns)


def test_a_move_from_a_second_connection_takes_the_seat_and_tells_the_first() -> None:
    table = started(2)
    who = mover(table)
    again = Sender("rt:9", who.user, who.name)
    result = table.handle(again, p.Act(table=table.id, action=p.Draw(), seq=table.seq, req=7), 5, 1.0)
    assert isinstance(frames(result, "rt:9")[0], p.Ack)
    [notice] = [o for o in result.out if o.conns == [who.conn]]
    assert notice.close and narrow(p.decode_server(notice.frame), p.Error).code == p.E_REPLACED
    seat = table.seat_of(who.user)
    assert seat is not None and table.conns[seat] == "rt:9"


def test_a_move_acks_first_then_every_seat_gets_a_view() -> None:
    table = started(2)
    who = mover(table)
    result = table.handle(who, p.Act(table=table.id, action=p.Draw(), seq=table.seq, req=4), 11, 1.0)
    mine = frames(result, who.conn)
    assert isinstance(mine[0], p.Ack) and mine[0].req == 4 and result.out[0].rid == 11
    assert isinstance(mine[1], p.View) and mine[1].seq == table.seq
    drew = [e for e in mine[1].events if e["kind"] == "drew"]
    assert drew and "card" in drew[0]
    other = BOB if who is ANN else ANN
    theirs = [m for m in frames(result, other.conn) if isinstance(m, p.View)]
    assert theirs and all("card" not in e for e in theirs[0].events if e["kind"] == "drew")


def test_at_protocol_2_the_movers_view_is_the_answer_and_no_ack_is_sent() -> None:
    table = started(2)
    who = mover(table)
    folding = Sender(who.conn, who.user, who.name, fold=True)
    act = p.Act(table=table.id, action=p.Draw(), seq=table.seq, req=4)
    result = table.handle(folding, act, 11, 1.0)
    [answer] = [o for o in result.out if who.conn in o.conns]
    view = narrow(p.decode_server(answer.frame), p.View)
    assert (answer.rid, answer.req, view.req, view.seq) == (11, 4, 4, table.seq)
    assert [e for e in view.events if e["kind"] == "drew" and "card" in e]  # still the mover's own view
    other = BOB if who is ANN else ANN
    [theirs] = [narrow(m, p.View) for m in frames(result, other.conn)]
    assert theirs.req is None and all(o.rid is None for o in result.out if o is not answer)
    # a refused move is answered by an error as ever, and a retried one by a plain ack (no view follows)
    late = table.handle(folding, p.Act(table=table.id, action=p.Draw(), seq=0, req=5), 12, 1.2)
    assert narrow(frames(late, who.conn)[0], p.Error).req == 5
    retry = table.handle(folding, act, 13, 1.5)
    mine = frames(retry, who.conn)
    assert narrow(mine[0], p.Ack).req == 4 and retry.out[0].rid == 13 and narrow(mine[1], p.View).req is None


def test_spectators_see_no_hand() -> None:
    table = started(2)
    result = table.handle(CID, p.Watch(table=table.id), 4, 0.0)
    view = next(m for m in frames(result, CID.conn) if isinstance(m, p.View))
    assert view.seat is None and isinstance(view.view, CrazyEightsView) and view.view.hand is None
    text = msgspec.json.encode(view.view).decode()
    assert not any(f'"{c}"' in text for s in (0, 1)
                   for c in narrow(GAME.view(table.game_state, s), CrazyEightsView).hand or [])


def test_bots_finish_a_game_with_the_clock_off() -> None:
    table = make_table(3)
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.AddBot(table=table.id), 1, 0.0)
    table.handle(ANN, p.Leave(table=table.id), 1, 0.0)  # before the start, leaving frees the seat
    assert table.players()[0] is None
    table.handle(ANN, p.Join(table=table.id), 1, 0.0)
    table.handle(ANN, p.Start(table=table.id), 1, 0.0)
    table.handle(ANN, p.Leave(table=table.id), 1, 0.0)  # mid-game a bot takes over
    now, finished = 0.0, None
    for _ in range(2000):
        when = table.wake_at()
        if when is None:
            break
        now = max(now, when)
        finished = table.tick(now).finished or finished
    assert finished is not None and table.status == "over"
    assert table.tick(now + 100).log == [] and table.wake_at() is None  # a finished table takes no entry


def test_clock_acts_for_a_slow_player_and_reports_the_deadline() -> None:
    table = started(2, clock=10.0, policy=NO_BANKS)  # time banks: tests/unit/gameserver/test_policy.py
    who = mover(table)
    result = table.handle(who, p.Resume(table=table.id), 1, 1.0)
    view = next(m for m in frames(result, who.conn) if isinstance(m, p.View))
    assert view.deadline == pytest.approx(10.0)
    assert table.wake_at() == pytest.approx(10.0)
    before = table.seq
    result = table.tick(10.0)
    assert table.seq > before and result.log
    assert all(isinstance(x, e.Acted) and x.by == "clock" and x.seat == who.user - 1 for x in result.log)
    assert all(isinstance(narrow(x, e.Acted).action, (p.Draw, p.PassTurn)) for x in result.log)
    assert GAME.to_act(table.game_state) != (who.user - 1,)  # the clock played the turn out
    # one time-out, however many moves (draws, then a pass) the clock made for the turn
    assert narrow(table.state.seats[who.user - 1], en.SeatState).timeouts == 1


def test_resume_sends_missed_events_and_the_current_view() -> None:
    table = started(2)
    who = mover(table)
    last = table.seq
    table.handle(who, p.Act(table=table.id, action=p.Draw()), 1, 1.0)
    table.handle(who, p.Act(table=table.id, action=p.Draw()), 1, 1.0)
    result = table.handle(who, p.Resume(table=table.id, last_seq=last), 2, 2.0)
    view = next(m for m in frames(result, who.conn) if isinstance(m, p.View))
    assert view.seq == table.seq and [e["kind"] for e in view.events].count("drew") == 2


def test_replaying_the_log_rebuilds_the_same_state() -> None:
    table = started(3)
    rng = random.Random(3)
    for _ in range(40):
        if table.status == "over":
            break
        seat = GAME.to_act(table.game_state)[0]
        table.handle((ANN, BOB, CID)[seat], p.Act(table=table.id, action=GAME.bot_move(table.game_state, seat,
                                                                                        rng)), 1, 1.0)
    assert table.seq > 10
    copy = replayed(table)
    assert copy.state == table.state and copy.players() == table.players()


def test_a_retried_move_is_answered_but_applied_once() -> None:
    table = started(2)
    who = mover(table)
    act = p.Act(table=table.id, action=p.Draw(), seq=table.seq, req=21)
    first = table.handle(who, act, 1, 1.0)
    seq, state = table.seq, table.state
    again = table.handle(who, act, 2, 1.5)  # e.g. resent after a reconnect
    assert isinstance(frames(again, who.conn)[0], p.Ack) and again.log == []
    assert (table.seq, table.state) == (seq, state)
    assert isinstance(first.log[0], e.Acted) and first.log[0].req == 21
    copy = replayed(table)
    assert copy.state.last_acts == table.state.last_acts and copy.state.last_acts  # harmless across a restart
    assert copy.handle(who, act, 3, 2.0).log == []


def test_grace_period_holds_the_seat_then_stands_the_player_up() -> None:
    table = make_table(3)
    table.grace_period = 30.0
    for who in (ANN, BOB):
        table.handle(who, p.Join(table=table.id), 1, 0.0)
    table.connection_lost(BOB.conn, 10.0)
    assert table.wake_at() == pytest.approx(40.0)
    back = table.handle(Sender("rt:9", BOB.user, "bob"), p.Resume(table=table.id), 1, 20.0)
    assert isinstance(frames(back, "rt:9")[0], p.Ack) and table.wake_at() is None  # back in time
    table.connection_lost("rt:9", 50.0)
    result = table.tick(80.0)
    assert table.seats[1] is None and result.log == [e.Unseated(seat=1)]  # before the start: freed


def test_after_the_grace_period_a_bot_keeps_the_seat_for_good() -> None:
    table = started(2)
    table.grace_period = 5.0
    table.connection_lost(BOB.conn, 1.0)
    table.tick(7.0)
    assert table.players()[1] == "bob (bot)" and table.seat_of(BOB.user) is None
    late = table.handle(BOB, p.Act(table=table.id, action=p.Draw()), 1, 8.0)
    assert narrow(frames(late, BOB.conn)[0], p.Error).code == p.E_NOT_SEATED


def test_after_a_restart_bots_wait_for_people_to_resume() -> None:
    table = started(2, policy=NO_BANKS)
    copy = replayed(table)
    copy.recovered(100.0, hold=10.0)
    assert copy.wake_at() == pytest.approx(110.0)
    assert copy.tick(105.0).log == []
    who = mover(copy)
    copy.handle(who, p.Resume(table=copy.id, last_seq=copy.seq), 1, 106.0)
    assert copy.conns[GAME.to_act(copy.game_state)[0]] == who.conn


def test_a_view_from_before_the_players_own_move_is_stale_though_it_is_still_their_turn() -> None:
    """Drawing keeps the turn: a second move sent on the view from before the draw (a client acting twice
    on one view, say after a resume) is refused as stale, not applied to a hand it never saw."""
    table = started(2)
    who, seq = mover(table), table.seq
    drew = table.handle(who, p.Act(table=table.id, action=p.Draw(), seq=seq, req=1), 9, 1.0)
    assert drew.log and mover(table) is who, "a draw leaves the turn with the player"
    again = table.handle(who, p.Act(table=table.id, action=p.Draw(), seq=seq, req=2), 9, 1.0)
    [err] = frames(again, who.conn)
    assert isinstance(err, p.Error) and err.code == p.E_STALE and again.log == []
    fresh = table.handle(who, p.Act(table=table.id, action=p.Draw(), seq=table.seq, req=3), 9, 1.0)
    assert fresh.log, "on the view after the draw the next move is taken"


def private_table(seats: int = 3) -> RecordingTable:
    table = RecordingTable("g1-0002", GAME, seats=seats, options=GAME.check_options(seats, {}),
                           creator=ANN.user, seed=7, public=False, invite="code-1234567890abcdefghij",
                           bot_rng=random.Random(1))
    table.journal = []
    return table


def test_a_private_table_admits_its_creator_seats_watchers_and_the_code_only() -> None:
    table = private_table()
    code = table.config.invite
    assert narrow(frames(table.handle(ANN, p.Join(table=table.id), 1, 0.0), ANN.conn)[0], p.Ack).seat == 0
    for request in (p.Join(table=table.id), p.Watch(table=table.id, invite=code + "x"),
                    p.Resume(table=table.id), p.Leave(table=table.id), p.Start(table=table.id),
                    p.Watch(table=table.id, invite="")):
        before = (table.state, dict(table.spectators), len(table.journal))
        refused = frames(table.handle(BOB, request, 2, 0.0), BOB.conn)
        assert [(m.code, m.text) for m in refused if isinstance(m, p.Error)] == [
            (p.E_NO_TABLE, f"no table {table.id}")], request
        assert (table.state, dict(table.spectators), len(table.journal)) == before, request
    watched = frames(table.handle(BOB, p.Resume(table=table.id, invite=code), 3, 0.0), BOB.conn)
    assert narrow(watched[0], p.Ack).seat is None and BOB.conn in table.spectators
    seated = frames(table.handle(BOB, p.Join(table=table.id), 4, 0.0), BOB.conn)  # watching: no code needed
    assert narrow(seated[0], p.Ack).seat == 1


def test_only_the_creators_view_carries_the_invite_code_even_as_a_spectator() -> None:
    table = private_table()
    code = table.config.invite
    table.handle(BOB, p.Join(table=table.id, invite=code), 1, 0.0)
    creator = Sender("rt:9", ANN.user, "ann")  # the creator watching, not seated
    result = table.handle(creator, p.Watch(table=table.id), 2, 0.0)
    table.handle(CID, p.Watch(table=table.id, invite=code), 3, 0.0)
    result = table.handle(BOB, p.Leave(table=table.id), 4, 0.0)  # a change every watcher hears of
    views = {conn: [m for m in frames(result, conn) if isinstance(m, p.View)] for conn in ("rt:9", CID.conn)}
    assert [v.invite for v in views["rt:9"]] == [code]
    assert [v.invite for v in views[CID.conn]] == [None] and not views[CID.conn][0].public
    assert all(code not in o.frame for o in result.out if "rt:9" not in o.conns)


def test_the_views_seat_fields_are_reused_while_no_seat_changes_and_follow_a_change_at_once() -> None:
    table = started(3, clock=30.0)
    views: list[p.View] = []
    for _ in range(2):  # two moves that change no seat
        who = mover(table)
        seat = table.seat_of(who.user)
        assert seat is not None
        action = GAME.bot_move(table.game_state, seat, random.Random(2))
        result = table.handle(who, p.Act(table=table.id, action=action, seq=table.seq), 1, 1.0)
        views.append(narrow(frames(result, CID.conn)[-1], p.View))
    first = table._seat_fields_of
    assert first is not None and first[0] is table.state.seats  # the second move reused the first's
    assert views[0].players == views[1].players == ["ann", "bob", "cid"] and views[1].bots == []
    leaver = next(w for w in (ANN, BOB) if w.user != mover(table).user)
    seat = table.seat_of(leaver.user)
    table.handle(leaver, p.Leave(table=table.id), 1, 2.0)  # mid-game: a bot plays the seat
    after = narrow(frames(table.handle(CID, p.Resume(table=table.id), 1, 3.0), CID.conn)[-1], p.View)
    again = table._seat_fields_of
    assert again is not None and again is not first and again[0] is table.state.seats
    assert after.bots == [seat]  # the next view says so at once
