"""Table ownership between game servers sharing one database: fenced writes, hand-over with the turn
clock, a request for a moved table, and takeover of a gone server's tables (real sockets and SQLite)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from sqlalchemy import func, select

from common import protocol as p
from common.models import TableAction
from common.registry import DRAINING
from gameserver import entries as e
from gameserver.ownership import Ownership
from gameserver.store import Store
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness


async def seated_game(h: Harness, clock: float | None = None) -> str:
    """A Crazy Eights table on `h` with u1 and u2 seated and the game started."""
    table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2, clock=clock))))
    await h.reply_to(h.forward(p.Join(table=table), user=2, conn="rtA:2"))
    await h.reply_to(h.forward(p.Start(table=table)))
    return table


def entries_of(h: Harness, table: str) -> int:
    with h.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(TableAction.__table__).where(
            TableAction.__table__.c.table_id == table)).scalar() or 0)


def test_a_store_writes_nothing_for_a_table_that_moved_and_the_rest_of_its_batch_still_lands(
        tmp_path: Path) -> None:
    h = Harness(tmp_path)
    try:
        old = Store(h.engine, owner="g1")
        for table in ("t-moved", "t-kept"):
            old.create_table(id=table, server="g1", game="crazy_eights", seats=2, options={}, clock=None,
                             public=True, creator=1, seed="1", status="waiting")
        old.flush()
        taker = Ownership(h.engine, h.server.ownership.registry, "g2", "b2", h.server.clock)
        assert taker.move("t-moved", "g1", 1, "g2") == 2
        assert taker.move("t-moved", "g1", 1, "g2") is None, "exactly one claimant wins"
        for table in ("t-moved", "t-kept"):
            old.append(table, 1, [e.Seated(seat=0, user=1, name="u1")])
        old.flush()
        assert old.take_fenced() == {"t-moved"}
        assert entries_of(h, "t-moved") == 0, "the old owner could not write"
        assert entries_of(h, "t-kept") == 1, "its other tables' writes landed"
        assert "t-moved" not in old.held
    finally:
        h.ctx.term()
        h.engine.dispose()


def test_a_request_elsewhere_is_redirected_and_a_drained_table_moves_with_its_clock(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, "g1") as g1, Harness(tmp_path, "g2") as g2:
            table = await seated_game(g1, clock=60.0)
            # a request for it at another live server is answered `moved` (with the owner), not applied
            rid = g2.forward(p.Chat(table=table, text="hello"))
            moved = [m for m in await g2.drain() if isinstance(m, p.Moved)]
            assert moved and (moved[0].rid, moved[0].table, moved[0].owner) == (rid, table, "g1")
            assert table not in g2.server.tables
            source = g1.server.tables[table]
            now = g1.server.clock()
            source.deadline = now + 17.0  # 43 s of the turn's 60 already gone
            g1.server.ownership.registry.set_state("g1", DRAINING)
            g1.server.heartbeat_round(g1.server.clock())
            assert table not in g1.server.tables and g1.server.draining
            assert any(isinstance(m, p.TablesMoved) and m.tables == [table] and m.owner == "g2"
                       for m in await g1.drain())
            await asyncio.wait_for(g1.task, 5)  # nothing left to serve: it stopped by itself
            # the new owner rebuilds it on the first request, with the clock as it was
            await g2.reply_to(g2.forward(p.Resume(table=table)))
            adopted = g2.server.tables[table]
            assert adopted.state == source.state, "the same table, from snapshot + tail"
            assert adopted.deadline is not None
            assert abs((adopted.deadline - g2.server.clock()) - 17.0) < 1.0, "the clock carries on"
            assert g2.server.store.held[table] == 2

    asyncio.run(scenario())


def test_the_tables_of_a_gone_server_are_taken_over_and_announced(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, "g1", lease_seconds=0.5) as g1, \
                Harness(tmp_path, "g2", lease_seconds=0.5) as g2:
            table = await seated_game(g1)
            g1.beating = False
            g1.server.stop()  # it goes silent without leaving: its lease runs out
            await asyncio.sleep(0.6 + 2 * 0.5)
            g2.server.heartbeat_round(g2.server.clock())
            assert table in g2.server.tables
            assert any(isinstance(m, p.TablesMoved) and table in m.tables for m in await g2.drain())
            assert g2.server.store.held[table] == 2

    asyncio.run(scenario())
