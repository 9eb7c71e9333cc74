"""A game finished on the real game server leaves its record, its players' rows and their ratings in
one commit, and its replay (built off the loop) after; a private table's game rates nobody."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from common import history as ch
from common import protocol as p
from common.db import make_engine
from common.models import FinishedGame, GamePlayer, Rating
from tests import dbs
from tests.unit.gameserver.frames import acked_table
from tests.unit.gameserver.harness import Harness


async def finished_by_bots(h: Harness, public: bool) -> str:
    """Users 1 and 2 sit down with a bot, start, and walk away: bots finish the game for them."""
    create = p.CreateTable(game="crazy_eights", seats=3, public=public)
    table = acked_table(await h.reply_to(h.forward(create)))
    invite = h.server.tables[table].config.invite or None  # a private table's code, from its creator
    await h.reply_to(h.forward(p.Join(table=table, invite=invite), user=2, conn="rtA:2"))
    await h.reply_to(h.forward(p.AddBot(table=table)))
    await h.reply_to(h.forward(p.Start(table=table)))
    await h.reply_to(h.forward(p.Leave(table=table)))
    await h.reply_to(h.forward(p.Leave(table=table), user=2, conn="rtA:2"))
    for _ in range(400):  # the bots' moves come a pass at a time; the record lands with the last one
        await h.drain(quiet=0.05)
        with h.engine.connect() as conn:
            if conn.execute(select(FinishedGame.table_id).where(FinishedGame.table_id == table)).first():
                return table
    pytest.fail("the game was not finished by the bots")


def test_a_finished_game_is_recorded_rated_and_replayable(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, str]:
        async with Harness(tmp_path) as h:
            rated = await finished_by_bots(h, public=True)
            private = await finished_by_bots(h, public=False)
            with h.engine.connect() as conn:
                rows = conn.execute(select(GamePlayer.user_id, GamePlayer.game_id)).all()
                rated_users = set(conn.execute(select(Rating.user_id)).scalars())
            assert {(u, g.split(":")[0]) for u, g in rows} == {(1, rated), (2, rated), (1, private),
                                                                (2, private)}
            assert rated_users == {1, 2}, "the public table's game rated both people, the private one nobody"
        return rated, private

    rated, private = asyncio.run(scenario())
    engine = make_engine(dbs.database_url(tmp_path))  # a fresh look after the server stopped
    with engine.connect() as conn:
        games = {r.table_id: r for r in conn.execute(select(FinishedGame.__table__)).all()}
    engine.dispose()
    assert games[rated].rated and not games[private].rated and not games[private].public
    for record in games.values():
        assert record.replay is not None, "the replay was written, after the record"
        replay = ch.for_viewer(ch.unpack(record.replay), "0")
        assert replay["game_id"] == record.game_id and replay["steps"][0]["kind"] == "deal"
        assert replay["steps"][-1]["view"]["over"]
