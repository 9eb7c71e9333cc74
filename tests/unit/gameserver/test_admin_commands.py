"""Admin commands carried out by the owning game server (gameserver/admin_commands.py, common/audit.py):
a closed table gives every chip back and tells whoever watched, a kicked player stands up with their
stack, a command is claimed once, and commands for tables elsewhere or gone are handled as such; plus
the move rate and the rosters the console shows. A real game server, store and ROUTER (tests' Harness)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from common import audit
from common import protocol as p
from common.models import AuditRecord, House, TableRecord, User
from gameserver.admin_commands import AdminDesk
from gameserver.ownership import Ownership
from tests.unit.gameserver.frames import acked_table, narrow
from tests.unit.gameserver.harness import Harness

_audit = AuditRecord.__table__
_users = User.__table__
_tables = TableRecord.__table__


def command(h: Harness, action: str, table: str, user: int | None = None, reason: str = "") -> int:
    return audit.record(h.engine, admin=1, admin_name="u1", action=action, target=table, now=time.time(),
                        reason=reason, user=user, user_name=f"u{user}" if user else "")


def row(h: Harness, command_id: int) -> Any:
    with h.engine.connect() as conn:
        return conn.execute(select(_audit).where(_audit.c.id == command_id)).one()


def chips(h: Harness) -> dict[int, int]:
    with h.engine.connect() as conn:
        return {r.id: r.chips for r in conn.execute(select(_users.c.id, _users.c.chips)).all()}


def house(h: Harness) -> int:
    with h.engine.connect() as conn:
        return int(conn.execute(select(House.__table__.c.chips)).scalar_one())


def frames_to(messages: list[p.InternalMessage], conn: str) -> list[p.ServerMessage]:
    return [p.decode_server(m.frame) for m in messages if isinstance(m, p.Deliver) and conn in m.conns]


async def cash_table(h: Harness, *, start: bool) -> str:
    """A Hold'em table: u1 (2,000, the minimum), u2 (5,000) and a bot (from the house) seated; u3 watches."""
    for user in (1, 2, 3):
        h.set_chips(user, 10_000)
    table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="holdem", seats=3))))
    acked_table(await h.reply_to(h.forward(p.Join(table=table, buy_in=5000), user=2, conn="rtA:2")))
    narrow(await h.reply_to(h.forward(p.AddBot(table=table))), p.Ack)
    narrow(await h.reply_to(h.forward(p.Watch(table=table), user=3, conn="rtA:3")), p.Ack)
    if start:
        narrow(await h.reply_to(h.forward(p.Start(table=table))), p.Ack)
    return table


