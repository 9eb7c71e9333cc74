"""A sit-and-go through the game-server process (real ROUTER, real store): bad settings are refused
with E_BAD_TABLE, an entry the balance cannot pay is refused and changes nothing, the lobby lists the
table as a sit-and-go, bots fill it and it plays to the end; the balances (and the house) add up to what
they were, the prizes follow the prize table, and the finished tournament is in the finished games and
its players' history. A restart in the middle rebuilds it from the log and finishes it."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from sqlalchemy import select

from common import protocol as p
from common import sitandgo as sg
from common.models import FinishedGame, GamePlayer
from common.policy import TablePolicy
from gameserver import engine as en
from gameserver.sitandgo import SitAndGoTable
from tests.unit.gameserver.frames import acked_table, narrow
from tests.unit.gameserver.harness import Harness
from tests.unit.gameserver.test_server_policy import balances

STEEP = sg.SitAndGo(buy_in=100, fee=10, stack=100, levels=[sg.BlindLevel(10, 20), sg.BlindLevel(20, 40),
                                                            sg.BlindLevel(40, 80)], level_hands=1)


async def until(check: object, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "did not happen in time"
        await asyncio.sleep(0.02)


def test_a_sit_and_go_is_refused_when_bad_and_played_to_its_end(tmp_path: Path) -> None:
    async def scenario() -> None:
        async with Harness(tmp_path, hand_pause=0.0) as h:
            h.set_chips(1, 1000)
            h.set_chips(2, 50)
            before = sum(balances(h).values())
            for body, why in (
                    (p.CreateTable(game="hearts", seats=4, sit_and_go=STEEP), "played at Hold'em"),
                    (p.CreateTable(game="holdem", seats=3, sit_and_go=sg.SitAndGo(buy_in=100, stack=10)),
                     "two big blinds"),
                    (p.CreateTable(game="holdem", seats=3, sit_and_go=sg.SitAndGo(
                        buy_in=100, levels=[sg.BlindLevel(5, 10), sg.BlindLevel(1, 2)])), "cannot fall")):
                bad = narrow(await h.reply_to(h.forward(body)), p.Error)
                assert bad.code == p.E_BAD_TABLE and why in bad.text
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(game="holdem", seats=3,
                                                                            sit_and_go=STEEP))))
            table = h.server.tables[table_id]
            assert isinstance(table, SitAndGoTable) and balances(h)[1] == 890, "the creator registered"
            poor = narrow(await h.reply_to(h.forward(p.Join(table=table_id), user=2, conn="rtA:2")), p.Error)
            assert poor.code == p.E_INSUFFICIENT_CHIPS and "costs 110" in poor.text
            assert balances(h)[2] == 50 and table.seats[1] is None
            listed = narrow(await h.reply_to(h.forward(p.ListTables())), p.Tables)
            info = next(t for t in listed.tables if t.id == table_id)
            assert info.sit_and_go == STEEP and "sit_and_go" not in info.options and info.status == "waiting"
            await h.reply_to(h.forward(p.AddBot(table=table_id)))
            await h.reply_to(h.forward(p.AddBot(table=table_id)))
            assert table.status == "playing"
            await h.reply_to(h.forward(p.Leave(table=table_id)))  # stays in, checked or folded for
            assert table.seats[0] is not None and table.seats[0].away
            await until(lambda: table.over)
            await until(lambda: not h.server.store.dirty)
            await h.drain()
            tourney = table.tourney
            assert sum(balances(h).values()) == before, "balance chips conserved (the house included)"
            assert sorted(tourney.places.values()) == [1, 2, 3] and list(tourney.prizes.values()) == [300]
            winner = next(s for s, place in tourney.places.items() if place == 1)
            assert balances(h)[1] == 890 + (300 if winner == 0 else 0)
            with h.engine.connect() as conn:
                games = FinishedGame.__table__
                rows = conn.execute(select(games).where(games.c.table_id == table_id)).all()
                record = [r for r in rows if "sit_and_go" in r.detail]
                assert len(record) == 1 and len(rows) > 1, "the tournament once, beside each of its hands"
                players = GamePlayer.__table__
                mine = conn.execute(select(players).where(
                    players.c.user_id == 1, players.c.game_id == record[0].game_id)).all()
            assert len(record) == 1 and record[0].detail["sit_and_go"]["state"] == "finished"
            assert {x["seat"]: x["place"] for x in record[0].detail["sit_and_go"]["places"]} == tourney.places
            assert len(mine) == 1 and mine[0].place == tourney.places[0]

    asyncio.run(scenario())


def test_a_restart_in_the_middle_finishes_it_with_chips_conserved(tmp_path: Path) -> None:
    slow = sg.SitAndGo(buy_in=100, stack=2000, levels=[sg.BlindLevel(10, 20), sg.BlindLevel(500, 1000)],
                       level_hands=3)

    async def first() -> tuple[str, int]:
        async with Harness(tmp_path, hand_pause=0.0) as h:
            h.set_chips(1, 1000)
            total = sum(balances(h).values())
            table_id = acked_table(await h.reply_to(h.forward(p.CreateTable(
                game="holdem", seats=4, sit_and_go=slow, policy=TablePolicy(disconnect_bank=0)))))
            for _ in range(3):
                await h.reply_to(h.forward(p.AddBot(table=table_id)))
            table = narrow(h.server.tables[table_id], SitAndGoTable)
            await until(lambda: 0 in table.state.to_act)  # the table waits for u1, who never acts here
            assert not table.over and table.tourney.started
            return table_id, total

    table_id, total = asyncio.run(first())

    async def second() -> None:
        async with Harness(tmp_path, hand_pause=0.0, resume_window=0.0) as h:
            table = h.server.tables[table_id]
            assert isinstance(table, SitAndGoTable) and table.tourney.started
            assert sum(balances(h).values()) + en.chips_on_table(table.state) == total
            await until(lambda: table.over, timeout=60)
            await until(lambda: not h.server.store.dirty)
            await h.drain()
            assert sum(balances(h).values()) == total, "conserved across the restart"
            assert sum(table.tourney.prizes.values()) == 400

    asyncio.run(second())

