"""The table policy through the game-server process (real ROUTER, real store): a table keeps the policy it
was created with across a restart and shows it in the lobby; a bad one is refused; a drained table's
time bank goes with it, drawn as far as it was; a top-up is a
conditional debit committed before the chips reach the table, refused clearly over the limit, over the
balance and mid-hand, and chips are conserved."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import select

from common import protocol as p
from common.models import House, User
from common.policy import TablePolicy
from common.registry import DRAINING
from gameserver import engine as en
from tests.unit.gameserver.frames import acked_table, narrow
from tests.unit.gameserver.harness import Harness

HOLDEM = {"small_blind": 10, "big_blind": 20, "min_buy_in": 200, "max_buy_in": 2000}


def balances(h: Harness) -> dict[int, int]:
    with h.engine.connect() as conn:
        rows = conn.execute(select(User.__table__.c.id, User.__table__.c.chips)).all()
        house = conn.execute(select(House.__table__.c.chips)).scalar()
    return {**{int(r.id): int(r.chips) for r in rows}, 0: int(house or 0)}


def test_a_table_keeps_its_policy_across_a_restart_and_shows_it(tmp_path: Path) -> None:
    policy = TablePolicy(time_bank=15, bank_refill=3, bank_max=45, disconnect_bank=10, grace=300,
                         away_after=3, sit_out_max=120)

    async def first() -> str:
        async with Harness(tmp_path) as h:
            bad = await h.reply_to(h.forward(p.CreateTable(
                game="crazy_eights", seats=2, policy=TablePolicy(time_bank=50, bank_max=40))))
            assert narrow(bad, p.Error).code == p.E_BAD_TABLE and "cap" in narrow(bad, p.Error).text
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2,
                                                                            clock=20.0, policy=policy))))
            listed = narrow(await h.reply_to(h.forward(p.ListTables())), p.Tables)
            assert [t.policy for t in listed.tables] == [policy]
            plain = acked_table(await h.reply_to(h.forward(p.CreateTable(game="hearts", seats=4))))
            assert h.server.tables[plain].policy == TablePolicy(grace=h.settings.grace_period)
            return table_id

    table_id = asyncio.run(first())
    again = Harness(tmp_path)
    assert again.server.tables[table_id].policy == policy, "the policy is the table's, stored with it"
    again.server.stop()
    again.ctx.term()
    again.engine.dispose()


def test_top_ups_are_debited_before_the_chips_reach_the_table(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            h.set_chips(1, 3000)
            h.set_chips(2, 1000)
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(
                game="holdem", seats=2, options=HOLDEM, buy_in=500))))
            await h.reply_to(h.forward(p.Join(table=table_id, buy_in=500), user=2, conn="rtA:2"))
            total = sum(balances(h).values()) + en.chips_on_table(h.server.tables[table_id].state)
            table = h.server.tables[table_id]
            over = narrow(await h.reply_to(h.forward(p.TopUp(table=table_id, amount=1600))), p.Error)
            assert over.code == p.E_BAD_FIELD and "200–2000" in over.text
            poor = narrow(await h.reply_to(h.forward(p.TopUp(table=table_id, amount=600), user=2,
                                                     conn="rtA:2")), p.Error)
            assert poor.code == p.E_INSUFFICIENT_CHIPS and "you have 500 chips" in poor.text
            ok = await h.reply_to(h.forward(p.TopUp(table=table_id, amount=1000)))
            assert isinstance(ok, p.Ack)
            assert balances(h)[1] == 1500 and narrow(table.seats[0], en.SeatState).stack == 1500
            assert sum(balances(h).values()) + en.chips_on_table(table.state) == total, "chips are conserved"
            # the early balance read says yes, but the chips were spent elsewhere meanwhile: the
            # conditional debit refuses, and nothing reaches the table
            read = h.server.store.balance
            h.server.store.balance = lambda user: 10_000  # type: ignore[method-assign]
            raced = narrow(await h.reply_to(h.forward(p.TopUp(table=table_id, amount=600), user=2,
                                                      conn="rtA:2")), p.Error)
            h.server.store.balance = read  # type: ignore[method-assign]
            assert raced.code == p.E_INSUFFICIENT_CHIPS and "this top-up needs 600" in raced.text
            assert narrow(table.seats[1], en.SeatState).stack == 500 and balances(h)[2] == 500
            await h.reply_to(h.forward(p.Start(table=table_id)))
            mid = narrow(await h.reply_to(h.forward(p.TopUp(table=table_id, amount=100))), p.Error)
            assert mid.code == p.E_ALREADY_STARTED
            assert sum(balances(h).values()) + en.chips_on_table(table.state) == total, "chips are conserved"

    asyncio.run(scenario())


def test_a_drained_table_takes_its_time_banks_with_it(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, "g1") as g1, Harness(tmp_path, "g2") as g2:
            policy = TablePolicy(time_bank=40, bank_refill=0)
            table_id = acked_table(await g1.reply_to(g1.forward(p.CreateTable(
                game="crazy_eights", seats=2, clock=30.0, policy=policy))))
            await g1.reply_to(g1.forward(p.Join(table=table_id), user=2, conn="rtA:2"))
            await g1.reply_to(g1.forward(p.Start(table=table_id)))
            source = g1.server.tables[table_id]
            seat = source.state.to_act[0]
            source.deadline = g1.server.clock() - 15.0  # the turn clock ran out 15 s ago: the bank runs
            g1.server.ownership.registry.set_state("g1", DRAINING)
            g1.server.heartbeat_round(g1.server.clock())
            assert table_id not in g1.server.tables
            await asyncio.wait_for(g1.task, 5)
            await g2.reply_to(g2.forward(p.Resume(table=table_id), user=seat + 1, conn=f"rtA:{seat + 1}"))
            adopted = g2.server.tables[table_id]
            left = narrow(adopted.seats[seat], en.SeatState).bank
            assert 23.0 < left <= 25.0, "drawn as far as it was, in the log"
            due = adopted.wake_at()
            assert due is not None and abs(due - g2.server.clock() - left) < 1.0, "the clock acts at its end"

    asyncio.run(scenario())