def test_closing_a_cash_table_mid_hand_returns_every_stack_and_tells_the_spectators(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = await cash_table(h, start=True)
            assert chips(h)[1] == 8000 and chips(h)[2] == 5000 and house(h) == -2000
            before = sum(chips(h).values()) + house(h) + 2000 + 5000 + 2000  # balances, house, stacks
            await h.drain()
            closing = command(h, audit.CLOSE_TABLE, table, reason="cheating suspected")
            h.server.admin.round(time.time())
            done = row(h, closing)
            assert (done.status, done.claimed_by) == ("done", "g1")
            assert done.result.startswith("closed; chips returned: 2,000 to u1, 5,000 to u2")
            assert "2,000 to the house (bots)" in done.result
            assert chips(h)[1] == 10_000 and chips(h)[2] == 10_000 and house(h) == 0, "every chip back"
            assert sum(chips(h).values()) + house(h) == before, "conserved"
            assert table not in h.server.tables
            with h.engine.connect() as conn:
                status = conn.execute(select(_tables.c.status).where(_tables.c.id == table)).scalar()
            assert status == "closed"
            told = frames_to(await h.drain(), "rtA:3")
            notices = [f for f in told if isinstance(f, p.Error) and f.code == p.E_TABLE_CLOSED]
            assert notices and notices[0].table == table
            assert "An admin closed this table: cheating suspected." in notices[0].text
            again = command(h, audit.CLOSE_TABLE, table)
            h.server.admin.round(time.time())
            assert (row(h, again).status, row(h, again).result) == (
                "failed", f"table {table}: already closed")

    asyncio.run(scenario())


def test_a_kicked_player_stands_up_with_their_stack_and_is_told(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = await cash_table(h, start=False)
            await h.drain()
            kick = command(h, audit.KICK, table, user=2)
            h.server.admin.round(time.time())
            done = row(h, kick)
            assert (done.status, done.result) == ("done", "u2 stood up; 5,000 chips back to the balance")
            assert chips(h)[2] == 10_000
            assert h.server.tables[table].seat_of(2) is None and h.server.tables[table].seat_of(1) == 0
            told = frames_to(await h.drain(), "rtA:2")
            assert any(isinstance(f, p.Error) and f.code == p.E_KICKED for f in told)
            twice = command(h, audit.KICK, table, user=2)
            h.server.admin.round(time.time())
            assert (row(h, twice).status, row(h, twice).result) == ("failed", f"u2 is not seated at {table}")

    asyncio.run(scenario())


def test_a_player_kicked_from_a_match_in_progress_leaves_the_seat_to_a_bot(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            await h.reply_to(h.forward(p.Join(table=table), user=2, conn="rtA:2"))
            await h.reply_to(h.forward(p.Start(table=table)))
            kick = command(h, audit.KICK, table, user=2)
            h.server.admin.round(time.time())
            assert row(h, kick).result == "u2 stood up; a bot plays the seat to the end of the game"
            seats = h.server.tables[table].seats
            assert seats[1] is not None and seats[1].bot and h.server.tables[table].seat_of(2) is None

    asyncio.run(scenario())


def test_a_command_is_claimed_once_and_a_dead_servers_claim_is_taken_up_again(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            closing = command(h, audit.CLOSE_TABLE, table)
            [waiting] = audit.waiting(h.engine, time.time())
            assert audit.claim(h.engine, waiting, "gX", time.time() - 100)
            assert not audit.claim(h.engine, waiting, "g1", time.time()), "exactly one claimant"
            assert row(h, closing).claimed_by == "gX"
            h.server.admin.round(time.time())  # gX's claim is 100 s old: gX died holding it
            assert (row(h, closing).status, row(h, closing).claimed_by) == ("done", "g1")
            assert table not in h.server.tables

    asyncio.run(scenario())


def test_a_command_for_a_table_served_elsewhere_waits_for_its_owner_and_a_gone_table_is_said_so(
        tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, "g1") as h, Harness(tmp_path, "g2") as g2:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            other = Ownership(h.engine, h.server.ownership.registry, "g2", "b2", h.server.clock)
            assert other.move(table, "g1", h.server.store.held[table], "g2") is not None  # handed to g2
            elsewhere = command(h, audit.CLOSE_TABLE, table)
            nowhere = command(h, audit.KICK, "g9-0001", user=2)
            h.server.admin.round(time.time())
            assert (row(h, elsewhere).status, row(h, elsewhere).claimed_by) == ("pending", ""), "left for g2"
            assert (row(h, nowhere).status, row(h, nowhere).result) == (
                "failed", "table g9-0001: no such table")
            g2.server.heartbeat_round(time.time())  # g2 adopts the table, then carries the command out
            assert (row(h, elsewhere).status, row(h, elsewhere).claimed_by) == ("done", "g2")
            assert table not in g2.server.tables

    asyncio.run(scenario())


def test_the_move_rate_and_rosters_the_console_shows(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path) as h:
            table = acked_table(await h.reply_to(h.forward(p.CreateTable(game="crazy_eights", seats=2))))
            desk = AdminDesk(h.server)
            desk.round(1000.0)
            seq = h.server.tables[table].seq
            await h.reply_to(h.forward(p.Join(table=table), user=2, conn="rtA:2"))
            await h.reply_to(h.forward(p.Start(table=table)))  # a seat, the deal's commitment, the deal
            desk.round(1004.0)
            assert h.server.tables[table].seq == seq + 3
            assert h.server.ownership.rate == 0.8, "3 entries in 4 s (one decimal)"
            h.server.ownership.renew(1)
            [record] = h.server.ownership.registry.servers("gameserver")
            assert record.rate == 0.8
            desk.round(1010.0)
            assert h.server.ownership.rate == 0.0, "nothing in the last 5 s"
            with h.engine.connect() as conn:
                roster = conn.execute(select(_tables.c.roster).where(_tables.c.id == table)).scalar()
            assert roster == {"seats": [{"user": 1, "name": "u1", "bot": False, "stack": 0, "away": False},
                                        {"user": 2, "name": "u2", "bot": False, "stack": 0, "away": False}],
                              "spectators": 0}

    asyncio.run(scenario())
