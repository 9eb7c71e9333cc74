"""The game server when things go wrong: a database that refuses writes, a buy-in raced on two servers,
a restart among many finished tables. Real ROUTER/DEALER sockets, a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from common import protocol as p
from common.models import House, TableAction, User
from gameserver import engine as en
from gameserver import entries as e
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness, unwritable


def add_user(h: Harness, user: int, chips: int) -> None:
    h.set_chips(user, chips)


def chips_everywhere(h: Harness, *servers: Harness) -> int:
    """Every balance, the house, and every chip at every table of these servers."""
    with h.engine.connect() as conn:
        balances = conn.execute(select(func.sum(User.__table__.c.chips))).scalar() or 0
        house = conn.execute(select(House.__table__.c.chips)).scalar() or 0
    tables = sum(en.chips_on_table(t.state) for s in servers for t in s.server.tables.values())
    return int(balances) + int(house) + tables


def logged_reqs(h: Harness, table: str) -> list[int | None]:
    with h.engine.connect() as conn:
        rows = conn.execute(select(TableAction.__table__.c.entry).where(
            TableAction.__table__.c.table_id == table).order_by(TableAction.__table__.c.seq)).scalars().all()
    return [x.req for x in map(e.from_builtins, rows) if isinstance(x, e.Acted)]


async def started_match(h: Harness) -> tuple[str, int, str, str]:
    """A two-player Crazy Eights game under way: (table, mover's user, mover's conn, other conn)."""
    table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
    await h.reply_to(h.forward(p.Join(table=table_id), user=2, conn="rtA:2"))
    await h.reply_to(h.forward(p.Start(table=table_id)))
    table = h.server.tables[table_id]
    mover = table.state.to_act[0]
    return table_id, mover + 1, f"rtA:{mover + 1}", f"rtA:{2 - mover}"


@pytest.mark.parametrize("fold", [False, True], ids=["ack", "answered_by_the_view"])
def test_a_commit_that_fails_changes_nothing_and_says_so_to_the_sender(tmp_path: Path, fold: bool) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table_id, mover, conn, other = await started_match(h)
            table = h.server.tables[table_id]
            before, seq = table.state, table.seq
            await h.drain()  # the start's views
            with unwritable(tmp_path):
                rid = h.forward(p.Act(table=table_id, action=p.Draw(), seq=seq, req=7), user=mover, conn=conn,
                                fold=fold)
                seen: list[p.Deliver] = []
                said_unhealthy = False  # (a beat sent before the failed commit may still be on its way)
                while True:
                    msg = await h.recv()
                    if isinstance(msg, p.Heartbeat):
                        assert msg.healthy is False or not said_unhealthy  # never healthy again meanwhile
                        said_unhealthy = said_unhealthy or msg.healthy is False
                    if not isinstance(msg, p.Deliver):
                        continue
                    seen.append(msg)
                    if msg.rid == rid:
                        break
                assert said_unhealthy  # at once when it turned: before the refusal itself
                answer = p.decode_server(seen[-1].frame)
                assert isinstance(answer, p.Error) and answer.code == p.E_UNAVAILABLE and answer.req == 7
                assert all(other not in d.conns for d in seen), "nobody else heard of the undone move"
                assert table.state == before and not h.server.healthy
                h.server.heartbeat_round(h.server.clock())
                assert not h.server.healthy  # still refused: the probe writes for real
            h.server.heartbeat_round(h.server.clock())
            assert h.server.healthy  # writable again: reconnected read-write, without a restart
            again = await h.reply_to(h.forward(p.Act(table=table_id, action=p.Draw(), seq=seq, req=7),
                                               user=mover, conn=conn, fold=fold))
            assert isinstance(again, p.View if fold else p.Ack) and again.req == 7
            assert logged_reqs(h, table_id) == [7]  # in the log exactly once

    asyncio.run(scenario())


def test_a_restart_while_the_database_refuses_writes_recovers_when_it_takes_them(tmp_path: Path) -> None:
    async def first() -> str:
        async with Harness(tmp_path) as h:
            table_id, *_ = await started_match(h)
            return table_id

    table_id = asyncio.run(first())
    with unwritable(tmp_path):
        again = Harness(tmp_path)
        assert not again.server.healthy and table_id in again.server.tables  # read, but not serving

    async def later() -> None:
        async with again as h:
            h.server.heartbeat_round(h.server.clock())
            assert h.server.healthy
            table = h.server.tables[table_id]
            mover = table.state.to_act[0] + 1
            ack = await h.reply_to(h.forward(p.Act(table=table_id, action=p.Draw(), req=3), user=mover,
                                             conn=f"rtA:{mover}"))
            assert isinstance(ack, p.Ack)
            assert logged_reqs(h, table_id) == [3]

    asyncio.run(later())


def test_a_buy_in_raced_on_two_servers_is_refused_cleanly_and_jams_nothing(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, "g1") as g1, Harness(tmp_path, "g2") as g2:
            for user in (1, 2):
                add_user(g1, user, 5000)
            add_user(g1, 5, 10_000)
            total = chips_everywhere(g1, g1, g2)
            t1 = acked_table(await g1.reply_to(g1.forward(p.CreateTable(game="holdem", seats=3), user=1)))
            t2 = acked_table(await g2.reply_to(g2.forward(p.CreateTable(game="holdem", seats=3), user=2,
                                                          conn="rtA:2")))
            # each server read the balance before the other's debit landed (the race): only the debit
            # itself can refuse
            g1.server.store.balance = g2.server.store.balance = lambda user: 10_000  # type: ignore[method-assign]
            one = g1.forward(p.Join(table=t1, buy_in=10_000, req=1), user=5, conn="rtA:5")
            two = g2.forward(p.Join(table=t2, buy_in=10_000, req=2), user=5, conn="rtA:5")
            answers = [await g1.reply_to(one), await g2.reply_to(two)]
            assert sorted(type(a).__name__ for a in answers) == ["Ack", "Error"]
            refused = next(a for a in answers if isinstance(a, p.Error))
            assert refused.code == p.E_INSUFFICIENT_CHIPS and "10000" in refused.text
            seated = [t.seat_of(5) is not None for t in (g1.server.tables[t1], g2.server.tables[t2])]
            assert sorted(seated) == [False, True]
            # nothing else on g2 is affected: other requests are served and written
            watch = await g2.reply_to(g2.forward(p.Watch(table=t2), user=9, conn="rtA:9"))
            chat = await g2.reply_to(g2.forward(p.Chat(table=t2, text="still here"), user=2, conn="rtA:2"))
            bot = await g2.reply_to(g2.forward(p.AddBot(table=t2), user=2, conn="rtA:2"))
            assert [type(m) for m in (watch, chat, bot)] == [p.Ack, p.Ack, p.Ack]
            with g1.engine.connect() as conn:
                users = User.__table__
                assert conn.execute(select(users.c.chips).where(users.c.id == 5)).scalar() == 0
            assert chips_everywhere(g1, g1, g2) == total, "chips are conserved"

    asyncio.run(scenario())


def test_a_restart_rebuilds_only_live_tables_and_never_writes_to_finished_ones(tmp_path: Path) -> None:
    async def first() -> tuple[str, int]:
        async with Harness(tmp_path, grace_period=0.0) as h:
            closed = []
            for _ in range(4):  # bot tables everybody left: closed
                table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2),
                                                                  conn="rtA:8")))
                await h.reply_to(h.forward(p.AddBot(table=table_id), conn="rtA:8"))
                await h.reply_to(h.forward(p.Start(table=table_id), conn="rtA:8"))
                closed.append(table_id)
            h.send(p.ConnClosed(conn="rtA:8"))
            # a table keeps the grace period it was created with: the live one holds its seats
            h.server.settings = h.settings.replace(grace_period=120.0)
            live, *_ = await started_match(h)
            for _ in range(100):
                h.server.heartbeat_round(h.server.clock() + 1)
                if not set(closed) & set(h.server.tables):
                    break
                await asyncio.sleep(0.01)
            assert not set(closed) & set(h.server.tables)
            with h.engine.connect() as conn:
                count = conn.execute(select(func.count()).select_from(TableAction.__table__)).scalar()
            return live, int(count or 0)

    live, count = asyncio.run(first())
    again = Harness(tmp_path)
    assert list(again.server.tables) == [live]

    async def later() -> None:
        async with again as h:
            for _ in range(3):
                h.server.heartbeat_round(h.server.clock() + 1)
            await asyncio.sleep(0.05)
        with h.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(TableAction.__table__)).scalar() == count
        h.engine.dispose()  # the harness closed its pool; this read opened another

    asyncio.run(later())
